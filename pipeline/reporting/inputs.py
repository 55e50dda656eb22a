"""What the review is built from, read once: the training run's logged tables and a scores file.

``load_run`` downloads the run's artifacts (evaluation tables, plots, a held-out feature
sample) into memory as a ``RunTables``; ``read_scores`` reads and checks a scores file from
``leadscore score``. Everything after these two is pure (the section modules beside this one).
"""

from __future__ import annotations

import base64
import json
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import yaml

from leadscore import tracking
from leadscore.data.files import read_frame
from leadscore.errors import DataError, RegistryError
from leadscore.model.registered import LeadScoreModel
from leadscore.model.settings import ModelSettings
from leadscore.tracking import ModelRef

#: Columns a scores file must hold for the report (``leadscore.scoring.sinks.SCORE_COLUMNS`` subset).
SCORES_REQUIRED = ("lead_id", "score", "tier", "baseline_tier", "top_reasons")

ARTIFACTS = (
    "evaluation.csv",
    "conversion_by_band.csv",
    "conversion_by_tier.csv",
    "capacity.csv",
    "reliability.csv",
    "importance.csv",
    "folds.csv",
    "slices.csv",
    "tournament.csv",
    "funnel.csv",
    "leakage.csv",
    "segments.csv",
    "test_predictions.parquet",
    "test_features_sample.parquet",
    "config.yaml",
    "notes.json",
    "lift.png",
    "reliability.png",
)

# Training notes for data scientists, left out of the review for sales.
_TECHNICAL_NOTES = ("calibration:", "placeholder:", "constant:")


@dataclass(frozen=True)
class RunTables:
    """One registered model's training run, as the review reads it."""

    ref: ModelRef
    settings: ModelSettings
    model: LeadScoreModel
    started: datetime
    tags: dict[str, str]  # the run's tags, split.* ones completed from notes.json
    cadence: str | None
    comparison: pd.DataFrame  # evaluation.csv, indexed by metric
    bands: pd.DataFrame | None = None
    tiers: pd.DataFrame | None = None
    capacity: pd.DataFrame | None = None
    folds: pd.DataFrame | None = None  # one row per backtest fold
    tournament: pd.DataFrame | None = None  # one row per contestant (``training.tournament``)
    predictions: pd.DataFrame | None = None
    sample: pd.DataFrame | None = None
    funnel: pd.DataFrame | None = None  # per funnel stage, when the data had stages
    slices: pd.DataFrame | None = None  # quality by slice (``training.slices``)
    slice_min_conversions: int | None = None  # its evaluation.slice_min_conversions
    leakage: pd.DataFrame | None = None  # per feature, the leakage guard's figures
    segments: pd.DataFrame | None = None  # per segment, own model or pooled (``segments``)
    notes: list[str] = field(default_factory=list)
    lift_png: str | None = None  # base64, as logged at training
    reliability_png: str | None = None

    @property
    def mode(self) -> str:
        return self.settings.mode

    @property
    def horizon(self) -> int | None:
        return None if self.mode == "flat" else self.settings.horizon_days

    @property
    def outcome(self) -> str:
        return self.settings.outcome

    @property
    def points_champion(self) -> bool:
        """The registered model is the points sheet (it beat the model in the backtest)."""
        return getattr(self.model.scorer, "kind", "lightgbm") == "points"

    def tested(self) -> tuple[int, int]:
        """(rows, conversions) the backtest judged, over every fold."""
        if self.folds is None or not len(self.folds):
            return 0, 0
        return int(self.folds["test_rows"].sum()), int(self.folds["test_positives"].sum())


