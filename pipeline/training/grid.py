"""Which snapshots a history trains on: the grid of dates (anchored at the latest labelled
moment, from when outcomes are recorded), its labels without features, the backtest plan
they give, and the cadence: ``training.cadence: auto`` takes the coarsest cadence whose
backtest fits two folds, computed from the data before any feature is built.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.config import Config
from leadscore.data.contract import Tables
from leadscore.data.views import as_of_view, data_end
from leadscore.errors import DataError
from leadscore.features.snapshots import anchored_dates, label_snapshots, open_leads
from leadscore.timestamps import to_utc
from leadscore.training.folds import Plan, time_folds
from leadscore.words import counted


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
    (``resolve_cadence``).
    """
    if cfg.training.cadence == "auto":
        cfg, _ = resolve_cadence(tables, cfg, end)
    anchor = end.normalize() - pd.Timedelta(days=cfg.training.horizon_days)
    first = cfg.training.first_snapshot_at
    start = tables.leads["created_at"].min() if first is None else first - pd.Timedelta(seconds=1)
    recorded = outcomes_recorded_from(tables, cfg)
    if recorded is not None:  # earlier snapshots' wins were never recorded: not losses
        start = max(start, recorded - pd.Timedelta(seconds=1))
    return anchored_dates(start, anchor, cfg.training.cadence)


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
    return time_plan(*label_grid(tables, cfg, end), cfg)


def time_plan(period: pd.Series, label: np.ndarray, cfg: Config) -> Plan:
    """The backtest plan of labelled rows at ``period`` (``DataError`` when no fold fits)."""
    b = cfg.training.backtest
    return time_folds(
        period,
        label,
        cfg.training.horizon_days,
        None if b.folds == "auto" else int(b.folds),
        None if b.fold_snapshots == "auto" else int(b.fold_snapshots),
        cfg.training.cadence,
    )


#: Cadences ``auto`` weighs for more folds (each finer one multiplies the rows), and those
#: it tries only when none of them fits two.
PREFERRED_CADENCES: tuple[str | int, ...] = ("monthly", 14, 7)
LAST_RESORT_CADENCES: tuple[int, ...] = (3, 1)


def finer_cadences(cadence: str | int) -> list[int]:
    """Cadences (days) finer than ``cadence``, coarsest first."""
    days = 30 if cadence in ("monthly", "auto") else int(cadence)
    steps = [c for c in (*PREFERRED_CADENCES, *LAST_RESORT_CADENCES) if isinstance(c, int)]
    return [c for c in steps if c < days]


def with_cadence(cfg: Config, cadence: str | int) -> Config:
    return cfg.model_copy(update={"training": cfg.training.model_copy(update={"cadence": cadence})})


def cadence_label(cadence: str | int) -> str:
    """``monthly`` or ``N-day``, as runs print a cadence."""
    return "monthly" if cadence == "monthly" else f"{cadence}-day"


#: Cadences ``auto`` weighs for more folds (each finer one multiplies the rows), and those
#: it tries only when none of them fits two folds.
PREFERRED_CADENCES: tuple[str | int, ...] = ("monthly", 14, 7)
LAST_RESORT_CADENCES: tuple[int, ...] = (3, 1)


def resolve_cadence(
    tables: Tables, cfg: Config, as_of: pd.Timestamp | None
) -> tuple[Config, str | None]:
    """``cfg`` with a concrete cadence, and a line saying what ``auto`` chose (None when the
    cadence was set, or ``auto`` kept monthly). ``auto``: of monthly, 14 and 7 days, the
    coarsest whose backtest fits the most folds (up to the folds asked for: 4 under
    ``auto``); when none fits two, the coarsest of 3 and 1 days that does; when nothing
    fits, monthly (and training refuses with its advice)."""
    if cfg.training.cadence != "auto":
        return cfg, None
    end = as_of if as_of is not None else data_end(tables)
    folds = cfg.training.backtest.folds
    want = 4 if folds == "auto" else int(folds)
    fitted: dict[str | int, int] = {}

    def count(cadence: str | int) -> int:
        try:
            fitted[cadence] = len(plan_for(tables, with_cadence(cfg, cadence), end).folds)
        except DataError:
            fitted[cadence] = 0
        return fitted[cadence]

    best: str | int = "monthly"
    for cadence in PREFERRED_CADENCES:
        if count(cadence) > fitted[best]:
            best = cadence
        if fitted[best] >= want:
            break
    if fitted[best] < min(2, want):
        for cadence in LAST_RESORT_CADENCES:
            if count(cadence) >= min(2, want):
                best = cadence
                break
    if best == "monthly" or not fitted[best]:
        return with_cadence(cfg, "monthly"), None
    positives = int(label_grid(tables, with_cadence(cfg, best), end)[1].sum())
    return with_cadence(cfg, best), (
        f"training.cadence auto: {cadence_label(best)} snapshots, the coarsest whose backtest fits "
        f"{counted(fitted[best], 'fold')} ({positives:,} labelled conversions; monthly snapshots fit "
        f"{fitted['monthly']})"
    )


def cadence_of(dates: pd.Series) -> str | int:
    """The cadence a table's snapshot dates were taken at: the median gap between them in
    days (``monthly`` from 28 days up; one date counts as monthly)."""
    unique = pd.Series(pd.to_datetime(dates.unique(), utc=True)).sort_values()
    if len(unique) < 2:
        return "monthly"
    days = float(unique.diff().dropna().dt.total_seconds().median() / 86_400)
    return "monthly" if days >= 28 else max(1, int(round(days)))


def table_cadence(cfg: Config, dates: pd.Series) -> Config:
    """``cfg`` with ``auto`` replaced by the cadence of a built table's dates."""
    if cfg.training.cadence != "auto":
        return cfg
    return with_cadence(cfg, cadence_of(dates))
