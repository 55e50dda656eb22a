"""Input and score drift of a night against the reference, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.model.reference import bin_counts, build_reference
from leadscore.monitoring.alerts import slice_drift_alerts
from leadscore.monitoring.drift import (
    chart_features,
    drift_from_counts,
    feature_drift,
    score_psi,
    slice_drift,
    tier_shares,
)


@pytest.fixture
def reference():
    rng = np.random.default_rng(1)
    n = 5000
    features = pd.DataFrame(
        {
            "opens": rng.poisson(2.0, n).astype("float64"),
            "source": rng.choice(["web", "event", "other"], n, p=[0.6, 0.3, 0.1]),
            "size": np.where(rng.random(n) < 0.1, np.nan, rng.lognormal(4, 1, n)),
        }
    )
    p = rng.beta(1, 20, n)
    return (
        build_reference(
            features,
            {"source": ("web", "event", "other", "missing")},
            ["opens", "source", "size"],
            p,
            np.where(p > 0.1, "A", "B"),
            ["opens", "source", "size"],
            np.repeat(["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"], n // 5),
        ),
        features,
        p,
    )


def test_a_second_sample_has_not_drifted(reference):
    ref, _, _ = reference
    rng = np.random.default_rng(2)
    n = 3000
    night = pd.DataFrame(
        {
            "opens": rng.poisson(2.0, n).astype("float64"),
            "source": rng.choice(["web", "event", "other"], n, p=[0.6, 0.3, 0.1]),
            "size": np.where(rng.random(n) < 0.1, np.nan, rng.lognormal(4, 1, n)),
        }
    )
    out = feature_drift(ref, night, 0.25)
    assert not out["drifted"].any()
    assert out["psi"].max() < 0.05
    assert score_psi(ref, rng.beta(1, 20, n)) < 0.05


def test_doubled_opens_a_new_source_and_more_missing_are_each_flagged(reference):
    ref, features, _ = reference
    night = features.head(3000).copy()
    night["opens"] = np.random.default_rng(3).poisson(4.0, 3000).astype("float64")
    night.loc[night.index[:900], "source"] = "other"  # a new source: outside the kept levels
    night.loc[night.index[:1500], "size"] = np.nan
    out = feature_drift(ref, night, 0.25).set_index("feature")
    assert out["drifted"].all()
    assert out.loc["source", "outside_now"] > out.loc["source", "outside_reference"] + 0.2
    assert out.loc["size", "missing_reference"] == pytest.approx(0.1, abs=0.02)
    assert out.loc["size", "missing_now"] == pytest.approx(
        0.55, abs=0.02
    )  # half + a tenth of the rest
    assert np.isnan(out.loc["opens", "outside_now"])  # numeric: no levels


def test_tier_shares_and_expected_conversions_by_hand(reference):
    ref, _, _ = reference
    tiers = pd.Series(["A", "B", "B", "B"])
    out = tier_shares(ref, tiers, np.array([0.5, 0.1, 0.1, 0.2]), ["A", "B"])
    assert out["leads"].tolist() == [1, 3]
    assert out["share"].tolist() == [0.25, 0.75]
    assert out["expected"].tolist() == pytest.approx([0.5, 0.4])
    assert out["share_reference"].sum() == pytest.approx(1.0)


def test_counts_of_chunks_give_the_drift_of_the_whole(reference):
    ref, features, _ = reference
    night = features.sample(3000, random_state=4).reset_index(drop=True)
    night.loc[:999, "source"] = "podcast"
    first, second = bin_counts(ref, night.iloc[:1700]), bin_counts(ref, night.iloc[1700:])
    summed = {k: first[k] + second[k] for k in first}
    pd.testing.assert_frame_equal(
        drift_from_counts(ref, summed, 0.25), feature_drift(ref, night, 0.25)
    )


def test_the_psi_chart_draws_the_largest_movers_and_every_drifted_feature():
    # The largest mover ranks 85th by importance, so a choice by importance alone leaves it
    # out; "drifted" passed its own threshold with a PSI below others of higher thresholds.
    table = pd.DataFrame(
        {
            "feature": ["days_since_open", "a", "b", "c", "d", "e", "drifted", "top1", "top2"],
            "importance_rank": [85, 40, 41, 42, 43, 44, 60, 1, 2],
            "psi": [0.275, 0.2, 0.19, 0.18, 0.17, 0.16, 0.15, 0.01, 0.02],
            "threshold": [0.5, 0.3, 0.3, 0.3, 0.3, 0.3, 0.1, 0.25, 0.25],
            "drifted": [False, False, False, False, False, False, True, False, False],
        }
    ).sample(frac=1.0, random_state=0)  # any row order
    drawn = chart_features(table, top_features=2, largest=3)
    assert drawn["feature"].tolist() == ["days_since_open", "a", "b", "drifted", "top2", "top1"]
    assert drawn["named"].tolist() == [True, True, True, True, False, False]
    assert drawn["threshold"].iloc[0] == 0.5  # drawn with its own threshold, not the floor
    assert chart_features(table.iloc[:0], top_features=2).empty


def _slices(values: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"source": np.array(values, dtype=object)})


def test_only_the_slice_whose_scores_moved_is_flagged():
    # Earlier nights: web and event each half at 0.1, half at 0.3 (the deciles' one edge
    # is 0.1); fair and gone few. Tonight web moves to a quarter at 0.1 and three quarters
    # at 0.3, event stays, fair (2 leads) moves far but is too small to judge.
    before = [0.1] * 4 + [0.3] * 4 + [0.1] * 4 + [0.3] * 4 + [0.2] * 2 + [0.5] * 3
    before_values = ["web"] * 8 + ["event"] * 8 + ["fair"] * 2 + ["gone"] * 3
    now = [0.1] * 2 + [0.3] * 6 + [0.1] * 4 + [0.3] * 4 + [0.9] * 2
    now_values = ["web"] * 8 + ["event"] * 8 + ["fair"] * 2
    t = slice_drift(
        np.array(now), _slices(now_values), np.array(before), _slices(before_values), 4, 0.25
    )
    assert list(t["value"]) == ["event", "web", "other"]  # largest first (ties by name)
    web, event, other = (t.set_index("value").loc[v] for v in ("web", "event", "other"))
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5) = 0.25 ln 3
    assert web["psi"] == pytest.approx(0.25 * np.log(3))
    assert event["psi"] == pytest.approx(0.0)
    assert list(t["drifted"]) == [False, True, False]
    assert web["mean_probability"] == pytest.approx(0.25)
    assert web["mean_probability_baseline"] == pytest.approx(0.2)
    assert web["mean_shift"] == pytest.approx(0.05)
    assert web["share"] == pytest.approx(8 / 18) and web["share_baseline"] == pytest.approx(8 / 21)
    # fair alone is pooled; the earlier nights' other holds fair and gone (absent tonight).
    assert (other["values"], other["leads"], other["baseline_leads"]) == (1, 2, 5)
    assert not other["judged"] and np.isnan(other["psi"])
    (alert,) = slice_drift_alerts(t, "2026-01-01")
    assert alert.line() == (
        "PSI of the probability in source = web (8 leads) on 2026-01-01 is 0.275, above the "
        "threshold 0.250 (monitor.psi_alert)"
    )


def test_small_slices_are_pooled_and_counted_and_judged_only_with_enough_rows_both_sides():
    rng = np.random.default_rng(3)
    now_values = ["a"] * 5 + ["b"] * 2 + ["c"] * 1 + ["d"] * 4
    before_values = ["a"] * 9 + ["b"] * 9 + ["d"] * 3 + ["e"] * 9
    t = slice_drift(
        rng.random(12), _slices(now_values), rng.random(30), _slices(before_values), 4, 0.25
    )
    assert list(zip(t["value"], t["values"], t["leads"], t["baseline_leads"], strict=True)) == [
        ("a", 1, 5, 9),
        ("d", 1, 4, 3),
        ("other", 2, 3, 18),  # b and c tonight; b and e before
    ]
    assert list(t["judged"]) == [True, False, False]  # d: 3 earlier rows; other: 3 tonight
    assert np.isfinite(t["psi"].iloc[0]) and t.loc[~t["judged"], "psi"].isna().all()
    assert not t.loc[~t["judged"], "drifted"].any()
    assert t["share"].sum() == pytest.approx(1.0)
    assert t["share_baseline"].sum() == pytest.approx(1.0)
