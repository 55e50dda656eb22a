"""One monitor run, as the command and the API call it: read the nights and the data
folder, measure, write the page (and the JSON) atomically. Nothing is written when reading
or measuring fails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from leadscore.config import Config
from leadscore.data.contract import Tables
from leadscore.data.files import write_atomic
from leadscore.data.load import load_streaming
from leadscore.errors import ModelError, UsageError
from leadscore.handoff.experiment import Experiment, experiment_names, measure_experiment
from leadscore.handoff.io import LOG, read_logs
from leadscore.model.registered import LeadScoreModel
from leadscore.monitoring.measure import Monitor, measure
from leadscore.monitoring.nights import read_history_nights, read_scores_file
from leadscore.monitoring.page import write_monitor
from leadscore.reporting.wording import plural
from leadscore.scoring.history import read_bins

Say = Callable[[str], None]


@dataclass
class MonitorRun:
    monitor: Monitor
    page: Path
    json: Path | None


def hand_off_experiment(
    history: str | Path, tables: Tables, result: Monitor, cfg: Config
) -> Experiment | None:
    """The experiment of the history's hand-off log, measured as the monitor measures
    realised conversions (its horizon and data end): the config's
    ``handoff.holdout.name``, else the latest with a control arm; None without one."""
    if not (Path(history) / LOG).is_dir():
        return None
    log = read_logs(history)
    names = experiment_names(log)
    if not names:
        return None
    h = cfg.handoff.holdout
    name = h.name if h.name in names else names[0]
    return measure_experiment(
        log,
        tables.outcomes,
        result.data_end,
        result.horizon_days,
        name,
        h.uplift,
        h.power,
        h.alpha,
    )


def run_monitor(
    data: str | Path,
    model: LeadScoreModel,
    version: str,
    cfg: Config,
    out: str | Path,
    *,
    scores: str | Path | None = None,
    history: str | Path | None = None,
    json_out: str | Path | None = None,
    say: Say = lambda _m: None,
) -> MonitorRun:
    """Monitor one scores file (``scores``) or every night of a score history (``history``)
    against ``model``'s reference, with the features and outcomes of ``data``."""
    if (scores is None) == (history is None):
        raise UsageError("monitor needs --scores FILE or --history DIR (one of them)")
    if model.settings.mode == "flat":
        raise ModelError(f"model {version} is a flat-mode model; monitor watches event-mode nights")
    nights = read_scores_file(scores) if scores is not None else read_history_nights(history)
    tables, events, _ = load_streaming(
        data,
        model.settings.columns.model_dump(),
        say,
        count_events=False,
        csv=cfg.io.csv.model_dump(),
        max_drop_share=cfg.validation.max_drop_share,
    )
    say(
        f"monitor: {plural(nights['as_of'].nunique(), 'night')}, {len(nights):,} scored rows, "
        f"model {version}"
    )
    kept = None
    if history is not None:
        scored_by = nights.groupby("as_of")["model_version"].first()
        kept = {
            as_of: counts
            for as_of, by in scored_by.items()
            if by == version and (counts := read_bins(history, as_of, version)) is not None
        }
    result = measure(nights, tables, events, model, version, cfg.monitor, say, kept, cfg.evaluation)
    if history is not None:
        result.experiment = hand_off_experiment(history, tables, result, cfg)
    page = write_monitor(result, cfg.monitor, out)
    written = None
    if json_out is not None:
        text = result.to_json()
        written = write_atomic(Path(json_out), lambda p: p.write_text(text, encoding="utf-8"))
    return MonitorRun(result, page, written)
