"""The events table's own rules: the history rules with ``event_type`` as the kind, then
notes on the kept rows (exact repeats, types outside the contract's list)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.data.contract import KNOWN_EVENT_TYPES
from leadscore.data.validate.checker import _history_rows
from leadscore.data.validate.report import Problem, TableCounts, _plural, _say
from leadscore.data.validate.rows import _count_repeats, _keep, _LeadRef
from leadscore.data.validate.values import _ts_series


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
