"""Tiers of leads scored on their own: where each tier starts, overall or per segment."""

from __future__ import annotations

import numpy as np

from leadscore.config import TierConfig
from leadscore.scoring.online import online_tiers, segment_tiers

TIERS = TierConfig(shares={"A": 0.1, "B": 0.2}, rest="C")


def test_a_lead_joins_the_best_tier_whose_floor_it_reaches():
    floors = {"A": 0.5, "B": 0.2}
    got = online_tiers(np.array([0.7, 0.5, 0.3, 0.1]), TIERS, floors)
    assert list(got) == ["A", "A", "B", "C"]
    assert list(online_tiers(np.array([0.9]), TIERS, {})) == ["C"]  # no floor known


def test_per_segment_each_lead_reads_its_own_segments_floors():
    floors = {"europe": {"A": 0.5, "B": 0.2}, "": {"A": 0.05, "B": 0.01}}
    p = np.array([0.3, 0.3, 0.02, 0.3])
    segment = np.array(["europe", "", "", "asia"])
    # 0.3 is only B in europe but A among the pooled model's leads; asia has no floors.
    assert list(segment_tiers(p, segment, TIERS, floors)) == ["B", "A", "B", "C"]
