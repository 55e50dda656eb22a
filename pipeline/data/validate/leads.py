"""The leads table's own rules: one row per ``lead_id`` (the first valid one kept), every
dropped row listed in the rejects, the optional columns typed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.data.contract import OPTIONAL
from leadscore.data.validate.checker import _dated_rows
from leadscore.data.validate.report import Problem, TableCounts, _plural
from leadscore.data.validate.rows import _keep, _rejects
from leadscore.data.validate.values import _as_text, _number_column, _ts_series


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
    reasons = np.asarray(rows.labels, dtype=object)[rows.code[bad]]
    rejects = _rejects(ids.iloc[bad], bad + 1, reasons)  # rows numbered from 1, as people do
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
