"""``leadscore train``: the table, the backtest, the deployed model, MLflow, the champion.

One MLflow run per training: parameters, the resolved config, the data fingerprint, the
backtest (pooled metrics with intervals and every fold), plots, importances; the deployed
model is registered, and so is the points sheet when it beats the model. The champion alias
moves only to a candidate that beats the champion on the latest folds (``champion``).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient

from leadscore import charts, metrics, tracking
from leadscore.config import Config, config_to_yaml, registered_name
from leadscore.data.contract import Tables
from leadscore.data.files import feature_table_horizon, read_feature_table
from leadscore.data.fingerprint import fingerprint, source_fingerprint
from leadscore.data.views import as_of_view, data_end, fields_note
from leadscore.errors import DataError
from leadscore.features.spec import FeatureSpec
from leadscore.features.table import build_features, lead_account
from leadscore.io.source import EventSource
from leadscore.model import registered
from leadscore.model.kind import Scorer
from leadscore.model.settings import ModelSettings
from leadscore.model.versions import record_move
from leadscore.training import accounts
from leadscore.training.advice import check_folds_fit
from leadscore.training.champion import Decision, decide
from leadscore.training.dataset import training_table
from leadscore.training.fit import TrainResult, train_on_table
from leadscore.training.funnel import funnel_table
from leadscore.training.grid import (
    cadence_label,
    outcomes_recorded_from,
    resolve_cadence,
    table_cadence,
    time_plan,
)
from leadscore.training.leakage import guard
from leadscore.training.sampling import SHARE
from leadscore.training.segments import segment_lines
from leadscore.training.slices import slice_lines, slice_metrics
from leadscore.training.tournament import tournament_text

Say = Callable[[str], None]
# Given the champion and the rows to judge (lead_id, period), its probabilities on them.
ChampionScores = Callable[[Scorer, pd.DataFrame], np.ndarray]


@dataclass
class RunSummary:
    run_id: str
    model_uri: str  # the registered model of this run
    version: str
    promoted: bool
    champion_before: str | None
    decision: Decision
    result: TrainResult
    points_version: str | None = None  # set when the points sheet was registered
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def metric(self) -> str:
        return self.decision.metric


def _metrics(result: TrainResult) -> dict[str, float]:
    out: dict[str, float] = {}
    for r in result.evaluation.comparison.itertuples():
        for side in ("model", "baseline"):
            for suffix in ("", "_low", "_high"):
                v = getattr(r, f"{side}{suffix}")
                if v is not None and np.isfinite(v):
                    out[f"{side}_{r.metric}{suffix}"] = float(v)
        if np.isfinite(r.difference):
            out[f"diff_{r.metric}"] = float(r.difference)
    for r in result.evaluation.capacity.itertuples():
        out[f"model_conversions_top{r.capacity}"] = float(r.model_conversions)
        out[f"baseline_conversions_top{r.capacity}"] = float(r.baseline_conversions)
    for r in result.folds.to_dict("records"):
        k = r["fold"]
        for key in ("model_roc_auc", "baseline_roc_auc", "model_pr_auc", "baseline_pr_auc",
                    "calibration_ratio_model", "test_rows", "test_positives"):  # fmt: skip
            if np.isfinite(r[key]):
                out[f"fold{k}_{key}"] = float(r[key])
    t = result.tournament
    for r in t.table.to_dict("records"):
        key = str(r["contestant"]).replace(" ", "_")
        for when in ("latest", "all"):
            if np.isfinite(r[f"{t.metric}_{when}"]):
                out[f"tournament_{key}_{t.metric}_{when}"] = float(r[f"{t.metric}_{when}"])
    if result.slices is not None:
        out.update(slice_metrics(result.slices))
    if len(result.segments.table):
        out["segments_judged"] = float(result.segments.table["judged"].sum())
        out["segments_kept"] = float(result.segments.table["kept"].sum())
    out["folds"] = float(len(result.folds))
    if result.leakage is not None:
        out["leakage_left_out"] = float(len(result.leakage.left_out))
    out["deploy_rounds"] = float(result.deployed.rounds)
    out["deploy_rows"] = float(result.plan.deploy.sum())
    return out


def _artifacts(
    result: TrainResult, cfg: Config, folder: Path, extra: dict[str, pd.DataFrame] | None = None
) -> None:
    ev = result.evaluation
    for name, table in (extra or {}).items():
        table.to_csv(folder / name, index=False)
    ev.comparison.to_csv(folder / "evaluation.csv", index=False)
    result.tournament.table.to_csv(folder / "tournament.csv", index=False)
    result.folds.to_csv(folder / "folds.csv", index=False)
    if result.slices is not None:
        result.slices.to_csv(folder / "slices.csv", index=False)
    if len(result.segments.table):
        result.segments.table.to_csv(folder / "segments.csv", index=False)
    ev.bands.to_csv(folder / "conversion_by_band.csv", index=False)
    ev.tiers.to_csv(folder / "conversion_by_tier.csv", index=False)
    ev.capacity.to_csv(folder / "capacity.csv", index=False)
    ev.reliability.to_csv(folder / "reliability.csv", index=False)
    result.importance.to_csv(folder / "importance.csv", index=False)
    if result.leakage is not None:
        result.leakage.table.to_csv(folder / "leakage.csv", index=False)
    ev.rows.to_parquet(folder / "test_predictions.parquet", index=False)
    if result.test_sample is not None:
        result.test_sample.to_parquet(folder / "test_features_sample.parquet", index=False)
    (folder / "config.yaml").write_text(config_to_yaml(cfg))
    (folder / "notes.json").write_text(
        json.dumps({"split": result.split, "notes": result.notes}, indent=2)
    )
    y = ev.rows["label"].to_numpy()
    curves = {
        "model": ev.rows["p_model"].to_numpy(),
        "points baseline": ev.rows["p_baseline"].to_numpy(),
    }
    tables = {name: metrics.reliability_table(y, p) for name, p in curves.items()}
    charts.save_png(charts.reliability_plot(tables, curves), folder / "reliability.png")
    charts.save_png(charts.lift_plot(y, curves), folder / "lift.png")
    charts.save_png(charts.importance_plot(result.importance), folder / "importance.png")
    charts.save_png(
        charts.band_plot(ev.bands[ev.bands["approach"] == "model"]),
        folder / "conversion_by_band.png",
    )


def _champion_p(
    champion: registered.LeadScoreModel,
    result: TrainResult,
    cfg: Config,
    judged: pd.DataFrame,
    on: np.ndarray,
    champion_scores: ChampionScores,
) -> tuple[np.ndarray, str]:
    """The champion's probabilities on the judged rows, and how they were got: its recipe
    re-run through this run's folds when it recorded one, else the champion itself."""
    recipe = champion.settings.recipe
    if recipe is None:
        p = champion_scores(champion.scorer, judged)
        return p, "the model itself: its recipe is not recorded, it may have learned these rows"
    kind = recipe.kind  # a segmented champion's pooled kind: segments are not re-run
    theirs = cfg.model_copy(update={"model": recipe, "baseline": champion.settings.baseline})
    backtest = result.tournament.recipe(kind, theirs)
    return backtest.rows["p_model"].to_numpy()[on], f"its recipe, {kind}, through the same folds"


