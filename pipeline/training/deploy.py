"""The deployed model: the one that scores tomorrow, learned from every labelled row.

It is refitted on every row the plan gives it (every snapshot whose label is known by
``as_of``), with what the backtest's fold models learned about fitting (LightGBM: the
median over folds of the rounds early stopping found; ``Scorer.for_deployment``). No row of
its own is left to calibrate on, so its calibrator is fitted on the backtest's out-of-time
margins, the latest ``training.backtest.calibration_folds`` folds
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
from leadscore.model import kinds
from leadscore.model.kind import Scorer
from leadscore.model.points import PointsScorer
from leadscore.training.backtest import Backtest, learning_rows
from leadscore.training.calibrate import calibrate
from leadscore.training.folds import Plan


@dataclass
class Deployed:
    scorer: Scorer  # of the backtest's kind (the tournament's winner)
    points: PointsScorer
    rounds: int  # the median of the folds' rounds (LightGBM boosts for that many)
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
    rows, weights = learning_rows(table, y_all, plan.deploy, cfg, backtest.hashes)
    fold_scorers = [f.scorer for f in backtest.folds]
    scorer = kinds.create(spec, cfg, backtest.kind).for_deployment(fold_scorers)
    # Positions, not a copy: the kind copies only the rows it learns from (kinds.fit_rows).
    scorer = kinds.fit_rows(
        scorer, table[spec.feature_columns], y_all, np.flatnonzero(rows), weights
    )
    folds = calibration_folds(backtest, cfg.training.backtest.calibration_folds)
    oof = backtest.rows[backtest.rows["fold"].isin(folds)]
    label, fold = oof["label"].to_numpy(dtype="float64"), oof["fold"].to_numpy()
    follows, in_time = backtest.follows, plan.out_of_time
    calibrate(scorer, oof["margin"].to_numpy(), label, fold, follows, in_time)
    points = PointsScorer.create(spec, cfg)
    b_score = oof["baseline_score"].to_numpy(dtype="float64")
    calibrate(points, b_score, label, fold, follows, in_time)
    rounds = max(1, int(round(float(np.median([f.best_iteration for f in backtest.folds])))))
    return Deployed(scorer, points, rounds, folds, len(oof))
