"""One night's scoring, as the ``score`` command and ``leadscore.score`` both run it.

The registered model is found by the config's name (the champion unless a URI is given) and
loaded on a thread while the data folder is read and checked with the config's column
mapping, CSV options and drop limit (loading a model costs seconds of one core). Then: the
model's mode must match the input (event data or a flat file), a model older than
``training.max_model_age_days`` is warned about, the folder is read again if the model maps
its columns otherwise, and the night is scored and, with a score history, kept there.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from leadscore import tracking
from leadscore.config import Config, registered_name
from leadscore.data.load import load_streaming
from leadscore.data.views import fields_note
from leadscore.errors import ModelError
from leadscore.model.registered import LeadScoreModel, load_registered
from leadscore.model.settings import ModelSettings
from leadscore.scoring.batch import ScoreSummary, score_folder
from leadscore.scoring.flat import score_flat_file
from leadscore.scoring.history import bins_path, previous_night, record, record_bins

Say = Callable[[str], None]


def warn_on_stderr(line: str) -> None:
    """A warning the run shows loudly: on stderr, every run."""
    print(f"leadscore: warning: {line}", file=sys.stderr)


def find_model(model: str | None, cfg: Config, flat: bool = False) -> LeadScoreModel:
    """The registered model at ``model`` (a URI), else the champion of the config's registry
    name; its ``version`` (``name/N``) and ``uri`` set. A tracking server that does not answer,
    or a local store that does not exist, is one error line, before anything is read or
    created."""
    name = registered_name(cfg, flat)
    uri = tracking.resolve_model_uri(model, name)
    if uri.startswith(("models:/", "runs:/")):
        tracking.connect_existing()  # a store that is not there is named, not created empty
    else:
        tracking.check_reachable()
    loaded = load_registered(uri)
    loaded.version = tracking.version_of(uri, name)
    loaded.uri = uri
    return loaded


def require_mode(model: LeadScoreModel, flat: bool) -> None:
    """A flat-mode model scores flat files only, an event-mode model data folders only."""
    if flat and model.settings.mode != "flat":
        raise ModelError(
            f"model {model.uri} was trained on event data; score it with --data DIR --as-of DATE"
        )
    if not flat and model.settings.mode == "flat":
        raise ModelError(f"model {model.uri} is a flat-mode model; score it with --flat FILE")


def warn_age(settings: ModelSettings, as_of: pd.Timestamp, warn: Say = warn_on_stderr) -> None:
    """Warn when the model is older than ``training.max_model_age_days`` at ``as_of``."""
    line = settings.age_warning(as_of)
    if line:
        warn(line)


@dataclass
class Night:
    """A scored night: what was written, and the model that wrote it."""

    summary: ScoreSummary
    model: LeadScoreModel


def score_night(
    data: str | Path,
    as_of: pd.Timestamp,
    out: str | Path,
    cfg: Config,
    model: str | LeadScoreModel | None = None,
    *,
    history: str | Path | None = None,
    say: Say = lambda _m: None,
    warn: Say = warn_on_stderr,
) -> Night:
    """Score every open lead of the folder ``data`` at ``as_of`` into ``out``.

    ``model``: a loaded model, a URI, or None for the champion. ``history``: the score
    history whose previous night gives each lead's change, and whose bins the night's
    drift counts go to (keep the night there with ``keep_night``).
    """
    guess = cfg.columns.model_dump()
    reading = {"csv": cfg.io.csv.model_dump(), "max_drop_share": cfg.validation.max_drop_share}
    if isinstance(model, LeadScoreModel):
        found = model
        loaded = load_streaming(data, guess, say, count_events=False, **reading)
    else:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(find_model, model, cfg)
            try:
                loaded = load_streaming(data, guess, say, count_events=False, **reading)
            finally:
                found = pending.result()
    require_mode(found, flat=False)
    warn_age(found.settings, as_of, warn)
    columns = found.settings.columns.model_dump()
    if columns != guess:  # the model's own mapping wins
        say("  data: read again with the model's column mapping")
        loaded = load_streaming(data, columns, say, count_events=False, **reading)
    note = fields_note(loaded[0])
    if note:
        say(f"  {note}")
    summary = score_folder(
        data,
        columns,
        found.scorer,
        found.settings,
        found.version,
        as_of,
        out,
        say=say,
        loaded=loaded,
        max_drop_share=reading["max_drop_share"],
        previous=previous_night(history, as_of) if history else None,
        count_bins=bool(history),
    )
    for k, v in summary.unseen_categories.items():
        say(f"  note: {k}: {v:,} values outside the categories the model kept, scored as 'other'")
    for k, v in summary.new_missing.items():
        say(f"  note: {k}: {v:,} missing values in a column that had none in training")
    return Night(summary, found)


def score_flat(
    path: str | Path,
    out: str | Path,
    cfg: Config,
    model: str | LeadScoreModel | None = None,
    say: Say = lambda _m: None,
) -> Night:
    """Score a flat file's rows with a flat-mode model (default: the flat champion)."""
    found = model if isinstance(model, LeadScoreModel) else find_model(model, cfg, flat=True)
    require_mode(found, flat=True)
    summary = score_flat_file(path, found.scorer, found.settings, found.version, out, say)
    return Night(summary, found)


def keep_night(
    history: str | Path, summary: ScoreSummary, night: pd.Timestamp, version: str
) -> Path:
    """Keep a scored night in the score history (a rerun of the night replaces it), with the
    night's drift counts beside it for the monitor; returns the kept file."""
    kept = record(history, Path(summary.out), night, version)
    # A rerun that counted nothing (Spark, a model without a reference) drops stale counts.
    counts = getattr(summary, "bin_counts", None)
    if counts:
        record_bins(history, night, version, counts)
    else:
        bins_path(history, night, version).unlink(missing_ok=True)
    return kept
