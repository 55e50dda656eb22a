"""Bootstrap intervals, and two scores compared on the same resamples (paired intervals of
their difference: ``compare``).

A bootstrap resample of ``n`` rows drawn with replacement is represented by its count
vector ``w`` (how many times each row was drawn: ``bincount`` of ``n`` uniform row indices
from ``numpy.random.default_rng(seed)``), so no resampled copy of the data is ever built;
every metric is read from it by the one-sort engine (``leadscore.metrics.weighted``), two
resamples at a time, each on one BLAS thread. Intervals are percentile intervals
``[alpha/2, 1 - alpha/2]``; resamples where a metric is undefined (one class only) are
ignored. All rows are resampled (no cap); 200
resamples of 1M rows take about 5-15 s for one score (the machine's load matters),
``compare`` about 1.5 times that.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from leadscore.metrics.checks import _labels, _scores
from leadscore.metrics.scores import point_metrics
from leadscore.metrics.weighted import (
    BOOTSTRAP_METRICS,
    HIGHER_IS_BETTER,
    _prepare,
    _weighted_metrics,
)

DEFAULT_BOOTSTRAP_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "lift_at_10")
COMPARE_METRICS: tuple[str, ...] = BOOTSTRAP_METRICS
#: Resamples drawn ahead of the two workers that read them (each holds one count vector).
AHEAD = 4


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

    def read(counts: np.ndarray) -> list[dict[str, float]]:
        return [_weighted_metrics(s, counts[s.order]) for s in prepared]

    def keep(b: int, values: list[dict[str, float]]) -> None:
        for d, v in zip(draws, values, strict=True):
            for m, x in v.items():
                d[m][b] = x

    # The resamples are drawn here, in order (so the figures do not depend on the threads),
    # and read by two workers, a few resamples ahead. The per-resample dot products are
    # small; multi-threaded BLAS only adds overhead (and is many times slower when the
    # machine is busy), so they run on one thread each.
    pending: deque[tuple[int, Future]] = deque()
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(2) as pool:
        for b in range(n_boot):
            counts = np.bincount(rng.integers(0, n, size=n), minlength=n).astype(np.float64)
            pending.append((b, pool.submit(read, counts)))
            if len(pending) > AHEAD:
                done, future = pending.popleft()
                keep(done, future.result())
        for done, future in pending:
            keep(done, future.result())
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


def leads(
    y: np.ndarray,
    best: np.ndarray,
    others: dict[str, np.ndarray],
    metric: str,
    *,
    n_boot: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
) -> dict[str, tuple[float, float, float]]:
    """``best``'s lead over each of ``others`` on ``metric``: (difference, low, high), from
    one set of paired resamples for all of them. Each pair's figures equal ``compare``'s
    with the same seed (its resamples are the same); ``best`` is resampled once."""
    _check_metrics((metric,), alpha)
    yy = _labels(y)
    scores = [_scores(best, yy.size, "best"), *(_scores(p, yy.size, k) for k, p in others.items())]
    draws = _bootstrap_draws(yy, scores, n_boot, seed)
    point = [point_metrics(yy, p)[metric] for p in scores]
    out = {}
    for i, name in enumerate(others, start=1):
        low, high = _interval(draws[0][metric] - draws[i][metric], alpha)
        out[name] = (point[0] - point[i], low, high)
    return out
