"""The outcomes table's own rules: a readable ``won``, then one outcome per lead (the
earliest ``closed_at`` kept), ``amount`` typed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.data.validate.checker import _dated_rows, _drop_unknown_or_early
from leadscore.data.validate.report import Problem, TableCounts
from leadscore.data.validate.rows import _keep, _LeadRef
from leadscore.data.validate.values import _number_column, _parse_won, _ts_series


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
