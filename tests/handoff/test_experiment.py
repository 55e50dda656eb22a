"""The experiment's figures from tiny hand-made logs and outcomes, and the interval's
behaviour over seeded simulated arms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.handoff.experiment import (
    compare,
    entries,
    experiment_names,
    measure_experiment,
    signed,
)
from leadscore.metrics.proportions import effect_size, power

N1, N2 = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-01-08", tz="UTC")


def log(rows) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["lead_id", "arm", "handed_off_at", "experiment", "tier", "probability"]
    )
    for c in ("lead_id", "arm", "experiment", "tier"):
        frame[c] = frame[c].astype("string")
    return frame


def test_a_lead_counts_once_from_its_first_night_in_the_experiment():
    rows = log(
        [
            ("a", "treated", N2, "e", "B", 0.1),
            ("a", "treated", N1, "e", "A", 0.3),
            ("b", "control", N1, "e", "A", 0.2),
            ("c", "treated", N1, None, "A", 0.2),  # a night without a holdout
            ("d", "control", N1, "other", "A", 0.2),
        ]
    )
    lead, notes = entries(rows, "e")
    assert lead[["lead_id", "as_of", "arm", "tier"]].values.tolist() == [
        ["a", N1, "treated", "A"],
        ["b", N1, "control", "A"],
    ]
    assert notes == []
    assert experiment_names(rows) == ["e", "other"] or experiment_names(rows) == ["other", "e"]
    both = log([("a", "treated", N1, "e", "A", 0.3), ("a", "control", N2, "e", "A", 0.3)])
    lead, notes = entries(both, "e")
    assert lead["arm"].tolist() == ["treated"] and "1 lead appears in both arms" in notes[0]


def test_compare_counts_each_arm_and_its_uplift():
    frame = pd.DataFrame(
        {
            "arm": ["treated"] * 10 + ["control"] * 10,
            "label": [1.0] * 4 + [0.0] * 6 + [1.0] * 2 + [0.0] * 8,
            "tier": ["A", "B"] * 10,
        }
    )
    r = compare(frame, []).iloc[0]
    assert (r["treated_leads"], r["treated_conversions"]) == (10, 4)
    assert (r["control_leads"], r["control_conversions"]) == (10, 2)
    assert r["uplift"] == pytest.approx(1.0) and r["difference"] == pytest.approx(0.2)
    assert r["uplift_low"] < 0 < r["uplift_high"]  # 10 leads an arm tell little
    tiers = compare(frame, ["tier"])
    assert tiers["treated_leads"].tolist() == [5, 5] and tiers["treated_conversions"].sum() == 4


def _arms(rng: np.random.Generator, uplift: float) -> pd.DataFrame:
    treated, control, p = 4_000, 1_000, 0.05
    return pd.DataFrame(
        {
            "arm": ["treated"] * treated + ["control"] * control,
            "label": np.r_[rng.random(treated) < p * (1 + uplift), rng.random(control) < p].astype(
                float
            ),
        }
    )


def test_without_an_effect_the_interval_covers_zero_in_about_95_percent_of_seeds():
    covered = 0
    for seed in range(40):
        r = compare(_arms(np.random.default_rng(seed), 0.0), []).iloc[0]
        covered += r["uplift_low"] <= 0 <= r["uplift_high"]
    # 95% coverage gives 34 or more of 40 with probability 0.99 (binomial).
    assert covered >= 34


def test_a_planted_uplift_is_inside_the_interval_in_about_95_percent_of_seeds():
    inside = 0
    for seed in range(40):
        r = compare(_arms(np.random.default_rng(100 + seed), 0.5), []).iloc[0]
        inside += r["uplift_low"] <= 0.5 <= r["uplift_high"]
    assert inside >= 34


def _world(n_treated=40, n_control=20, won_treated=12, won_control=3):
    """Leads entered on N1 (and two on N2), some won within 90 days, one after them."""
    ids_t = [f"t{i}" for i in range(n_treated)]
    ids_c = [f"c{i}" for i in range(n_control)]
    rows = [(i, "treated", N1, "e", "A" if k % 2 else "B", 0.2) for k, i in enumerate(ids_t)]
    rows += [(i, "control", N1, "e", "A" if k % 2 else "B", 0.1) for k, i in enumerate(ids_c)]
    rows += [("late-t", "treated", N2, "e", "A", 0.2), ("late-c", "control", N2, "e", "A", 0.1)]
    won = ids_t[:won_treated] + ids_c[:won_control] + ["late-t"]
    outcomes = pd.DataFrame(
        {
            "lead_id": [*won, ids_t[-1]],
            "closed_at": [N1 + pd.Timedelta(days=30)] * len(won) + [N1 + pd.Timedelta(days=95)],
            "won": [True] * len(won) + [True],
        }
    )
    return log(rows), outcomes


def test_the_experiment_counts_leads_whose_horizon_has_passed():
    rows, outcomes = _world()
    end = N1 + pd.Timedelta(days=93)  # N1's horizon has passed, N2's has not
    x = measure_experiment(rows, outcomes, end, 90, "e", uplift=0.2)
    r = x.overall.iloc[0]
    assert (r["treated_leads"], r["treated_conversions"]) == (40, 12)  # the 95th day: no
    assert (r["control_leads"], r["control_conversions"]) == (20, 3)
    assert r["uplift"] == pytest.approx((12 / 40) / (3 / 20) - 1)
    assert x.waiting_leads == 2 and x.waiting_nights == 1
    assert x.tiers["tier"].tolist() == ["A", "B"]  # same mean probability: by name, stable
    assert x.nights["as_of"].tolist() == [N1]
    assert x.counted == 60 and x.first_night == N1 and x.last_night == N2
    # Power at the control's expected rate (its probabilities, 0.1) and the split so far.
    h = effect_size(0.12, 0.1)
    assert x.power.control_rate == pytest.approx(0.1)
    assert x.power.achieved == pytest.approx(float(power(h, 40, 0.5)))
    assert x.power.treated_waiting == 1 and x.power.pace == 1.0  # N2: one treated lead
    assert x.covers_zero and x.verdict().startswith("The interval still covers zero")


def test_the_verdict_says_plainly_what_was_found():
    rows, outcomes = _world(400, 400, 120, 40)
    end = N1 + pd.Timedelta(days=200)
    x = measure_experiment(rows, outcomes, end, 90, "e", uplift=0.2)
    assert not x.covers_zero
    # 121 of 401 treated (late-t converted after N2) against 40 of 401: 3.025 times.
    assert x.verdict().startswith("Routing raised conversion by 202.5% (95% interval +")
    none = measure_experiment(rows, outcomes, N1 + pd.Timedelta(days=10), 90, "e", uplift=0.2)
    assert none.counted == 0 and "has reached the end of its 90-day horizon yet" in none.verdict()
    rows, outcomes = _world(40, 20, 12, 0)
    x = measure_experiment(rows, outcomes, end, 90, "e", uplift=0.2)
    assert x.verdict().startswith("No conversion in the control arm yet")
    assert x.to_dict()["overall"]["uplift"] is None  # NaN as null
    with pytest.raises(ValueError, match="no lead of experiment other in the control arm"):
        measure_experiment(rows, outcomes, end, 90, "other", uplift=0.2)


def test_signed_uplifts():
    assert (signed(0.1234), signed(-0.04), signed(float("nan"))) == ("+12.3%", "-4.0%", "–")