def _too_old(champion: registered.LeadScoreModel, data_end: str | None, cfg: Config) -> str | None:
    limit, theirs = cfg.training.max_model_age_days, champion.settings.data_end
    if limit is None or theirs is None or data_end is None:
        return None
    days = (pd.Timestamp(data_end) - pd.Timestamp(theirs)).days
    if days <= limit:
        return None
    return (
        f"its data ends {pd.Timestamp(theirs):%Y-%m-%d}, {days} days before this run's "
        f"(training.max_model_age_days {limit})"
    )


def _decision(
    name: str,
    result: TrainResult,
    cfg: Config,
    data_end: str | None,
    champion_scores: ChampionScores,
) -> tuple[str | None, Decision]:
    rows = result.evaluation.rows
    on = rows["fold"].isin(result.tournament.folds).to_numpy()
    judged = rows[on].reset_index(drop=True)
    metric, seed = cfg.tracking.promote_metric, cfg.model.seed
    in_time = result.tournament.plan.out_of_time
    before = tracking.champion_version(name)
    if before is None:
        return None, decide(judged, metric, None, None, in_time=in_time, seed=seed)
    champion = registered.load_registered(f"models:/{name}@{tracking.CHAMPION}")
    p, basis = _champion_p(champion, result, cfg, judged, on, champion_scores)
    too_old = _too_old(champion, data_end, cfg)
    return before, decide(
        judged, metric, p, before, basis=basis, too_old=too_old, in_time=in_time, seed=seed
    )


def _with_recipe(settings: ModelSettings, cfg: Config, kind: str) -> ModelSettings:
    recipe = cfg.model.model_copy(update={"kind": kind, "contestants": [kind]})
    return settings.model_copy(update={"recipe": recipe})


