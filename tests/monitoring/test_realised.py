"""Realised performance and alerts, hand-worked on tiny nights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from leadscore.config import MonitorConfig
from leadscore.monitoring.alerts import drift_alerts, realised_alerts, slice_alerts
from leadscore.monitoring.realised import (
    expected_auc,
    realised_by_night,
    realised_by_slice,
    realised_by_tier,
    realised_night,
)

NIGHT = pd.DataFrame(
    {
        "as_of": pd.Timestamp("2025-01-01", tz="UTC"),
        "probability": [0.8, 0.4, 0.2, 0.1, 0.1, 0.4],
        "score": [80.0, 40.0, 20.0, 10.0, 10.0, 40.0],
        "baseline_score": [10.0, 90.0, 50.0, 20.0, 30.0, 40.0],
        "tier": ["A", "A", "B", "B", "B", "A"],
        "label": [1.0, 0.0, 1.0, 0.0, 0.0, 0.0],
    }
)


def test_one_night_by_hand():
    r = realised_night(NIGHT)
    assert r["leads"] == 6
    assert r["expected"] == pytest.approx(2.0)
    assert r["realised"] == 2.0
    assert r["ratio"] == pytest.approx(1.0)
    # Model: the converters score 80 and 20; of the 8 (converter, other) pairs they win
    # 80 > all 4, and 20 > 10, 10, tie none, lose to 40, 40: (4 + 2) / 8.
    assert r["roc_auc_model"] == pytest.approx(6 / 8)
    # Points: converters 10 and 50 against 90, 20, 30, 40: 10 wins none, 50 wins 3 -> 3 / 8.
    assert r["roc_auc_points"] == pytest.approx(3 / 8)


def test_by_tier_by_hand():
    out = realised_by_tier(NIGHT, ["A", "B", "C"]).set_index("tier")
    assert out.loc["A", "leads"] == 3 and out.loc["A", "realised"] == 1.0
    assert out.loc["A", "expected"] == pytest.approx(1.6)
    assert out.loc["B", "realised_rate"] == pytest.approx(1 / 3)
    assert out.loc["C", "leads"] == 0


def test_a_night_whose_horizon_has_not_passed_is_left_out():
    later = NIGHT.assign(as_of=pd.Timestamp("2025-02-01", tz="UTC"), label=float("nan"))
    out = realised_by_night(pd.concat([NIGHT, later], ignore_index=True))
    assert out["as_of"].tolist() == [pd.Timestamp("2025-01-01", tz="UTC")]


def nights(ratio: float, auc: float, points: float, realised: float = 50.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "as_of": [pd.Timestamp("2025-01-01", tz="UTC")],
            "realised": [realised],
            "ratio": [ratio],
            "roc_auc_model": [auc],
            "roc_auc_points": [points],
        }
    )


def test_realised_alerts_name_the_measure_value_and_threshold():
    cfg = MonitorConfig()
    assert realised_alerts(nights(1.2, 0.8, 0.7), cfg) == []
    (high,) = realised_alerts(nights(1.6, 0.8, 0.7), cfg)
    assert high.line() == (
        "realised / expected conversions on 2025-01-01 is 1.600, above the threshold 1.500 "
        "(monitor.calibration_factor)"
    )
    (low,) = realised_alerts(nights(0.6, 0.8, 0.7), cfg)
    assert low.threshold == pytest.approx(1 / 1.5) and "below the threshold 0.667" in low.line()
    (auc,) = realised_alerts(nights(1.0, 0.7, 0.75), cfg)
    assert "below the points model's 0.750" in auc.line()
    assert realised_alerts(nights(1.0, 0.7, 0.75), MonitorConfig(auc_below_points=False)) == []
    assert realised_alerts(nights(3.0, 0.5, 0.9, realised=19), cfg) == []  # too few to judge


def test_drift_alerts_only_on_important_drifted_features():
    features = pd.DataFrame(
        {
            "feature": ["a", "b", "c"],
            "importance_rank": [1, 2, 30],
            "psi": [0.4, 0.3, 2.0],
            "threshold": [0.25, 0.5, 0.25],
            "drifted": [True, False, True],
        }
    )
    cfg = MonitorConfig()
    (a,) = drift_alerts("2025-01-01", features, 0.1, 0.25, cfg)
    assert a.measure == "PSI of a" and a.value == 0.4
    both = drift_alerts("2025-01-01", features, 0.3, 0.25, MonitorConfig(top_features=50))
    assert [x.measure for x in both] == ["PSI of a", "PSI of c", "PSI of the probability"]


def test_expected_auc_by_hand_and_against_outcomes_drawn_from_the_probabilities():
    # Two leads: (0.9 x 0.9) / (0.9 x 0.9 + 0.1 x 0.1), the second pair ranked wrong.
    assert expected_auc(np.array([0.9, 0.1]), np.array([2.0, 1.0])) == pytest.approx(0.81 / 0.82)
    # Tied scores rank no better than a coin.
    assert expected_auc(np.array([0.3, 0.6, 0.2]), np.array([5.0, 5.0, 5.0])) == pytest.approx(0.5)
    rng = np.random.default_rng(5)
    p = rng.beta(1, 15, 20_000)
    score = np.round(p * 100, 1)
    draws = [roc_auc_score(rng.random(len(p)) < p, score) for _ in range(30)]
    assert expected_auc(p, score) == pytest.approx(np.mean(draws), abs=0.005)


def test_an_alert_just_past_its_threshold_shows_the_digits_that_differ():
    features = pd.DataFrame(
        {
            "feature": ["a"],
            "importance_rank": [1],
            "psi": [0.25043],
            "threshold": [0.25],
            "drifted": [True],
        }  # fmt: skip
    )
    (a,) = drift_alerts("2025-01-01", features, 0.0, 0.25, MonitorConfig())
    assert "is 0.2504, above the threshold 0.2500" in a.line()


def slice_night() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A realised night of four lead sources. web: the model ranks both conversions first,
    the points score last. ads: the reverse. events: 10 leads at 2% each (0.2 expected),
    4 converted. fax: one conversion, too few to judge (pooled into other)."""
    web = {"probability": [0.9, 0.8, 0.1, 0.1], "baseline_score": [10, 20, 80, 90]}
    ads = {"probability": [0.1, 0.1, 0.9, 0.9], "baseline_score": [90, 80, 10, 20]}
    night = pd.concat(
        [
            pd.DataFrame({**web, "label": [1, 1, 0, 0], "source": "web"}),
            pd.DataFrame({**ads, "label": [1, 1, 0, 0], "source": "ads"}),
            pd.DataFrame(
                {
                    "probability": [0.02] * 10,
                    "baseline_score": [50] * 10,
                    "label": [1] * 4 + [0] * 6,
                    "source": "events",
                }
            ),
            pd.DataFrame(
                {"probability": [0.5], "baseline_score": [50], "label": [1], "source": "fax"}
            ),
        ],
        ignore_index=True,
    ).assign(as_of=pd.Timestamp("2025-01-01", tz="UTC"), label=lambda f: f["label"].astype(float))
    return night, night[["source"]].rename(columns={"source": "lead_source"})


