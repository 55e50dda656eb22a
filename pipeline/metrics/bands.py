"""Tables for the review: conversion by score band and by rank band, by tier, the capacity
table (what a team that calls the top N a period gets) and the reliability curve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import beta

from leadscore.metrics.checks import _check_bins, _labels, _labels_of, _scores
from leadscore.metrics.weighted import _bin_bounds, _prepare


def _rate(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


def band_table(
    y: np.ndarray,
    score: np.ndarray,
    bands: Sequence[float] = (0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100),
) -> pd.DataFrame:
    """Conversion by score band; ``score`` on the 0-100 scale, ``bands`` the increasing edges.

    One row per band ``[lower, upper)`` labelled "lower-upper" (the last band includes its
    upper edge), empty bands included. Columns: band, leads, conversions, conversion_rate
    (NaN for an empty band), share_of_conversions (of all conversions; NaN if none).
    Scores outside the first..last edge are an error.
    """
    yy = _labels(y)
    ss = _scores(score, yy.size, "score", probability=False)
    edges = np.asarray(bands, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or not (np.diff(edges) > 0).all():
        raise ValueError("bands must be at least two strictly increasing edges")
    if ss.min() < edges[0] or ss.max() > edges[-1]:
        raise ValueError(f"score must lie in [{edges[0]:g}, {edges[-1]:g}]")
    idx = np.minimum(np.searchsorted(edges, ss, side="right") - 1, edges.size - 2)
    leads = np.bincount(idx, minlength=edges.size - 1)
    conv = np.bincount(idx, weights=yy, minlength=edges.size - 1).astype(np.int64)
    total = int(yy.sum())
    return pd.DataFrame(
        {
            "band": [f"{lo:g}-{hi:g}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)],
            "leads": leads,
            "conversions": conv,
            "conversion_rate": _rate(conv, leads),
            "share_of_conversions": _rate(conv, np.full(conv.shape, total)),
        }
    )


# Equal-count bands from the top: finer where sales looks first (top 1%, 1-5%, 5-10%).
RANK_BANDS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def cut_scores(score: np.ndarray, cumulative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each cumulative share (increasing, from the top), the score cut-off whose share
    of ``score`` at or above it comes closest, each below the one before; and the shares
    reached. Scores tie in steps, so a cut that would overshoot further than staying put
    stays at the cut before it (its band is empty); the first cut always takes the top score.
    """
    values, counts = np.unique(np.asarray(score, dtype="float64"), return_counts=True)
    values, share_at = values[::-1], np.cumsum(counts[::-1]) / counts.sum()  # best first
    cuts, reached = [], []
    start, at = 0, 0.0
    for target in np.asarray(cumulative, dtype="float64"):
        pick = (
            start + int(np.argmin(np.abs(share_at[start:] - target))) if start < len(values) else -1
        )
        if pick < 0 or (cuts and abs(at - target) <= abs(share_at[pick] - target)):
            cuts.append(cuts[-1])
        else:
            cuts.append(float(values[pick]))
            at, start = float(share_at[pick]), pick + 1
        reached.append(at)
    return np.array(cuts), np.array(reached)


def rank_band_table(
    y: np.ndarray, score: np.ndarray, tops: Sequence[float] = RANK_BANDS, alpha: float = 0.05
) -> pd.DataFrame:
    """Conversion by equal-count band of the score, best band first: the rows ranked by score
    and cut at the cumulative shares ``tops`` (ties are never split, so a band's share is as
    close to its target as the ties allow; a band the ties leave empty is dropped).

    Columns: band ("top 1%", "top 1-5%", ... by the shares reached), score_low, score_high,
    leads, conversions, conversion_rate, rate_low and rate_high (the exact Clopper-Pearson
    ``1 - alpha`` interval), share_of_conversions.
    """
    yy = _labels(y)
    ss = _scores(score, yy.size, "score", probability=False)
    cuts, reached = cut_scores(ss, np.asarray(tops, dtype="float64"))
    keep = np.r_[True, np.diff(reached) > 0] & (reached > 0)
    cuts, reached = cuts[keep], reached[keep]
    # Band k holds scores in [cuts[k], cuts[k-1]).
    band = np.searchsorted(-cuts, -ss, side="left")
    n = len(cuts)
    leads = np.bincount(band, minlength=n)[:n]
    conv = np.bincount(band, weights=yy, minlength=n)[:n].astype(np.int64)
    high = np.array([ss[band == k].max() for k in range(n)])
    upper = np.r_[0.0, reached[:-1]]
    names = [
        f"top {_share(b)}" if a == 0 else f"top {_share(a, False)}-{_share(b)}"
        for a, b in zip(upper, reached, strict=True)
    ]
    total = int(yy.sum())
    return pd.DataFrame(
        {
            "band": names,
            "score_low": cuts,
            "score_high": high,
            "leads": leads,
            "conversions": conv,
            "conversion_rate": _rate(conv, leads),
            "rate_low": np.where(conv > 0, beta.ppf(alpha / 2, conv, leads - conv + 1), 0.0),
            "rate_high": np.where(
                conv < leads, beta.ppf(1 - alpha / 2, conv + 1, leads - conv), 1.0
            ),
            "share_of_conversions": _rate(conv, np.full(conv.shape, total)),
        }
    )


