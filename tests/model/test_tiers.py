"""Tiers from shares and capacities: cut on the backtest's scores, by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.config import ConfigError, TierConfig, config_from_dict
from leadscore.model.tiers import assign_tiers, expected_by_tier, resolve_tiers, tier_order


def test_shares_cut_at_the_scores_closest_to_each_cumulative_share():
    score = np.arange(10, 0, -1, dtype="float64")  # 10 .. 1
    cfg = TierConfig(shares={"A": 0.1, "B": 0.2, "C": 0.3}, rest="D")
    got = resolve_tiers(cfg, score, np.zeros(10))
    assert got.cutoffs == {"A": 10.0, "B": 8.0, "C": 5.0}
    assert list(assign_tiers(score, got)) == list("ABBCCCDDDD")
    assert "shares" in got.cut_from


def test_tied_scores_keep_the_top_tier_and_leave_a_tier_empty_rather_than_overshoot():
    score = np.array([5, 5, 5, 5, 1, 1, 1, 1, 1, 1], dtype="float64")
    cfg = TierConfig(shares={"A": 0.05, "B": 0.15, "C": 0.30}, rest="D")
    got = resolve_tiers(cfg, score, np.zeros(10))
    # A: the only steps are 40% (score 5) and 100%: 40% is closest to 5%. B (20%) and C (50%)
    # are closer to staying at 40% than to stepping to 100%: both empty, at A's cut-off.
    assert got.cutoffs == {"A": 5.0, "B": 5.0, "C": 5.0}
    assert list(assign_tiers(score, got)) == list("AAAADDDDDD")
    assert tier_order(got) == ["A", "B", "C", "D"]


def test_capacity_is_a_share_of_the_median_open_leads_per_snapshot():
    # Two snapshots of 10 and one of 20 rows: median 10, so 1 lead per night is 10%.
    score = np.concatenate([np.arange(40, 0, -1)]).astype("float64")
    period = np.array(["a"] * 10 + ["b"] * 10 + ["c"] * 20)
    got = resolve_tiers(TierConfig(capacity={"hot": 1, "warm": 2}, rest="cold"), score, period)
    assert got.cutoffs == {"hot": 37.0, "warm": 29.0}  # 4 of 40 rows, then 12 of 40
    assert "median 10 open leads" in got.cut_from


def test_fixed_cutoffs_come_back_unchanged():
    cfg = TierConfig(cutoffs={"A": 25, "B": 10}, rest="C", shares={"A": 0.5})
    assert resolve_tiers(cfg, np.array([1.0]), np.zeros(1)) is cfg


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 1000), min_size=1, max_size=300),
    st.lists(st.floats(0.01, 0.4), min_size=1, max_size=4),
)
def test_the_top_tier_is_never_empty_and_tiers_nest(raw, shares):
    score = np.round(np.array(raw, dtype="float64") / 10, 1)
    names = [f"T{i}" for i in range(len(shares))]
    total = sum(shares)
    cfg = TierConfig(
        shares={n: s / max(1.0, total) for n, s in zip(names, shares, strict=True)}, rest="R"
    )
    got = resolve_tiers(cfg, score, np.zeros(len(score)))
    tiers = assign_tiers(score, got)
    assert (tiers == names[0]).sum() >= 1
    cuts = list(got.cutoffs.values())
    assert cuts == sorted(cuts, reverse=True)
    # A better tier's leads all score at least as high as a worse tier's.
    rank = {n: i for i, n in enumerate([*names, "R"])}
    order = np.array([rank[t] for t in tiers])
    for i in range(len(names)):
        if (order == i).any() and (order > i).any():
            assert score[order == i].min() >= score[order > i].max()


def test_expected_conversions_sum_the_probabilities_per_tier():
    got = expected_by_tier(np.array(["A", "B", "A"]), np.array([0.5, 0.1, 0.25]), ["A", "B", "C"])
    assert got == [("A", 2, 0.75), ("B", 1, 0.1), ("C", 0, 0.0)]


@pytest.mark.parametrize(
    "tiers, words",
    [
        ({"shares": {"A": 0.7, "B": 0.5}}, "add up to 1.2"),
        ({"shares": {"A": 1.5}}, "tiers.shares.A"),
        ({"capacity": {"A": 0}}, "tiers.capacity.A"),
        ({"shares": {"D": 0.1}}, "both a tier and the rest"),
    ],
)
def test_bad_tier_settings_name_the_key(tiers, words):
    with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
        config_from_dict({"tiers": tiers})


def test_defaults_cut_by_share_and_a_user_cutoff_wins():
    assert config_from_dict({}).tiers.by == "shares"
    cfg = config_from_dict({"tiers": {"cutoffs": {"hot": 30}, "rest": "cold"}}).tiers
    assert cfg.by == "cutoffs" and cfg.cutoffs == {"hot": 30}
