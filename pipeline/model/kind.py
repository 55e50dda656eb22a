"""The model contract: what training, the registry and scoring ask of a model kind.

A kind is a class with a registry name (``kind``) that turns a feature table into
calibrated probabilities and explains each one exactly. Training builds one through the
registry (``leadscore.model.kinds.create``, from the config's ``model.kind``), fits it on
each backtest fold and once more for deployment; the registry saves it inside the MLflow
pyfunc model and loads it back by the ``kind`` stored beside it; scoring calls only the
methods below. LightGBM (``leadscore.model.scorer.LeadScorer``) and the points sheet
(``leadscore.model.points.PointsScorer``) are the built-in kinds.

The numbers a kind promises:

* ``margin(X)`` is the kind's raw score (LightGBM: the log-odds; the points sheet: its
  0-100 score); ``calibrated(margin)`` maps it to a probability, and
  ``predict_proba(X) == calibrated(margin(X))``.
* ``contributions(X)`` has one column per feature (or per group) plus ``bias``, and each
  row adds up to ``margin(X)`` for that row: the reasons read these numbers.

A kind whose class sets ``takes_rows`` has ``fit`` take two more keywords, ``rows`` and
``valid_rows``: positions of the rows of ``X`` (and of ``valid``'s frame) to read, ``y``,
``weight`` and ``valid``'s labels being those rows'; training then passes the whole table
instead of copies of its rows (``kinds.fit_rows``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from leadscore.features.spec import FeatureSpec

if TYPE_CHECKING:
    from leadscore.config import Config
    from leadscore.model.calibrator import Calibrator


@runtime_checkable
class Scorer(Protocol):
    """A model kind. Learned state ends in ``_`` (set by ``fit`` and ``calibrate_margins``)."""

    #: The registry name, stored with a saved scorer (``scorer.json``'s ``kind``).
    kind: ClassVar[str]
    #: The feature columns it reads and their category levels.
    spec: FeatureSpec
    #: Rounds of boosting kept (0 for kinds without rounds); shown per backtest fold.
    best_iteration_: int
    #: ``isotonic`` or ``sigmoid``: the calibrator ``calibrate_margins`` chose.
    calibration_method_: str
    #: The fitted margin-to-probability mapping (``calibrated`` applies it); training may
    #: move its level afterwards (``Calibrator.shift_to``).
    calibrator_: Calibrator
    #: Numeric columns without a missing value in training (scoring counts new NaNs there).
    complete_columns_: list[str]

    @classmethod
    def create(cls, spec: FeatureSpec, cfg: Config) -> Scorer:
        """An unfitted scorer over ``spec`` with the config's settings for this kind."""
        ...

    def fit(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        weight: np.ndarray | None = None,
        valid: tuple[pd.DataFrame, np.ndarray] | None = None,
    ) -> Scorer:
        """Learn the raw score from a training table's rows (``valid``: rows it may stop
        early on, never learn from)."""
        ...

    def for_deployment(self, folds: Sequence[Scorer]) -> Scorer:
        """An unfitted scorer for the deployed model, carrying what the backtest's fold
        scorers learned about fitting (LightGBM: how many rounds)."""
        ...

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        """The raw, uncalibrated score."""
        ...

    def calibrate_margins(self, margin: np.ndarray, y: np.ndarray, period: np.ndarray) -> Scorer:
        """Fit the calibrator on margins of rows the raw score never learned from."""
        ...

    def calibrated(self, margin: np.ndarray) -> np.ndarray:
        """Probabilities of raw scores."""
        ...

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of a won deal within the horizon."""
        ...

    def contributions(
        self,
        X: pd.DataFrame,
        threads: int = 2,
        groups: dict[str, str] | None = None,
        helpers_after: Future | None = None,
    ) -> pd.DataFrame:
        """Exact per-feature contributions to the margin, plus ``bias`` (``groups``: feature
        -> group, columns summed per group)."""
        ...

    def probability_from(self, contributions: pd.DataFrame, X: pd.DataFrame) -> np.ndarray:
        """The probability of rows whose contributions are already computed."""
        ...

    def prepare(self, rows: int) -> None:
        """Get ready to explain a batch of about ``rows`` rows (may do nothing)."""
        ...

    def importance(self) -> pd.DataFrame:
        """``feature``, ``importance``, ``splits``: largest first."""
        ...

    def save(self, folder: str | Path) -> Path:
        """Write the scorer into ``folder`` (with a ``scorer.json`` naming its ``kind``)."""
        ...

    @classmethod
    def load(cls, folder: str | Path) -> Scorer:
        """The scorer ``save`` wrote."""
        ...