def _share(x: float, sign: bool = True) -> str:
    text = f"{x * 100:.1f}".rstrip("0").rstrip(".")
    return text + ("%" if sign else "")


def tier_table(y: np.ndarray, tier: pd.Series) -> pd.DataFrame:
    """Conversion by tier label (A/B/C/D, SQL/MQL/nurture, ...).

    Rows follow the category order when ``tier`` is categorical (unused categories shown
    with 0 leads), otherwise sorted labels; missing labels form a last "(missing)" row.
    Columns: tier, leads, conversions, conversion_rate. Rows are matched by position.
    """
    yy = _labels(y)
    labels = _labels_of(yy, tier)
    if isinstance(tier, pd.Series) and isinstance(tier.dtype, pd.CategoricalDtype):
        cat = pd.Categorical(labels, dtype=tier.dtype)
    else:
        cat = pd.Categorical(labels)
    codes = np.asarray(cat.codes, dtype=np.int64)
    names = [str(c) for c in cat.categories]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(names), codes)
        names.append("(missing)")
    leads = np.bincount(codes, minlength=len(names))
    conv = np.bincount(codes, weights=yy, minlength=len(names)).astype(np.int64)
    return pd.DataFrame(
        {
            "tier": names,
            "leads": leads,
            "conversions": conv,
            "conversion_rate": _rate(conv, leads),
        }
    )


def _period_ranks(period_codes: np.ndarray, score: np.ndarray) -> np.ndarray:
    """0-based rank of each row by ``score`` (highest first) within its period; ties: row order."""
    order = np.lexsort((-score, period_codes))  # lexsort is stable
    codes_sorted = period_codes[order]
    starts = np.flatnonzero(np.r_[True, codes_sorted[1:] != codes_sorted[:-1]])
    sizes = np.diff(np.r_[starts, codes_sorted.size])
    ranks = np.empty(score.size, dtype=np.int64)
    ranks[order] = np.arange(score.size) - np.repeat(starts, sizes)
    return ranks


def capacity_table(
    y: np.ndarray,
    p_model: np.ndarray,
    p_baseline: np.ndarray,
    period: pd.Series,
    capacities: Sequence[int] = (50, 100, 250, 500, 1000),
) -> pd.DataFrame:
    """Conversions reached if sales works the top N leads of each period by each score.

    For each capacity N and each period (e.g. a monthly snapshot date), take the N highest
    scored rows (all rows if the period has fewer; ties: earlier row first) and sum the
    conversions over periods. best_possible = sum over periods of min(N, conversions in the
    period). Columns: capacity, periods, model_conversions, baseline_conversions,
    best_possible, model_share_of_best, baseline_share_of_best, extra_conversions
    (model - baseline). Scores are only ranked, so any scale works. Rows matched by position.
    """
    yy = _labels(y)
    pm = _scores(p_model, yy.size, "p_model", probability=False)
    pb = _scores(p_baseline, yy.size, "p_baseline", probability=False)
    labels = _labels_of(yy, period, "y")
    if pd.isna(labels).any():
        raise ValueError("period has missing values")
    codes, uniques = pd.factorize(labels, sort=True)
    codes = np.asarray(codes, dtype=np.int64)
    caps = [int(c) for c in capacities]
    if any(c < 1 for c in caps):
        raise ValueError("capacities must be positive integers")
    rank_m = _period_ranks(codes, pm)
    rank_b = _period_ranks(codes, pb)
    pos_per_period = np.bincount(codes, weights=yy, minlength=len(uniques))
    rows = []
    for cap in caps:
        model = int(yy[rank_m < cap].sum())
        base = int(yy[rank_b < cap].sum())
        best = int(np.minimum(pos_per_period, cap).sum())
        rows.append(
            {
                "capacity": cap,
                "periods": len(uniques),
                "model_conversions": model,
                "baseline_conversions": base,
                "best_possible": best,
                "model_share_of_best": model / best if best else math.nan,
                "baseline_share_of_best": base / best if best else math.nan,
                "extra_conversions": model - base,
            }
        )
    return pd.DataFrame(rows)


def reliability_table(
    y: np.ndarray, p: np.ndarray, n_bins: int = 10, strategy: str = "quantile"
) -> pd.DataFrame:
    """Observed conversion rate against mean prediction per calibration bin.

    Same bins as ``expected_calibration_error`` (equal-count by default); only non-empty bins
    are listed, numbered from 0 by position. Columns: bin, mean_predicted, observed_rate, rows.
    ``ece == sum(rows / n * |observed_rate - mean_predicted|)``.
    """
    _check_bins(n_bins, strategy)
    yy = _labels(y)
    pp = _scores(p, yy.size)
    s = _prepare(yy, pp, n_bins)
    bounds = _bin_bounds(s, np.arange(yy.size + 1), n_bins, strategy)
    bounds = np.unique(bounds)  # drop empty bins
    rows = np.diff(bounds)
    sum_y = np.add.reduceat(s.y, bounds[:-1])
    sum_p = np.add.reduceat(s.p, bounds[:-1])
    return pd.DataFrame(
        {
            "bin": np.arange(rows.size),
            "mean_predicted": sum_p / rows,
            "observed_rate": sum_y / rows,
            "rows": rows,
        }
    )
