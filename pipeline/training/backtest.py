"""The estimate: every fold of the plan fitted, calibrated and judged, the points sheet beside it.

For each fold (``training.folds``) a model of one kind (``model.kind``, or each contestant of
the tournament in turn) learns from the fold's training rows less a held-out share of their
leads, stops early on that holdout and is calibrated on it; the points sheet's 0-100 score
gets its own probability mapping on the same holdout. Both then
score the fold's test rows, which neither has seen. The folds' test rows, stacked, are the
*out-of-time rows*: every metric, interval, capacity table and reliability curve of the run
is computed on them, pooled and per fold, and the deployed model's calibrator is fitted on
them (``training.deploy``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from leadscore import metrics
from leadscore.config import Config
from leadscore.features.spec import FeatureSpec
from leadscore.model import kinds
from leadscore.model.baseline import score_baseline
from leadscore.model.kind import Scorer
from leadscore.model.points import PointsScorer
from leadscore.model.tiers import to_score
from leadscore.training.calibrate import calibrated_ways, choose_way, settle, ways_tried
from leadscore.training.folds import Fold, Plan, fit_holdout
from leadscore.training.sampling import RowHashes, negatives_kept, thin

#: Non-converted holdout rows early stopping reads each round (the rest cost time, not bias).
STOP_NEGATIVES = 50_000
FOLD_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "ece")
#: Rows a fold's model scores at once (a multiple of the logistic kind's own block, so its
#: blocks are the same): no copy of all its test or holdout rows is held.
SCORE_ROWS = 200_000


def margins(scorer: Scorer, X: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """``scorer``'s margins on the rows of ``X`` that ``rows`` marks, in blocks of
    ``SCORE_ROWS`` (each row's margin is its own: the blocks change no figure)."""
    at = np.flatnonzero(rows)
    blocks = [at[i : i + SCORE_ROWS] for i in range(0, len(at), SCORE_ROWS)] or [at]
    return np.concatenate([scorer.margin(X.iloc[b]) for b in blocks])


@dataclass
class FoldFit:
    number: int
    best_iteration: int
    rows: pd.DataFrame  # the fold's test rows, scored by the fold's model and the points sheet
    counts: dict[str, int]
    scorer: Scorer  # the fold's model (its fitting informs the deployed one)


#: How a backtest runs its folds: ``map`` one after another, a pool's ``map`` side by side.
FoldMap = Callable[[Callable[[Fold], "FoldFit"], Iterable[Fold]], Iterable["FoldFit"]]


@dataclass
class Backtest:
    kind: str  # the model kind every fold fitted
    folds: list[FoldFit]
    rows: pd.DataFrame  # every fold's test rows, oldest fold first (the out-of-time rows)
    plan: Plan
    seed: int
    #: How the deployed model's calibration follows drift (``training.calibrate``), and the
    #: backtest log loss of each way tried under ``auto``.
    follows: str = "all"
    follows_loss: dict[str, float] = field(default_factory=dict)
    #: The table's row hashes, for the fits that follow on the same table (``deploy``).
    hashes: RowHashes | None = field(default=None, repr=False, compare=False)

    @cached_property
    def table(self) -> pd.DataFrame:
        """One row per fold: metrics with intervals, calibration in the large (computed when
        asked: a tournament needs it for its winner only)."""
        return fold_table(self.folds, self.plan, self.seed)


def recency_weights(period: pd.Series, half_life_days: float | None) -> np.ndarray | None:
    """Row weights halving every ``half_life_days`` before the latest period (None: equal)."""
    if half_life_days is None:
        return None
    when = pd.to_datetime(period)
    age = (when.max() - when).dt.total_seconds().to_numpy() / 86_400.0
    return np.power(0.5, age / float(half_life_days))


def learning_rows(
    table: pd.DataFrame,
    y: np.ndarray,
    rows: np.ndarray,
    cfg: Config,
    hashes: RowHashes | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The rows a booster learns from, and their weights (None: all equal).

    With ``model.max_negatives_per_positive`` set, non-converted rows beyond that many per
    conversion (but never below ``model.min_negatives_kept`` of them) are left out at random,
    and the kept ones weigh for those left out, so the booster sees the same class balance
    in expectation. Small tables are never thinned. With
    ``training.backtest.recency_half_life_days``, older snapshots weigh less. ``hashes``:
    the table's, when already made.
    """
    keep = negatives_kept(float(y[rows].sum()), cfg)
    rows, weight = thin(table, y, rows, keep, cfg.model.seed, hashes)
    half_life = cfg.training.backtest.recency_half_life_days
    if (
        half_life is not None
        and "as_of" in table
        and pd.api.types.is_datetime64_any_dtype(table["as_of"])
    ):
        weight = weight * np.nan_to_num(_recency(table["as_of"], rows, half_life), nan=1.0)
    return rows, (None if np.all(weight[rows] == 1.0) else weight[rows])


def _recency(period: pd.Series, rows: np.ndarray, half_life: float) -> np.ndarray:
    out = np.full(len(period), np.nan)
    out[rows] = recency_weights(period[rows], half_life)
    return out


def fit_fold(
    table: pd.DataFrame,
    X: pd.DataFrame,
    y: np.ndarray,
    base: pd.DataFrame,
    period: pd.Series,
    fold: Fold,
    spec: FeatureSpec,
    cfg: Config,
    timed: bool = True,
    kind: str | None = None,
    clock: pd.Series | None = None,
    points_memo: dict[int, dict[str, np.ndarray]] | None = None,
    hashes: RowHashes | None = None,
) -> FoldFit:
    """One fold: fit on its training rows less the holdout, calibrate on the holdout, score
    its test rows with the model and with the points sheet. ``clock``: each row's time (a
    date or a row position) when the rows have a time order, which calibration may follow
    (``training.calibrate``). ``points_memo``: the points sheet's test probabilities by
    fold, shared by backtests on the same table (its holdout and scores are theirs too).
    ``hashes``: the table's row hashes, when already made."""
    hashes = RowHashes.of(table, cfg.model.seed, hashes)
    hold = fit_holdout(table["lead_id"], y, fold.train, cfg.model.seed, hashes.lead)
    learn, weight = learning_rows(table, y, fold.train & ~hold, cfg, hashes)
    # Early stopping reads the holdout's ROC AUC every round; thinning its negatives does not
    # bias an AUC, so it reads at most STOP_NEGATIVES of them. Calibration reads all.
    stop, _ = thin(table, y, hold, STOP_NEGATIVES, cfg.model.seed, hashes)
    # Positions, not copies: each kind copies only the rows it learns from (kinds.fit_rows).
    scorer = kinds.fit_rows(
        kinds.create(spec, cfg, kind), X, y, np.flatnonzero(learn), weight, np.flatnonzero(stop)
    )
    hold_period = _times((period if clock is None else clock)[hold])
    ways = ways_tried(cfg.model.calibration_follows, clock is not None)
    test = fold.test
    margin = margins(scorer, X, test)
    p = calibrated_ways(scorer, margins(scorer, X, hold), y[hold], hold_period, margin, ways)
    b_score = base["baseline_score"].to_numpy(dtype="float64")
    # The points sheet gets its own probability mapping on the same holdout, so Brier and
    # log loss compare the two approaches fairly.
    memo = {} if points_memo is None else points_memo
    if fold.number not in memo:
        points = PointsScorer.create(spec, cfg)
        memo[fold.number] = calibrated_ways(
            points, b_score[hold], y[hold], hold_period, b_score[test], ways
        )
    b = memo[fold.number]
    p_model = p[ways[0]]
    score = to_score(p_model)
    rows = pd.DataFrame(
        {
            "row": np.flatnonzero(test),
            "lead_id": table.loc[test, "lead_id"].to_numpy(),
            "period": period[test].array if timed else fold.number,
            "fold": fold.number,
            "label": y[test],
            "margin": margin,
            "p_model": p_model,
            "p_baseline": b[ways[0]],
            "score": score,
            "baseline_score": b_score[test],
            "baseline_tier": base["baseline_tier"].to_numpy()[test],
        }
    )
    if len(ways) > 1:  # each way's probabilities, until the backtest chooses one
        for w in ways:
            rows[f"p_model_{w}"], rows[f"p_baseline_{w}"] = p[w], b[w]
    counts = {
        "train_rows": int(learn.sum()),
        "train_positives": int(y[learn].sum()),
        "holdout_rows": int(hold.sum()),
        "holdout_positives": int(y[hold].sum()),
        "test_rows": int(test.sum()),
        "test_positives": int(y[test].sum()),
    }
    return FoldFit(fold.number, scorer.best_iteration_, rows, counts, scorer)


def fold_table(fits: list[FoldFit], plan: Plan, seed: int, n_boot: int = 100) -> pd.DataFrame:
    """Per fold: what it was judged on, both approaches' metrics with 95% intervals, and
    calibration in the large (mean predicted against realised)."""
    out = []
    labels = {f.number: f for f in plan.folds}
    for fit in fits:
        r = fit.rows
        y = r["label"].to_numpy(dtype="float64")
        comp = metrics.compare(
            y, r["p_model"].to_numpy(), r["p_baseline"].to_numpy(), n_boot=n_boot, seed=seed
        ).set_index("metric")
        row = {
            "fold": fit.number,
            "test": labels[fit.number].test_label,
            "train": labels[fit.number].train_label,
            **fit.counts,
            "best_iteration": fit.best_iteration,
            "realised": float(y.mean()),
            "mean_predicted_model": float(r["p_model"].mean()),
            "mean_predicted_baseline": float(r["p_baseline"].mean()),
        }
        for m in FOLD_METRICS:
            for side in ("model", "baseline"):
                row[f"{side}_{m}"] = float(comp.loc[m, side])
                row[f"{side}_{m}_low"] = float(comp.loc[m, f"{side}_low"])
                row[f"{side}_{m}_high"] = float(comp.loc[m, f"{side}_high"])
        out.append(row)
    table = pd.DataFrame(out)
    # Calibration in the large: 1.0 when the predictions add up to what happened.
    table["calibration_ratio_model"] = table["mean_predicted_model"] / table["realised"]
    table["calibration_ratio_baseline"] = table["mean_predicted_baseline"] / table["realised"]
    return table


def _times(period: pd.Series) -> np.ndarray:
    """Snapshot dates as a plain numpy array (tz-aware ones would become slow objects)."""
    if isinstance(period.dtype, pd.DatetimeTZDtype):
        period = period.dt.tz_convert(None)
    return period.to_numpy()


def _clock(table: pd.DataFrame, plan: Plan) -> pd.Series | None:
    """Each row's time when the plan is in time order: its date, else its position."""
    if not plan.out_of_time:
        return None
    if "as_of" in table:
        return table["as_of"]
    return pd.Series(np.arange(len(table)), index=table.index)


def run_backtest(
    table: pd.DataFrame,
    spec: FeatureSpec,
    plan: Plan,
    cfg: Config,
    kind: str | None = None,
    base: pd.DataFrame | None = None,
    points_memo: dict[int, dict[str, np.ndarray]] | None = None,
    map_folds: FoldMap = map,
    hashes: RowHashes | None = None,
) -> Backtest:
    """Every fold of ``plan`` on ``table`` (lead_id, as_of, features, label; flat tables use
    ``as_of`` for their date or row block), with models of ``kind`` (default: the config's
    first contestant); ``base``: the table's points-sheet scores, when already computed;
    ``points_memo``: shared by backtests of other kinds on the same table (``fit_fold``);
    ``map_folds``: how the folds are run (a thread pool's ``map`` runs them side by side);
    ``hashes``: the table's row hashes, shared by backtests on it (``RowHashes``)."""
    kind = kind or kinds.contestants(cfg)[0]
    # Snapshot rows are grouped by date (capacity "each month"); flat rows by fold.
    timed = plan.snapshots
    period = table["as_of"] if timed else pd.Series(0, index=table.index)
    X = table[spec.feature_columns]
    y = table["label"].to_numpy(dtype="float64")
    base = score_baseline(table, cfg.baseline) if base is None else base
    clock = _clock(table, plan)
    hashes = RowHashes.of(table, cfg.model.seed, hashes)
    fits = list(
        map_folds(
            lambda fold: fit_fold(
                table, X, y, base, period, fold, spec, cfg, timed, kind, clock, points_memo, hashes
            ),
            plan.folds,
        )
    )
    ways = ways_tried(cfg.model.calibration_follows, plan.out_of_time)
    way, losses = choose_way(pd.concat([f.rows for f in fits], ignore_index=True), ways)
    for f in fits:
        f.rows = settle(f.rows, way, ways)
    rows = pd.concat([f.rows for f in fits], ignore_index=True)
    return Backtest(kind, fits, rows, plan, cfg.model.seed, way, losses, hashes)


def spread(table: pd.DataFrame, metric: str = "roc_auc") -> dict[str, float]:
    """Min, median and max over folds of a metric, for both approaches and their difference."""
    diff = table[f"model_{metric}"] - table[f"baseline_{metric}"]
    out = {}
    for name, values in (
        ("model", table[f"model_{metric}"]),
        ("baseline", table[f"baseline_{metric}"]),
        ("difference", diff),
    ):
        out[f"{name}_min"] = float(values.min())
        out[f"{name}_median"] = float(values.median())
        out[f"{name}_max"] = float(values.max())
    out["folds_model_better"] = float((diff > 0).sum())
    return out
