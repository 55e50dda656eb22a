"""Metrics of held-out predictions: pure functions over arrays, the same for every model kind.

A model and its challengers are scored on the same held-out rows. ``y`` is the 0/1 outcome
(bool, int or float 0/1); ``p`` is a predicted probability in [0, 1] unless a function says a
score is only used for ranking. Arrays are taken by position (a pandas Series is read with
``to_numpy``).

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

Modules: ``scores`` (point metrics), ``bootstrap`` (intervals and paired comparisons),
``bands`` (the review's tables), ``slices`` (quality by slice, with its flags), ``weighted``
(the one-sort engine under the first two), ``proportions`` (two arms compared: intervals and
power) and ``checks`` (input checks). The public names of all but the last two are
re-exported here.
"""

from leadscore.metrics.bands import (
    RANK_BANDS,
    band_table,
    capacity_table,
    rank_band_table,
    reliability_table,
    tier_table,
)
from leadscore.metrics.bootstrap import (
    COMPARE_METRICS,
    DEFAULT_BOOTSTRAP_METRICS,
    bootstrap_intervals,
    compare,
    leads,
)
from leadscore.metrics.scores import (
    expected_calibration_error,
    lift_capture,
    metric_value,
    point_metrics,
)
from leadscore.metrics.slices import pool_slices, slice_table
from leadscore.metrics.weighted import BOOTSTRAP_METRICS, HIGHER_IS_BETTER, LOG_LOSS_EPS

__all__ = [
    "BOOTSTRAP_METRICS",
    "COMPARE_METRICS",
    "DEFAULT_BOOTSTRAP_METRICS",
    "HIGHER_IS_BETTER",
    "LOG_LOSS_EPS",
    "RANK_BANDS",
    "band_table",
    "bootstrap_intervals",
    "capacity_table",
    "compare",
    "leads",
    "expected_calibration_error",
    "lift_capture",
    "metric_value",
    "point_metrics",
    "pool_slices",
    "rank_band_table",
    "reliability_table",
    "slice_table",
    "tier_table",
]
