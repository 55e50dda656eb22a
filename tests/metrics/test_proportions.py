"""Intervals and power of two proportions, against Newcombe's published example and
statsmodels (its values where it is installed; figures it gave, cited, where it is not)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.metrics.proportions import (
    effect_size,
    mover_ratio,
    newcombe_difference,
    power,
    treated_needed,
    wilson,
)

GRID = [(56, 70, 48, 80), (5, 1000, 1, 120), (30, 9000, 2, 1000), (120, 2000, 100, 2000)]


def test_newcombe_matches_the_published_example():
    # Newcombe (1998), Stat Med 17:873, table II, example (a), method 10: 0.0524 to 0.3339.
    d, lo, hi = newcombe_difference(56, 70, 48, 80)
    assert d == pytest.approx(0.2)
    assert (round(float(lo), 4), round(float(hi), 4)) == (0.0524, 0.3339)


def test_wilson_of_none_and_all():
    lo, hi = wilson([0, 10], [10, 10])
    # z^2 / (n + z^2) with z = 1.959964: 3.8415 / 13.8415
    assert lo[0] == 0 and hi[0] == pytest.approx(0.27753, abs=1e-5)
    assert hi[1] == pytest.approx(1) and lo[1] == pytest.approx(1 - 0.27753, abs=1e-5)


def test_against_statsmodels_where_installed():
    sm = pytest.importorskip("statsmodels.stats.proportion")
    smp = pytest.importorskip("statsmodels.stats.power")
    for x1, n1, x2, n2 in GRID:
        want = sm.confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
        _, lo, hi = newcombe_difference(x1, n1, x2, n2)
        assert (float(lo), float(hi)) == pytest.approx(want, abs=1e-12)
        # MOVER-R and the score interval of the ratio are two good intervals: close, not equal.
        _, lo, hi = mover_ratio(x1, n1, x2, n2)
        want = sm.confint_proportions_2indep(x1, n1, x2, n2, method="score", compare="ratio")
        assert float(lo) == pytest.approx(want[0], rel=0.1)
        assert float(hi) == pytest.approx(want[1], rel=0.05)
    for p1, p2 in [(0.06, 0.05), (0.3, 0.2), (0.012, 0.01)]:
        h = float(effect_size(p1, p2))
        assert h == pytest.approx(sm.proportion_effectsize(p1, p2), rel=1e-12)
        for ratio in (1 / 9, 0.25, 1.0):
            for target in (0.5, 0.8, 0.9):
                want = smp.NormalIndPower().solve_power(
                    h, nobs1=None, alpha=0.05, power=target, ratio=ratio
                )
                assert treated_needed(h, target, ratio) == pytest.approx(want, rel=1e-6)
            got = power(h, 5000, ratio, 0.01)
            assert got == pytest.approx(smp.NormalIndPower().power(h, 5000, 0.01, ratio=ratio))


def test_power_against_figures_statsmodels_gave():
    # statsmodels 0.15.0: proportion_effectsize(0.06, 0.05) and NormalIndPower().solve_power(h,
    # nobs1=None, alpha=0.05, power=0.8, ratio=1/9 or 1); .power(h, 5000, 0.05, ratio=0.2).
    h = float(effect_size(0.06, 0.05))
    assert h == pytest.approx(0.04390731454463309, rel=1e-12)
    assert treated_needed(h, 0.8, 1 / 9) == pytest.approx(40712.9769710194, rel=1e-8)
    assert treated_needed(h, 0.8, 1.0) == pytest.approx(8142.595394436454, rel=1e-8)
    assert float(power(h, 5000, 0.2)) == pytest.approx(0.244945901187044, rel=1e-10)
    assert treated_needed(0.0, 0.8, 1.0) == np.inf
    with pytest.raises(ValueError, match="alpha"):
        treated_needed(h, 0.01, 1.0)


def test_the_ratio_is_undefined_without_control_conversions():
    r, lo, hi = mover_ratio([3, 0], [50, 10], [0, 0], [40, 10])
    assert np.isnan(r).all() and np.isnan(lo).all() and np.isnan(hi).all()
    r, lo, hi = mover_ratio(0, 100, 3, 50)
    assert r == 0 and lo == 0 and 0 < hi < 1


@settings(max_examples=200, deadline=None)
@given(
    n1=st.integers(1, 5000),
    n2=st.integers(1, 5000),
    f1=st.floats(0, 1),
    f2=st.floats(0.001, 1),
)
def test_ratio_bounds_are_the_roots_that_define_them(n1, n2, f1, f2):
    """Each bound solves its MOVER equation, and the interval holds the estimate."""
    x1, x2 = round(f1 * n1), max(1, round(f2 * n2))
    r, lo, hi = (float(v) for v in mover_ratio(x1, n1, x2, n2))
    p1, p2 = x1 / n1, x2 / n2
    (l1, u1), (l2, u2) = (tuple(map(float, wilson(x, n))) for x, n in ((x1, n1), (x2, n2)))
    assert lo <= r + 1e-12 and r <= hi + 1e-12
    scale = max(p1, p2) ** 2
    assert (p1 - lo * p2) ** 2 == pytest.approx(
        (p1 - l1) ** 2 + lo**2 * (u2 - p2) ** 2, abs=1e-9 * scale + 1e-15
    )
    if np.isfinite(hi):
        assert (hi * p2 - p1) ** 2 == pytest.approx(
            (u1 - p1) ** 2 + hi**2 * (p2 - l2) ** 2, abs=1e-9 * max(scale, hi**2 * p2**2) + 1e-15
        )


def test_both_intervals_cover_about_95_percent():
    """4,000 pairs of arms without an effect (and 4,000 with one): each interval holds the
    truth in 93.5% to 96.5% of them."""
    rng = np.random.default_rng(7)
    n1, n2 = 3_000, 700
    for p1, p2 in ((0.05, 0.05), (0.06, 0.05)):
        x1, x2 = rng.binomial(n1, p1, 4_000), rng.binomial(n2, p2, 4_000)
        _, lo, hi = newcombe_difference(x1, n1, x2, n2)
        assert 0.935 < np.mean((lo <= p1 - p2) & (p1 - p2 <= hi)) < 0.965
        _, lo, hi = mover_ratio(x1, n1, x2, n2)
        assert 0.935 < np.mean((lo <= p1 / p2) & (p1 / p2 <= hi)) < 0.965
