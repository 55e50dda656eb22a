"""Lead fields as they were at a moment, from a field history.

The leads table holds each field as the export found it. CRMs overwrite fields, and sales
edit a title, a source or a status after contact, so a field read as exported can tell the
model what happened later. A ``field_history`` table (the shape of Salesforce's LeadHistory
and HubSpot's property history) holds one row per change: field ``field`` of lead
``lead_id`` took ``value`` at ``changed_at``. At ``as_of``, a field with history for a lead
reads:

- the ``value`` of its latest change at or before ``as_of`` (changes on one instant: the
  later row of the table);
- before its first change: that change's ``old_value`` when the table has the column
  (LeadHistory's OldValue), else missing. The history does not say what the field held
  then, and the leads table holds a later value, so none is guessed.

A field without history for the lead keeps the leads table's value.

``fields_sql`` is plain SQL over two relations, run unchanged by DuckDB here and by Spark:

- ``snapshots(snap_key, lead_key, as_of_ts, created_ts)`` (see ``leadscore.features.table``);
- ``fields_prepared(lead_key, ts, seq, field, value, number)`` (``prepare_fields``): each
  change with ``ts`` in epoch seconds, ``seq`` its row in the table, ``field`` a code, and
  one more row per lead and field at ``ts = -inf`` holding the value before the first change.

It answers one row per snapshot whose lead has history, wide: ``h<i>`` (1: the history
decides field ``i``) and ``v<i>`` (its value then: text, or a number for a column of numbers).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from leadscore.features.prepared import epoch_seconds
from leadscore.io.ids import positions
from leadscore.io.source import connect

#: Columns a field history cannot change.
FIXED = ("lead_id", "created_at")


def history_fields(
    leads: pd.DataFrame, history: pd.DataFrame, wanted: tuple[str, ...] | None = None
) -> tuple[tuple[str, bool], ...]:
    """The leads columns the history changes (those of ``wanted`` only, when given; not a
    yes/no column), sorted, each with whether the column holds numbers (its values are then
    read as numbers)."""
    named = set(history["field"].dropna().astype(str).unique())
    out = []
    for c in sorted(named & set(leads.columns) - set(FIXED)):
        col = leads[c]
        # A yes/no column keeps the exported value: the engines would type text changes apart.
        if (wanted is not None and c not in wanted) or pd.api.types.is_bool_dtype(col):
            continue
        out.append((c, bool(pd.api.types.is_numeric_dtype(col))))
    return tuple(out)


def prepare_fields(
    history: pd.DataFrame, keys: pd.DataFrame, fields: tuple[tuple[str, bool], ...]
) -> pd.DataFrame:
    """``fields_prepared`` for the leads of ``keys`` (``lead_id``, ``lead_key``) and the
    ``fields``: their changes, and per lead and field the value before its first change
    (``old_value`` of the earliest change, ties by row; missing without that column)."""
    names = [f for f, _ in fields]
    code = pd.Series(range(len(names)), index=names, dtype="int64")
    lead_at = positions(history["lead_id"], keys["lead_id"])
    field_code = code.reindex(history["field"].astype(str).to_numpy()).to_numpy()
    mine = (lead_at >= 0) & ~np.isnan(field_code)
    rows = history[mine]
    lead_key = keys["lead_key"].to_numpy()[lead_at[mine]].astype("int64")
    field = field_code[mine].astype("int64")
    ts = epoch_seconds(rows["changed_at"])
    seq = np.flatnonzero(mine).astype("int64")
    value = rows["value"].astype("string").to_numpy(dtype=object, na_value=None)
    old = (
        rows["old_value"].astype("string").to_numpy(dtype=object, na_value=None)
        if "old_value" in rows.columns
        else np.full(len(rows), None, dtype=object)
    )
    # The earliest change of each (lead, field): sorted by key then time, file order for ties.
    order = np.lexsort((seq, ts, field, lead_key))
    pair = lead_key[order] * len(names) + field[order]
    first = order[np.r_[True, pair[1:] != pair[:-1]]] if len(order) else order
    out = pd.DataFrame(
        {
            "lead_key": np.concatenate([lead_key, lead_key[first]]),
            "ts": np.concatenate([ts, np.full(len(first), -np.inf)]),
            "seq": np.concatenate([seq, np.full(len(first), -1, dtype="int64")]),
            "field": np.concatenate([field, field[first]]),
            "value": pd.array(np.concatenate([value, old[first]]), dtype="string"),
        }
    )
    numeric = np.array([n for _, n in fields], dtype=bool)[out["field"].to_numpy()]
    number = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    out["number"] = number.where(numeric)
    out["value"] = out["value"].astype(object).where(out["value"].notna(), None)
    return out


def fields_sql(fields: tuple[tuple[str, bool], ...]) -> str:
    """One row per snapshot whose lead has history for any of ``fields``: ``snap_key``, and
    per field ``i`` ``h<i>`` (1 when the history decides it) and ``v<i>`` (its value)."""
    cols = []
    for i, (_, number) in enumerate(fields):
        source = "number" if number else "value"
        cols.append(f"MAX(CASE WHEN field = {i} THEN 1 ELSE 0 END) AS h{i}")
        cols.append(f"MAX(CASE WHEN field = {i} THEN {source} END) AS v{i}")
    return f"""
