"""``leadscore train``: build the table, fit, evaluate, log to MLflow, register, decide the champion."""

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

from leadscore import charts, tracking
from leadscore.config import Config, config_to_yaml
from leadscore.data.contract import Tables
from leadscore.data.fingerprint import fingerprint
from leadscore.features.table import build_features
from leadscore.model import registered
from leadscore.model.scorer import LeadScorer
from leadscore.model.settings import ModelSettings
from leadscore.training import evaluate
from leadscore.training.dataset import as_of_view, training_table
from leadscore.training.fit import TrainResult, beats, fit_and_evaluate, split_table

Say = Callable[[str], None]


@dataclass
class RunSummary:
    run_id: str
    model_uri: str
    version: str
    promoted: bool
    champion_before: str | None
    metric: str
    new_value: float
    champion_value: float | None
    result: TrainResult
    seconds: dict[str, float] = field(default_factory=dict)


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
    for r in result.counts.itertuples():
        out[f"rows_{r.slice}"] = float(r.rows)
        out[f"positives_{r.slice}"] = float(r.positives)
    out["best_iteration"] = float(result.scorer.best_iteration_)
    return out


def _artifacts(result: TrainResult, cfg: Config, folder: Path) -> None:
    ev = result.evaluation
    ev.comparison.to_csv(folder / "evaluation.csv", index=False)
    ev.bands.to_csv(folder / "conversion_by_band.csv", index=False)
    ev.tiers.to_csv(folder / "conversion_by_tier.csv", index=False)
    ev.capacity.to_csv(folder / "capacity.csv", index=False)
    ev.reliability.to_csv(folder / "reliability.csv", index=False)
    result.importance.to_csv(folder / "importance.csv", index=False)
    result.counts.to_csv(folder / "slices.csv", index=False)
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
    tables = {name: evaluate.reliability_table(y, p) for name, p in curves.items()}
    charts.save_png(charts.reliability_plot(tables, curves), folder / "reliability.png")
    charts.save_png(charts.lift_plot(y, curves), folder / "lift.png")
    charts.save_png(charts.importance_plot(result.importance), folder / "importance.png")
    charts.save_png(
        charts.band_plot(ev.bands[ev.bands["approach"] == "model"]),
        folder / "conversion_by_band.png",
    )


def _champion_decision(
    name: str,
    metric: str,
    new_value: float,
    result: TrainResult,
    champion_scores: Callable[[LeadScorer], np.ndarray],
) -> tuple[str | None, float | None, bool, str]:
    """(champion version before, its figure, promote?, why): the champion is scored on this
    run's test rows, and the new model takes the alias only when it is strictly better."""
    before = tracking.champion_version(name)
    if before is None:
        return None, None, True, "first registered model"
    champ = registered.load_registered(f"models:/{name}@{tracking.CHAMPION}").scorer
    rows = result.evaluation.rows
    champion_value = float(
        evaluate.point_metrics(rows["label"].to_numpy(), champion_scores(champ))[metric]
    )
    mlflow.log_metric(f"champion_{metric}", champion_value)
    reason = f"{metric} {new_value:.4f} vs champion v{before} {champion_value:.4f} on this run's test slice"
    return before, champion_value, beats(new_value, champion_value, metric), reason