def _tags(result: TrainResult, settings: ModelSettings, decision: Decision) -> dict[str, str]:
    plan = result.plan
    return {
        "leadscore.mode": settings.mode,
        "backtest.method": plan.how,
        "backtest.folds": str(len(plan.folds)),
        "backtest.test": f"{plan.folds[0].test_label} .. {plan.folds[-1].test_label}",
        "deploy.window": plan.deploy_label,
        "deploy.rounds": str(result.deployed.rounds),
        "champion.candidate": decision.candidate,
        "tournament.winner": result.tournament.winner,
        **{f"split.{k}": v for k, v in result.split.items()},
        **_leakage_tags(result),
        **({"segments.column": result.segments.column} if result.segments.column else {}),
    }


def _leakage_tags(result: TrainResult) -> dict[str, str]:
    """The features the leakage guard left out and the flagged ones kept, by name."""
    check = result.leakage
    if check is None:
        return {}
    return {
        "leakage.left_out": ", ".join(check.left_out),
        "leakage.kept": ", ".join(check.kept),
        "leakage.rows": check.rows,
    }


def track(
    result: TrainResult,
    cfg: Config,
    *,
    params: dict,
    data_fingerprint: dict,
    example: pd.DataFrame,
    settings: ModelSettings,
    champion_scores: ChampionScores,
    say: Say,
    extra: dict[str, pd.DataFrame] | None = None,
) -> RunSummary:
    """Log a finished training to MLflow, register the model (and the points sheet when it
    won), and move the champion alias if the candidate beats the champion.

    One MLflow run from start to end: what is logged, registered and promoted stays inside
    it.
    """
    with tracking.store_lock():  # one run at a time writes to a local store
        tracking.setup(cfg.tracking.experiment)
        name = registered_name(cfg)
        metric = cfg.tracking.promote_metric
        with mlflow.start_run() as run:
            mlflow.log_params({k: str(v)[:500] for k, v in {**params, **data_fingerprint}.items()})
            mlflow.log_metrics(_metrics(result))
            with tempfile.TemporaryDirectory() as tmp:
                _artifacts(result, cfg, Path(tmp), extra)
                mlflow.log_artifacts(tmp)
            before, decision = _decision(name, result, cfg, settings.data_end, champion_scores)
            mlflow.set_tags(_tags(result, settings, decision))
            model_uri, version = registered.log_model(
                result.scorer, _with_recipe(settings, cfg, result.tournament.winner), example, name
            )
            promoted_version, points_version = version, None
            if decision.candidate == "points":
                _, points_version = registered.log_model(
                    result.points,
                    _with_recipe(settings, cfg, "points"),
                    example,
                    name,
                    artifact="points",
                )
                promoted_version = points_version
            for key, value in (("model", decision.model_value), ("points", decision.points_value)):
                mlflow.log_metric(f"champion_check_{key}_{metric}", value)
            if decision.champion_value is not None:
                mlflow.log_metric(f"champion_check_champion_{metric}", decision.champion_value)
            mlflow.log_metric("promoted", float(decision.promote))
            mlflow.set_tags(
                {
                    "champion.decision": "promoted" if decision.promote else "kept champion",
                    "champion.reason": decision.reason,
                    "champion.previous": before or "",
                }
            )
            if decision.promote:
                tracking.set_champion(name, promoted_version)
                record_move(MlflowClient(), name, promoted_version, decision.reason, before)
            say(_outcome_line(name, version, points_version, promoted_version, before, decision))
    return RunSummary(
        run.info.run_id,
        model_uri,
        version,
        decision.promote,
        before,
        decision,
        result,
        points_version,
    )


def _outcome_line(name, version, points_version, promoted_version, before, decision) -> str:
    registered_what = f"model {name} v{version} registered"
    if points_version is not None:
        registered_what += f", points sheet registered as v{points_version}"
    if decision.promote:
        now = f"v{promoted_version} is now champion"
    else:
        now = f"champion stays v{before}"
    return f"{registered_what}; {now} ({decision.reason})"


