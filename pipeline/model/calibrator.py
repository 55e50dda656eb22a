"""Margins to probabilities: the calibrator every model kind fits on rows its raw score never
learned from, and the choice between isotonic and sigmoid."""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

EPS = 1e-6


class Calibrator:
    """Margin -> probability, isotonic or sigmoid (Platt), fitted with scikit-learn; then,
    once ``shift_to`` has run, moved on the log-odds scale by ``shift``. ``logit`` takes
    margins that are already calibrated log-odds (a segmented model's) and fits nothing."""

    def __init__(self, method: str = "isotonic") -> None:
        self.method = method
        self.shift = 0.0

    def fit(self, margin: np.ndarray, y: np.ndarray) -> Calibrator:
        m = np.asarray(margin, dtype="float64")
        if self.method == "isotonic":
            self.model_ = IsotonicRegression(y_min=EPS, y_max=1 - EPS, out_of_bounds="clip").fit(
                m, y
            )
        elif self.method == "logit":
            pass
        elif self.method == "sigmoid":
            # Newton steps: a margin on any scale (log-odds, a 0-100 score) takes a handful,
            # where lbfgs takes many on a badly scaled one.
            self.model_ = LogisticRegression(C=1e6, solver="newton-cholesky", max_iter=100).fit(
                m.reshape(-1, 1), y
            )
        else:
            raise ValueError(f"unknown calibration method {self.method!r}")
        return self

    def shift_to(self, margin: np.ndarray, y: np.ndarray) -> Calibrator:
        """Set ``shift`` so the mean probability on these rows is their conversion rate (an
        intercept update: the ranking and the shape of the mapping stay)."""
        self.shift = 0.0
        y = np.asarray(y, dtype="float64")
        if y.size == 0 or y.min() == y.max():
            return self
        z = logit(self.predict(margin))
        rate = float(y.mean())
        self.shift = float(brentq(lambda d: float(expit(z + d).mean()) - rate, -20.0, 20.0))
        return self

    def predict(self, margin: np.ndarray) -> np.ndarray:
        m = np.asarray(margin, dtype="float64")
        if self.method == "isotonic":
            p = self.model_.predict(m)
        elif self.method == "logit":
            p = expit(m)
        else:
            p = self.model_.predict_proba(m.reshape(-1, 1))[:, 1]
        p = np.clip(p, EPS, 1 - EPS)
        shift = getattr(self, "shift", 0.0)  # calibrators saved before shifts had none
        return np.clip(expit(logit(p) + shift), EPS, 1 - EPS) if shift else p


def choose_calibration(
    margin: np.ndarray, y: np.ndarray, period: np.ndarray, method: str
) -> tuple[str, dict[str, float]]:
    """Pick isotonic or sigmoid by log loss on the later half of the calibration slice.

    Both are fitted on the earlier half (in time) and scored on the later half; with
    ``method`` fixed in config this only reports the figures.
    """
    order = np.sort(np.unique(period))
    cut = order[len(order) // 2] if len(order) > 1 else None
    early = period < cut if cut is not None else np.arange(len(y)) % 2 == 0
    late = ~early
    scores: dict[str, float] = {}
    for m in ("isotonic", "sigmoid"):
        if y[early].min() == y[early].max() or y[late].min() == y[late].max():
            scores[m] = float("nan")
            continue
        p = Calibrator(m).fit(margin[early], y[early]).predict(margin[late])
        scores[m] = float(log_loss(y[late], p, labels=[0, 1]))
    if method != "auto":
        return method, scores
    valid = {k: v for k, v in scores.items() if not np.isnan(v)}
    return (min(valid, key=valid.get) if valid else "sigmoid"), scores
