"""Training on a table: the backtest for the estimate, then the deployed model, then the
held-out comparisons, all plain functions over frames. ``training.run`` (events) and
``training.flat`` (flat files) wire them and hand the result to MLflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leadscore import metrics
from leadscore.config import Config, TierConfig
from leadscore.errors import DataError
from leadscore.features.spec import FeatureSpec
from leadscore.io.memory import release_freed_memory
from leadscore.model.baseline import missing_columns, unnamed_event_columns
from leadscore.model.kind import Scorer
from leadscore.model.points import PointsScorer
from leadscore.model.reference import Reference, build_reference
from leadscore.model.tiers import night_tiers, resolve_tiers, tier_note
from leadscore.training.backtest import Backtest, spread
from leadscore.training.deploy import Deployed, deploy
from leadscore.training.folds import Plan
from leadscore.training.leakage import LeakageCheck
from leadscore.training.segments import Segments, run_segments
from leadscore.training.slices import run_slices
from leadscore.training.tournament import Tournament, run_tournament

#: What each way of following drift means, for the run's notes.
FOLLOWS_WORDS = {
    "all": "every calibration row (all)",
    "latest": "the latest rows only (latest)",
    "base_rate": "every row, its level moved to the latest rows' rate (base_rate)",
}


@dataclass
class Evaluation:
    """Model and baseline side by side on the same out-of-time rows."""

    comparison: pd.DataFrame
    bands: pd.DataFrame
    tiers: pd.DataFrame
    capacity: pd.DataFrame
    reliability: pd.DataFrame
    rows: pd.DataFrame  # period, fold, label, margin, p_model, p_baseline, score, tiers...


@dataclass
class TrainResult:
    scorer: Scorer  # the deployed model, of the tournament winner's kind
    points: PointsScorer  # the points sheet as a model, calibrated the same way
    evaluation: Evaluation  # pooled over every fold
    folds: pd.DataFrame  # one row per fold
    importance: pd.DataFrame
    plan: Plan
    deployed: Deployed
    tournament: Tournament  # every contestant on the same folds; evaluation is the winner's
    notes: list[str] = field(default_factory=list)
    # The tiers the model scores with (with fixed_at_training, its shares or capacities as
    # minimum scores cut on the backtest's scores).
    tiers: TierConfig | None = None
    # Up to 5,000 out-of-time feature rows (seeded sample): the report explains the model on them.
    test_sample: pd.DataFrame | None = None
    # What the deployed model saw, for the nightly monitor (``leadscore.model.reference``).
    reference: Reference | None = None
    # Quality by slice on the out-of-time rows (``training.slices``): one row per slice.
    slices: pd.DataFrame | None = None
    # The leakage guard's figures per feature and what it left out (``training.leakage``).
    leakage: LeakageCheck | None = None
    # Each segment's decision, own model or pooled (``training.segments``).
    segments: Segments = field(default_factory=Segments)

    @property
    def split(self) -> dict[str, str]:
        """The plan in words, as logged with the run."""
        return self.plan.describe()


def check_enough_positives(table: pd.DataFrame, plan: Plan, cfg: Config) -> list[str]:
    """Refuse to train when too few conversions would make the model a guess.

    The deployed model needs ``training.min_positives`` conversions among the rows it learns
    from (default 40, the low end of what the large CRM vendors ask for: below it a model of
    dozens of features overfits and its probabilities cannot be checked). The backtest's
    folds already each have conversions to learn from and to be judged on (``folds``).
    """
    y = table["label"].to_numpy(dtype="float64")
    have = int(y[plan.deploy].sum())
    need = cfg.training.min_positives
    if have < need:
        raise DataError(
            f"training: only {have} conversions in the labelled snapshots (need at least {need}, "
            "training.min_positives); add history or widen training.horizon_days"
        )
    notes = []
    if have < 2 * need:
        notes.append(f"few conversions to learn from ({have}); treat the figures with care")
    return notes


def evaluate_rows(rows: pd.DataFrame, cfg: Config, n_boot: int = 200) -> Evaluation:
    """All the held-out comparisons, from a frame of (period, label, p_model, p_baseline, ...)."""
    y = rows["label"].to_numpy(dtype="float64")
    comparison = metrics.compare(
        y,
        rows["p_model"].to_numpy(),
        rows["p_baseline"].to_numpy(),
        n_boot=n_boot,
        seed=cfg.model.seed,
    )
    bands = pd.concat(
        [
            metrics.rank_band_table(y, rows["score"].to_numpy()).assign(approach="model"),
            metrics.rank_band_table(y, rows["baseline_score"].to_numpy()).assign(
                approach="baseline"
            ),
        ],
        ignore_index=True,
    )
    tiers = pd.concat(
        [
            metrics.tier_table(y, rows["tier"]).assign(approach="model"),
            metrics.tier_table(y, rows["baseline_tier"]).assign(approach="baseline"),
        ],
        ignore_index=True,
    )
    capacity = metrics.capacity_table(
        y, rows["p_model"].to_numpy(), rows["p_baseline"].to_numpy(), rows["period"]
    )
    reliability = pd.concat(
        [
            metrics.reliability_table(y, rows["p_model"].to_numpy()).assign(approach="model"),
            metrics.reliability_table(y, rows["p_baseline"].to_numpy()).assign(approach="baseline"),
        ],
        ignore_index=True,
    )
    return Evaluation(comparison, bands, tiers, capacity, reliability, rows)


def _sample(table: pd.DataFrame, backtest: Backtest, seed: int) -> pd.DataFrame:
    """Up to 5,000 of the out-of-time rows' features, for explaining the model in the report
    (the rows drawn first, then copied: a copy of every out-of-time row is most of a table)."""
    tested = pd.Series(backtest.rows["row"].to_numpy())
    drawn = tested.sample(n=min(5000, len(tested)), random_state=seed).to_numpy()
    return table.iloc[drawn].sort_index()


def period_text(period: pd.Series) -> np.ndarray:
    """Each row's period as text, formatting each distinct period once (a date per row
    formats slowly, and out-of-time rows hold few periods)."""
    codes, distinct = pd.factorize(period, use_na_sentinel=False)
    return np.asarray(distinct.astype(str), dtype=object)[codes]


#: Rows the reference is built from (a seeded sample of the out-of-time rows).
REFERENCE_ROWS = 100_000


def reference_of(
    table: pd.DataFrame, backtest: Backtest, deployed: Deployed, tiers: TierConfig, seed: int
) -> Reference:
    """The training reference: the backtest's out-of-time rows (every period the model is
    judged on), scored by the deployed model itself, so a night scored by that model is
    compared on its own probabilities and tiers."""
    oot = backtest.rows.drop_duplicates("row")
    if len(oot) > REFERENCE_ROWS:
        oot = oot.sample(n=REFERENCE_ROWS, random_state=seed).sort_index()
    tested = table.iloc[oot["row"].to_numpy()]
    scorer = deployed.scorer
    margin = scorer.margin(tested[scorer.spec.feature_columns])
    p = scorer.calibrated(margin)
    periods = period_text(oot["period"])
    segment = tier_segments(scorer, table, oot["row"].to_numpy())
    return build_reference(
        tested,
        scorer.spec.categories,
        scorer.spec.feature_columns,
        p,
        night_tiers(p, margin, tiers, night=periods, segment=segment),
        list(scorer.importance()["feature"]),
        periods,
        segment,
    )


def tier_segments(scorer: Scorer, table: pd.DataFrame, rows: np.ndarray) -> np.ndarray | None:
    """The tier group of each of ``rows`` when the scorer cuts tiers per segment, else None."""
    groups = getattr(scorer, "tier_segments", None)
    return None if groups is None else groups(table.iloc[rows])


def points_notes(columns: list[str], cfg: Config) -> list[str]:
    """What the points sheet cannot score as configured on a table with ``columns``."""
    notes = []
    absent = missing_columns(columns, cfg.baseline)
    if absent:
        notes.append(f"baseline rules skipped, columns not in the data: {', '.join(absent)}")
    unnamed = unnamed_event_columns(columns, cfg.baseline)
    if unnamed:
        types = ", ".join(c.removesuffix("_decayed") for c in unnamed)
        notes.append(
            f"points sheet: event types no rule names ({types}) get "
            f"{cfg.baseline.default_event_points:g} points per decayed event "
            "(baseline.default_event_points)"
        )
    return notes


def train_on_table(
    table: pd.DataFrame,
    spec: FeatureSpec,
    plan: Plan,
    cfg: Config,
    known: dict[str, Backtest] | None = None,
    leads: pd.DataFrame | None = None,
    field_history: pd.DataFrame | None = None,
) -> TrainResult:
    """The tournament's backtests, the winner deployed, and its pooled out-of-time comparison
    with the points sheet, overall and by slice (``known``: backtests already run on this
    table, spec and plan, by kind; ``leads``: the leads table the slices' values are read
    from, as ``field_history`` says they were at each row's moment, else the table's own
    columns). It reads top to bottom as the run's steps, which share its notes."""
    notes = check_enough_positives(table, plan, cfg)
    notes += points_notes(list(table.columns), cfg)
    tournament = run_tournament(table, spec, plan, cfg, known)
    backtest = tournament.backtests[tournament.winner]
    deployed = deploy(table, spec, plan, backtest, cfg)
    release_freed_memory()  # the deployed fit's working memory, before the evaluation's
    segments = run_segments(table, spec, plan, cfg, tournament, deployed.scorer)
    notes += segments.notes
    if segments.scorer is not None and segments.backtest is not None:
        deployed.scorer, backtest = segments.scorer, segments.backtest
    rows, periods = backtest.rows, period_text(backtest.rows["period"])
    tiers = resolve_tiers(cfg.tiers, rows["score"].to_numpy(), periods)
    segment = tier_segments(deployed.scorer, table, rows["row"].to_numpy())
    tier = night_tiers(
        rows["p_model"].to_numpy(), rows["margin"].to_numpy(), tiers, periods, segment
    )
    rows.insert(rows.columns.get_loc("baseline_tier"), "tier", tier)
    unit = "snapshot" if plan.snapshots else "fold"
    held = tier_note(tiers, tier, len(np.unique(periods)), plan.out_of_time, unit)
    notes.append(f"tiers: {held}")
    evaluation = evaluate_rows(backtest.rows, cfg)
    release_freed_memory()  # the bootstrap's resamples, before the slices'
    slices, slice_notes = run_slices(table, backtest.rows, cfg, tiers, leads, field_history)
    notes += slice_notes
    s = spread(backtest.table)
    if len(backtest.folds) > 1:
        notes.append(
            f"ROC AUC over {len(backtest.folds)} folds: model {s['model_min']:.3f}-{s['model_max']:.3f}, "
            f"points sheet {s['baseline_min']:.3f}-{s['baseline_max']:.3f}; the model is ahead "
            f"in {int(s['folds_model_better'])} of {len(backtest.folds)}"
        )
    if int(backtest.rows["label"].sum()) < 30:
        notes.append(
            f"only {int(backtest.rows['label'].sum())} conversions in the backtest's test rows: "
            "wide confidence intervals"
        )
    if backtest.follows_loss:
        losses = ", ".join(f"{w} {v:.4f}" for w, v in backtest.follows_loss.items())
        notes.append(
            f"calibration follows {FOLLOWS_WORDS[backtest.follows]} (backtest log loss: "
            f"{losses}; model.calibration_follows)"
        )
    notes.append(
        f"calibration: model {deployed.scorer.calibration_method_}, "
        f"points sheet {deployed.points.calibration_method_} (fitted on folds "
        f"{', '.join(map(str, deployed.calibration_folds))}, {deployed.calibration_rows:,} rows)"
    )
    return TrainResult(
        deployed.scorer,
        deployed.points,
        evaluation,
        backtest.table,
        deployed.scorer.importance(),
        plan,
        deployed,
        tournament,
        notes,
        tiers=tiers,
        test_sample=_sample(table, backtest, cfg.model.seed),
        reference=reference_of(table, backtest, deployed, tiers, cfg.model.seed),
        slices=slices,
        segments=segments,
    )
