"""From validated tables and a config to feature tables: the wiring around ``features``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leadscore.config import Config
from leadscore.data.contract import Tables
from leadscore.data.views import as_of_view, data_end
from leadscore.errors import DataError
from leadscore.features.explicit import domain_lists
from leadscore.features.history import history_fields, leads_as_of
from leadscore.features.snapshots import label_snapshots, open_leads
from leadscore.features.spec import FeatureSpec, event_key, fit_spec
from leadscore.features.stages import stage_order
from leadscore.features.table import build_features, build_table
from leadscore.io.memory import release_freed_memory
from leadscore.io.source import EventSource
from leadscore.training.grid import table_cadence, time_plan, training_snapshot_dates
from leadscore.training.sampling import SHARE, sampled

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from leadscore.io.spark import SparkEvents


def spec_for(
    tables: Tables,
    cfg: Config,
    cutoff: pd.Timestamp,
    events: EventSource | SparkEvents | None = None,
) -> FeatureSpec:
    """Fit the feature vocabulary on what was known at ``cutoff`` (lead fields as they were
    then, with a field history)."""
    f = cfg.features
    missing = [c for c in f.explicit.extra if c not in tables.leads.columns]
    if missing:
        raise DataError(
            f"leads: config leadscore.features.explicit.extra names column(s) {missing} not in the table "
            f"({len(tables.leads)} rows)"
        )
    spec = fit_spec(
        leads_as_of(tables.leads, tables.field_history, cutoff),
        tables.events if events is None else events,
        cutoff,
        event_types=f.event_types,
        max_event_types=f.max_event_types,
        windows_days=f.windows_days,
        half_life_days=f.half_life_days,
        event_half_lives=f.event_half_life_days,
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
        domains=domain_lists(
            f.email_domains.free, f.email_domains.disposable, f.email_domains.replace
        ),
    )
    if tables.field_history is None:
        return spec
    read = tuple(c for c, _ in history_fields(tables.leads, tables.field_history))
    return dataclasses.replace(spec, history_fields=read)


@dataclass(frozen=True)
class TrainingTable:
    # lead_id, as_of, features..., label (labelled rows only), and sample_share when only
    # a sample of the non-converted rows was built (leadscore.training.sampling)
    frame: pd.DataFrame
    spec: FeatureSpec
    data_end: pd.Timestamp
    snapshot_dates: list[pd.Timestamp]
    labelled: int = 0  # labelled snapshots, built or not


def training_table(
    tables: Tables,
    cfg: Config,
    as_of: pd.Timestamp | None = None,
    events: EventSource | None = None,
) -> TrainingTable:
    """The labelled, stacked training table as if today were ``as_of`` (default: the data's
    end). Snapshots and labels come first; with ``training.sample_before_build``, features
    are then built only for the rows some fit can use (``sampling.sampled``). ``events``
    (an ``EventSource``) replaces ``tables.events``, so the history stays in its file."""
    end = as_of if as_of is not None else data_end(tables, events)
    view = as_of_view(tables, end)
    source = view.events if events is None else events.cut(end)
    dates = training_snapshot_dates(view, cfg, end)
    spec = spec_for(view, cfg, dates[-1] if dates else end, None if events is None else source)
    snaps = open_leads(view.leads, view.outcomes, dates)
    label = label_snapshots(snaps, view.outcomes, cfg.training.horizon_days, end).to_numpy()
    known = ~np.isnan(label)
    snaps, label = snaps[known].reset_index(drop=True), label[known]
    share = _shares(snaps, label, cfg)
    kept = share > 0
    frame = build_features(
        view.leads,
        source,
        snaps[kept].reset_index(drop=True),
        spec,
        stages=view.stages,
        field_history=view.field_history,
    )
    frame["label"] = label[kept]
    if (share[kept] < 1.0).any():
        frame[SHARE] = share[kept]
    release_freed_memory()  # what building the table freed, before the fits allocate
    return TrainingTable(frame, spec, end, dates, labelled=len(snaps))


def _shares(snaps: pd.DataFrame, label: np.ndarray, cfg: Config) -> np.ndarray:
    # Without a plan (too little history) every row is built; training then says why.
    if not cfg.training.sample_before_build or cfg.model.max_negatives_per_positive is None:
        return np.ones(len(label))
    try:
        plan = time_plan(snaps["as_of"], label, table_cadence(cfg, snaps["as_of"]))
    except DataError:
        return np.ones(len(label))
    return sampled(snaps, label, plan, cfg)


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
        field_history=tables.field_history,
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
        events.spark,
        tables.leads,
        events,
        snaps,
        spec,
        label,
        stages=tables.stages,
        field_history=tables.field_history,
    )
    return frame, spec
