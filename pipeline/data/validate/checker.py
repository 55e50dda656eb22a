"""The shared table checker: the rules every table starts with (a ``lead_id``, a readable
timestamp), the rules of a lead's history (a kind, events and stage entries) and the rules
of every table that refers to the leads (a known lead, nothing before its creation)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.data.validate.report import Problem
from leadscore.data.validate.rows import _LeadRef, _Rows
from leadscore.data.validate.values import _as_id, _event_types, _isna, _parse_timestamps


def _dated_rows(
    table: str, raw: pd.DataFrame, time_col: str, problems: list[Problem]
) -> tuple[_Rows, pd.Series, np.ndarray]:
    """The rules every table starts with, in order: a ``lead_id``, then a ``time_col`` that
    is there and readable. Returns the table's row bookkeeping, the ids and the times."""
    rows = _Rows(table, len(raw), problems)
    ids = _as_id(raw["lead_id"])
    times, ts_missing, ts_bad = _parse_timestamps(raw[time_col])
    rows.drop(_isna(ids), "lead_id", "missing lead_id", "{rows} {have} no lead_id")
    rows.drop(ts_missing, time_col, f"missing {time_col}", f"{{rows}} {{have}} no {time_col}")
    rows.drop(
        ts_bad,
        time_col,
        f"unparseable {time_col}",
        "{rows} {have} an unparseable timestamp",
        raw[time_col],
    )
    return rows, ids, times


def _history_rows(
    table: str,
    raw: pd.DataFrame,
    ref: _LeadRef | None,
    problems: list[Problem],
    time_col: str,
    kind_col: str,
) -> tuple[_Rows, pd.Series, np.ndarray, tuple, np.ndarray | None]:
    """A lead's history (events, stage entries): the dated rules, a ``kind_col`` folded to
    one spelling and present, then a lead among the kept ones and no entry before its
    creation. Returns the rows, ids, times, the folded kinds (values, codes, distinct) and
    each row's lead index (None without valid leads: nothing more is checked)."""
    rows, ids, times = _dated_rows(table, raw, time_col, problems)
    kinds = _event_types(raw[kind_col])
    rows.drop(kinds[1] < 0, kind_col, f"missing {kind_col}", f"{{rows}} {{have}} no {kind_col}")
    if ref is None:
        return rows, ids, times, kinds, None
    verb = time_col.removesuffix("_at")
    where = _drop_unknown_or_early(rows, ref, ids, times, time_col, verb)
    return rows, ids, times, kinds, where


def _drop_unknown_or_early(
    rows: _Rows, ref: _LeadRef, ids: pd.Series, times: np.ndarray, column: str, verb: str
) -> np.ndarray:
    """Drop rows of an unknown lead or dated before the lead's creation; each row's lead index."""
    where = _drop_unknown(rows, ref, ids)
    known = where >= 0
    before = np.zeros(len(where), bool)
    before[known] = times[known] < ref.created[where[known]]
    rows.drop(before, column, "before created_at", f"{{rows}} {verb} before the lead's created_at")
    return where


def _drop_unknown(rows: _Rows, ref: _LeadRef, ids: pd.Series) -> np.ndarray:
    """Drop rows of a lead not among the valid leads; each row's lead index (-1: unknown)."""
    where = ref.locate(ids)
    rows.drop(
        where < 0,
        "lead_id",
        "unknown lead_id",
        "{rows} {have} a lead_id not among the valid leads",
        ids,
    )
    return where
