"""Calibration that follows drift: which rows a calibrator reads (``model.calibration_follows``).

A calibrator maps margins to probabilities on rows the model never learned from: in a
backtest fold its holdout (spread over the fold's training window), for the deployed model
the backtest's out-of-time rows. When the conversion rate trends, a mapping fitted over the
whole window predicts the window's average rate, not today's. Three ways to fit it:

- ``all``: every calibration row;
- ``latest``: only the latest rows (see ``latest_rows``);
- ``base_rate``: every row, then the log-odds moved so the mean probability on the latest
  rows is their realised rate (an intercept update: the mapping's shape keeps the many rows,
  its level follows the freshest labels);
- ``auto``: the backtest tries the three on every fold (the same fitted models, calibrated
  each way, judged on the same test rows) and the deployed model follows the way with the
  lowest pooled log loss.

Rows without a time order (an unordered flat file's folds) have no latest rows: all of them
are read whatever the setting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import log_loss

from leadscore.model.kind import Scorer
from leadscore.model.tiers import to_score

#: The ways ``auto`` tries, in the order ties go.
WAYS = ("all", "base_rate", "latest")

#: Conversions the latest rows gather at least (going back period by period): the rate's
#: log-odds then has a standard error of about 1/sqrt(50) = 0.14.
LATEST_POSITIVES = 50


def latest_rows(y: np.ndarray, period: np.ndarray, positives: int = LATEST_POSITIVES) -> np.ndarray:
    """Rows of the latest periods, going back one period at a time until they hold at least
    ``positives`` conversions (every row when all of them hold fewer)."""
    y = np.asarray(y, dtype="float64")
    period = np.asarray(period)
    values, inverse = np.unique(period, return_inverse=True)
    per = np.bincount(inverse, weights=y, minlength=len(values))
    gathered = np.cumsum(per[::-1])  # conversions from the latest period back
    enough = np.flatnonzero(gathered >= positives)
    if not enough.size:
        return np.ones(len(y), dtype=bool)
    first = len(values) - 1 - int(enough[0])
    return inverse >= first


def calibrate(
    scorer: Scorer,
    margin: np.ndarray,
    y: np.ndarray,
    period: np.ndarray,
    follows: str,
    in_time: bool = True,
) -> Scorer:
    """Fit ``scorer``'s calibrator on these rows as ``follows`` says."""
    margin, y, period = np.asarray(margin), np.asarray(y, dtype="float64"), np.asarray(period)
    if follows == "all" or not in_time:
        return scorer.calibrate_margins(margin, y, period)
    latest = latest_rows(y, period)
    if follows == "latest":
        return scorer.calibrate_margins(margin[latest], y[latest], period[latest])
    if follows != "base_rate":
        raise ValueError(f"model.calibration_follows: unknown value {follows!r}")
    scorer.calibrate_margins(margin, y, period)
    scorer.calibrator_.shift_to(margin[latest], y[latest])
    return scorer


def ways_tried(setting: str, in_time: bool) -> tuple[str, ...]:
    """The ways a backtest calibrates each fold: every one under ``auto``, else the one set
    (``all`` for rows without a time order)."""
    if not in_time:
        return ("all",)
    return WAYS if setting == "auto" else (setting,)


def calibrated_ways(
    scorer: Scorer,
    margin: np.ndarray,
    y: np.ndarray,
    period: np.ndarray,
    test_margin: np.ndarray,
    ways: tuple[str, ...],
) -> dict[str, np.ndarray]:
    """Test-row probabilities with ``scorer`` calibrated on these rows each way (the last
    way's calibrator stays on it). ``base_rate`` moves the calibrator ``all`` fitted, so the
    two cost one fit."""
    out: dict[str, np.ndarray] = {}
    fitted_on_all = False
    for way in ways:
        if way == "base_rate" and fitted_on_all:
            latest = latest_rows(y, period)
            scorer.calibrator_.shift_to(np.asarray(margin)[latest], np.asarray(y)[latest])
        else:
            calibrate(scorer, margin, y, period, way)
        fitted_on_all = way == "all"
        out[way] = scorer.calibrated(test_margin)
    return out


def choose_way(rows: pd.DataFrame, ways: tuple[str, ...]) -> tuple[str, dict[str, float]]:
    """The way whose probabilities (``p_model_{way}`` of ``rows``) have the lowest log loss
    on the rows' labels, and each way's log loss (empty with one way)."""
    if len(ways) == 1:
        return ways[0], {}
    y = rows["label"].to_numpy(dtype="float64")
    if y.min() == y.max():
        return ways[0], {}
    losses = {w: float(log_loss(y, rows[f"p_model_{w}"].to_numpy(), labels=[0, 1])) for w in ways}
    return min(ways, key=lambda w: (losses[w], ways.index(w))), losses


def settle(rows: pd.DataFrame, way: str, ways: tuple[str, ...]) -> pd.DataFrame:
    """Test rows with ``way``'s probabilities (and scores) as theirs, the others dropped."""
    if len(ways) == 1:
        return rows
    out = rows.assign(
        p_model=rows[f"p_model_{way}"].to_numpy(), p_baseline=rows[f"p_baseline_{way}"].to_numpy()
    )
    out["score"] = to_score(out["p_model"].to_numpy())
    return out.drop(columns=[f"p_{who}_{w}" for who in ("model", "baseline") for w in ways])
