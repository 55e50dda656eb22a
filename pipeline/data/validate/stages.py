"""The funnel stages table's own rules: the history rules with ``stage`` as the kind."""

from __future__ import annotations

import pandas as pd

from leadscore.data.validate.checker import _history_rows
from leadscore.data.validate.report import Problem, TableCounts
from leadscore.data.validate.rows import _keep, _LeadRef
from leadscore.data.validate.values import _ts_series


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
