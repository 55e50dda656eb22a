"""Quality by slice: pooling into "other", calibration in the large and the two flags, on
tiny frames worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.metrics.slices import (
    OTHER,
    expected_range,
    family_alpha,
    flagged,
    judged_count,
    miscalibrated,
    pool_slices,
    slice_table,
    z_of,
)


def test_values_with_too_few_conversions_pool_into_other_and_are_counted():
    values = np.array(["a", "a", "a", "b", "b", "c", "other"], dtype=object)
    y = np.array([1, 1, 0, 1, 0, 0, 0])
    pooled, n = pool_slices(values, y, min_conversions=2)
    # a has 2 conversions (kept); b has 1 and c none (pooled); a real "other" joins the pool.
    assert list(pooled) == ["a", "a", "a", OTHER, OTHER, OTHER, OTHER]
    assert n == 3


def test_expected_range_is_the_sum_plus_minus_1_96_standard_deviations():
    expected, low, high = expected_range(np.full(4, 0.5))
    # sum 2; variance 4 * 0.5 * 0.5 = 1
    assert expected == 2.0
    assert low == pytest.approx(2 - 1.959964, abs=1e-6)
    assert high == pytest.approx(2 + 1.959964, abs=1e-6)
    assert expected_range(np.full(4, 0.01))[1] == 0.0  # never below zero
    # Two leads of two rows each, each lead's rows converting together: each lead's sd is
    # 0.5 + 0.5 = 1, so the variance is 1 + 1 = 2 (twice the independent rows').
    _, low, high = expected_range(np.full(4, 0.5), np.array(["a", "a", "b", "b"]))
    assert high - 2 == pytest.approx(1.959964 * math.sqrt(2), abs=1e-6) and low == 0.0
    # One row per group is the independent case.
    assert expected_range(np.full(4, 0.5), np.arange(4)) == expected_range(np.full(4, 0.5))


@pytest.mark.parametrize(
    ("realised", "expected", "low", "high", "off"),
    [
        (10, 5, 1, 9, True),  # twice the expected, outside chance
        (10, 5, 1, 11, False),  # twice the expected, but chance could give it
        (1100, 1000, 938, 1062, False),  # beyond chance, only 1.1x
        (600, 1000, 938, 1062, True),  # 0.6x: below 1 / 1.5, beyond chance
        (700, 1000, 938, 1062, False),  # 0.7x: within the factor
    ],
)
def test_miscalibrated_needs_both_the_factor_and_chance(realised, expected, low, high, off):
    assert miscalibrated(realised, expected, low, high, factor=1.5) is off


def _world() -> pd.DataFrame:
    """Slice a: the model ranks perfectly, the points sheet backwards. Slice b: the other
    way round. Slice c: both flat at 5%, and 5 of 20 convert (1 expected). Slice d: one
    conversion, pooled into other."""
    a_y = [1, 1, 1, 0, 0, 0]
    rows = [
        *({"v": "a", "y": y, "pm": 0.1 + 0.8 * y, "pb": 0.9 - 0.8 * y} for y in a_y),
        *({"v": "b", "y": y, "pm": 0.9 - 0.8 * y, "pb": 0.1 + 0.8 * y} for y in a_y),
        *({"v": "c", "y": float(i < 5), "pm": 0.05, "pb": 0.05} for i in range(20)),
        *({"v": "d", "y": float(i == 0), "pm": 0.9 - 0.8 * (i == 0), "pb": 0.5} for i in range(4)),
    ]
    frame = pd.DataFrame(rows)
    frame["tier"] = np.where(frame["pm"] > 0.5, "A", "D")
    return frame


def test_slice_table_flags_a_slice_that_loses_to_points_and_one_miscalibrated():
    w = _world()
    t = slice_table(
        w["y"], w["pm"], w["pb"], w["v"].to_numpy(), min_conversions=3, n_boot=50, seed=1
    ).set_index("value")
    # Largest by conversions first, other last.
    assert list(t.index) == ["c", "a", "b", OTHER]
    assert list(t["leads"]) == [20, 6, 6, 4]
    assert list(t["conversions"]) == [5, 3, 3, 1]
    assert list(t["values"]) == [1, 1, 1, 1]  # d alone was pooled
    assert t.loc["a", "model_roc_auc"] == 1.0 and t.loc["a", "baseline_roc_auc"] == 0.0
    # Every resample with both classes gives a difference of -1 in b: wholly below zero.
    assert t.loc["b", "roc_auc_difference_high"] == -1.0
    assert bool(t.loc["b", "loses_to_points"]) and not bool(t.loc["a", "loses_to_points"])
    # c: 1 conversion expected (20 x 0.05), chance range up to 1 + 1.96 * sqrt(0.95) = 2.91;
    # 5 realised, 5x.
    assert t.loc["c", "expected"] == pytest.approx(1.0)
    assert t.loc["c", "expected_high"] == pytest.approx(1 + 1.959964 * math.sqrt(0.95), abs=1e-5)
    assert t.loc["c", "realised_over_expected"] == pytest.approx(5.0)
    assert bool(t.loc["c", "miscalibrated"]) and not bool(t.loc["c", "loses_to_points"])
    # other: the model ranks its one conversion last and is off 0.35x, but 1 conversion is
    # too few to judge: no flag.
    assert not bool(t.loc[OTHER, "judged"]) and math.isnan(t.loc[OTHER, "model_roc_auc"])
    assert not bool(t.loc[OTHER, "loses_to_points"]) and not bool(t.loc[OTHER, "miscalibrated"])
    assert list(flagged(t.reset_index())["value"]) == ["c", "b"]


def test_conversions_per_tier_in_category_order():
    w = _world()
    tier = pd.Series(pd.Categorical(w["tier"], categories=["A", "B", "D"]))
    t = slice_table(
        w["y"], w["pm"], w["pb"], w["v"].to_numpy(), tier, min_conversions=3, n_boot=10
    ).set_index("value")
    assert [c for c in t.columns if c.startswith(("leads_", "conversions_"))] == [
        "leads_A",
        "conversions_A",
        "leads_B",
        "conversions_B",
        "leads_D",
        "conversions_D",
    ]
    # a: its 3 conversions at 0.9 (tier A), its 3 others at 0.1 (D); b: the reverse.
    assert list(t.loc["a", ["leads_A", "conversions_A", "leads_D", "conversions_D"]]) == [
        3,
        3,
        3,
        0,
    ]
    assert t.loc["b", "conversions_A"] == 0 and t.loc["b", "leads_A"] == 3
    assert t.loc["b", "conversions_D"] == 3
    assert (t["leads_B"] == 0).all()
    # other (d): 3 leads at 0.9 in A, none converted; its conversion in D.
    assert t.loc[OTHER, "leads_A"] == 3 and t.loc[OTHER, "conversions_D"] == 1


def test_a_slice_of_one_class_has_no_auc_and_no_flag():
    y = np.array([1, 1, 1, 1, 1, 0])
    v = np.array(["x", "x", "x", "y", "y", "y"], dtype=object)
    t = slice_table(y, np.full(6, 0.9), np.full(6, 0.3), v, min_conversions=1, n_boot=10)
    x = t.set_index("value").loc["x"]  # every lead converted: no ranking to judge
    assert x["judged"] and math.isnan(x["model_roc_auc"]) and not x["loses_to_points"]
    assert x["expected"] == pytest.approx(2.7) and not x["miscalibrated"]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("abcdeo"), st.booleans()), min_size=1, max_size=60),
    st.integers(min_value=1, max_value=6),
)
def test_pooling_keeps_every_row_and_every_kept_value_has_enough(pairs, minimum):
    values = np.array(["other" if v == "o" else v for v, _ in pairs], dtype=object)
    y = np.array([float(c) for _, c in pairs])
    pooled, n = pool_slices(values, y, minimum)
    assert len(pooled) == len(values)
    kept = set(pooled) - {OTHER}
    for v in kept:
        assert y[pooled == v].sum() >= minimum
        assert (pooled[values == v] == v).all()  # a kept value keeps all its rows
    assert n == len(set(values) - kept)


def test_a_lead_counted_in_several_snapshots_widens_the_chance_range():
    w = _world()
    # c's 20 rows as 4 leads of 5 snapshots: each lead's sd 5 * sqrt(0.05 * 0.95), the
    # variance 4 * 25 * 0.0475 = 4.75, the range up to 1 + 1.96 * 2.18 = 5.27: 5 realised
    # conversions are within chance.
    nth = w.groupby("v").cumcount()
    lead = np.where(w["v"] == "c", "c" + (nth // 5).astype(str), "x" + w.index.astype(str))
    t = slice_table(
        w["y"], w["pm"], w["pb"], w["v"].to_numpy(), groups=lead, min_conversions=3, n_boot=10
    ).set_index("value")
    assert t.loc["c", "expected_high"] == pytest.approx(1 + 1.959964 * math.sqrt(4.75), abs=1e-5)
    assert not bool(t.loc["c", "miscalibrated"])
    # Leads as numbers group the rows as their ids do: the same table.
    codes = pd.factorize(lead)[0]
    by_code = slice_table(
        w["y"], w["pm"], w["pb"], w["v"].to_numpy(), groups=codes, min_conversions=3, n_boot=10
    ).set_index("value")
    pd.testing.assert_frame_equal(by_code, t)


def test_the_flags_share_their_level_among_the_slices_judged():
    w = _world()
    # c, a and b hold at least 3 conversions; d (1) is pooled and too few.
    assert judged_count(w["y"], w["v"].to_numpy(), 3) == 3
    assert family_alpha(3) == pytest.approx(0.05 / 3) and family_alpha(0) == 0.05
    assert z_of(0.05) == pytest.approx(1.959964, abs=1e-6)
    # c: 5 realised against 1 expected is 4.1 standard deviations (sd sqrt(0.95)): flagged
    # at 5%, not when 5% is shared among 5,000 slices (z 4.56).
    at = {
        a: slice_table(
            w["y"], w["pm"], w["pb"], w["v"].to_numpy(), min_conversions=3, alpha=a, n_boot=10
        ).set_index("value")
        for a in (0.05, family_alpha(5000))
    }
    assert bool(at[0.05].loc["c", "miscalibrated"])
    assert not bool(at[family_alpha(5000)].loc["c", "miscalibrated"])
    assert at[family_alpha(5000)].loc["c", "expected_high"] == pytest.approx(
        1 + z_of(0.05 / 5000) * math.sqrt(0.95)
    )
