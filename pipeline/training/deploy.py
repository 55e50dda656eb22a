"""The deployed model: the one that scores tomorrow, learned from every labelled row.

It is refitted on every row the plan gives it (every snapshot whose label is known by
``as_of``), for the number of boosting rounds the backtest's early stopping found (the
median over folds). No row of its own is left to calibrate on, so its calibrator is fitted on
the backtest's out-of-time margins, the latest ``training.backtest.calibration_folds`` folds
(as scikit-learn's ``CalibratedClassifierCV(ensemble=False)`` fits one calibrator on
out-of-fold predictions). The points sheet is made a model the same way: its 0-100 score gets
a probability mapping fitted on the same out-of-time rows, so it can stand as a challenger.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.config import Config
from leadscore.features.spec import FeatureSpec
from leadscore.model.points import PointsScorer
from leadscore.model.scorer import LeadScorer, choose_calibration
from leadscore.training.backtest import Backtest, learning_rows
from leadscore.training.folds import Plan


@dataclass
class Deployed:
    scorer: LeadScorer
    points: PointsScorer
    rounds: int
    calibration_folds: list[int]
    calibration_rows: int


def calibration_folds(backtest: Backtest, setting: str | int) -> list[int]:
    """The folds whose out-of-time rows calibrate the deployed model: all, or the latest N."""
    numbers = [f.number for f in backtest.folds]
    return numbers if setting == "all" else numbers[-int(setting) :]


def deploy(
    table: pd.DataFrame, spec: FeatureSpec, plan: Plan, backtest: Backtest, cfg: Config
) -> Deployed:
    y_all = table["label"].to_numpy(dtype="float64")
    rows, weights = learning_rows(table, y_all, plan.deploy, cfg)
    X = table.loc[rows, spec.feature_columns]
    y = y_all[rows]
    rounds = max(1, int(round(float(np.median([f.best_iteration for f in backtest.folds])))))
    scorer = LeadScorer(spec, cfg.model).fit_rounds(X, y, rounds, weights)
    folds = calibration_folds(backtest, cfg.training.backtest.calibration_folds)
    oof = backtest.rows[backtest.rows["fold"].isin(folds)]
    label, fold = oof["label"].to_numpy(dtype="float64"), oof["fold"].to_numpy()
    scorer.calibrate_margins(oof["margin"].to_numpy(), label, fold)
    points = PointsScorer(spec, cfg.baseline)
    b_score = oof["baseline_score"].to_numpy(dtype="float64")
    method, _ = choose_calibration(b_score, label, fold, cfg.model.calibration)
    points.fit_calibrator(b_score, label, method)
    return Deployed(scorer, points, rounds, folds, len(oof))