def test_realised_by_slice_by_hand():
    night, values = slice_night()
    out = realised_by_slice(night, values, min_conversions=2, factor=1.5).set_index("value")
    assert list(out.index) == ["events", "ads", "web", "other"]  # most conversions first
    assert (out["column"] == "lead_source").all()
    assert list(out["realised"]) == [4, 2, 2, 1] and list(out["leads"]) == [10, 4, 4, 1]
    assert out.loc["events", "expected"] == pytest.approx(0.2)
    assert out.loc["events", "ratio"] == pytest.approx(20.0)
    assert out.loc["web", "roc_auc_model"] == 1.0 and out.loc["web", "roc_auc_points"] == 0.0
    assert out.loc["ads", "roc_auc_model"] == 0.0 and out.loc["ads", "roc_auc_points"] == 1.0
    assert list(out["loses_to_points"]) == [False, True, False, False]
    assert list(out["miscalibrated"]) == [True, False, False, False]
    assert not out.loc["other", "judged"] and np.isnan(out.loc["other", "roc_auc_model"])


def test_slice_alerts_name_the_slice_and_follow_the_settings():
    night, values = slice_night()
    out = realised_by_slice(night, values, min_conversions=2, factor=1.5)
    lines = [a.line() for a in slice_alerts(out, "2025-01-01", MonitorConfig())]
    assert lines == [
        "realised / expected conversions in lead_source = events on 2025-01-01 is 20.000, "
        "above the threshold 1.500 (monitor.calibration_factor)",
        "realised ROC AUC of the model in lead_source = ads on 2025-01-01 is 0.000, below "
        "the points model's beyond chance 1.000 (monitor.auc_below_points)",
    ]
    quiet = slice_alerts(out, "2025-01-01", MonitorConfig(auc_below_points=False))
    assert [a.measure for a in quiet] == ["realised / expected conversions in lead_source = events"]


def test_a_night_without_points_scores_has_no_points_figures_by_slice():
    night, values = slice_night()
    out = realised_by_slice(night.drop(columns="baseline_score"), values, 2, 1.5)
    assert out["roc_auc_points"].isna().all() and not out["loses_to_points"].any()
    assert out.set_index("value").loc["web", "roc_auc_model"] == 1.0
