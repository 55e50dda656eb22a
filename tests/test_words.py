"""A printed count agrees with its noun."""

from leadscore.words import counted


def test_counts_agree_with_their_nouns():
    assert counted(1, "fold") == "1 fold"
    assert counted(4, "fold") == "4 folds"
    assert counted(0, "labelled snapshot") == "0 labelled snapshots"
    assert counted(1200, "row") == "1,200 rows"
    assert counted(2, "activity", "activities") == "2 activities"
