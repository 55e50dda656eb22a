"""When training must refuse, the refusal names a configuration that would fit, computed
from the data: the same snapshots and labels on a finer cadence, without building features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.config import Config
from leadscore.data.contract import Tables
from leadscore.data.views import as_of_view, data_end
from leadscore.errors import DataError
from leadscore.features.snapshots import label_snapshots, open_leads
from leadscore.training.dataset import training_snapshot_dates
from leadscore.training.folds import Plan, time_folds


def label_grid(tables: Tables, cfg: Config, end: pd.Timestamp) -> tuple[pd.Series, np.ndarray]:
    """Each labelled training row's snapshot and label, as the training table will hold
    them (open leads on the grid, labels over the horizon), without their features."""
    view = as_of_view(tables, end)
    dates = training_snapshot_dates(view, cfg, end)
    snaps = open_leads(view.leads, view.outcomes, dates)
    label = label_snapshots(snaps, view.outcomes, cfg.training.horizon_days, end).to_numpy()
    known = ~np.isnan(label)
    return snaps["as_of"][known].reset_index(drop=True), label[known]


def plan_for(tables: Tables, cfg: Config, end: pd.Timestamp) -> Plan:
    """The backtest plan the training table will get (``DataError`` when no fold fits)."""
    period, label = label_grid(tables, cfg, end)
    b = cfg.training.backtest
    return time_folds(
        period,
        label,
        cfg.training.horizon_days,
        None if b.folds == "auto" else int(b.folds),
        None if b.fold_snapshots == "auto" else int(b.fold_snapshots),
        cfg.training.cadence,
    )


def finer_cadences(cadence: str | int) -> list[int]:
    """Cadences (days) finer than ``cadence``, coarsest first."""
    days = 30 if cadence == "monthly" else int(cadence)
    return [c for c in (14, 7, 3, 1) if c < days]


def check_folds_fit(tables: Tables, cfg: Config, as_of: pd.Timestamp | None) -> None:
    """Refuse before any feature is built when no backtest fold fits, naming the coarsest
    finer cadence under which folds do fit (and how many conversions it labels)."""
    end = as_of if as_of is not None else data_end(tables)
    try:
        plan_for(tables, cfg, end)
    except DataError as err:
        for cadence in finer_cadences(cfg.training.cadence):
            trial = cfg.model_copy(
                update={"training": cfg.training.model_copy(update={"cadence": cadence})}
            )
            try:
                plan = plan_for(tables, trial, end)
            except DataError:
                continue
            positives = int(label_grid(tables, trial, end)[1].sum())
            raise DataError(
                f"{err}; with training.cadence {cadence}, {len(plan.folds)} fold(s) fit "
                f"({positives:,} labelled conversions)"
            ) from None
        raise