def read_scores(path: str | Path) -> pd.DataFrame:
    """A scores file from ``leadscore score`` (Parquet or CSV), checked and typed."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"scores file {p}: does not exist")
    if not p.is_file():
        raise DataError(f"scores file {p}: is not a file")
    frame = read_frame(p)
    missing = [c for c in SCORES_REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(
            f"scores file {p}: missing column(s) {', '.join(missing)} ({len(frame)} rows; "
            "write it with leadscore score)"
        )
    out = frame.copy()
    for c in ("score", "probability", "baseline_score"):
        if c in out.columns:
            raw = out[c]
            number = pd.to_numeric(raw, errors="coerce").astype("float64")
            bad = int((number.isna() & raw.notna()).sum())
            if bad:
                raise DataError(f"scores file {p}: column {c} has {bad} non-numeric value(s)")
            out[c] = number
    for c in ("lead_id", "tier", "baseline_tier", "top_reasons", "model_version"):
        if c in out.columns:
            out[c] = out[c].astype("string")
    if "as_of" in out.columns:
        out["as_of"] = pd.to_datetime(out["as_of"], utc=True, errors="coerce")
    return out


def _json(path: Path | None) -> dict:
    try:
        data = json.loads(path.read_text()) if path is not None else {}
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _cadence(params: dict[str, str], config: Path | None) -> str | None:
    if "cadence" in params:
        return params["cadence"]
    if config is None:
        return None
    return str((yaml.safe_load(config.read_text()) or {}).get("training", {}).get("cadence", ""))


def _slice_minimum(config: Path | None) -> int | None:
    if config is None:
        return None
    value = (yaml.safe_load(config.read_text()) or {}).get("evaluation", {})
    value = value.get("slice_min_conversions") if isinstance(value, dict) else None
    return int(value) if isinstance(value, int) else None


def _tables(files: dict[str, Path]) -> dict[str, object]:
    def csv(name: str) -> pd.DataFrame | None:
        return pd.read_csv(files[name]) if name in files else None

    def parquet(name: str) -> pd.DataFrame | None:
        return pd.read_parquet(files[name]) if name in files else None

    def png(name: str) -> str | None:
        return base64.b64encode(files[name].read_bytes()).decode("ascii") if name in files else None

    return {
        "comparison": csv("evaluation.csv").set_index("metric"),
        "bands": csv("conversion_by_band.csv"),
        "tiers": csv("conversion_by_tier.csv"),
        "capacity": csv("capacity.csv"),
        "folds": csv("folds.csv"),
        "tournament": csv("tournament.csv"),
        "funnel": csv("funnel.csv"),
        # A slice value is text as it was ("NA", "none"): only empty cells are missing.
        "slices": (
            pd.read_csv(files["slices.csv"], keep_default_na=False, na_values=[""])
            if "slices.csv" in files
            else None
        ),
        "leakage": csv("leakage.csv"),
        "segments": (
            pd.read_csv(files["segments.csv"], keep_default_na=False, na_values=[""])
            if "segments.csv" in files
            else None
        ),
        "predictions": parquet("test_predictions.parquet"),
        "sample": parquet("test_features_sample.parquet"),
        "lift_png": png("lift.png"),
        "reliability_png": png("reliability.png"),
    }


def load_run(ref: ModelRef, model: LeadScoreModel) -> RunTables:
    """The run behind ``ref`` with its logged tables read into memory."""
    run = tracking.get_run(ref)
    with tempfile.TemporaryDirectory(prefix="leadscore-report-") as tmp:
        files = tracking.download_artifacts(ref.run_id, ARTIFACTS, Path(tmp))
        if "evaluation.csv" not in files:
            raise RegistryError(
                f"run {ref.run_id}: no evaluation.csv among its artifacts; was it logged by leadscore train?"
            )
        notes = _json(files.get("notes.json"))
        split = notes.get("split") or {}
        tags = {**{f"split.{k}": str(v) for k, v in split.items()}, **run.data.tags}
        return RunTables(
            ref=ref,
            settings=model.settings,
            model=model,
            started=datetime.fromtimestamp(run.info.start_time / 1000, tz=timezone.utc),
            tags=tags,
            cadence=_cadence(run.data.params, files.get("config.yaml")),
            slice_min_conversions=_slice_minimum(files.get("config.yaml")),
            notes=[
                str(n) for n in notes.get("notes") or [] if not str(n).startswith(_TECHNICAL_NOTES)
            ],
            **_tables(files),
        )
