"""leadscore: predictive lead scoring you can check.

The public API, one function per step of the job, the same steps the ``leadscore`` command
runs::

    import leadscore

    leadscore.generate(5000, seed=0, out="data")          # or your own data folder
    cfg = leadscore.load_config({"model": {"num_boost_round": 300}})
    tables = leadscore.load_data("data", cfg)              # validated contract tables
    run = leadscore.train(tables, cfg)                     # MLflow run, registered model
    scored = leadscore.score("data", "2026-01-01", "scores.parquet", config=cfg)
    leadscore.report("report.html", scores="scores.parquet", config=cfg)
    watch = leadscore.monitor("data", "monitor.html", scores="scores.parquet", config=cfg)

Everything else is reachable by module (``leadscore.features``, ``leadscore.data``,
``leadscore.model``, ``leadscore.training``, ``leadscore.scoring``, ``leadscore.reporting``).
Each function imports its stage when called, so ``import leadscore`` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

# OpenMP threads sleep when a parallel region ends instead of spinning (unless the user set
# it). LightGBM and scikit-learn each bring an OpenMP runtime; threads of one left spinning
# starve the other's next region, so on a machine busy with other work a 5,000-lead training
# takes over 150 s with spinning threads and 23 s without (docs/reference.md, Threads).
# Each runtime reads it when it loads, so it is set before either is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if TYPE_CHECKING:
    import pandas as pd

    from leadscore.config import Config
    from leadscore.data.contract import Tables
    from leadscore.data.validate import ValidationReport
    from leadscore.model.registered import LeadScoreModel
    from leadscore.monitoring.run import MonitorRun
    from leadscore.scoring.batch import ScoreSummary
    from leadscore.training.run import RunSummary

    ConfigLike = Config | str | Path | dict[str, Any] | None

__version__ = "0.3.0"

__all__ = [
    "feature_table",
    "generate",
    "load_config",
    "load_data",
    "load_model",
    "monitor",
    "report",
    "score",
    "train",
    "train_flat",
    "validate",
]

Say = Callable[[str], None]


def _quiet(_message: str) -> None:
    pass


def load_config(config: ConfigLike = None) -> Config:
    """A validated config: the embedded defaults, with a YAML file or a dict merged over them.

    A bad key raises ``ConfigError`` naming it. A ``Config`` is returned as it is.
    """
    from leadscore.config import Config, config_from_dict
    from leadscore.config import load_config as from_file

    if isinstance(config, Config):
        return config
    if isinstance(config, dict):
        return config_from_dict(config)
    return from_file(config)


def generate(
    n_leads: int = 20_000, seed: int = 0, out: str | Path | None = None, fmt: str = "parquet"
) -> dict[str, pd.DataFrame]:
    """A synthetic B2B world (leads, events, outcomes); written to ``out`` when given."""
    from leadscore.data.files import write_tables
    from leadscore.data.synthetic.world import generate_world

    tables = generate_world(n_leads, seed=seed)
    if out is not None:
        write_tables(tables, out, fmt)
    return tables


def validate(data_dir: str | Path, config: ConfigLike = None) -> ValidationReport:
    """Check a data folder against the contract, read with the config's column mapping and
    CSV options: every problem, kept rows and rejects.

    As ``leadscore validate`` fails, a ``DataError`` when a table lost more rows than the
    config's ``validation.max_drop_share``; a fatal problem is in the report's ``fatal``.
    """
    from leadscore.data.load import check_folder, require_drops_within

    cfg = load_config(config)
    report = check_folder(data_dir, cfg)
    require_drops_within(report, cfg)
    return report


def load_data(data_dir: str | Path, config: ConfigLike = None, say: Say = _quiet) -> Tables:
    """The folder's contract tables, validated and typed; ``DataError`` on a fatal problem or
    when more rows were dropped than the config's ``validation.max_drop_share``."""
    from leadscore.data.load import load_valid

    return load_valid(data_dir, load_config(config), say)[1]


def feature_table(
    tables: Tables,
    dates: Sequence[str | pd.Timestamp],
    config: ConfigLike = None,
) -> pd.DataFrame:
    """One row per open lead and date: ``lead_id``, ``as_of``, the features, ``label``."""
    from leadscore.timestamps import to_utc
    from leadscore.training.dataset import feature_table as build

    return build(tables, load_config(config), [to_utc(d) for d in dates])


