"""Each table's rules: leads, events, funnel stages and outcomes (see the package docstring
for the rules and their order)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.data.contract import KNOWN_EVENT_TYPES, OPTIONAL
from leadscore.data.validate.report import Problem, TableCounts, _plural, _say
from leadscore.data.validate.rows import _count_repeats, _keep, _LeadRef, _rejects, _Rows
from leadscore.data.validate.values import (
    _as_id,
    _as_text,
    _event_types,
    _isna,
    _number_column,
    _parse_timestamps,
    _parse_won,
    _ts_series,
)


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


def _check_leads(
    raw: pd.DataFrame, problems: list[Problem]
) -> tuple[pd.DataFrame | None, pd.DataFrame, TableCounts]:
    n = len(raw)
    rows, ids, created = _dated_rows("leads", raw, "created_at", problems)
    dup = np.zeros(n, bool)
    ok = rows.kept
    dup[ok] = ids[ok].duplicated(keep="first").to_numpy()
    rows.drop(
        dup,
        "lead_id",
        "duplicate lead_id",
        "{rows} repeat{s} an earlier lead_id{eg}; the first is kept",
        ids,
    )

    bad = np.flatnonzero(~rows.kept)
    rejects = _rejects(ids.iloc[bad], bad, np.asarray(rows.labels, dtype=object)[rows.code[bad]])
    counts = rows.counts()
    if n and counts.kept == 0:
        msg = f"table has no valid rows left (all {_plural(n, 'row')} dropped)"
        problems.append(Problem("leads", None, n, msg, True))
        return None, rejects, counts

    out = raw.assign(lead_id=ids, created_at=_ts_series(created))
    out = _keep(out, rows.kept)
    for col, kind in OPTIONAL["leads"].items():
        if col not in out.columns:
            continue
        if kind == "number":
            out[col] = _number_column(out[col], "leads", col, problems)
        else:
            out[col] = _as_text(out[col])
    return out, rejects, counts


def _check_events(
    raw: pd.DataFrame, ref: _LeadRef | None, problems: list[Problem]
) -> tuple[pd.DataFrame | None, TableCounts]:
    rows, ids, occurred, (etype, type_codes, types), where = _history_rows(
        "events", raw, ref, problems, "occurred_at", "event_type"
    )
    if where is None:
        return None, TableCounts(len(raw), None, None)
    kept = rows.kept
    out = _keep(raw.assign(lead_id=ids, occurred_at=_ts_series(occurred), event_type=etype), kept)
    _note_events(where[kept], occurred[kept], type_codes[kept], types, problems)
    return out, rows.counts()


def _check_stages(
    raw: pd.DataFrame, ref: _LeadRef | None, problems: list[Problem]
) -> tuple[pd.DataFrame | None, TableCounts]:
    """Stage entries: the rules of events, the stage name folded like an event type."""
    rows, ids, entered, (stage, _, _), where = _history_rows(
        "stages", raw, ref, problems, "entered_at", "stage"
    )
    if where is None:
        return None, TableCounts(len(raw), None, None)
    out = _keep(raw.assign(lead_id=ids, stage=stage, entered_at=_ts_series(entered)), rows.kept)
    return out, rows.counts()


def _check_outcomes(
    raw: pd.DataFrame, ref: _LeadRef | None, problems: list[Problem]
) -> tuple[pd.DataFrame | None, TableCounts]:
    n = len(raw)
    rows, ids, closed = _dated_rows("outcomes", raw, "closed_at", problems)
    won, won_missing, won_bad = _parse_won(raw["won"])
    rows.drop(won_missing, "won", "missing won", "{rows} {have} no won value")
    rows.drop(
        won_bad,
        "won",
        "unparseable won",
        "{rows} {have} an unparseable won value{eg} (expected true/false, yes/no, won/lost, 1/0)",
        raw["won"],
    )
    if ref is None:
        return None, TableCounts(n, None, None)
    where = _drop_unknown_or_early(rows, ref, ids, closed, "closed_at", "closed")

    ok = np.flatnonzero(rows.kept)
    order = ok[np.lexsort((closed[ok], where[ok]))]  # stable: file order breaks ties
    lead = where[order]
    later = np.zeros(n, bool)
    later[order[1:][lead[1:] == lead[:-1]]] = True
    rows.drop(
        later,
        "lead_id",
        "further outcome",
        "{rows} repeat{s} a lead_id that has an earlier outcome{eg}; the earliest closed_at is kept",
        ids,
    )

    out = raw.assign(lead_id=ids, closed_at=_ts_series(closed), won=won)
    out = _keep(out, rows.kept)
    if "amount" in out.columns:
        out["amount"] = _number_column(out["amount"], "outcomes", "amount", problems)
    return out, rows.counts()


def _drop_unknown_or_early(
    rows: _Rows, ref: _LeadRef, ids: pd.Series, times: np.ndarray, column: str, verb: str
) -> np.ndarray:
    """Drop rows of an unknown lead or dated before the lead's creation; each row's lead index."""
    where = ref.locate(ids)
    rows.drop(
        where < 0,
        "lead_id",
        "unknown lead_id",
        "{rows} {have} a lead_id not among the valid leads",
        ids,
    )
    known = where >= 0
    before = np.zeros(len(where), bool)
    before[known] = times[known] < ref.created[where[known]]
    rows.drop(before, column, "before created_at", f"{{rows}} {verb} before the lead's created_at")
    return where


def _note_events(
    lead: np.ndarray,
    occurred: np.ndarray,
    codes: np.ndarray,
    types: np.ndarray,
    problems: list[Problem],
) -> None:
    """Informational counts on kept events: exact duplicates, types outside the contract."""
    if not len(lead):
        return
    repeats = _count_repeats([lead, occurred, codes])
    if repeats:
        what = "{rows} repeat{s} an earlier event with the same lead_id, occurred_at and event_type"
        problems.append(Problem("events", None, repeats, f"{_say(what, repeats)} (kept)", False))
    per_type = np.bincount(codes, minlength=len(types))
    unknown = np.flatnonzero(~np.isin(types, KNOWN_EVENT_TYPES) & (per_type > 0))
    if len(unknown):
        per_type = per_type[unknown]
        k = int(per_type.sum())
        top = types[unknown[np.argsort(-per_type, kind="stable")[:5]]]  # most frequent first
        names = ", ".join(map(repr, top)) + (", ..." if len(unknown) > 5 else "")
        what = "{rows} {have} an event type outside the contract's list{eg}"
        text = _say(what, k, f" ({_plural(len(unknown), 'type')}: {names})")
        problems.append(Problem("events", "event_type", k, f"{text} (kept)", False))
