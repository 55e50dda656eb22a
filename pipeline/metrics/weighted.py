"""The one-sort engine: each score sorted once, and every metric of a row-weighted copy of
the data (a bootstrap resample) read from cumulative sums over that order.

A resample of ``n`` rows is its count vector ``w`` (how many times each row was drawn), so no
resampled copy of the data is built. Per resample, ``w`` is put in the score's order and every
metric is read from the cumulative count of rows, the cumulative count of positives (over the
positive rows only), one matrix-vector product (Brier, log loss) and a dot product per
calibration bin: O(n) numpy work, no re-sorting. These weighted formulas give exactly what the
scikit-learn metrics give on the resampled rows (ROC AUC as the Mann-Whitney statistic with
half credit for ties, average precision over distinct thresholds, mean Brier and log loss, ECE
with the quantile bins re-derived from the resample); the tests check this. The one
convention: ties in lift/capture are broken by the original row order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from leadscore.metrics.checks import _top_count

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
