"""The points sheet as a model in its own right: ``PointsScorer``.

A model kind (``leadscore.model.kind``) like the LightGBM model, so when the points sheet
wins the backtest it can be registered and served like it. Its score is the
baseline's 0-100 score; its probability is that score through a calibrator fitted on the
backtest's out-of-time rows; its contributions are each rule's points (in score units), so
its reasons read like the model's ("+ requested a demo 1 time in the last 30 days").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from leadscore.config import BaselineConfig, Config
from leadscore.features.spec import FeatureSpec
from leadscore.model.baseline import rule_points, rules_for, score_baseline
from leadscore.model.calibrator import Calibrator, choose_calibration
from leadscore.model.kind import Scorer
from leadscore.model.scorer import align

KIND = "points"


class PointsScorer:
    """The rule-based points model over a ``FeatureSpec``'s columns, with a calibrator."""

    kind = KIND
    #: ``fit`` reads rows in place (``kinds.fit_rows``).
    takes_rows = True

    def __init__(
        self, spec: FeatureSpec, baseline: BaselineConfig, calibration: str = "auto"
    ) -> None:
        """``calibration``: the config's ``model.calibration`` (isotonic, sigmoid or auto)."""
        self.spec = spec
        self.baseline = baseline
        self.calibration = calibration
        self.best_iteration_ = 0
        self.complete_columns_: list[str] = []

    @classmethod
    def create(cls, spec: FeatureSpec, cfg: Config) -> PointsScorer:
        """The config's points sheet (``baseline``), calibrated as ``model.calibration`` says."""
        return cls(spec, cfg.baseline, cfg.model.calibration)

    def fit(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        weight: np.ndarray | None = None,
        valid: tuple[pd.DataFrame, np.ndarray] | None = None,
        rows: np.ndarray | None = None,
        valid_rows: np.ndarray | None = None,
    ) -> PointsScorer:
        """Nothing to learn: the sheet's points come from the config (no row is read)."""
        return self

    def for_deployment(self, folds: Sequence[Scorer]) -> PointsScorer:
        return PointsScorer(self.spec, self.baseline, self.calibration)

    def frame(self, X: pd.DataFrame) -> pd.DataFrame:
        return align(X, self.spec)

    def score(self, X: pd.DataFrame) -> np.ndarray:
        """The 0-100 points score."""
        return score_baseline(X, self.baseline)["baseline_score"].to_numpy(dtype="float64")

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        """The raw score is the 0-100 points score."""
        return self.score(X)

    def calibrate_margins(
        self, margin: np.ndarray, y: np.ndarray, period: np.ndarray
    ) -> PointsScorer:
        """Isotonic or sigmoid (``choose_calibration``) from scores to probabilities."""
        score = np.asarray(margin, dtype="float64")
        method, _ = choose_calibration(score, y, np.asarray(period), self.calibration)
        return self.fit_calibrator(score, y, method)

    def fit_calibrator(self, score: np.ndarray, y: np.ndarray, method: str) -> PointsScorer:
        self.calibration_method_ = method
        self.calibrator_ = Calibrator(method).fit(np.asarray(score, dtype="float64"), y)
        return self

    def calibrated(self, margin: np.ndarray) -> np.ndarray:
        return self.calibrator_.predict(margin)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.calibrator_.predict(self.score(X))

    def probability_from(self, contributions: pd.DataFrame, X: pd.DataFrame) -> np.ndarray:
        """The probability of the rows' own score (their contributions add up to it only
        to rounding, and a calibrator's steps must not see the difference)."""
        return self.predict_proba(X)

    def contributions(
        self,
        X: pd.DataFrame,
        threads: int = 2,
        groups: dict[str, str] | None = None,
        helpers_after: Future | None = None,
    ) -> pd.DataFrame:
        """Each rule's points in score units, by feature (or summed into ``groups``), plus a
        ``bias`` that makes each row sum to its clipped 0-100 score."""
        scale = 100.0 / self.baseline.max_points
        names = list(self.spec.feature_columns)
        if groups is not None:
            names = sorted(set(groups.values()))
        out = pd.DataFrame(0.0, index=X.index, columns=[*names, "bias"])
        for rule in rules_for(X.columns, self.baseline):
            target = groups.get(rule.column, rule.column) if groups else rule.column
            if target not in out.columns:
                target = "bias"
            out[target] += rule_points(X, rule) * scale
        out["bias"] += self.score(X) - out.sum(axis=1).to_numpy()
        return out

    def prepare(self, rows: int) -> None:
        """Nothing to prepare: the rules are the explanation."""

    def importance(self) -> pd.DataFrame:
        """The most points each rule can give, largest first (its weight in the sheet)."""
        rows = []
        for rule in self.baseline.rules:
            if rule.values is not None:
                most = max(abs(v) for v in rule.values.values())
            elif rule.bands is not None:
                most = max(abs(b[1]) for b in rule.bands)
            elif rule.not_in is not None:
                most = abs(rule.points or 0.0)
            else:
                most = rule.cap if rule.cap is not None else abs(rule.per_unit or 0.0)
            rows.append({"feature": rule.column, "importance": float(most), "splits": 0})
        frame = pd.DataFrame(rows, columns=["feature", "importance", "splits"])
        return frame.sort_values(
            ["importance", "feature"], ascending=[False, True], ignore_index=True
        )

    def save(self, folder: str | Path) -> Path:
        d = Path(folder)
        d.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.calibrator_, d / "calibrator.joblib")
        meta = {
            "kind": KIND,
            "spec": self.spec.to_dict(),
            "baseline": self.baseline.model_dump(mode="json"),
            "calibration_method": self.calibration_method_,
        }
        (d / "scorer.json").write_text(json.dumps(meta, indent=2))
        return d

    @classmethod
    def load(cls, folder: str | Path) -> PointsScorer:
        d = Path(folder)
        meta = json.loads((d / "scorer.json").read_text())
        obj = cls(
            FeatureSpec.from_dict(meta["spec"]), BaselineConfig.model_validate(meta["baseline"])
        )
        obj.calibrator_ = joblib.load(d / "calibrator.joblib")
        obj.calibration_method_ = meta["calibration_method"]
        return obj
