"""The tables seen from a moment: as they were at ``as_of``, and the latest moment they know."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from leadscore.data.contract import Tables
from leadscore.io.source import EventSource

if TYPE_CHECKING:
    from leadscore.io.spark import SparkEvents


def data_end(tables: Tables, events: EventSource | SparkEvents | None = None) -> pd.Timestamp:
    """The latest moment the data knows about (lead created, event, or deal closed)."""
    candidates = [tables.leads["created_at"].max()]
    if events is not None:
        candidates.append(events.max_time())
    elif len(tables.events):
        candidates.append(tables.events["occurred_at"].max())
    if len(tables.outcomes):
        candidates.append(tables.outcomes["closed_at"].max())
    return max(c for c in candidates if c is not None and pd.notna(c))


def as_of_view(tables: Tables, as_of: pd.Timestamp) -> Tables:
    """The tables as they were at ``as_of``: nothing created, done or closed after it.

    The field history is kept whole: the leads table holds each field as the export saw
    it, and the history's changes after ``as_of`` are what says a field held another value
    then (the feature code reads each field as it was at each moment).
    """
    t = as_of
    return Tables(
        leads=tables.leads[tables.leads["created_at"] <= t].reset_index(drop=True),
        events=tables.events[tables.events["occurred_at"] <= t].reset_index(drop=True),
        outcomes=tables.outcomes[tables.outcomes["closed_at"] <= t].reset_index(drop=True),
        stages=None
        if tables.stages is None
        else tables.stages[tables.stages["entered_at"] <= t].reset_index(drop=True),
        field_history=tables.field_history,
    )


def fields_note(tables: Tables) -> str | None:
    """What a run says once when the folder has no field history: lead fields are read as
    the export holds them, at every moment."""
    if tables.field_history is not None:
        return None
    return (
        "lead fields: taken as of the export (no field_history table), so a field edited "
        "after a moment is read at its edited value then too"
    )