WITH j AS (
    SELECT s.snap_key, f.field, f.value, f.number,
        ROW_NUMBER() OVER (PARTITION BY s.snap_key, f.field ORDER BY f.ts DESC, f.seq DESC) AS rn
    FROM snapshots s JOIN fields_prepared f ON f.lead_key = s.lead_key AND f.ts <= s.as_of_ts
)
SELECT snap_key, {", ".join(cols)}
FROM j WHERE rn = 1 GROUP BY snap_key
"""


def with_fields(
    rows: pd.DataFrame, found: pd.DataFrame, fields: tuple[tuple[str, bool], ...]
) -> pd.DataFrame:
    """``rows`` (lead rows, one per row of ``found``) with each field the history decides
    (``h<i>`` 1) set to its value (``v<i>``): numbers as float64, text as text."""
    out = rows.reset_index(drop=True).copy()
    for i, (name, number) in enumerate(fields):
        decided = found[f"h{i}"].to_numpy(dtype="float64", na_value=0.0) == 1
        if not decided.any():
            continue
        value = found[f"v{i}"]
        if number:
            known = out[name].to_numpy(dtype="float64", na_value=np.nan)
            value = pd.to_numeric(value, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            out[name] = np.where(decided, value, known)
        else:
            text = value.astype("string").to_numpy(dtype=object, na_value=None)
            known = out[name].astype("string").to_numpy(dtype=object, na_value=None)
            kind = out[name].dtype if isinstance(out[name].dtype, pd.StringDtype) else object
            out[name] = pd.Series(np.where(decided, text, known), dtype=kind)
    return out


def _decided(
    keyed: tuple[pd.DataFrame, pd.DataFrame],
    history: pd.DataFrame,
    fields: tuple[tuple[str, bool], ...],
    con: duckdb.DuckDBPyConnection | None,
) -> pd.DataFrame:
    """``fields_sql`` run by DuckDB over ``keyed`` (``keys``, ``snapshots``), rows in
    ``snap_key`` order."""
    keys, snap_rel = keyed
    own = con is None
    con = con or connect()
    try:
        con.register("snap_in", snap_rel)
        con.register("fields_in", prepare_fields(history, keys, fields))
        con.execute(
            "CREATE OR REPLACE TEMP VIEW snapshots AS "
            "SELECT snap_key, lead_key, as_of_ts, created_ts FROM snap_in"
        )
        con.execute("CREATE OR REPLACE TEMP VIEW fields_prepared AS SELECT * FROM fields_in")
        found = con.sql(fields_sql(fields)).df()
    finally:
        for name in ("snap_in", "fields_in"):
            try:
                con.unregister(name)
            except duckdb.Error:
                pass
        if own:
            con.close()
    return found.sort_values("snap_key", kind="stable").reset_index(drop=True)


def fields_as_of(
    snapshots: pd.DataFrame,
    leads: pd.DataFrame,
    history: pd.DataFrame,
    keyed: tuple[pd.DataFrame, pd.DataFrame],
    fields: tuple[tuple[str, bool], ...],
    con: duckdb.DuckDBPyConnection | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """The rows of ``snapshots`` whose lead has history for ``fields`` (their positions, in
    order) and their leads rows with each field as it was at that row's ``as_of``.

    ``keyed``: ``snapshot_keys`` of ``snapshots`` (``leadscore.features.table``).
    """
    if not fields or not len(snapshots):
        return np.zeros(0, dtype="int64"), leads.iloc[:0]
    found = _decided(keyed, history, fields, con)
    rows = found["snap_key"].to_numpy(dtype="int64")
    at = positions(snapshots["lead_id"].iloc[rows], leads["lead_id"])
    known = at >= 0  # a snapshot of a lead the table lacks has no fields to read
    return rows[known], with_fields(leads.iloc[at[known]], found[known], fields)


def leads_as_of(
    leads: pd.DataFrame,
    history: pd.DataFrame | None,
    as_of: pd.Timestamp,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pd.DataFrame:
    """The leads table with every field the history changes as it was at ``as_of`` (the
    table itself without a history)."""
    if history is None:
        return leads
    fields = history_fields(leads, history)
    if not fields or not len(leads):
        return leads
    ids = leads["lead_id"].astype("string").reset_index(drop=True)
    n = len(ids)
    created = epoch_seconds(leads["created_at"])
    keys = pd.DataFrame(
        {"lead_id": ids.to_numpy(), "lead_key": np.arange(n, dtype="int64"), "created_ts": created}
    )
    as_of_ts = float(pd.Timestamp(as_of).timestamp())
    snap_rel = pd.DataFrame(
        {
            "snap_key": np.arange(n, dtype="int64"),
            "lead_key": np.arange(n, dtype="int64"),
            "as_of_ts": np.full(n, as_of_ts),
            "created_ts": created,
        }
    )
    found = _decided((keys, snap_rel), history, fields, con)
    # One row per lead (its snap_key is its position); h<i> missing: no history.
    every = found.set_index("snap_key").reindex(pd.RangeIndex(n))
    return with_fields(leads, every, fields)