def train_events(
    tables: Tables,
    cfg: Config,
    as_of: pd.Timestamp | None,
    say: Say,
    events: EventSource | None = None,
) -> RunSummary:
    """Event mode: snapshots of open leads, the rolling backtest, the deployed model, ``track``.
    ``events`` (an ``EventSource``) replaces ``tables.events``: the history stays in its file
    and the engine reads it, so memory does not grow with it."""
    t0 = time.perf_counter()
    as_of = as_of if as_of is not None else data_end(tables, events)
    source = None if events is None else events.cut(as_of)
    recorded = outcomes_recorded_from(tables, cfg)
    if recorded is not None:
        say(
            f"  outcomes: recorded from {recorded:%Y-%m-%d}, leads from "
            f"{tables.leads['created_at'].min():%Y-%m-%d}: snapshots before "
            f"{recorded:%Y-%m-%d} are left out (their wins were not recorded; "
            "training.outcomes_from: all keeps them)"
        )
    note = fields_note(tables)
    if note:
        say(f"  {note}")
    cfg, chosen = resolve_cadence(tables, cfg, as_of)  # before any feature is built
    if chosen:
        say(f"  {chosen}")
    check_folds_fit(tables, cfg, as_of)
    tt = training_table(tables, cfg, as_of, source)
    view = as_of_view(tables, tt.data_end)

    def champion_scores(champ: Scorer, rows: pd.DataFrame) -> np.ndarray:
        # The champion may know other event types or categories: rebuild the rows with its
        # own spec so it is judged on exactly the same leads and dates.
        keys = rows[["lead_id", "period"]].rename(columns={"period": "as_of"})
        history = view.events if source is None else source
        feats = build_features(
            view.leads,
            history,
            keys,
            champ.spec,
            stages=view.stages,
            field_history=view.field_history,
        )
        return champ.predict_proba(feats)

    extra = {}
    if view.stages is not None and tt.spec.stages:
        extra["funnel.csv"] = funnel_table(view.stages, view.outcomes, tt.spec.stages)
        say(f"  funnel stages, in order: {', '.join(tt.spec.stages)} (current stage is a feature)")
    return _train_table(
        tt.frame,
        tt.spec,
        str(tt.data_end),
        cfg,
        fingerprint(view.as_dict())
        | ({} if source is None else source_fingerprint("events", source)),
        champion_scores,
        time.perf_counter() - t0,
        say,
        extra,
        lead_account(view.leads, tt.frame["lead_id"]) if "account" in view.leads else None,
        view.leads,
        view.field_history,
    )


def train_features(path: str | Path, cfg: Config, say: Say) -> RunSummary:
    """Event mode from a feature table built elsewhere (``leadscore features``, on DuckDB or
    Spark): its labelled rows, with the spec stored in the file. The champion is judged on
    the same rows, so it must use columns the table holds."""
    t0 = time.perf_counter()
    table, spec = read_feature_table(path)
    built = feature_table_horizon(path)
    horizon = cfg.training.horizon_days
    if built is not None and built != horizon:
        raise DataError(
            f"features: {Path(path).name} has labels over {built} days, the config's "
            f"training.horizon_days is {horizon} ({len(table):,} rows); set "
            f"training.horizon_days: {built} or build the table again with this config"
        )
    if built is None:
        say(f"  features: the table does not say its horizon; taken as {horizon} days")
    unlabelled = int(table["label"].isna().sum())
    frame = table[table["label"].notna()].reset_index(drop=True)
    if unlabelled:
        say(f"  features: {unlabelled:,} rows whose horizon has not passed left out (no label)")
    if frame.empty:
        raise DataError(f"features: {Path(path).name} has no labelled rows ({len(table):,} rows)")
    at = pd.MultiIndex.from_frame(frame[["lead_id", "as_of"]])
    if at.has_duplicates:
        raise DataError(
            f"features: {Path(path).name} has {int(at.duplicated().sum()):,} repeated "
            f"(lead_id, as_of) rows ({len(frame):,} labelled rows); build it once per date"
        )

    def champion_scores(champ: Scorer, rows: pd.DataFrame) -> np.ndarray:
        absent = [c for c in champ.spec.feature_columns if c not in frame.columns]
        if absent:
            raise DataError(
                f"features: the champion uses {len(absent)} column(s) this table lacks "
                f"({', '.join(absent[:3])}, ...); build the table with the champion's spec"
            )
        wanted = pd.MultiIndex.from_arrays(
            [rows["lead_id"].astype("string"), pd.to_datetime(rows["period"], utc=True)]
        )
        found = at.get_indexer(wanted)
        if (found < 0).any():  # pragma: no cover - the judged rows come from this table
            raise DataError(f"features: {int((found < 0).sum()):,} judged rows not in the table")
        return champ.predict_proba(frame.iloc[found].reset_index(drop=True))

    end = frame["as_of"].max() + pd.Timedelta(days=cfg.training.horizon_days)
    cfg = table_cadence(cfg, frame["as_of"])
    return _train_table(
        frame,
        spec,
        str(end),
        cfg,
        {"data.features.rows": len(frame), "data.features.file": Path(path).name},
        champion_scores,
        time.perf_counter() - t0,
        say,
    )


