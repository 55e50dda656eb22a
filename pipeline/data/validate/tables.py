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


def _check_leads(
    raw: pd.DataFrame, problems: list[Problem]
) -> tuple[pd.DataFrame | None, pd.DataFrame, TableCounts]:
    n = len(raw)
    rows = _Rows("leads", n, problems)
    ids = _as_id(raw["lead_id"])
    created, ts_missing, ts_bad = _parse_timestamps(raw["created_at"])

    rows.drop(_isna(ids), "lead_id", "missing lead_id", "{rows} {have} no lead_id")
    rows.drop(ts_missing, "created_at", "missing created_at", "{rows} {have} no created_at")
    rows.drop(
        ts_bad,
        "created_at",
        "unparseable created_at",
        "{rows} {have} an unparseable timestamp",
        raw["created_at"],
    )
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
    n = len(raw)
    rows = _Rows("events", n, problems)
    ids = _as_id(raw["lead_id"])
    occurred, ts_missing, ts_bad = _parse_timestamps(raw["occurred_at"])
    etype, type_codes, types = _event_types(raw["event_type"])

    rows.drop(_isna(ids), "lead_id", "missing lead_id", "{rows} {have} no lead_id")
    rows.drop(ts_missing, "occurred_at", "missing occurred_at", "{rows} {have} no occurred_at")
    rows.drop(
        ts_bad,
        "occurred_at",
        "unparseable occurred_at",
        "{rows} {have} an unparseable timestamp",
        raw["occurred_at"],
    )
    rows.drop(type_codes < 0, "event_type", "missing event_type", "{rows} {have} no event_type")
    if ref is None:
        return None, TableCounts(n, None, None)
    where = _drop_unknown_or_early(rows, ref, ids, occurred, "occurred_at", "occurred")

    kept = rows.kept
    out = _keep(raw.assign(lead_id=ids, occurred_at=_ts_series(occurred), event_type=etype), kept)
    _note_events(where[kept], occurred[kept], type_codes[kept], types, problems)
    return out, rows.counts()


def _check_stages(
    raw: pd.DataFrame, ref: _LeadRef | None, problems: list[Problem]
) -> tuple[pd.DataFrame | None, TableCounts]:
    """Stage entries: the rules of events, the stage name folded like an event type."""
    n = len(raw)
    rows = _Rows("stages", n, problems)
    ids = _as_id(raw["lead_id"])
    entered, ts_missing, ts_bad = _parse_timestamps(raw["entered_at"])
    stage, codes, _ = _event_types(raw["stage"])

    rows.drop(_isna(ids), "lead_id", "missing lead_id", "{rows} {have} no lead_id")
    rows.drop(ts_missing, "entered_at", "missing entered_at", "{rows} {have} no entered_at")
    rows.drop(
        ts_bad,
        "entered_at",
        "unparseable entered_at",
        "{rows} {have} an unparseable timestamp",
        raw["entered_at"],
    )
    rows.drop(codes < 0, "stage", "missing stage", "{rows} {have} no stage")
    if ref is None:
        return None, TableCounts(n, None, None)
    _drop_unknown_or_early(rows, ref, ids, entered, "entered_at", "entered")
    out = _keep(raw.assign(lead_id=ids, stage=stage, entered_at=_ts_series(entered)), rows.kept)
    return out, rows.counts()


def _check_outcomes(
    raw: pd.DataFrame, ref: _LeadRef | None, problems: list[Problem]
) -> tuple[pd.DataFrame | None, TableCounts]:
    n = len(raw)
    rows = _Rows("outcomes", n, problems)
    ids = _as_id(raw["lead_id"])
    closed, ts_missing, ts_bad = _parse_timestamps(raw["closed_at"])
    won, won_missing, won_bad = _parse_won(raw["won"])

    rows.drop(_isna(ids), "lead_id", "missing lead_id", "{rows} {have} no lead_id")
    rows.drop(ts_missing, "closed_at", "missing closed_at", "{rows} {have} no closed_at")
    rows.drop(
        ts_bad,
        "closed_at",
        "unparseable closed_at",
        "{rows} {have} an unparseable timestamp",
        raw["closed_at"],
    )
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
