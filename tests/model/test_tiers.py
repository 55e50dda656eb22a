"""Tiers from shares and capacities: on each night's ranks, or cut once on the backtest's
scores (``fixed_at_training``), by hand; and the score's resolution."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.config import ConfigError, TierConfig, config_from_dict
from leadscore.model.tiers import (
    assign_tiers,
    expected_by_tier,
    night_tiers,
    ranks,
    ranks_and_tiers,
    resolve_tiers,
    tier_order,
    to_score,
)


def test_shares_cut_at_the_scores_closest_to_each_cumulative_share():
    score = np.arange(10, 0, -1, dtype="float64")  # 10 .. 1
    cfg = TierConfig(shares={"A": 0.1, "B": 0.2, "C": 0.3}, rest="D", fixed_at_training=True)
    got = resolve_tiers(cfg, score, np.zeros(10))
    assert got.cutoffs == {"A": 10.0, "B": 8.0, "C": 5.0}
    assert list(assign_tiers(score, got)) == list("ABBCCCDDDD")
    assert "shares" in got.cut_from


def test_tied_scores_keep_the_top_tier_and_leave_a_tier_empty_rather_than_overshoot():
    score = np.array([5, 5, 5, 5, 1, 1, 1, 1, 1, 1], dtype="float64")
    cfg = TierConfig(shares={"A": 0.05, "B": 0.15, "C": 0.30}, rest="D", fixed_at_training=True)
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
    cfg = TierConfig(capacity={"hot": 1, "warm": 2}, rest="cold", fixed_at_training=True)
    got = resolve_tiers(cfg, score, period)
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
        shares={n: s / max(1.0, total) for n, s in zip(names, shares, strict=True)},
        rest="R",
        fixed_at_training=True,
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


def test_shares_and_capacities_stay_for_each_night_unless_fixed_at_training():
    cfg = TierConfig(shares={"A": 0.1}, rest="B")
    assert resolve_tiers(cfg, np.arange(10.0), np.zeros(10)) is cfg and cfg.ranked
    assert not TierConfig(cutoffs={"A": 3}, rest="B").ranked


def test_each_night_takes_its_share_of_its_own_leads():
    cfg = TierConfig(shares={"A": 0.1, "B": 0.2, "C": 0.3}, rest="D")
    p = np.linspace(0.9, 0.05, 10)
    assert list(night_tiers(p, np.zeros(10), cfg)) == list("ABBCCCDDDD")
    # Two nights at once: a night of much lower probabilities still has its top 10% in A.
    both = np.r_[p, p / 100]
    got = night_tiers(both, np.zeros(20), cfg, night=np.repeat(["n1", "n2"], 10))
    assert list(got) == list("ABBCCCDDDD") * 2


def test_tiers_cut_per_segment_give_each_segment_its_share_of_each_night():
    cfg = TierConfig(shares={"A": 0.1, "B": 0.2, "C": 0.3}, rest="D")
    p = np.linspace(0.9, 0.05, 10)
    # One night, two segments of ten leads each; the second's leads all score lower.
    both = np.r_[p, p / 100]
    segment = np.repeat(["europe", ""], 10)
    assert list(night_tiers(both, np.zeros(20), cfg, segment=segment)) == list("ABBCCCDDDD") * 2
    overall = night_tiers(both, np.zeros(20), cfg)
    assert list(overall) == list("AABBBBCCCCCC") + ["D"] * 8
    # Two nights and two segments: four groups, each cut on its own.
    four = np.r_[both, both]
    night = np.repeat(["n1", "n2"], 20)
    got = night_tiers(four, np.zeros(40), cfg, night=night, segment=np.r_[segment, segment])
    assert list(got) == list("ABBCCCDDDD") * 4
    # Ranks stay the night's: the second segment's best lead ranks 11th, in tier A.
    rank, tier = ranks_and_tiers(both, np.zeros(20), cfg, segment)
    assert rank[10] == 11 and tier[10] == "A"
    # Fixed cut-offs read the score, whatever the segment.
    fixed = TierConfig(cutoffs={"A": 50}, rest="B")
    assert (
        list(night_tiers(both, np.zeros(20), fixed, segment=segment))
        == list("AAAAABBBBB") + ["B"] * 10
    )


def test_the_raw_margin_orders_leads_calibration_put_on_one_probability():
    cfg = TierConfig(shares={"A": 0.1, "B": 0.2, "C": 0.3}, rest="D")
    p = np.array([0.5] * 4 + [0.1] * 6)
    margin = np.array([4, 3, 3, 1, 0, 0, 0, 0, 0, 0.0])
    # A: 1 lead; B: 2 (cumulative 30%); C at 60% would take the six tied leads (100%), so it
    # stops at 40%, nearer its target: one lead.
    assert list(night_tiers(p, margin, cfg)) == list("ABBCDDDDDD")
    assert list(ranks(p, margin)) == [1, 2, 2, 4, 5, 5, 5, 5, 5, 5]
    # Without margins to tell them apart, the four at 0.5 go to one tier together: A.
    assert list(night_tiers(p, np.zeros(10), cfg)) == list("AAAADDDDDD")


def test_capacity_takes_the_best_n_of_each_night():
    cfg = TierConfig(capacity={"hot": 3, "warm": 2}, rest="cold")
    p = np.linspace(0.9, 0.1, 10)
    got = night_tiers(p, np.zeros(10), cfg)
    assert list(got) == ["hot"] * 3 + ["warm"] * 2 + ["cold"] * 5


def test_fixed_cutoffs_read_the_score_every_night():
    cfg = TierConfig(cutoffs={"A": 50, "B": 10}, rest="C")
    got = night_tiers(np.array([0.6, 0.2, 0.05]), np.zeros(3), cfg)
    assert list(got) == ["A", "B", "C"]


def test_a_score_keeps_three_significant_digits():
    p = np.array([0.000001, 0.00012345, 0.034567, 0.71, 1.0, 0.0])
    assert list(to_score(p)) == [0.0001, 0.0123, 3.46, 71.0, 100.0, 0.0]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 20), st.integers(0, 5)), min_size=1, max_size=200),
    st.lists(st.floats(0.01, 0.5), min_size=1, max_size=3),
)
def test_night_tiers_hold_their_shares_within_ties_and_never_split_a_tie(pairs, shares):
    p = np.array([a for a, _ in pairs], dtype="float64") / 40
    m = np.array([b for _, b in pairs], dtype="float64")
    names = [f"T{i}" for i in range(len(shares))]
    total = max(1.0, sum(shares))
    cfg = TierConfig(shares={n: s / total for n, s in zip(names, shares, strict=True)}, rest="R")
    got = night_tiers(p, m, cfg)
    order = {n: i for i, n in enumerate([*names, "R"])}
    level = np.array([order[t] for t in got])
    r = ranks(p, m)
    # Better tiers hold better-ranked leads, and leads equal on both keys share a tier.
    for i in range(len(names)):
        if (level == i).any() and (level > i).any():
            assert r[level == i].max() < r[level > i].min()
    key = p * 1000 + m  # p steps by 25 there, m is under 6: one key per pair
    for k in np.unique(key):
        assert len(set(level[key == k])) == 1
    assert (level == 0).any()  # the best lead is always in the top tier
    # Each cumulative cut is as close to its target as the tie groups allow: the top tier's
    # among the non-empty cuts, a later tier's among staying put and the cuts below it.
    n, ends = len(p), np.unique(np.r_[np.sort(r - 1), len(p)]) / len(p)
    before = 0.0
    for i, target in enumerate(np.minimum(1.0, np.cumsum(list(cfg.shares.values())))):
        reached = (level <= i).sum() / n
        allowed = ends[ends > 0] if i == 0 else ends[ends >= before]
        assert abs(reached - target) <= np.abs(allowed - target).min() + 1e-12
        before = reached


def test_the_tier_note_names_the_rows_it_was_measured_on():
    from leadscore.model.tiers import tier_note

    cfg = config_from_dict({}).tiers
    tier = np.array(["A", "B", "C", "D", "D"])
    dated = tier_note(cfg, tier, 1)
    assert "on the backtest's 5 out-of-time rows over 1 snapshot: A 20.0%" in dated
    flat = tier_note(cfg, tier, 4, in_time=False, unit="fold")
    assert "on the backtest's 5 held-out rows over 4 folds: " in flat
