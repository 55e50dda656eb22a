"""Point metrics of one score on held-out rows: ROC AUC, average precision, Brier, log
loss, ECE, lift and capture at the top 10% and 20%.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from leadscore.metrics.checks import _check_bins, _labels, _scores, _top_count
from leadscore.metrics.weighted import _TOPS, LOG_LOSS_EPS, _prepare, _weighted_metrics


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


_ONE = {
    "roc_auc": lambda y, p: float(roc_auc_score(y, p)) if 0 < y.sum() < y.size else math.nan,
    "pr_auc": lambda y, p: (
        float(average_precision_score(y, p)) if 0 < y.sum() < y.size else math.nan
    ),
    "log_loss": lambda y, p: float(
        log_loss(y, np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS), labels=[0, 1])
    ),
    "brier": lambda y, p: float(brier_score_loss(y, p, pos_label=1)),
}


def metric_value(y: np.ndarray, p: np.ndarray, metric: str) -> float:
    """One of ``point_metrics``' figures alone (roc_auc, pr_auc, log_loss or brier): the same
    value, without computing the others."""
    yy = _labels(y)
    return _ONE[metric](yy, _scores(p, yy.size))


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
