"""Which rows each backtest fold learns from and is judged on, and what the deployed model learns.

Two things are kept apart. The *estimate* of how well the approach works is a rolling-origin
backtest: K test periods at the end of the labelled history, each judged by a model that
learned only from what was known before it. The *deployed model* learns from every row whose
label is known by ``as_of``. This module plans both; it fits nothing.

Time folds (events mode). Rows belong to snapshot dates. A fold's test is a block of
consecutive snapshots; it trains on every snapshot whose label window ends by the fold's
first test snapshot (``snapshot + horizon <= test start``: the embargo), so no training label
reaches into the period the fold is judged on. A property test checks it for any cadence,
horizon and history length.

Row folds (flat files). With ``--ordered`` (or a date column) rows are in time order: the
last ``test_share`` of rows is cut into K consecutive blocks, each judged by a model of every
row before it. Without order the folds are stratified at random (cross-validation), which is
not an out-of-time estimate, and the run says so.

Early stopping happens inside a fold's training rows: a fixed share of its *leads* (by a
seeded hash of the id, so a lead's snapshots stay together) is held out to stop boosting and
to calibrate the fold's model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from leadscore.errors import DataError
from leadscore.words import counted

#: A fold needs this many conversions to learn from and at least one to be judged on.
MIN_FOLD_POSITIVES = 10
#: Folds by default, fewer when the history is short.
DEFAULT_FOLDS = 4
#: Share of a fold's training leads held out to stop boosting and calibrate.
HOLDOUT_SHARE = 0.2


@dataclass(frozen=True)
class Fold:
    number: int  # 1 = oldest
    train: np.ndarray  # bool mask over the table's rows
    test: np.ndarray
    test_label: str  # "2025-09-01", "2025-08-01..2025-09-01", "rows 1,601-2,000", "fold 3 of 5"
    train_label: str


@dataclass(frozen=True)
class Plan:
    folds: list[Fold]
    deploy: np.ndarray  # rows the deployed model learns from
    deploy_label: str
    how: str  # one sentence for the run's output and the report
    out_of_time: bool
    snapshots: bool = False  # rows are (lead, snapshot date) pairs, periods are the dates

    def describe(self) -> dict[str, str]:
        return {
            "method": self.how,
            "deploy": self.deploy_label,
            **{f"fold{f.number}.test": f.test_label for f in self.folds},
            **{f"fold{f.number}.train": f.train_label for f in self.folds},
        }


def _span(dates: list[pd.Timestamp]) -> str:
    if not dates:
        return "none"
    lo, hi = f"{dates[0]:%Y-%m-%d}", f"{dates[-1]:%Y-%m-%d}"
    return f"{lo} ({len(dates)})" if lo == hi else f"{lo}..{hi} ({len(dates)})"


def periods_per_fold(cadence: str | int) -> int:
    """About a month of snapshots per fold: 1 monthly, 4 weekly, 2 fortnightly."""
    days = 30 if cadence == "monthly" else int(cadence)
    return max(1, round(28 / days))


def time_folds(
    period: pd.Series,
    label: np.ndarray,
    horizon_days: int,
    n_folds: int | None = None,
    fold_periods: int | None = None,
    cadence: str | int = "monthly",
) -> Plan:
    """Rolling-origin folds over snapshot dates, the latest ``n_folds`` blocks of
    ``fold_periods`` snapshots each (``None``: adapted to the history, and said so).

    A fold is kept only if it has ``MIN_FOLD_POSITIVES`` conversions to learn from and one to
    be judged on. Unset, the fold length shrinks towards one snapshot until two folds fit.
    """
    # Rows by their snapshot's position among the sorted dates: masks are then table look-ups
    # (np.isin over millions of timestamps costs seconds per fold).
    codes, uniques = pd.factorize(period, sort=True)
    dates = list(uniques)
    position = {d: i for i, d in enumerate(dates)}
    horizon = pd.Timedelta(days=horizon_days)
    pos_by = pd.Series(np.bincount(codes, weights=label, minlength=len(dates)), index=uniques)
    auto_len = periods_per_fold(cadence) if fold_periods is None else fold_periods
    want = DEFAULT_FOLDS if n_folds is None else n_folds
    lengths = [auto_len] if fold_periods is not None else list(range(auto_len, 0, -1))
    best: list[tuple[list, list]] = []
    for length in lengths:
        found = _blocks(dates, pos_by, horizon, length, want)
        if len(found) > len(best):
            best = found
        if len(found) >= min(2, want):
            break
    if not best:
        raise DataError(
            f"training: no backtest fold fits in {counted(len(dates), 'labelled snapshot')}: a fold needs "
            f"{MIN_FOLD_POSITIVES} conversions in snapshots whose {horizon_days}-day label window "
            "ends before its test snapshot, and one conversion to be judged on; add history, "
            "use a shorter training.horizon_days or a finer training.cadence"
        )
    folds = []
    for i, (train_dates, test_dates) in enumerate(best, start=1):
        folds.append(
            Fold(
                i,
                _rows(codes, [position[d] for d in train_dates], len(dates)),
                _rows(codes, [position[d] for d in test_dates], len(dates)),
                _span(test_dates),
                _span(train_dates),
            )
        )
    length = len(best[-1][1])
    auto = " (set by the history: training.backtest)" if n_folds is None else ""
    how = (
        f"rolling backtest: {counted(len(folds), 'fold')} of {counted(length, 'snapshot')}, each trained on the "
        f"snapshots whose {horizon_days}-day labels end before its test{auto}"
    )
    return Plan(folds, np.ones(len(codes), bool), _span(dates), how, True, snapshots=True)


def _rows(codes: np.ndarray, chosen: list[int], n: int) -> np.ndarray:
    """Rows whose snapshot position is one of ``chosen``."""
    pick = np.zeros(n, bool)
    pick[chosen] = True
    return pick[codes] & (codes >= 0)


def _blocks(dates, pos_by, horizon, length, want) -> list[tuple[list, list]]:
    """Up to ``want`` usable (train dates, test dates) pairs, oldest first."""
    out = []
    end = len(dates)
    while end - length >= 0 and len(out) < want:
        test = dates[end - length : end]
        train = [d for d in dates if d + horizon <= test[0]]
        if pos_by.reindex(train).sum() >= MIN_FOLD_POSITIVES and pos_by.reindex(test).sum() >= 1:
            out.append((train, test))
        elif not train:
            break
        end -= length
    return out[::-1]


def row_folds(
    n_rows: int,
    label: np.ndarray,
    n_folds: int,
    test_share: float,
    order: np.ndarray | None,
    by: str = "row order",
) -> Plan:
    """Folds over a flat file: by row order (``order``: row positions in time order), or
    stratified at random when ``order`` is None."""
    label = np.asarray(label)
    if order is None:
        k = int(min(n_folds, max(2, int(label.sum())), max(2, int((1 - label).sum()))))
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=0)
        folds = []
        for i, (tr, te) in enumerate(splitter.split(np.zeros(n_rows), label), start=1):
            train, test = np.zeros(n_rows, bool), np.zeros(n_rows, bool)
            train[tr], test[te] = True, True
            folds.append(Fold(i, train, test, f"fold {i} of {k}", f"the other {k - 1} folds"))
        how = (
            f"{k}-fold cross-validation, stratified at random (the file has no order): "
            "not an out-of-time estimate"
        )
        return Plan(folds, np.ones(n_rows, bool), f"all {n_rows:,} rows", how, False)
    rank = np.empty(n_rows, dtype=np.int64)
    rank[np.asarray(order)] = np.arange(n_rows)
    first_test = int(round(n_rows * (1 - test_share)))
    edges = np.linspace(first_test, n_rows, n_folds + 1).round().astype(int)
    folds = []
    for i in range(n_folds):
        lo, hi = int(edges[i]), int(edges[i + 1])
        test, train = (rank >= lo) & (rank < hi), rank < lo
        if hi <= lo or label[test].sum() < 1 or label[train].sum() < MIN_FOLD_POSITIVES:
            continue
        folds.append(Fold(len(folds) + 1, train, test, f"rows {lo + 1:,}-{hi:,}", f"rows 1-{lo:,}"))
    if not folds:
        raise DataError(
            f"flat file: no backtest fold fits in {n_rows:,} rows: each needs "
            f"{MIN_FOLD_POSITIVES} conversions before it and one inside it"
        )
    how = (
        f"out of time by {by}: the last {test_share:.0%} of rows in "
        f"{counted(len(folds), 'consecutive fold')}, each trained on every row before it"
    )
    return Plan(folds, np.ones(n_rows, bool), f"all {n_rows:,} rows", how, True)


#: Fewer conversions than this in a fold's holdout: hold out half of its leads instead.
MIN_HOLDOUT_POSITIVES = 5


def lead_hashes(ids: pd.Series, seed: int) -> np.ndarray:
    """Each row's seeded hash of its lead id (``holdout`` reads it; the same for every
    snapshot of a lead)."""
    key = f"{seed:016d}"[-16:]
    return pd.util.hash_pandas_object(ids.astype("string"), index=False, hash_key=key).to_numpy()


def holdout(
    ids: pd.Series,
    rows: np.ndarray,
    seed: int,
    share: float = HOLDOUT_SHARE,
    hashed: np.ndarray | None = None,
) -> np.ndarray:
    """Of the rows in ``rows``, those whose lead falls in the held-out share (all of a lead's
    snapshots together; the same lead every time for the same seed). ``hashed``: the ids'
    ``lead_hashes`` for this seed, when already computed."""
    h = lead_hashes(ids, seed) if hashed is None else hashed
    return rows & ((h % np.uint64(10_000)) < np.uint64(int(share * 10_000)))


def fit_holdout(
    ids: pd.Series, y: np.ndarray, train: np.ndarray, seed: int, hashed: np.ndarray | None = None
) -> np.ndarray:
    """The holdout of one fit's training rows: ``holdout``'s share of their leads, or half of
    them when either side would have fewer than ``MIN_HOLDOUT_POSITIVES`` conversions
    (``hashed``: as for ``holdout``)."""
    h = lead_hashes(ids, seed) if hashed is None else hashed
    hold = holdout(ids, train, seed, hashed=h)
    if y[hold].sum() < MIN_HOLDOUT_POSITIVES or y[train & ~hold].sum() < MIN_HOLDOUT_POSITIVES:
        hold = holdout(ids, train, seed, share=0.5, hashed=h)
    return hold
