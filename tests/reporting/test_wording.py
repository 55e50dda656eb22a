"""Words and numbers as the pages print them: counts agree with their nouns."""

from __future__ import annotations

from leadscore.reporting.wording import plurals


def test_counts_written_with_s_in_brackets_agree_with_their_noun():
    assert plurals("rolling backtest: 4 fold(s) of 1 snapshot(s)") == (
        "rolling backtest: 4 folds of 1 snapshot"
    )
    assert plurals("on the latest 2 fold(s), 27,859 rows") == "on the latest 2 folds, 27,859 rows"
    assert plurals("over 1,200 row(s) and 0 night(s)") == "over 1,200 rows and 0 nights"
    assert plurals("column(s) a, b") == "column(s) a, b"  # no count: left as written
