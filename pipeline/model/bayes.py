"""Naive Bayes as a model kind: ``naive_bayes``, as CRMs' predictive lead scoring does it.

Each feature's values fall in bins (a number: up to ``BINS`` quantile bins of the training
rows plus one for missing; a category: the levels the spec kept); per bin, the share of
converted and of other rows, with Laplace smoothing. A row's margin is the log prior odds
plus, per feature, the log-likelihood ratio of its bin; those ratios are its exact
contributions (``bias``: the prior), so each row's reasons add up to its margin.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from leadscore.config import Config
from leadscore.features.spec import FeatureSpec
from leadscore.model.calibrator import Calibrator, choose_calibration
from leadscore.model.kind import Scorer
from leadscore.model.scorer import align

#: Quantile bins per numeric feature (fewer where the values tie).
BINS = 10
#: Laplace smoothing: pseudo-rows added to every bin of both classes.
SMOOTHING = 1.0


def _take(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    return values if rows is None else values[rows]


class NaiveBayesScorer:
    """Calibrated naive Bayes over binned feature values."""

    kind = "naive_bayes"
    #: Its fits use one core (``kinds.one_core``): the tournament runs it beside another.
    one_core = True
    #: ``fit`` reads rows in place (``kinds.fit_rows``).
    takes_rows = True

    def __init__(self, spec: FeatureSpec, calibration: str = "auto") -> None:
        self.spec = spec
        self.calibration = calibration
        self.best_iteration_ = 0
        self.complete_columns_: list[str] = []

    @classmethod
    def create(cls, spec: FeatureSpec, cfg: Config) -> NaiveBayesScorer:
        return cls(spec, cfg.model.calibration)

    def _bin(self, frame: pd.DataFrame, c: str, rows: np.ndarray | None = None) -> np.ndarray:
        """Each row's bin of feature ``c`` of an aligned frame (``rows``: of the rows at these
        positions only); the last bin is missing."""
        if c in self.spec.categories:
            codes = _take(frame[c].cat.codes.to_numpy(), rows)
            return np.where(codes < 0, len(self.spec.categories[c]), codes)
        v = _take(frame[c].to_numpy(dtype="float64"), rows)
        edges = self.edges_[c]
        return np.where(np.isnan(v), len(edges) + 1, np.searchsorted(edges, v, side="right"))

    def _columns(self, X: pd.DataFrame) -> Iterator[tuple[int, np.ndarray]]:
        """Each feature's position and its rows' bins, one feature at a time (a rows x
        features matrix of bins would cost eight bytes a cell)."""
        frame = align(X, self.spec)
        for j, c in enumerate(self.spec.feature_columns):
            yield j, self._bin(frame, c)

    def _sizes(self) -> list[int]:
        return [
            len(self.spec.categories[c]) + 1
            if c in self.spec.categories
            else len(self.edges_[c]) + 2
            for c in self.spec.feature_columns
        ]

    def fit(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        weight: np.ndarray | None = None,
        valid: tuple[pd.DataFrame, np.ndarray] | None = None,
        rows: np.ndarray | None = None,
        valid_rows: np.ndarray | None = None,
    ) -> NaiveBayesScorer:
        """Count each bin's rows per class (``weight``: the rows' weights; ``rows``: positions
        of the rows of ``X`` to count, read one column at a time; ``valid`` is not read)."""
        frame = align(X, self.spec)
        y = np.asarray(y, dtype="float64")
        w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype="float64")
        self.edges_ = {}
        for c in self.spec.feature_columns:
            if c not in self.spec.categories:
                v = _take(frame[c].to_numpy(dtype="float64"), rows)
                v = v[~np.isnan(v)]
                q = np.quantile(v, np.linspace(0, 1, BINS + 1)[1:-1]) if len(v) else []
                self.edges_[c] = np.unique(q)
        pos, neg = w * (y == 1), w * (y == 0)
        self.prior_ = float(np.log((pos.sum() + SMOOTHING) / (neg.sum() + SMOOTHING)))
        self.ratios_ = []
        for c, size in zip(self.spec.feature_columns, self._sizes(), strict=True):
            bins = self._bin(frame, c, rows)
            n1 = np.bincount(bins, weights=pos, minlength=size) + SMOOTHING
            n0 = np.bincount(bins, weights=neg, minlength=size) + SMOOTHING
            self.ratios_.append(np.log(n1 / n1.sum()) - np.log(n0 / n0.sum()))
        return self

    def for_deployment(self, folds: Sequence[Scorer]) -> NaiveBayesScorer:
        return NaiveBayesScorer(self.spec, self.calibration)

    def _parts(self, X: pd.DataFrame) -> np.ndarray:
        out = np.zeros((len(X), len(self.ratios_)))
        for j, bins in self._columns(X):
            out[:, j] = self.ratios_[j][bins]
        return out

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        out = np.full(len(X), self.prior_)
        for j, bins in self._columns(X):  # summed in place: no rows x features copy
            out += self.ratios_[j][bins]
        return out

    def calibrate_margins(
        self, margin: np.ndarray, y: np.ndarray, period: np.ndarray
    ) -> NaiveBayesScorer:
        m, y = np.asarray(margin, dtype="float64"), np.asarray(y, dtype="float64")
        self.calibration_method_, _ = choose_calibration(m, y, np.asarray(period), self.calibration)
        self.calibrator_ = Calibrator(self.calibration_method_).fit(m, y)
        return self

    def calibrated(self, margin: np.ndarray) -> np.ndarray:
        return self.calibrator_.predict(margin)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.calibrated(self.margin(X))

    def contributions(
        self,
        X: pd.DataFrame,
        threads: int = 2,
        groups: dict[str, str] | None = None,
        helpers_after: Future | None = None,
    ) -> pd.DataFrame:
        """Each feature's log-likelihood ratio (or their sums per group), ``bias`` the prior."""
        out = pd.DataFrame(self._parts(X), columns=list(self.spec.feature_columns), index=X.index)
        if groups is not None:
            out = out.T.groupby(lambda c: groups.get(c, c)).sum().T
        out["bias"] = self.prior_
        return out

    def probability_from(self, contributions: pd.DataFrame, X: pd.DataFrame) -> np.ndarray:
        return self.calibrated(contributions.sum(axis=1).to_numpy())

    def prepare(self, rows: int) -> None:
        """Nothing to prepare: the frequency tables are the explanation."""

    def importance(self) -> pd.DataFrame:
        """Each feature's widest swing of log-likelihood ratio across its bins."""
        swing = [float(r.max() - r.min()) for r in self.ratios_]
        frame = pd.DataFrame(
            {"feature": list(self.spec.feature_columns), "importance": swing, "splits": 0}
        )
        return frame.sort_values(
            ["importance", "feature"], ascending=[False, True], ignore_index=True
        )

    def save(self, folder: str | Path) -> Path:
        d = Path(folder)
        d.mkdir(parents=True, exist_ok=True)
        state = {
            "edges": self.edges_,
            "ratios": self.ratios_,
            "prior": self.prior_,
            "calibrator": self.calibrator_,
        }
        joblib.dump(state, d / "naive_bayes.joblib")
        meta = {
            "kind": self.kind,
            "spec": self.spec.to_dict(),
            "calibration_method": self.calibration_method_,
        }
        (d / "scorer.json").write_text(json.dumps(meta, indent=2))
        return d

    @classmethod
    def load(cls, folder: str | Path) -> NaiveBayesScorer:
        d = Path(folder)
        meta = json.loads((d / "scorer.json").read_text())
        obj = cls(FeatureSpec.from_dict(meta["spec"]))
        state = joblib.load(d / "naive_bayes.joblib")
        obj.edges_, obj.ratios_, obj.prior_ = state["edges"], state["ratios"], state["prior"]
        obj.calibrator_ = state["calibrator"]
        obj.calibration_method_ = meta["calibration_method"]
        return obj