def track(
    result: TrainResult,
    cfg: Config,
    *,
    params: dict,
    data_fingerprint: dict,
    example: pd.DataFrame,
    settings: ModelSettings,
    champion_scores: Callable[[LeadScorer], np.ndarray],
    say: Say,
) -> RunSummary:
    """Log a finished training to MLflow, register the model, move the alias if it wins."""
    tracking.setup(cfg.tracking.experiment)
    name = cfg.tracking.registered_model_name
    metric = cfg.tracking.promote_metric
    comp = result.evaluation.comparison.set_index("metric")
    new_value = float(comp.loc[metric, "model"])
    with mlflow.start_run() as run:
        mlflow.log_params({k: str(v)[:500] for k, v in {**params, **data_fingerprint}.items()})
        mlflow.set_tags(
            {
                "leadscore.mode": settings.mode,
                **{f"split.{k}": v for k, v in result.split.items()},
            }
        )
        mlflow.log_metrics(_metrics(result))
        with tempfile.TemporaryDirectory() as tmp:
            _artifacts(result, cfg, Path(tmp))
            mlflow.log_artifacts(tmp)
        model_uri, version = registered.log_model(result.scorer, settings, example, name)

        before, champion_value, promoted, reason = _champion_decision(
            name, metric, new_value, result, champion_scores
        )
        mlflow.log_metric("promoted", float(promoted))
        mlflow.set_tags(
            {
                "champion.decision": "promoted" if promoted else "kept champion",
                "champion.reason": reason,
                "champion.previous": before or "",
            }
        )
        if promoted:
            tracking.set_champion(name, version)
        say(
            f"model {name} v{version} registered; {'now champion' if promoted else f'champion stays v{before}'} ({reason})"
        )
    return RunSummary(
        run.info.run_id,
        model_uri,
        version,
        promoted,
        before,
        metric,
        new_value,
        champion_value,
        result,
    )


def train_events(tables: Tables, cfg: Config, as_of: pd.Timestamp | None, say: Say) -> RunSummary:
    """Event mode: snapshots of open leads, time split with embargo, then ``track``."""
    t0 = time.perf_counter()
    tt = training_table(tables, cfg, as_of)
    t_features = time.perf_counter() - t0
    frame = tt.frame
    dates = sorted(frame["as_of"].unique())
    split, role = split_table(frame, cfg)
    say(
        f"training table: {len(frame):,} rows over {len(dates)} {cadence_name(cfg)} snapshots, {int(frame['label'].sum()):,} positives ({time.perf_counter() - t0:.1f}s)"
    )
    for k, v in split.describe().items():
        say(f"  {k:15s} {v}")
    t1 = time.perf_counter()
    result = fit_and_evaluate(frame, role, frame["as_of"], tt.spec, cfg, split.describe())
    t_fit = time.perf_counter() - t1
    for note in result.notes:
        say(f"  note: {note}")
    say(comparison_text(result))

    view = as_of_view(tables, tt.data_end)
    test_keys = frame.loc[(role == "test").to_numpy(), ["lead_id", "as_of"]].reset_index(drop=True)

    def champion_scores(champ: LeadScorer) -> np.ndarray:
        # The champion may know other event types or categories: rebuild the test rows with
        # its own spec so it is judged on exactly the same leads and dates.
        feats = build_features(view.leads, view.events, test_keys, champ.spec)
        return champ.predict_proba(feats)

    params = {
        "mode": "events",
        "as_of": str(tt.data_end),
        "horizon_days": cfg.training.horizon_days,
        "cadence": cfg.training.cadence,
        "event_types": ",".join(tt.spec.event_types),
        "n_features": len(tt.spec.feature_columns),
        "calibration": result.scorer.calibration_method_,
        "positive_weight": cfg.model.positive_weight,
        **{f"lgb.{k}": v for k, v in cfg.model.params.items()},
        "seed": cfg.model.seed,
    }
    summary = track(
        result,
        cfg,
        params=params,
        data_fingerprint=fingerprint(view.as_dict()),
        example=frame[tt.spec.feature_columns].head(5),
        settings=ModelSettings.for_events(cfg),
        champion_scores=champion_scores,
        say=say,
    )
    summary.seconds = {"features": t_features, "fit_evaluate": t_fit}
    return summary


def cadence_name(cfg: Config) -> str:
    c = cfg.training.cadence
    return "monthly" if c == "monthly" else f"{c}-day"


def comparison_text(result: TrainResult) -> str:
    """The model-vs-baseline table as aligned text for the terminal."""
    lines = [f"  {'metric':14s} {'model':>22s} {'points baseline':>22s}"]
    for r in result.evaluation.comparison.itertuples():
        m = f"{r.model:.4f} [{r.model_low:.3f},{r.model_high:.3f}]"
        b = f"{r.baseline:.4f} [{r.baseline_low:.3f},{r.baseline_high:.3f}]"
        lines.append(f"  {r.metric:14s} {m:>22s} {b:>22s}")
    return "\n".join(lines)
