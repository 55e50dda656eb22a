"""L2-regularised logistic regression as a model kind: ``logistic``.

A scikit-learn pipeline over the feature spec's columns: categories one-hot on the levels the
spec kept (so rare levels are already pooled as ``other``), numbers with their missing values
filled by the training mean plus a missing indicator (beside the indicator, the fill value is
only a reference point), then standardised. A number that is never negative and skewed on the
training rows (revenue, counts) enters on a log scale, ``log(1 + x)``: its effect then grows
with each doubling rather than each unit, so a few huge values do not decide the slope, and
a value beyond the training range extrapolates in proportion. Numbers may instead enter
quantile-transformed to a normal shape (``model.logistic_numbers``; ``auto`` keeps whichever
way each fold's validation rows favour). Its strength ``C`` is chosen on the validation rows
the backtest gives each fold (log loss); the deployed model takes the strength and the way
the folds chose most often. A linear model on standardised numbers extrapolates a trend or
a number beyond its training range, where trees (and quantiles) stay flat.

Exact reasons: the margin is ``intercept + sum_j coef_j * z_j`` over the transformed columns
``z``; each feature's contribution is ``sum of coef_j * (z_j - mean_j)`` over its columns
(``mean_j`` on the training rows), and ``bias`` is the intercept plus ``sum coef_j *
mean_j``, so each row's contributions add up to its margin.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, QuantileTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from leadscore.config import Config
from leadscore.features.spec import FeatureSpec
from leadscore.model.calibrator import Calibrator, choose_calibration
from leadscore.model.kind import Scorer
from leadscore.model.scorer import align

#: Regularisation strengths tried on the validation rows (scikit-learn's C: larger is weaker).
STRENGTHS = (0.01, 0.1, 1.0, 10.0)
#: How numbers enter (``model.logistic_numbers``): standardised (skewed ones on a log scale
#: first), or quantile-transformed to a normal shape (their ranks matter, not their spread:
#: an outlier weighs no more than the next value). ``auto`` tries both (``fit``).
NUMBERS = ("standard", "quantile")
#: Quantiles the quantile transform keeps (fewer when fewer rows).
QUANTILES = 1_000
#: Non-converted rows a fit learns from at most (``LogisticScorer.fit``).
FIT_NEGATIVES = 50_000
#: Rows transformed at once when scoring (the design matrix is dense).
MARGIN_ROWS = 50_000
#: Sample skewness above which a never-negative number enters on a log scale (a common
#: rule of thumb for "highly skewed"; the log of a symmetric column would bend it).
LOG_SKEW = 1.0


def skewed_columns(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The ``columns`` of ``frame`` that are never negative, take more than two values (a
    flag stays a flag) and have a skewness above ``LOG_SKEW`` (over their known values)."""
    if not columns:
        return []
    data = frame[list(columns)].astype("float64").replace([np.inf, -np.inf], np.nan)
    low, high = data.min(), data.max()
    inner = (data.gt(low, axis=1) & data.lt(high, axis=1)).any()
    chosen = (low >= 0) & inner & (data.skew() > LOG_SKEW)
    return [c for c in columns if bool(chosen[c])]


