"""Input and score drift of a night against the reference, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.model.reference import bin_counts, build_reference
from leadscore.monitoring.drift import (
    chart_features,
    drift_from_counts,
    feature_drift,
    score_psi,
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