def train(
    tables: Tables,
    config: ConfigLike = None,
    as_of: str | pd.Timestamp | None = None,
    say: Say = _quiet,
) -> RunSummary:
    """Train, calibrate and evaluate against the points baseline; log to MLflow and register.

    ``as_of``: act as if today were that date, using nothing after it. ``say`` receives the
    progress lines the command prints (``print`` shows them).
    """
    from leadscore.timestamps import to_utc
    from leadscore.training.run import train_events

    return train_events(tables, load_config(config), to_utc(as_of) if as_of else None, say)


def train_flat(
    path: str | Path,
    label: str,
    config: ConfigLike = None,
    *,
    date_column: str | None = None,
    id_column: str | None = None,
    ordered: bool = False,
    say: Say = _quiet,
) -> RunSummary:
    """Train on a flat export: one row per lead with a ``label`` column (``ordered``: the
    rows are in time order, so the backtest follows it)."""
    from leadscore.training.flat import train_flat as run

    cfg = load_config(config)
    return run(
        path, label, cfg, date_column=date_column, id_column=id_column, ordered=ordered, say=say
    )


def load_model(
    uri: str | None = None, config: ConfigLike = None, flat: bool = False
) -> LeadScoreModel:
    """A registered model (default: the champion of the config's registered name).

    ``.scorer`` is its calibrated scorer (``leadscore.model.kind.Scorer``), ``.settings``
    what it scores with, ``.version`` its registry version (``name/N``).
    """
    from leadscore.scoring.night import find_model

    return find_model(uri, load_config(config), flat)


def score(
    data: str | Path | Tables,
    as_of: str | pd.Timestamp,
    out: str | Path,
    model: str | LeadScoreModel | None = None,
    config: ConfigLike = None,
    say: Say = _quiet,
    history: str | Path | None = None,
) -> ScoreSummary:
    """Score every open lead at ``as_of`` into ``out`` (Parquet or CSV), rejects beside it.

    ``data``: a data folder (read with the config's mapping, CSV options and drop limit;
    events are streamed from their file, unreadable leads go to the rejects file) or tables
    already loaded. ``model``: a URI or a loaded model (default: the champion). ``history``:
    a score history folder the night is kept in, as ``score --history`` does.
    """
    import pandas as pd

    from leadscore.scoring.batch import score_tables
    from leadscore.scoring.night import (
        find_model,
        keep_night,
        require_mode,
        score_night,
        warn_age,
    )
    from leadscore.timestamps import to_utc

    cfg = load_config(config)
    when = to_utc(as_of)
    if isinstance(data, str | Path):
        night = score_night(data, when, out, cfg, model, history=history, say=say)
        summary, loaded = night.summary, night.model
    else:
        loaded = model if model is not None and not isinstance(model, str) else None
        loaded = loaded or find_model(model, cfg)
        require_mode(loaded, flat=False)
        warn_age(loaded.settings, when)
        none = pd.DataFrame({"lead_id": pd.Series([], dtype="string")})
        summary = score_tables(
            data, none, loaded.scorer, loaded.settings, loaded.version, when, out, say=say
        )
    if history is not None:
        keep_night(history, summary, when, loaded.version)
    return summary


def monitor(
    data: str | Path,
    out: str | Path,
    scores: str | Path | None = None,
    history: str | Path | None = None,
    model: str | LeadScoreModel | None = None,
    config: ConfigLike = None,
    json_out: str | Path | None = None,
    say: Say = _quiet,
) -> MonitorRun:
    """``leadscore monitor``: one scores file (``scores``) or a score history's nights
    (``history``) against the model's training reference (default model: the one that
    scored the latest night), with the features and outcomes of the ``data`` folder; the
    HTML page to ``out``. ``.monitor.alerts`` holds the thresholds crossed on the latest
    night."""
    from leadscore.monitoring.nights import scored_by
    from leadscore.monitoring.run import run_monitor

    cfg = load_config(config)
    if model is None:
        model = scored_by(scores, history)
    loaded = model if not isinstance(model, str | None) else load_model(model, config)
    return run_monitor(
        data,
        loaded,
        loaded.version,
        cfg,
        out,
        scores=scores,
        history=history,
        json_out=json_out,
        say=say,
    )


def report(
    out: str | Path,
    model: str | None = None,
    scores: str | Path | None = None,
    config: ConfigLike = None,
    flat: bool = False,
) -> Path:
    """The one-file HTML review of a registered model (default: the champion), with a scores
    file's leads when given."""
    from leadscore.config import registered_name
    from leadscore.reporting.render import build_report

    name = registered_name(load_config(config), flat)
    return build_report(model, str(scores) if scores else None, str(out), registered_name=name)