def _fewer_negatives(
    y: np.ndarray, weight: np.ndarray | None, keep: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every converted row and at most ``keep`` others (seeded), with weights that make the
    kept ones stand for all: the row indices and their weights."""
    w = np.ones(len(y)) if weight is None else weight
    negatives = np.flatnonzero(y == 0)
    if len(negatives) <= keep:
        return np.arange(len(y)), w
    kept = np.random.default_rng(seed).choice(negatives, size=keep, replace=False)
    rows = np.sort(np.concatenate([np.flatnonzero(y == 1), kept]))
    scale = np.where(y[rows] == 0, len(negatives) / keep, 1.0)
    return rows, w[rows] * scale


def _loss(model: LogisticRegression, zv: np.ndarray | None, yv: np.ndarray | None) -> float:
    """Validation log loss (NaN without validation rows)."""
    if zv is None or yv is None:
        return float("nan")
    return float(log_loss(yv, model.predict_proba(zv)[:, 1], labels=[0, 1]))


class LogisticScorer:
    """Calibrated L2 logistic regression over a ``FeatureSpec``'s columns."""

    kind = "logistic"
    #: Its fits use one core (``kinds.one_core``): the tournament runs it beside another.
    one_core = True
    #: ``fit`` reads rows in place (``kinds.fit_rows``).
    takes_rows = True

    def __init__(
        self,
        spec: FeatureSpec,
        seed: int = 0,
        calibration: str = "auto",
        numbers: str = "standard",
    ) -> None:
        self.spec = spec
        self.seed = seed
        self.calibration = calibration
        self.numbers = numbers
        self.best_iteration_ = 0
        self.complete_columns_: list[str] = []
        self.logged_: list[str] = []
        self.strength: float | None = None

    @classmethod
    def create(cls, spec: FeatureSpec, cfg: Config) -> LogisticScorer:
        return cls(spec, cfg.model.seed, cfg.model.calibration, cfg.model.logistic_numbers)

    # --- the pipeline ------------------------------------------------------------------
    def _columns(self) -> tuple[list[str], list[str]]:
        cats = [c for c in self.spec.feature_columns if c in self.spec.categories]
        nums = [c for c in self.spec.feature_columns if c not in self.spec.categories]
        return nums, cats

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        out = align(X, self.spec)
        nums, cats = self._columns()
        for c in nums:
            out[c] = out[c].astype("float64")
        for c in cats:  # level codes (-1: missing or unseen, which no column takes)
            out[c] = out[c].cat.codes.astype("int64")
        return self._logs(out)

    def _logs(self, frame: pd.DataFrame) -> pd.DataFrame:
        for c in self.logged_:  # signed, so a negative value at scoring stays defined
            frame[c] = np.sign(frame[c]) * np.log1p(np.abs(frame[c]))
        return frame

    def _prepare(self, numbers: str, rows: int) -> ColumnTransformer:
        nums, cats = self._columns()
        levels = [list(range(len(self.spec.categories[c]))) for c in cats]
        fill = SimpleImputer(strategy="mean", add_indicator=True, keep_empty_features=True)
        steps: list[tuple[str, object]] = [("fill", fill)]
        if numbers == "quantile":
            shape = QuantileTransformer(
                n_quantiles=max(2, min(QUANTILES, rows)),
                output_distribution="normal",
                subsample=None,
                random_state=self.seed,
            )
            steps.append(("shape", shape))
        elif numbers != "standard":
            raise ValueError(f"model.logistic_numbers: unknown value {numbers!r}")
        steps.append(("scale", StandardScaler()))
        prepare = ColumnTransformer(
            [
                ("num", Pipeline(steps), nums),
                ("cat", OneHotEncoder(categories=levels, handle_unknown="ignore"), cats),
            ],
            sparse_threshold=0.0,
        )
        return prepare

    def _model(self, strength: float) -> LogisticRegression:
        # Newton steps on the Cholesky-factored Hessian: a few hundred columns against many
        # rows (one-hot levels, missing indicators) take lbfgs hundreds of iterations and
        # Newton a handful. Warm starts: each strength tried starts from the previous one's
        # solution.
        return LogisticRegression(
            C=strength,
            solver="newton-cholesky",
            max_iter=100,
            random_state=self.seed,
            warm_start=True,
        )

    def _owners(self) -> np.ndarray:
        """The feature each transformed column comes from (by position in the spec)."""
        nums, cats = self._columns()
        index = {c: i for i, c in enumerate(self.spec.feature_columns)}
        prepare = self.pipeline_.named_steps["prepare"]
        fill = prepare.named_transformers_["num"].named_steps["fill"] if nums else None
        owners = [index[c] for c in nums]
        if fill is not None and fill.indicator_ is not None:
            owners += [index[nums[j]] for j in fill.indicator_.features_]
        if cats:
            encoder = prepare.named_transformers_["cat"]
            for c, seen in zip(cats, encoder.categories_, strict=True):
                owners += [index[c]] * len(seen)
        return np.asarray(owners, dtype=np.int64)

    # --- fitting -----------------------------------------------------------------------
    def fit(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        weight: np.ndarray | None = None,
        valid: tuple[pd.DataFrame, np.ndarray] | None = None,
        rows: np.ndarray | None = None,
        valid_rows: np.ndarray | None = None,
    ) -> LogisticScorer:
        """Fit at ``strength`` if set, else at the strength with the lowest log loss on
        ``valid`` (1.0 without two classes there); numbers entering as ``numbers`` says, or
        under ``auto`` as whichever of ``NUMBERS`` has the lower log loss on ``valid`` (the
        strength is chosen with the first, then kept: each way costs one more fit).

        It learns from every converted row and at most ``FIT_NEGATIVES`` others (seeded, the
        kept ones weighted for the rest, so the data term, and so what a strength means, is
        that of all rows): a few hundred coefficients need no more, and each fit costs rows.
        ``rows``, ``valid_rows``: positions of the rows of ``X`` and of ``valid``'s frame to
        read (None: all); only the rows kept are copied.
        """
        nums = self._columns()[0]
        y = np.asarray(y, dtype="float64")
        w = None if weight is None else np.asarray(weight, dtype="float64")
        at = np.arange(len(X)) if rows is None else np.asarray(rows)
        # One column at a time: a copy of every learning row would cost more than the fit.
        self.complete_columns_ = [c for c in nums if not X[c].isna().to_numpy()[at].any()]
        kept, w = _fewer_negatives(y, w, FIT_NEGATIVES, self.seed)
        self.logged_ = []
        frame, y = self._frame(X.iloc[at[kept]]), y[kept]
        self.logged_ = skewed_columns(frame, nums)  # on the rows it learns from
        frame = self._logs(frame)
        zv = yv = valid_frame = None
        if valid is not None and np.unique(valid[1]).size == 2 and np.unique(y).size == 2:
            shown = valid[0] if valid_rows is None else valid[0].iloc[valid_rows]
            valid_frame, yv = self._frame(shown), np.asarray(valid[1], dtype="float64")
        ways = NUMBERS if self.numbers == "auto" else (self.numbers,)
        # One BLAS thread: these products are small, and threads that spin while LightGBM
        # or a second worker holds the cores make them many times slower.
        with threadpool_limits(limits=1, user_api="blas"):
            best: tuple[float, str, ColumnTransformer, np.ndarray, LogisticRegression] | None
            best, strength = None, self.strength
            for numbers in ways:
                prepare = self._prepare(numbers, len(frame)).fit(frame)
                z = prepare.transform(frame)
                if valid_frame is not None:
                    zv = prepare.transform(valid_frame)
                if strength is None:
                    strength, model = self._choose(z, y, w, zv, yv)
                else:
                    model = self._model(strength).fit(z, y, sample_weight=w)
                loss = _loss(model, zv, yv)
                if best is None or loss < best[0]:
                    best = (loss, numbers, prepare, z, model)
        assert best is not None and strength is not None
        _, self.numbers_, prepare, z, model = best
        self.strength_ = strength
        self.pipeline_ = Pipeline([("prepare", prepare), ("model", model)])
        self.means_ = np.average(z, axis=0, weights=w)
        self.owners_ = self._owners()
        return self

    def _choose(
        self,
        z: np.ndarray,
        y: np.ndarray,
        w: np.ndarray | None,
        zv: np.ndarray | None,
        yv: np.ndarray | None,
    ) -> tuple[float, LogisticRegression]:
        """The strength with the lowest validation log loss (1.0 without validation rows),
        and its model fitted on these rows."""
        if zv is None or yv is None:
            return 1.0, self._model(1.0).fit(z, y, sample_weight=w)
        model, losses, fitted = self._model(STRENGTHS[0]), {}, {}
        for c in STRENGTHS:  # strongest first: each warm-starts the next
            model.set_params(C=c).fit(z, y, sample_weight=w)
            losses[c] = _loss(model, zv, yv)
            fitted[c] = copy.deepcopy(model)
        best = min(STRENGTHS, key=lambda c: (losses[c], c))
        return best, fitted[best]

    def for_deployment(self, folds: Sequence[Scorer]) -> LogisticScorer:
        """The strength and the way numbers enter that the folds chose most often (the
        weaker strength, the earlier way on a tie)."""
        chosen = Counter(getattr(f, "strength_", 1.0) for f in folds)
        ways = Counter(getattr(f, "numbers_", NUMBERS[0]) for f in folds)
        numbers = (
            self.numbers
            if self.numbers != "auto"
            else max(NUMBERS, key=lambda n: (ways[n], -NUMBERS.index(n)))
        )
        out = LogisticScorer(self.spec, self.seed, self.calibration, numbers)
        out.strength = max(chosen, key=lambda c: (chosen[c], c)) if chosen else 1.0
        return out

    # --- scores ------------------------------------------------------------------------
    def margin(self, X: pd.DataFrame) -> np.ndarray:
        # In blocks: the one-hot design matrix of many rows is dense and wide.
        if len(X) <= MARGIN_ROWS:
            return self.pipeline_.decision_function(self._frame(X))
        return np.concatenate(
            [self.margin(X.iloc[i : i + MARGIN_ROWS]) for i in range(0, len(X), MARGIN_ROWS)]
        )

    def calibrate_margins(
        self, margin: np.ndarray, y: np.ndarray, period: np.ndarray
    ) -> LogisticScorer:
        m = np.asarray(margin, dtype="float64")
        y = np.asarray(y, dtype="float64")
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
        """Coefficient times (value - training mean), summed per feature (or group); ``bias``
        is the margin of the mean row."""
        z = self.pipeline_.named_steps["prepare"].transform(self._frame(X))
        coef = self.pipeline_.named_steps["model"].coef_[0]
        names = list(self.spec.feature_columns)
        parts = (z - self.means_) * coef
        to_feature = np.zeros((len(self.owners_), len(names)))
        to_feature[np.arange(len(self.owners_)), self.owners_] = 1.0
        out = pd.DataFrame(parts @ to_feature, columns=names, index=X.index)
        if groups is not None:
            out = out.T.groupby(lambda c: groups.get(c, c)).sum().T
        intercept = self.pipeline_.named_steps["model"].intercept_[0]
        out["bias"] = float(intercept + self.means_ @ coef)
        return out

    def probability_from(self, contributions: pd.DataFrame, X: pd.DataFrame) -> np.ndarray:
        return self.calibrated(contributions.sum(axis=1).to_numpy())

    def prepare(self, rows: int) -> None:
        """Nothing to prepare: the coefficients are the explanation."""

    def importance(self) -> pd.DataFrame:
        """Each feature's largest absolute coefficient on a standardised column."""
        coef = np.abs(self.pipeline_.named_steps["model"].coef_[0])
        per = np.zeros(len(self.spec.feature_columns))
        np.maximum.at(per, self.owners_, coef)
        frame = pd.DataFrame(
            {"feature": list(self.spec.feature_columns), "importance": per, "splits": 0}
        )
        return frame.sort_values(
            ["importance", "feature"], ascending=[False, True], ignore_index=True
        )

    # --- persistence -------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        d = Path(folder)
        d.mkdir(parents=True, exist_ok=True)
        joblib.dump(
            {
                "pipeline": self.pipeline_,
                "means": self.means_,
                "calibrator": self.calibrator_,
                "strength": self.strength_,
            },
            d / "logistic.joblib",
        )
        meta = {
            "kind": self.kind,
            "spec": self.spec.to_dict(),
            "seed": self.seed,
            "calibration_method": self.calibration_method_,
            "complete_columns": self.complete_columns_,
            "logged_columns": self.logged_,
            "numbers": self.numbers_,
        }
        (d / "scorer.json").write_text(json.dumps(meta, indent=2))
        return d

    @classmethod
    def load(cls, folder: str | Path) -> LogisticScorer:
        d = Path(folder)
        meta = json.loads((d / "scorer.json").read_text())
        obj = cls(FeatureSpec.from_dict(meta["spec"]), meta["seed"])
        state = joblib.load(d / "logistic.joblib")
        obj.pipeline_, obj.means_ = state["pipeline"], state["means"]
        obj.calibrator_, obj.strength_ = state["calibrator"], state["strength"]
        obj.calibration_method_ = meta["calibration_method"]
        obj.complete_columns_ = meta["complete_columns"]
        obj.logged_ = meta.get("logged_columns", [])
        obj.numbers = obj.numbers_ = meta.get("numbers", "standard")
        obj.owners_ = obj._owners()
        return obj
