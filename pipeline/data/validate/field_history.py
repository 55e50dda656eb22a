"""The field history table's own rules: a dated row of a kept lead that names a field of
the leads table; its values typed as that column is.

A change dated before the lead's ``created_at`` is kept: a CRM stamps a field's first value
when the record is made or imported, which may be a moment before the lead's creation
time, and that value is the one in force once the lead exists.
"""

from __future__ import annotations

import pandas as pd

from leadscore.data.contract import OPTIONAL
from leadscore.data.validate.checker import _dated_rows, _drop_unknown
from leadscore.data.validate.report import Problem, TableCounts
from leadscore.data.validate.rows import _keep, _LeadRef
from leadscore.data.validate.values import _as_id, _as_text, _isna, _number_column, _ts_series
from leadscore.features.history import FIXED


def _check_field_history(
    raw: pd.DataFrame, ref: _LeadRef | None, problems: list[Problem]
) -> tuple[pd.DataFrame | None, TableCounts]:
    """Field changes: a lead_id, a readable ``changed_at``, a ``field`` that names a leads
    column (not ``lead_id`` or ``created_at``), a kept lead. Values of the contract's
    number columns are read as numbers (non-numbers set to NA, counted)."""
    rows, ids, changed = _dated_rows("field_history", raw, "changed_at", problems)
    field = _as_id(raw["field"])
    rows.drop(_isna(field), "field", "missing field", "{rows} {have} no field")
    if ref is None:
        return None, TableCounts(len(raw), None, None)
    columns = [c for c in ref.columns if c not in FIXED]
    unknown = ~field.isin(columns).to_numpy(dtype=bool, na_value=False) & ~_isna(field)
    rows.drop(
        unknown,
        "field",
        "unknown field",
        "{rows} name{s} a field that is not a column of the leads table{eg}",
        field,
    )
    _drop_unknown(rows, ref, ids)  # a change dated before creation is kept: CRMs stamp first values
    out = raw.assign(lead_id=ids, field=field, changed_at=_ts_series(changed))
    out = _keep(out, rows.kept)
    values = [c for c in ("value", "old_value") if c in out.columns]
    for c in values:
        out[c] = _as_text(out[c])
    numbers = [c for c, kind in OPTIONAL["leads"].items() if kind == "number"]
    for name in numbers:
        mine = (out["field"] == name).to_numpy(dtype=bool, na_value=False)
        if not mine.any():
            continue
        for c in values:
            parsed = _number_column(out.loc[mine, c], "field_history", name, problems)
            # Written back as text the feature code reads as the same number.
            out.loc[mine, c] = parsed.astype("str").where(parsed.notna(), None)
    return out, rows.counts()
