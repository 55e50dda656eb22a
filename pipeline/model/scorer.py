"""LightGBM plus a calibrator, in one estimator-shaped object: the ``lightgbm`` model kind.

``fit`` learns the booster (early stopping on a later, time-based slice), ``calibrate`` maps
its raw margins to probabilities on a slice it never trained on, ``predict_proba`` returns
calibrated conversion probabilities and ``contributions`` LightGBM's own SHAP values.
Columns are aligned to the feature spec by name before every call: LightGBM itself only
checks their count, so a reordered frame would otherwise score wrong in silence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import joblib
import lightgbm as lgb
import numpy as np
import pandas as pd

from leadscore.config import Config, ModelConfig, defaults
from leadscore.errors import DataError
from leadscore.features.spec import FeatureSpec
from leadscore.features.table import categorise
from leadscore.model.attribution import TreeCuts, contributions, tree_cuts, with_leaf_tables

# Calibrator is imported here too: models saved before it had its own module name it here.
from leadscore.model.calibrator import EPS, Calibrator, choose_calibration  # noqa: F401
from leadscore.model.kind import Scorer
from leadscore.model.row_blocks import BlockDataset, RowBlocks, column_values, fill

# Batches from this many rows up get SHAP from leaf tables (built once per model, ~1 s).
LEAF_TABLES_FROM = 100_000


def positive_weight(y: np.ndarray, setting: str | float) -> float:
    """Weight of positive rows: none (1), sqrt of the class ratio, balanced, or a number."""
    pos = float(np.sum(y == 1))
    neg = float(np.sum(y == 0))
    if isinstance(setting, (int, float)):
        return float(setting)
    if setting == "none" or pos == 0:
        return 1.0
    ratio = neg / pos
    return float(np.sqrt(ratio)) if setting == "sqrt" else float(ratio)


def align(X: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """``X`` reduced to the spec's columns, in order, with the spec's categories.

    LightGBM only checks the number of columns: a reordered frame would score wrong in
    silence, so every call goes through here.
    """
    cols = spec.feature_columns
    missing = [c for c in cols if c not in X.columns]
    if missing:
        shown = ", ".join(missing[:8]) + (
            f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        )
        raise DataError(
            f"features: {len(missing)} column(s) the model needs are missing ({shown}); {len(X)} rows"
        )
    out = X[cols]  # a new frame (a copy, or copy-on-write): setting its columns leaves X as it is
    for name, levels in spec.categories.items():
        if name not in out.columns:  # left out of the model (``spec.left_out``)
            continue
        col = out[name]
        if not (
            isinstance(col.dtype, pd.CategoricalDtype) and list(col.cat.categories) == list(levels)
        ):
            out[name] = categorise(col.astype("object"), levels)
    for c in cols:
        # Already float32 (every column ``build_features`` makes): setting it again would
        # cost a column copy per feature, most of a one-lead call's time.
        if c not in spec.categories and out[c].dtype != np.float32:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float32")
    return out


def as_matrix(frame: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """An aligned frame (``align``) as one float32 matrix in column order: categories as
    their codes, NaN where missing. LightGBM reads it as it is; given the frame, it would
    turn the codes into float64 and so copy every column to float64 first. ``rows``: the
    positions of the rows to take (None: all), taken column by column, so only those are
    copied, once."""
    n = len(frame) if rows is None else len(rows)
    out = np.empty((n, frame.shape[1]), dtype=np.float32, order="F")
    return fill(out, column_values(frame), rows)


CUTS_FILE = "tree_cuts.joblib"


def _trees_hash(booster_file: Path) -> str:
    return hashlib.sha256(booster_file.read_bytes()).hexdigest()


class LeadScorer:
    """Calibrated LightGBM over a ``FeatureSpec``'s columns."""

    def __init__(self, spec: FeatureSpec, config: ModelConfig | None = None) -> None:
        """``config``: the ``model:`` section (default: the embedded defaults)."""
        self.spec = spec
        self.config = config if config is not None else defaults().model
        self.complete_columns_: list[str] = []

    kind = "lightgbm"
    #: ``fit`` reads rows in place (``kinds.fit_rows``).
    takes_rows = True

    # --- input alignment ------------------------------------------------------------
    def frame(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` reduced to the spec's columns, in order, with the spec's categories."""
        return align(X, self.spec)

    def lgb_params(self, y: np.ndarray) -> dict[str, Any]:
        p = {
            "objective": "binary",
            "verbosity": -1,
            "seed": self.config.seed,
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": 0,
            **self.config.params,
        }
        p["scale_pos_weight"] = positive_weight(y, self.config.positive_weight)
        return p

    # --- fitting ----------------------------------------------------------------------
    def _dataset(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        weight: np.ndarray | None,
        reference: lgb.Dataset | None = None,
        rows: np.ndarray | None = None,
    ) -> tuple[lgb.Dataset, RowBlocks | None]:
        """The rows at ``rows`` of ``X`` (None: all) as a LightGBM Dataset: training rows
        read in blocks (``RowBlocks``, also returned), validation rows, binned as the
        training ones, as a matrix (they are few: early stopping reads a thinned holdout)."""
        frame = self.frame(X)
        blocks = RowBlocks(frame, rows) if reference is None else None
        dataset = BlockDataset(
            as_matrix(frame, rows) if blocks is None else blocks,
            label=np.asarray(y, dtype="float64"),
            weight=None if weight is None else np.asarray(weight, dtype="float64"),
            feature_name=list(self.spec.feature_columns),
            categorical_feature=[
                c for c in self.spec.categorical_features if c not in self.spec.left_out
            ],
            reference=reference,
            free_raw_data=True,
        )
        return dataset, blocks

    def _note_complete(self, blocks: RowBlocks) -> None:
        # Columns with no missing value in training: LightGBM would read a NaN there as its
        # default branch without a word, so scoring counts such values (batch.drift_counts).
        self.complete_columns_ = [
            c
            for c, full in zip(self.spec.feature_columns, blocks.complete, strict=True)
            if c not in self.spec.categories and bool(full)
        ]

    @classmethod
    def create(cls, spec: FeatureSpec, cfg: Config) -> LeadScorer:
        """An unfitted scorer with the config's ``model`` section."""
        return cls(spec, cfg.model)

    def fit(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        weight: np.ndarray | None = None,
        valid: tuple[pd.DataFrame, np.ndarray] | None = None,
        rows: np.ndarray | None = None,
        valid_rows: np.ndarray | None = None,
    ) -> LeadScorer:
        """Train the booster: for the rounds ``for_deployment`` fixed, else stopping early on
        ``valid`` (see ``fit_early``). ``rows``, ``valid_rows``: positions of the rows of
        ``X`` and of ``valid``'s frame to learn from and stop on (None: all); only those
        rows are copied, into the booster's matrix."""
        rounds = getattr(self, "rounds_", None)
        if rounds is not None:
            return self.fit_rounds(X, y, rounds, weight, rows)
        X_valid, y_valid = valid if valid is not None else (X.iloc[:0], np.empty(0))
        if valid is None:
            valid_rows = None
        return self.fit_early(X, y, X_valid, y_valid, weight, rows, valid_rows)

    def for_deployment(self, folds: Sequence[Scorer]) -> LeadScorer:
        """A scorer that boosts for the median of the folds' early-stopped rounds."""
        out = LeadScorer(self.spec, self.config)
        out.rounds_ = max(1, int(round(float(np.median([f.best_iteration_ for f in folds])))))
        return out

    def fit_early(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        X_valid: pd.DataFrame,
        y_valid: np.ndarray,
        weight: np.ndarray | None = None,
        rows: np.ndarray | None = None,
        valid_rows: np.ndarray | None = None,
    ) -> LeadScorer:
        """Train the booster, stopping early on the ROC AUC of a held-out validation slice
        (``rows``, ``valid_rows``: positions in ``X`` and ``X_valid``; None: every row).

        Without both classes in the validation slice there is nothing to stop on: the booster
        then gets ``num_boost_round`` capped at 300 (and ``best_iteration_`` says so).
        """
        y = np.asarray(y, dtype="float64")
        train, blocks = self._dataset(X, y, weight, rows=rows)
        self.evals_: dict[str, Any] = {}
        n_valid = len(X_valid) if valid_rows is None else len(valid_rows)
        if n_valid and np.unique(y_valid).size == 2:
            valid, _ = self._dataset(X_valid, y_valid, None, reference=train, rows=valid_rows)
            self.booster_ = lgb.train(
                {**self.lgb_params(y), "metric": "auc"},
                train,
                num_boost_round=self.config.num_boost_round,
                valid_sets=[valid],
                valid_names=["valid"],
                callbacks=[
                    lgb.early_stopping(self.config.early_stopping_rounds, verbose=False),
                    lgb.record_evaluation(self.evals_),
                ],
            )
            self.best_iteration_ = int(
                self.booster_.best_iteration or self.booster_.current_iteration()
            )
        else:
            rounds = min(self.config.num_boost_round, 300)
            self.booster_ = lgb.train(self.lgb_params(y), train, num_boost_round=rounds)
            self.best_iteration_ = self.booster_.current_iteration()
        self._note_complete(blocks)  # the blocks were read while the Dataset was built
        return self

    def fit_rounds(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        rounds: int,
        weight: np.ndarray | None = None,
        rows: np.ndarray | None = None,
    ) -> LeadScorer:
        """Train the booster for a fixed number of rounds (the deployed model: the rounds come
        from the backtest's early stopping); ``rows``: positions in ``X`` (None: all)."""
        y = np.asarray(y, dtype="float64")
        train, blocks = self._dataset(X, y, weight, rows=rows)
        self.booster_ = lgb.train(self.lgb_params(y), train, num_boost_round=max(1, int(rounds)))
        self._note_complete(blocks)  # the blocks were read while the Dataset was built
        self.best_iteration_ = self.booster_.current_iteration()
        return self

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        """Raw (log-odds) scores, before calibration."""
        frame = self.frame(X)
        # A booster that learned from a frame (saved by an earlier version) keeps its
        # categories' order and reads a frame; one that learned from codes reads codes.
        rows = frame if self.booster_.pandas_categorical else as_matrix(frame)
        return self.booster_.predict(
            rows, raw_score=True, num_iteration=self.booster_.current_iteration()
        )

    def calibrate(self, X: pd.DataFrame, y: np.ndarray, period: np.ndarray) -> LeadScorer:
        """Fit the calibrator on rows the booster never trained on."""
        return self.calibrate_margins(self.margin(X), y, period)

    def calibrate_margins(
        self, margin: np.ndarray, y: np.ndarray, period: np.ndarray
    ) -> LeadScorer:
        """Fit the calibrator on margins given (the backtest's out-of-time margins, for the
        deployed model: as scikit-learn's ``CalibratedClassifierCV(ensemble=False)`` does)."""
        y = np.asarray(y, dtype="float64")
        m = np.asarray(margin, dtype="float64")
        self.calibration_method_, self.calibration_scores_ = choose_calibration(
            m, y, np.asarray(period), self.config.calibration
        )
        self.calibrator_ = Calibrator(self.calibration_method_).fit(m, y)
        return self

    def calibrated(self, margin: np.ndarray) -> np.ndarray:
        """Probabilities of raw margins."""
        return self.calibrator_.predict(margin)

    def probability_from(self, contributions: pd.DataFrame, X: pd.DataFrame) -> np.ndarray:
        """The calibrated probability from contributions already computed (with ``bias``,
        their sum is the raw margin), so scoring asks LightGBM once per row, not twice."""
        return self.calibrator_.predict(contributions.sum(axis=1).to_numpy())

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of a won deal within the horizon."""
        return self.calibrator_.predict(self.margin(X))

    def prepare(self, rows: int) -> None:
        """Read the trees for SHAP, with the leaf tables when the batch is large enough to
        pay for them."""
        self.tree_cuts(leaves=rows >= LEAF_TABLES_FROM)

    def contributions(
        self,
        X: pd.DataFrame,
        threads: int = 2,
        groups: dict[str, str] | None = None,
        helpers_after: Future | None = None,
    ) -> pd.DataFrame:
        """Per-row SHAP contributions to the raw margin (LightGBM ``pred_contrib``), plus ``bias``.

        Computed once per distinct tree cell (``leadscore.model.attribution``): the same numbers,
        several times faster on large batches. With ``groups`` (feature -> group) the
        columns are the groups, summed while gathering. ``helpers_after``: threads beyond
        the caller's join when that future completes (see ``attribution.contributions``).
        """
        cuts = self.tree_cuts(leaves=len(X) >= LEAF_TABLES_FROM)
        names = list(self.spec.feature_columns)
        target = None
        if groups is not None:
            names = sorted(set(groups.values()))
            index = {g: i for i, g in enumerate(names)}
            target = np.array([index[groups[c]] for c in self.spec.feature_columns])
        values = contributions(self.booster_, self.frame(X), cuts, threads, target, helpers_after)
        return pd.DataFrame(values, columns=[*names, "bias"], index=X.index)

    def tree_cuts(self, leaves: bool = True) -> TreeCuts:
        """The model's splits (``leadscore.model.attribution``), built on first use; with ``leaves``
        also the leaf tables, which pay off on large batches (scoring chunks)."""
        cached = getattr(self, "_cuts", None)
        if cached is None or cached[0] is not self.booster_:
            cached = self._cuts = (self.booster_, tree_cuts(self.booster_, leaves=False))
        if leaves and not cached[1].leaves:
            cached = self._cuts = (self.booster_, with_leaf_tables(self.booster_, cached[1]))
        return cached[1]

    def importance(self) -> pd.DataFrame:
        """Total gain per feature, largest first."""
        gain = self.booster_.feature_importance(importance_type="gain")
        splits = self.booster_.feature_importance(importance_type="split")
        out = pd.DataFrame(
            {"feature": self.booster_.feature_name(), "importance": gain, "splits": splits}
        )
        return out.sort_values(
            ["importance", "feature"], ascending=[False, True], ignore_index=True
        )

    # --- persistence ------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        d = Path(folder)
        d.mkdir(parents=True, exist_ok=True)
        self.booster_.save_model(str(d / "booster.txt"))
        joblib.dump(self.calibrator_, d / "calibrator.joblib")
        meta = {
            "kind": self.kind,
            "spec": self.spec.to_dict(),
            "config": self.config.model_dump(mode="json"),
            "calibration_method": self.calibration_method_,
            "best_iteration": self.best_iteration_,
            "complete_columns": getattr(self, "complete_columns_", []),
        }
        (d / "scorer.json").write_text(json.dumps(meta, indent=2, default=str))
        # The SHAP leaf tables take seconds to build from the trees: built once here and
        # stored beside them, so no scoring process rebuilds them. Tagged with the trees'
        # hash, so tables that do not match are never used.
        joblib.dump(
            {"trees": _trees_hash(d / "booster.txt"), "cuts": self.tree_cuts(leaves=True)},
            d / CUTS_FILE,
        )
        return d

    @classmethod
    def load(cls, folder: str | Path) -> LeadScorer:
        d = Path(folder)
        meta = json.loads((d / "scorer.json").read_text())
        obj = cls(FeatureSpec.from_dict(meta["spec"]), ModelConfig.model_validate(meta["config"]))
        obj.booster_ = lgb.Booster(model_file=str(d / "booster.txt"))
        obj.calibrator_ = joblib.load(d / "calibrator.joblib")
        obj.calibration_method_ = meta["calibration_method"]
        obj.best_iteration_ = meta["best_iteration"]
        obj.complete_columns_ = meta["complete_columns"]
        stored = d / CUTS_FILE
        if stored.exists():
            try:
                saved = joblib.load(stored)
            except Exception:  # written by another version: rebuilt when needed
                saved = None
            if isinstance(saved, dict) and saved.get("trees") == _trees_hash(d / "booster.txt"):
                obj._cuts = (obj.booster_, saved["cuts"])
        return obj
