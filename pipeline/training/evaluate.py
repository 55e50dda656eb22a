"""Held-out evaluation: a calibrated model against the rule-based points baseline.

Both approaches are scored on the same held-out rows. ``y`` is the 0/1 outcome (bool, int or
float 0/1); ``p`` is a predicted probability in [0, 1] unless a function says a score is only
used for ranking. Arrays are taken by position (a pandas Series is read with ``to_numpy``).

Definitions used throughout
---------------------------
* **Top fraction** ``top`` of ``n`` rows: the ``ceil(top * n)`` rows with the highest score
  (at least one row). Ties are broken by row order: among equal scores the earlier row ranks
  higher, so the result never depends on the sort algorithm.
* **Lift** at ``top``: conversion rate in the top fraction / overall conversion rate.
  **Capture** at ``top``: share of all conversions that fall in the top fraction.
* **Calibration bins** (``strategy="quantile"``, the default): equal-count bins. The
  ``n_bins - 1`` inner edges are quantiles of ``p`` (inverted-CDF: edge ``j`` is the smallest
  prediction with at least ``ceil(j * n / n_bins)`` rows at or below it) and a bin is
  ``(lower edge, upper edge]``, so tied predictions always share a bin. With distinct
  predictions and ``n`` divisible by ``n_bins`` every bin holds ``n / n_bins`` rows; with heavy
  ties (isotonic calibration) bins may be unequal or empty, and empty bins are skipped.
  ``strategy="uniform"``: equal-width bins ``[k/n_bins, (k+1)/n_bins)``, the last one
  including 1.
* **ECE** (expected calibration error): ``sum_b (rows_b / n) * |mean(y)_b - mean(p)_b|``.

Bootstrap
---------
A bootstrap resample of ``n`` rows drawn with replacement is represented by its count
vector ``w`` (how many times each row was drawn: ``bincount`` of ``n`` uniform row indices
from ``numpy.random.default_rng(seed)``), so no resampled copy of the data is ever built.
Each score is sorted once. Per resample, ``w`` is put in that order and every metric is read
from the cumulative count of rows, the cumulative count of positives (over the positive rows
only), one matrix-vector product (Brier, log loss) and a dot product per calibration bin:
O(n) numpy work on one BLAS thread, no re-sorting. These weighted formulas give exactly what
the scikit-learn metrics give on the resampled rows (ROC AUC as the Mann-Whitney statistic
with half credit for ties, average precision over distinct thresholds, mean Brier and log
loss, ECE with the quantile bins re-derived from the resample); the tests check this. The
one convention: ties in lift/capture are broken by the original row order. Intervals are
percentile intervals ``[alpha/2, 1 - alpha/2]``; resamples where a metric is undefined (one
class only) are ignored. All rows are resampled (no cap); 200 resamples of 1M rows take
about 5-15 s for one score (the machine's load matters), ``compare`` about 1.5 times that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import beta
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from threadpoolctl import threadpool_limits

LOG_LOSS_EPS = 1e-6

#: True when a higher value is better.
HIGHER_IS_BETTER: dict[str, bool] = {
    "roc_auc": True,
    "pr_auc": True,
    "log_loss": False,
    "brier": False,
    "ece": False,
    "lift_at_10": True,
    "capture_at_10": True,
    "lift_at_20": True,
    "capture_at_20": True,
}

BOOTSTRAP_METRICS: tuple[str, ...] = tuple(HIGHER_IS_BETTER)
DEFAULT_BOOTSTRAP_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "lift_at_10")
COMPARE_METRICS: tuple[str, ...] = BOOTSTRAP_METRICS
_TOPS = {"10": 0.10, "20": 0.20}


# --- input checks -----------------------------------------------------------------------


def _labels(y) -> np.ndarray:
    arr = np.asarray(y.to_numpy() if isinstance(y, pd.Series | pd.Index) else y)
    if arr.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("y is empty")
    if arr.dtype == bool:
        return arr.astype(np.int64)
    try:
        num = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError("y must hold 0/1 outcomes") from None
    if not np.isin(num, (0.0, 1.0)).all():
        raise ValueError("y must hold only 0/1 outcomes (no missing values)")
    return num.astype(np.int64)


def _scores(p, n: int, name: str = "p", probability: bool = True) -> np.ndarray:
    arr = np.asarray(p.to_numpy() if isinstance(p, pd.Series | pd.Index) else p)
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size != n:
        raise ValueError(f"{name} has {arr.size} rows but y has {n}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} has missing or infinite values")
    if probability and (arr.min() < 0.0 or arr.max() > 1.0):
        raise ValueError(f"{name} must be probabilities in [0, 1]")
    return arr


def _labels_of(y, what, n_name: str = "y") -> np.ndarray:
    """A per-row label array (tier, period) checked against ``len(y)``."""
    arr = what.to_numpy() if isinstance(what, pd.Series | pd.Index) else np.asarray(what)
    if arr.ndim != 1 or arr.size != len(y):
        raise ValueError(f"expected one label per row of {n_name} ({len(y)}), got {arr.size}")
    return arr


def _top_count(top: float, n: int) -> int:
    """``ceil(top * n)`` rows (at least one), robust to float error such as 0.3 * 10."""
    if not 0.0 < top <= 1.0:
        raise ValueError(f"top must be in (0, 1], got {top}")
    return min(n, max(1, math.ceil(top * n - 1e-9)))


def _check_bins(n_bins: int, strategy: str) -> None:
    if int(n_bins) != n_bins or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins}")
    if strategy not in ("quantile", "uniform"):
        raise ValueError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}")


# --- one sort per score, weighted metrics -------------------------------------------------


@dataclass(frozen=True)
class _Sorted:
    """One score sorted ascending, with what every weighted metric needs precomputed.

    ``order`` is the reverse of a stable descending sort, so reading it backwards gives the
    highest score first with ties in original row order (the lift/capture convention).
    Positions below are positions in this sorted order.
    """

    order: np.ndarray  # row indices, ascending score
    p: np.ndarray  # sorted scores
    y: np.ndarray  # sorted labels as float64
    pos_rows: np.ndarray  # positions of the positive rows
    run_start: np.ndarray  # start / end positions of each run of tied scores holding at
    run_end: np.ndarray  # least one positive (the only runs that enter AUC and AP) ...
    run_start_pos: np.ndarray  # ... and the number of positive rows before each start / end
    run_end_pos: np.ndarray
    errors: np.ndarray  # (n, 2): squared error and log loss (p clipped) per row
    uniform_bounds: np.ndarray  # positions of the equal-width bin edges, 0, ..., n


def _prepare(y: np.ndarray, p: np.ndarray, n_bins: int) -> _Sorted:
    order = np.argsort(-p, kind="stable")[::-1]
    ps, ys = p[order], y[order].astype(np.float64)
    n = ps.size
    runs = np.concatenate(([0], np.flatnonzero(ps[1:] != ps[:-1]) + 1, [n]))
    has_pos = np.add.reduceat(ys, runs[:-1]) > 0
    start, end = runs[:-1][has_pos], runs[1:][has_pos]
    pos_rows = np.flatnonzero(ys == 1)
    pc = np.clip(ps, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    errors = np.column_stack(((ps - ys) ** 2, -np.where(ys == 1, np.log(pc), np.log1p(-pc))))
    inner = np.arange(1, n_bins) / n_bins
    uniform = np.concatenate(([0], np.searchsorted(ps, inner, side="left"), [n]))
    return _Sorted(
        order=order,
        p=ps,
        y=ys,
        pos_rows=pos_rows,
        run_start=start,
        run_end=end,
        run_start_pos=np.searchsorted(pos_rows, start),
        run_end_pos=np.searchsorted(pos_rows, end),
        errors=errors,
        uniform_bounds=uniform,
    )


def _cumsum0(a: np.ndarray) -> np.ndarray:
    """Cumulative sum with a leading 0: ``out[k]`` is the sum of the first ``k`` entries."""
    out = np.empty(a.size + 1, dtype=np.float64)
    out[0] = 0.0
    np.cumsum(a, out=out[1:])
    return out


def _weighted_metrics(
    s: _Sorted, w: np.ndarray, n_bins: int = 10, strategy: str = "quantile"
) -> dict[str, float]:
    """Every metric of ``BOOTSTRAP_METRICS`` for rows counted ``w`` times (``w`` in sorted order).

    ``w`` holds non-negative integer counts as float64 (bootstrap counts; ones for the sample
    itself); sums of such counts are exact in float64. Full-length work: one cumulative sum
    and one matrix-vector product; the rest runs over the positive rows or a few positions.
    """
    cw = _cumsum0(w)  # cw[k]: rows (with repeats) among the k lowest-scored
    cpos = _cumsum0(w[s.pos_rows])  # cpos[i]: positives (with repeats) among the i lowest

    def positives_below(k):  # positives among the k lowest-scored rows
        return cpos[np.searchsorted(s.pos_rows, k)]

    total, pos = int(cw[-1]), int(cpos[-1])
    neg = total - pos
    out: dict[str, float] = {}

    # ROC AUC (Mann-Whitney: each positive scores the negatives below it, half for ties) and
    # average precision (precision at each distinct threshold, weighted by the recall gained
    # there), both over runs of tied scores; runs without positives add nothing.
    if pos == 0 or neg == 0:
        out["roc_auc"] = out["pr_auc"] = math.nan
    else:
        rows_below, pos_below = cw[s.run_start], cpos[s.run_start_pos]
        pos_g = cpos[s.run_end_pos] - pos_below
        neg_g = (cw[s.run_end] - rows_below) - pos_g
        auc_sum = np.dot(pos_g, (rows_below - pos_below) + 0.5 * neg_g)
        out["roc_auc"] = float(auc_sum / (pos * neg))
        at_or_above = np.maximum(total - rows_below, 1.0)
        out["pr_auc"] = float(np.dot(pos_g, (pos - pos_below) / at_or_above) / pos)

    brier, loss = w @ s.errors / total
    out["brier"], out["log_loss"] = float(brier), float(loss)

    # ECE: per bin |sum(y) - sum(p)| over all rows equals share * |mean(y) - mean(p)|.
    bounds = _bin_bounds(s, cw, n_bins, strategy)
    sum_y = np.diff(positives_below(bounds))
    sum_p = [np.dot(w[a:b], s.p[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    out["ece"] = float(np.abs(sum_y - np.asarray(sum_p)).sum() / total)

    # Lift and capture: the top k rows are the last k (weighted) rows in ascending order.
    for tag, top in _TOPS.items():
        if pos == 0:
            out[f"lift_at_{tag}"] = out[f"capture_at_{tag}"] = math.nan
            continue
        k = _top_count(top, total)
        cut = total - k
        r = int(np.searchsorted(cw, cut, side="right")) - 1  # the row straddling the cut
        hits = (pos - positives_below(r + 1)) + (cw[r + 1] - cut) * s.y[r]
        out[f"lift_at_{tag}"] = float((hits / k) / (pos / total))
        out[f"capture_at_{tag}"] = float(hits / pos)
    return out


def _bin_bounds(s: _Sorted, cw: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    """Calibration-bin boundaries as positions in sorted order: 0, ..., n (may repeat).

    ``cw`` is the cumulative weight with a leading 0. Quantile edge ``j`` is the score of the
    first sorted row at which the cumulative weight reaches ``ceil(j * total / n_bins)``
    (exact integer arithmetic); its bin ends after the last row tied with it.
    """
    if strategy == "uniform":
        return s.uniform_bounds
    total = int(cw[-1])
    j = np.arange(1, n_bins, dtype=np.int64)
    target = -((-j * total) // n_bins)  # ceil(j * total / n_bins)
    edges = s.p[np.searchsorted(cw, target, side="left") - 1]
    return np.concatenate(([0], np.searchsorted(s.p, edges, side="right"), [s.p.size]))


# --- point metrics ------------------------------------------------------------------------


def expected_calibration_error(
    y: np.ndarray, p: np.ndarray, n_bins: int = 10, strategy: str = "quantile"
) -> float:
    """Weighted mean over bins of ``|mean(y) - mean(p)|``, weights = share of rows in the bin.

    ``strategy="quantile"`` (default): equal-count bins whose edges are quantiles of ``p``;
    tied predictions share a bin, empty bins are skipped. ``"uniform"``: equal-width bins on
    [0, 1]. See the module docstring for the exact edges.
    """
    _check_bins(n_bins, strategy)
    yy = _labels(y)
    pp = _scores(p, yy.size)
    return _weighted_metrics(_prepare(yy, pp, n_bins), np.ones(yy.size), n_bins, strategy)["ece"]


def lift_capture(y: np.ndarray, p: np.ndarray, top: float) -> tuple[float, float]:
    """(lift, capture) of the top ``ceil(top * n)`` rows by ``p`` (ties: earlier row first).

    lift = conversion rate in the top / overall conversion rate; capture = share of all
    conversions in the top. Both are NaN when there are no conversions. ``p`` may be any score.
    """
    yy = _labels(y)
    pp = _scores(p, yy.size, probability=False)
    k = _top_count(top, yy.size)
    pos = int(yy.sum())
    if pos == 0:
        return math.nan, math.nan
    top_rows = np.argsort(-pp, kind="stable")[:k]
    hits = int(yy[top_rows].sum())
    return float((hits / k) / (pos / yy.size)), float(hits / pos)


def point_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Headline metrics of probabilities ``p`` against outcomes ``y`` (scikit-learn metrics).

    roc_auc, pr_auc (average precision): NaN when ``y`` has one class. log_loss: ``p`` clipped
    to [1e-6, 1 - 1e-6]. brier: mean squared error of ``p``. ece: see
    ``expected_calibration_error`` (10 equal-count bins). lift/capture at the top 10% and 20%:
    see ``lift_capture``. positives, rows, base_rate = positives / rows.
    """
    yy = _labels(y)
    pp = _scores(p, yy.size)
    n, pos = yy.size, int(yy.sum())
    two_classes = 0 < pos < n
    out = {
        "roc_auc": float(roc_auc_score(yy, pp)) if two_classes else math.nan,
        "pr_auc": float(average_precision_score(yy, pp)) if two_classes else math.nan,
        "log_loss": float(log_loss(yy, np.clip(pp, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS), labels=[0, 1])),
        "brier": float(brier_score_loss(yy, pp, pos_label=1)),
        "ece": expected_calibration_error(yy, pp),
    }
    for tag, top in _TOPS.items():
        out[f"lift_at_{tag}"], out[f"capture_at_{tag}"] = lift_capture(yy, pp, top)
    out.update(positives=float(pos), rows=float(n), base_rate=pos / n)
    return out


