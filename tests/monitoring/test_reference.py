"""The training reference: bins fixed at training, shares on them, and the PSI, by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.model.reference import (
    Bins,
    bin_counts,
    build_reference,
    categorical_shares,
    column_bins,
    numeric_edges,
    numeric_shares,
    psi,
)


def test_psi_by_hand():
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5)
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))
    assert psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0


def test_an_empty_bin_is_floored_not_infinite():
    assert math.isfinite(psi([1.0, 0.0], [0.5, 0.5]))
    assert psi([1.0, 0.0], [0.5, 0.5]) > 2


def test_numeric_bins_are_right_closed_with_missing_last():
    edges = [1.0, 3.0]
    shares = numeric_shares(np.array([0.0, 1.0, 2.0, 3.0, 4.0, np.nan, np.nan, 9.0]), edges)
    # (-inf, 1]: 0, 1; (1, 3]: 2, 3; (3, inf): 4, 9; missing: 2
    np.testing.assert_allclose(shares, [2 / 8, 2 / 8, 2 / 8, 2 / 8])


def test_edges_of_a_mostly_zero_count_collapse():
    values = np.array([0.0] * 80 + [1.0] * 10 + [2.0] * 10)
    assert numeric_edges(values) == [0.0, 1.0]  # bins: 0, 1, 2 and up
    assert numeric_edges(np.array([np.nan, np.nan])) == []


def test_categorical_shares_put_blanks_in_missing():
    values = pd.Series(["a", "b", "a", None, "missing", "c"])
    # c is outside the levels: in the total only
    np.testing.assert_allclose(categorical_shares(values, ["a", "b"]), [2 / 6, 1 / 6, 2 / 6])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6) | st.just(float("nan")), min_size=1, max_size=200))
def test_shares_of_the_reference_itself_add_up_and_give_zero_psi(values):
    v = np.array(values)
    bins = column_bins("x", pd.Series(v), None)
    assert sum(bins.shares) == pytest.approx(1.0)
    assert psi(bins.shares, numeric_shares(v, bins.edges)) == pytest.approx(0.0, abs=1e-12)


def test_spread_is_the_shift_between_training_periods():
    rng = np.random.default_rng(0)
    steady = pd.Series(rng.normal(size=4000))
    periods = np.repeat(["p1", "p2", "p3", "p4"], 1000)
    calm = column_bins("x", steady, None, periods)
    # A column whose level moves from period to period has a wider spread.
    moving = pd.Series(steady + np.repeat([0.0, 1.0, -1.0, 0.5], 1000))
    restless = column_bins("x", moving, None, periods)
    assert calm.spread is not None and calm.spread < 0.05
    assert restless.spread > 0.5
    assert calm.threshold(0.25) == 0.25 and restless.threshold(0.25) == restless.spread
    assert column_bins("x", steady, None, None).spread is None


def test_reference_keeps_tiers_and_importance():
    features = pd.DataFrame({"n": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "a"]})
    ref = build_reference(
        features,
        {"c": ("a", "b", "other")},
        ["n", "c", "absent"],
        np.array([0.1, 0.2, 0.3, 0.4]),
        np.array(["A", "B", "B", "B"]),
        ["c", "absent", "n", "elsewhere"],
    )
    assert [b.name for b in ref.features] == ["n", "c"]
    assert ref.tiers == {"A": 0.25, "B": 0.75}
    assert ref.importance == ["c", "absent", "n"]
    assert ref.mean_probability == pytest.approx(0.25)
    assert ref.bins("c") == Bins(
        name="c", kind="categorical", levels=["a", "b", "other"], shares=[0.75, 0.25, 0.0, 0.0]
    )
    assert Bins.model_validate_json(ref.bins("n").model_dump_json()) == ref.bins("n")


def test_categorical_and_text_columns_give_the_same_shares():
    text = pd.Series(["a", "b", None, "missing", "c", "a"])
    as_category = pd.Series(pd.Categorical(text, categories=["a", "b", "c", "missing"]))
    for levels in (["a", "b"], ["a", "b", "c", "other"], []):
        np.testing.assert_allclose(
            categorical_shares(as_category, levels), categorical_shares(text, levels)
        )


def test_an_infinity_is_a_value_not_a_missing_one():
    shares = numeric_shares(np.array([-np.inf, 1.0, 2.0, np.inf, np.nan]), [1.0])
    # (-inf, 1]: -inf, 1; (1, inf): 2, inf; missing: NaN
    np.testing.assert_allclose(shares, [2 / 5, 2 / 5, 1 / 5])


def test_kept_counts_are_used_only_when_they_fit_the_reference_and_the_night():
    from leadscore.monitoring.measure import fits

    features = pd.DataFrame({"n": [1.0, 2.0, 3.0, 4.0]})
    ref = build_reference(features, {}, ["n"], np.full(4, 0.1), np.full(4, "A"), ["n"])
    counts = bin_counts(ref, features)
    assert fits(counts, ref, 4)
    assert not fits(counts, ref, 5)  # of another night's rows
    assert not fits({"n": np.append(counts["n"], 0)}, ref, 4)  # of other bins
    assert not fits({}, ref, 4)


def test_tier_floors_are_each_tiers_lowest_probability_on_the_latest_period():
    from leadscore.model.reference import build_reference

    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    p = np.array([0.9, 0.5, 0.1, 0.8, 0.4, 0.2])
    tiers = np.array(["A", "B", "C", "A", "B", "C"])
    periods = np.array(["2025-01", "2025-01", "2025-01", "2025-02", "2025-02", "2025-02"])
    ref = build_reference(frame, {}, ["x"], p, tiers, ["x"], periods)
    assert ref.tier_floors == {"A": 0.8, "B": 0.4, "C": 0.2}  # the later period's
