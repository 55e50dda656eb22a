"""From validated tables and a config to feature tables: the wiring around ``features``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from leadscore.config import Config
from leadscore.data.contract import Tables
from leadscore.data.views import as_of_view, data_end
from leadscore.errors import DataError
from leadscore.features.snapshots import anchored_dates, label_snapshots, open_leads
from leadscore.features.spec import FeatureSpec, event_key, fit_spec
from leadscore.features.stages import stage_order
from leadscore.features.table import build_table
from leadscore.io.source import EventSource
from leadscore.timestamps import to_utc

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from leadscore.io.spark import SparkEvents


def spec_for(
    tables: Tables,
    cfg: Config,
    cutoff: pd.Timestamp,
    events: EventSource | SparkEvents | None = None,
) -> FeatureSpec:
    """Fit the feature vocabulary on what was known at ``cutoff``."""
    f = cfg.features
    missing = [c for c in f.explicit.extra if c not in tables.leads.columns]
    if missing:
        raise DataError(
            f"leads: config leadscore.features.explicit.extra names column(s) {missing} not in the table "
            f"({len(tables.leads)} rows)"
        )
    return fit_spec(
        tables.leads,
        tables.events if events is None else events,
        cutoff,
        event_types=f.event_types,
        max_event_types=f.max_event_types,
        windows_days=f.windows_days,
        half_life_days=f.half_life_days,
        negative_event_types=f.negative_event_types,
        dedupe_events=f.dedupe_events,
        categorical=f.explicit.categorical,
        numeric=f.explicit.numeric,
        extra=f.explicit.extra,
        max_categories=f.explicit.max_categories,
        stages=(
            stage_order(
                tables.stages,
                tables.leads,
                cutoff,
                tuple(event_key(s) for s in f.stage_order),
            )
            if tables.stages is not None
            else ()
        ),
    )


@dataclass(frozen=True)
class TrainingTable:
    frame: pd.DataFrame  # lead_id, as_of, features..., label (labelled rows only)
    spec: FeatureSpec
    data_end: pd.Timestamp
    snapshot_dates: list[pd.Timestamp]


def outcomes_recorded_from(tables: Tables, cfg: Config) -> pd.Timestamp | None:
    """From when the data records outcomes, when that is later than its leads could close
    (None: from the start). ``training.outcomes_from``: ``auto`` takes the first close when
    it comes more than ``horizon_days`` after the first lead (a CRM that began keeping
    outcomes later); ``all`` trusts every snapshot; a date says it.
    """
    setting = cfg.training.outcomes_from
    if setting == "all":
        return None
    if setting != "auto":
        return to_utc(setting)
    closed = tables.outcomes["closed_at"]
    if not len(closed) or not len(tables.leads):
        return None
    first_close, first_lead = closed.min(), tables.leads["created_at"].min()
    horizon = pd.Timedelta(days=cfg.training.horizon_days)
    return first_close.normalize() if first_close - first_lead > horizon else None


def training_snapshot_dates(tables: Tables, cfg: Config, end: pd.Timestamp) -> list[pd.Timestamp]:
    """Snapshot dates whose horizon has passed by ``end`` (so every label is known), on a grid
    anchored at the latest labelled moment: midnight of ``end`` less the horizon, stepping
    back by the cadence (``anchored_dates``) to the first lead, or to
    ``training.first_snapshot`` when set (that moment included), and never before the data
    records outcomes (``outcomes_recorded_from``). A cadence of ``auto`` is resolved first
    (``advice.resolve_cadence``).
    """
    if cfg.training.cadence == "auto":
        # Imported here: advice plans on this module's grid at each concrete cadence.
        from leadscore.training.advice import resolve_cadence

        cfg, _ = resolve_cadence(tables, cfg, end)
    anchor = end.normalize() - pd.Timedelta(days=cfg.training.horizon_days)
    first = cfg.training.first_snapshot_at
    start = tables.leads["created_at"].min() if first is None else first - pd.Timedelta(seconds=1)
    recorded = outcomes_recorded_from(tables, cfg)
    if recorded is not None:  # earlier snapshots' wins were never recorded: not losses
        start = max(start, recorded - pd.Timedelta(seconds=1))
    return anchored_dates(start, anchor, cfg.training.cadence)


def training_table(tables: Tables, cfg: Config, as_of: pd.Timestamp | None = None) -> TrainingTable:
    """The labelled, stacked training table as if today were ``as_of`` (default: the data's end)."""
    end = as_of if as_of is not None else data_end(tables)
    view = as_of_view(tables, end)
    dates = training_snapshot_dates(view, cfg, end)
    spec = spec_for(view, cfg, dates[-1] if dates else end)
    frame = build_table(
        view.leads,
        view.events,
        view.outcomes,
        dates,
        spec,
        cfg.training.horizon_days,
        end,
        stages=view.stages,
    )
    frame = frame[frame["label"].notna()].reset_index(drop=True)
    return TrainingTable(frame=frame, spec=spec, data_end=end, snapshot_dates=dates)


def feature_table(
    tables: Tables,
    cfg: Config,
    as_of: list[pd.Timestamp],
    spec: FeatureSpec | None = None,
    events: EventSource | None = None,
) -> pd.DataFrame:
    """Features for every open lead at each date, labelled where the horizon has passed.

    ``events`` (an ``EventSource``) replaces ``tables.events`` so the history stays in its file.
    """
    dates = sorted(as_of)
    spec = spec or spec_for(tables, cfg, dates[-1], events)
    return build_table(
        tables.leads,
        tables.events if events is None else events,
        tables.outcomes,
        dates,
        spec,
        cfg.training.horizon_days,
        data_end(tables, events),
        stages=tables.stages,
    )


def spark_feature_table(
    tables: Tables, cfg: Config, as_of: list[pd.Timestamp], events: SparkEvents
) -> tuple[DataFrame, FeatureSpec]:
    """``feature_table`` built by Spark: the same rows and values as a Spark frame (any row
    order), and the spec it was built with. Leads and outcomes decide the snapshots and
    labels here; only the events are read and aggregated by Spark."""
    from leadscore.features.spark import spark_features

    dates = sorted(as_of)
    spec = spec_for(tables, cfg, dates[-1], events)
    snaps = open_leads(tables.leads, tables.outcomes, dates)
    label = label_snapshots(
        snaps, tables.outcomes, cfg.training.horizon_days, data_end(tables, events)
    )
    frame = spark_features(
        events.spark, tables.leads, events, snaps, spec, label, stages=tables.stages
    )
    return frame, spec