def _train_table(
    frame: pd.DataFrame,
    spec: FeatureSpec,
    as_of: str,
    cfg: Config,
    data_fingerprint: dict,
    champion_scores: ChampionScores,
    t_features: float,
    say: Say,
    extra: dict[str, pd.DataFrame] | None = None,
    account: pd.Series | None = None,
    leads: pd.DataFrame | None = None,
    field_history: pd.DataFrame | None = None,
) -> RunSummary:
    """The labelled training table to a tracked, registered model: folds, fit, ``track``
    (``extra``: more tables to log with the run, by file name; ``account``: each row's
    account, for the account-feature candidate; ``leads``: the slices' values, by lead).

    It reads top to bottom as training's steps (plan, account candidate, fit, champion
    check, tracking), which share the run's notes.
    """
    dates = sorted(frame["as_of"].unique())
    say(
        f"training table: {len(frame):,} rows over {len(dates)} {cadence_label(cfg.training.cadence)} snapshots, "
        f"{int(frame['label'].sum()):,} positives ({t_features:.1f}s)"
    )
    if SHARE in frame:
        stood_for = int(round(float((1.0 / frame[SHARE]).sum())))
        say(
            f"  sampled before features were built: {len(frame):,} of about {stood_for:,} "
            "labelled rows (every conversion, every row a fold tests or holds out, and the "
            "other non-converted rows the fits keep, weighted for the rest)"
        )
    plan = time_plan(frame["as_of"], frame["label"].to_numpy(), cfg)
    say(f"  {plan.how}")
    for f in plan.folds:
        say(f"  fold {f.number}: test {f.test_label}, trained on {f.train_label}")
    say(f"  deployed model: every labelled snapshot, {plan.deploy_label}")
    t1 = time.perf_counter()
    frame, spec, leakage = guard(frame, spec, plan, cfg, say)
    choice = accounts.choose(frame, spec, account, plan, cfg)
    frame, spec = choice.table, choice.spec
    known = {choice.backtest.kind: choice.backtest} if choice.backtest else None
    result = train_on_table(frame, spec, plan, cfg, known, leads, field_history)
    result.leakage = leakage
    if choice.line:
        result.notes.append(choice.line)
    t_fit = time.perf_counter() - t1
    for note in result.notes:
        say(f"  note: {note}")
    say(tournament_text(result.tournament))
    say(comparison_text(result))
    for line in slice_lines(result.slices, cfg):
        say(line)
    for line in segment_lines(result.segments, cfg.tracking.promote_metric):
        say(line)
    params = {
        "mode": "events",
        "as_of": as_of,
        "horizon_days": cfg.training.horizon_days,
        "cadence": cfg.training.cadence,
        "event_types": ",".join(spec.event_types),
        "n_features": len(spec.feature_columns),
        "calibration": result.scorer.calibration_method_,
        "positive_weight": cfg.model.positive_weight,
        **{f"lgb.{k}": v for k, v in cfg.model.params.items()},
        "seed": cfg.model.seed,
    }
    summary = track(
        result,
        cfg,
        params=params,
        data_fingerprint=data_fingerprint,
        example=frame[spec.feature_columns].head(5),
        settings=ModelSettings.for_events(cfg).model_copy(
            update={
                "data_end": as_of,
                "tiers": result.tiers or cfg.tiers,
                "reference": result.reference,
            }
        ),
        champion_scores=champion_scores,
        say=say,
        extra=extra,
    )
    summary.seconds = {"features": t_features, "fit_evaluate": t_fit}
    return summary


def comparison_text(result: TrainResult) -> str:
    """The pooled model-vs-points table, then one line per fold, as text for the terminal."""
    lines = [f"  {'pooled over folds':14s} {'model':>22s} {'points baseline':>22s}"]
    for r in result.evaluation.comparison.itertuples():
        m = f"{r.model:.4f} [{r.model_low:.3f},{r.model_high:.3f}]"
        b = f"{r.baseline:.4f} [{r.baseline_low:.3f},{r.baseline_high:.3f}]"
        lines.append(f"  {r.metric:14s} {m:>22s} {b:>22s}")
    for r in result.folds.itertuples():
        name = r.test if str(r.test).startswith("fold ") else f"fold {r.fold} ({r.test})"
        lines.append(
            f"  {name}: ROC AUC model {r.model_roc_auc:.3f} vs points "
            f"{r.baseline_roc_auc:.3f}; predicted {r.mean_predicted_model:.2%} vs realised "
            f"{r.realised:.2%}; {r.test_positives:,} conversions in {r.test_rows:,} rows"
        )
    return "\n".join(lines)
