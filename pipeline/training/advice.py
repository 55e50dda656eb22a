"""When training must refuse, the refusal names a cadence that would fit, computed from the
data before any feature is built (``grid``: the same snapshots and labels, no features).
"""

from __future__ import annotations

import pandas as pd

from leadscore.config import Config
from leadscore.data.contract import Tables
from leadscore.data.views import data_end
from leadscore.errors import DataError
from leadscore.training.grid import finer_cadences, label_grid, plan_for, with_cadence
from leadscore.words import counted


def check_folds_fit(tables: Tables, cfg: Config, as_of: pd.Timestamp | None) -> None:
    """Refuse before any feature is built when no backtest fold fits, naming the coarsest
    finer cadence under which folds do fit (and how many conversions it labels)."""
    end = as_of if as_of is not None else data_end(tables)
    try:
        plan_for(tables, cfg, end)
    except DataError as err:
        for cadence in finer_cadences(cfg.training.cadence):
            trial = with_cadence(cfg, cadence)
            try:
                plan = plan_for(tables, trial, end)
            except DataError:
                continue
            positives = int(label_grid(tables, trial, end)[1].sum())
            raise DataError(
                f"{err}; with training.cadence {cadence}, {counted(len(plan.folds), 'fold')} fit "
                f"({positives:,} labelled conversions)"
            ) from None
        raise
