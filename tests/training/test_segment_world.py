"""The segments step on the generator's planted world, trained by ``train_events`` (what
``leadscore train`` runs): the planted ``europe`` segment keeps a model of its own, and the
same seed's world without the plant keeps the pooled model alone.

The tournament has one contestant, logistic, so the test asks only what a pooled linear
model cannot do: it gives pricing-page views one weight for every lead, and cannot follow
views that mark buyers inside the segment and leads that will not buy outside it; the
segment's own logistic model can. Seeds 5, 6 and 7 each keep it (lower bounds of the lead
0.030, 0.008 and 0.009) and each leave the world without the plant to the pooled model.
"""

from __future__ import annotations

import pytest

from leadscore.config import config_from_dict
from leadscore.data.synthetic.segments import SEGMENTS
from leadscore.data.synthetic.world import generate_world
from leadscore.data.validate import require_valid, validate_tables
from leadscore.model.segmented import SegmentedScorer
from leadscore.training.run import train_events

SEGMENT = "europe"
N = 20_000
SEED = 5


def trained(segment_signal: str | None):
    """The segment step's table and the served model, on the seed's world with or without
    the planted segment."""
    world = generate_world(N, seed=SEED, segment_signal=segment_signal)
    cfg = config_from_dict(
        {
            "model": {"kind": "auto", "contestants": ["logistic"]},
            "segments": {
                "column": "country",
                "names": {value: SEGMENT for value in SEGMENTS[SEGMENT].values},
            },
        }
    )
    result = train_events(require_valid(validate_tables(world)), cfg, None, lambda _m: None).result
    return result.segments.table.set_index("segment"), result.scorer


@pytest.mark.slow
def test_the_planted_segment_keeps_a_model_of_its_own(store):
    table, scorer = trained(SEGMENT)
    row = table.loc[SEGMENT]
    assert bool(row["judged"]) and bool(row["kept"])
    assert row["lead_over_logistic_low"] > 0
    assert row["segment_model"] > row["pooled_model"]
    assert isinstance(scorer, SegmentedScorer) and list(scorer.models) == [SEGMENT]


@pytest.mark.slow
def test_without_the_plant_only_the_pooled_model_is_kept(store):
    table, scorer = trained(None)
    row = table.loc[SEGMENT]
    assert bool(row["judged"]) and not bool(row["kept"])
    assert row["lead_over_logistic_low"] <= 0
    assert not isinstance(scorer, SegmentedScorer)
