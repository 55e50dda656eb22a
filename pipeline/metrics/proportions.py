"""Two independent proportions, treated against control: intervals of their difference and
their ratio, and the power of the two-sided test that tells them apart.

- ``wilson``: the Wilson score interval of one proportion.
- ``newcombe_difference``: Newcombe's hybrid score interval of ``p1 - p2`` (method 10 of
  Newcombe, Stat Med 1998; statsmodels' ``confint_proportions_2indep(method="newcomb")``).
- ``mover_ratio``: the interval of ``p1 / p2`` that combines the two Wilson intervals the
  same way (the method of variance estimates recovery, MOVER-R; Donner and Zou, Stat Methods
  Med Res 2012): each bound is the root of ``(p1 - t p2)^2 = (p1 - l1)^2 + t^2 (u2 - p2)^2``
  (and its mirror for the upper bound), in closed form. Unlike the log (Katz) interval it
  needs no continuity fix when an arm has no conversion.
- ``effect_size``, ``power``, ``treated_needed``: the normal approximation on Cohen's ``h``
  (``2 asin sqrt p1 - 2 asin sqrt p2``), both tails counted, as statsmodels'
  ``proportion_effectsize`` and ``NormalIndPower`` compute it; ``ratio`` is control leads
  per treated lead (statsmodels' ``nobs2 / nobs1``).

Every function takes scalars or arrays (elementwise) and returns NaN where a figure is not
defined (no leads; a ratio over a control arm without conversions).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri


def _z(alpha: float) -> float:
    return float(ndtri(1 - alpha / 2))


def wilson(x, n, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval (lower, upper) of ``x`` successes in ``n`` trials."""
    x, n = np.asarray(x, "float64"), np.asarray(n, "float64")
    z = _z(alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        mid = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return np.clip(mid - half, 0, 1), np.clip(mid + half, 0, 1)


def newcombe_difference(
    x1, n1, x2, n2, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``p1 - p2`` and Newcombe's hybrid score interval (estimate, lower, upper)."""
    x1, n1, x2, n2 = (np.asarray(v, "float64") for v in (x1, n1, x2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, alpha)
    l2, u2 = wilson(x2, n2, alpha)
    d = p1 - p2
    lower = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lower, upper


def mover_ratio(x1, n1, x2, n2, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``p1 / p2`` and its MOVER-R interval from the two Wilson intervals (estimate, lower,
    upper); NaN when the second arm has no conversion (the ratio is unbounded)."""
    x1, n1, x2, n2 = (np.asarray(v, "float64") for v in (x1, n1, x2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = x1 / n1, x2 / n2
        l1, u1 = wilson(x1, n1, alpha)
        l2, u2 = wilson(x2, n2, alpha)
        b = p1 * p2
        # Lower bound: a t^2 - 2 b t + c = 0 with a = u2 (2 p2 - u2), c = l1 (2 p1 - l1) >= 0;
        # its root in (0, p1 / p2) is c / (b + sqrt(b^2 - a c)) whatever the sign of a (a < 0
        # when u2 > 2 p2, with few control conversions), and stays finite as a -> 0.
        a, c = u2 * (2 * p2 - u2), l1 * (2 * p1 - l1)
        root = np.sqrt(np.maximum(b * b - a * c, 0))
        lower = np.where(b + root > 0, c / (b + root), 0.0)
        # Upper bound: a' t^2 - 2 b t + c' = 0 with a' = l2 (2 p2 - l2) >= 0; its larger root.
        a2, c2 = l2 * (2 * p2 - l2), u1 * (2 * p1 - u1)
        upper = np.where(a2 > 0, (b + np.sqrt(np.maximum(b * b - a2 * c2, 0))) / a2, np.inf)
        ratio = p1 / p2
    bad = ~(x2 > 0) | ~(n1 > 0)
    nan = np.full(np.shape(ratio), np.nan)
    return (np.where(bad, nan, ratio), np.where(bad, nan, lower), np.where(bad, nan, upper))


def effect_size(p1, p2) -> np.ndarray:
    """Cohen's ``h`` of two proportions: ``2 asin sqrt p1 - 2 asin sqrt p2``."""
    return 2 * np.arcsin(np.sqrt(np.asarray(p1, "float64"))) - 2 * np.arcsin(
        np.sqrt(np.asarray(p2, "float64"))
    )


def power(h, treated, ratio, alpha: float = 0.05) -> np.ndarray:
    """Power of the two-sided test at level ``alpha`` for effect size ``h`` with ``treated``
    leads and ``ratio`` control leads per treated lead."""
    h, n1, k = (np.asarray(v, "float64") for v in (h, treated, ratio))
    z = _z(alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = np.abs(h) * np.sqrt(1 / (1 / n1 + 1 / (n1 * k)))
    return ndtr(shift - z) + ndtr(-z - shift)


def treated_needed(h: float, target: float, ratio: float, alpha: float = 0.05) -> float:
    """The treated leads (with ``ratio`` control leads each) the two-sided test at level
    ``alpha`` needs to reach power ``target`` for effect size ``h`` (fractional, as
    statsmodels' ``solve_power``); inf when ``h`` is 0."""
    if not (0 < alpha < 1 and alpha < target < 1 and ratio > 0):
        raise ValueError(f"power {target} and alpha {alpha} in (0, 1) with alpha < power")
    if h == 0 or not math.isfinite(h):
        return math.inf
    # The one-tailed closed form, then the root with both tails counted (a little lower).
    guess = ((_z(alpha) + float(ndtri(target))) / abs(h)) ** 2 * (1 + 1 / ratio)
    return float(brentq(lambda n: float(power(h, n, ratio, alpha)) - target, 1e-9, guess))