# --- bootstrap ----------------------------------------------------------------------------


def _bootstrap_draws(
    y: np.ndarray, scores: Sequence[np.ndarray], n_boot: int, seed: int
) -> list[dict[str, np.ndarray]]:
    """Per score, each metric's value on the same ``n_boot`` resamples (paired)."""
    if int(n_boot) != n_boot or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot}")
    n = y.size
    prepared = [_prepare(y, p, 10) for p in scores]
    draws = [{m: np.empty(n_boot) for m in BOOTSTRAP_METRICS} for _ in scores]
    rng = np.random.default_rng(seed)
    # The per-resample dot products are small; multi-threaded BLAS only adds overhead (and
    # is many times slower when the machine is busy), so run them on one thread.
    with threadpool_limits(limits=1, user_api="blas"):
        for b in range(n_boot):
            counts = np.bincount(rng.integers(0, n, size=n), minlength=n).astype(np.float64)
            for s, d in zip(prepared, draws, strict=True):
                for m, v in _weighted_metrics(s, counts[s.order]).items():
                    d[m][b] = v
    return draws


def _interval(values: np.ndarray, alpha: float) -> tuple[float, float]:
    ok = values[~np.isnan(values)]
    if ok.size == 0:
        return math.nan, math.nan
    low, high = np.quantile(ok, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _check_metrics(metrics: Sequence[str], alpha: float) -> tuple[str, ...]:
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    unknown = [m for m in metrics if m not in HIGHER_IS_BETTER]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {list(BOOTSTRAP_METRICS)}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    return metrics


def bootstrap_intervals(
    y: np.ndarray,
    p: np.ndarray,
    *,
    n_boot: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
    metrics: Sequence[str] = DEFAULT_BOOTSTRAP_METRICS,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap interval ``(low, high)`` at level ``1 - alpha`` for each metric.

    Resamples all rows with replacement ``n_boot`` times (as count vectors; see the module
    docstring), deterministic for a given ``seed``. Metric names as in ``point_metrics``.
    """
    metrics = _check_metrics(metrics, alpha)
    yy = _labels(y)
    (draws,) = _bootstrap_draws(yy, [_scores(p, yy.size)], n_boot, seed)
    return {m: _interval(draws[m], alpha) for m in metrics}


def _better(diff: float, higher_is_better: bool) -> str:
    if math.isnan(diff):
        return "n/a"
    if abs(diff) <= 1e-12:
        return "tie"
    return "model" if (diff > 0) == higher_is_better else "baseline"


def compare(
    y: np.ndarray,
    p_model: np.ndarray,
    p_baseline: np.ndarray,
    *,
    n_boot: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Model against baseline on the same rows, one row per metric in ``COMPARE_METRICS``.

    Columns: metric, model, model_low, model_high, baseline, baseline_low, baseline_high,
    difference (model - baseline), difference_low, difference_high, better. Point values come
    from ``point_metrics``; intervals from a paired bootstrap (each resample scores both
    approaches on the same rows, so the difference's interval accounts for their correlation).
    ``better`` is judged from the point values by the metric's direction (higher is better
    for AUC, lift, capture; lower for log loss, Brier, ECE): "model", "baseline", "tie"
    (equal) or "n/a" (undefined, e.g. AUC with one class). Whether the difference is clear
    of noise is read from whether difference_low..difference_high excludes 0.
    """
    _check_metrics(COMPARE_METRICS, alpha)
    yy = _labels(y)
    pm = _scores(p_model, yy.size, "p_model")
    pb = _scores(p_baseline, yy.size, "p_baseline")
    point_m, point_b = point_metrics(yy, pm), point_metrics(yy, pb)
    draws_m, draws_b = _bootstrap_draws(yy, [pm, pb], n_boot, seed)
    rows = []
    for m in COMPARE_METRICS:
        diff = point_m[m] - point_b[m]
        rows.append(
            {
                "metric": m,
                "model": point_m[m],
                **dict(zip(("model_low", "model_high"), _interval(draws_m[m], alpha), strict=True)),
                "baseline": point_b[m],
                **dict(
                    zip(
                        ("baseline_low", "baseline_high"),
                        _interval(draws_b[m], alpha),
                        strict=True,
                    )
                ),
                "difference": diff,
                **dict(
                    zip(
                        ("difference_low", "difference_high"),
                        _interval(draws_m[m] - draws_b[m], alpha),
                        strict=True,
                    )
                ),
                "better": _better(diff, HIGHER_IS_BETTER[m]),
            }
        )
    return pd.DataFrame(rows)


# --- tables for the report ----------------------------------------------------------------


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
    from leadscore.model.tiers import cut_scores

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
