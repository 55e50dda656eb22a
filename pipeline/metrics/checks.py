"""Input checks shared by every metric: 0/1 outcomes, scores of the same length, and the
settings a metric takes. Each raises a ``ValueError`` that says what differs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


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
