"""Feature tables: explicit + engagement features for (lead, as_of) pairs, and labels.

The same function builds training rows and scoring rows, so a lead's features at ``t`` are
the same whichever job asks for them (no training/serving skew).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import duckdb
import numpy as np
import pandas as pd

from leadscore.features.accounts import add_account_features
from leadscore.features.dialects import events_prepared_sql
from leadscore.features.engagement import engagement_long_sql, pivot_engagement
from leadscore.features.explicit import explicit_values
from leadscore.features.history import fields_as_of, history_fields
from leadscore.features.prepared import PreparedEvents, epoch_seconds, prepare_events
from leadscore.features.snapshots import label_snapshots, open_leads
from leadscore.features.spec import MISSING, OTHER, FeatureSpec
from leadscore.features.stages import prepare_stages, stage_sql
from leadscore.io.ids import is_in, positions
from leadscore.io.source import EventSource, connect
from leadscore.timestamps import to_utc

KEY = ["lead_id", "as_of"]


def categorise(values: pd.Series, levels: tuple[str, ...]) -> pd.Categorical:
    """Map values onto fixed levels: blanks to ``missing``, unseen values to ``other`` (to no
    level where there is no ``other``). Done once per distinct value, not per row."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    level = {name: i for i, name in enumerate(levels)}
    unseen = level.get(OTHER, -1)
    blank = level.get(MISSING, unseen)  # without a "missing" level a blank is unseen
    mapped = np.array([level.get(u, unseen) for u in uniques] + [blank], dtype=np.int64)
    return pd.Categorical.from_codes(mapped[codes], categories=list(levels))


def explicit_features(leads: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Explicit features per lead with the spec's categories (``lead_id`` + columns)."""
    out = explicit_values(
        leads,
        spec.categorical,
        spec.numeric,
        spec.extra_numeric,
        spec.extra_categorical,
        (spec.free_domains, spec.disposable_domains),
    )
    for name, levels in spec.categories.items():
        if name not in spec.stage_columns():  # per moment, not per lead: see stage_features
            out[name] = categorise(out[name], levels)
    return out


def engagement_features(
    snapshots: pd.DataFrame,
    leads: pd.DataFrame,
    events: pd.DataFrame | EventSource | PreparedEvents,
    spec: FeatureSpec,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pd.DataFrame:
    """Engagement features for each (lead_id, as_of) in ``snapshots``, in its order:
    ``lead_id``, ``as_of``, then the engine's columns (as the engine computes them, doubles)."""
    result = pd.DataFrame(engagement_table(snapshots, leads, events, spec, con))
    result.insert(0, "lead_id", pd.array(snapshots["lead_id"].astype("string").to_numpy()))
    result.insert(1, "as_of", snapshots["as_of"].array)
    return result


def snapshot_keys(
    snapshots: pd.DataFrame, leads: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The integer keys the engagement query works on, for either engine:
    ``keys(lead_id, lead_key, created_ts)``, one row per lead in order of first appearance,
    and ``snapshots(snap_key, lead_key, as_of_ts, created_ts)``, one row per snapshot in
    its order (``snap_key`` is its position)."""
    ids = snapshots["lead_id"].astype("string")
    lead_ids = pd.Series(ids.unique(), dtype="string")  # in order of first appearance
    lead_key = positions(ids, lead_ids)
    at = positions(lead_ids, leads["lead_id"])
    created = np.append(epoch_seconds(leads["created_at"]), np.nan)[at]  # -1: not a lead
    keys = pd.DataFrame(
        {
            "lead_id": lead_ids.to_numpy(),
            "lead_key": np.arange(len(lead_ids), dtype="int64"),
            "created_ts": created,
        }
    )
    snap_rel = pd.DataFrame(
        {
            "snap_key": np.arange(len(snapshots), dtype="int64"),
            "lead_key": lead_key,
            "as_of_ts": epoch_seconds(snapshots["as_of"]),
            "created_ts": created[lead_key],
        }
    )
    return keys, snap_rel


def engagement_table(
    snapshots: pd.DataFrame,
    leads: pd.DataFrame,
    events: pd.DataFrame | EventSource | PreparedEvents,
    spec: FeatureSpec,
    con: duckdb.DuckDBPyConnection | None = None,
    dtype: type = np.float64,
    keyed: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> dict[str, np.ndarray]:
    """The engagement columns (doubles, or ``dtype``) of each row of ``snapshots``, in its order.

    The engine aggregates per (snapshot, event type) (``engagement_long_sql``) and numpy
    places those rows by snapshot position (``pivot_engagement``): rows are never matched
    back by string keys. One function: the key tables it registers with the engine, the
    query and the pivot are one round trip to the engine. ``keyed``: ``snapshot_keys`` of
    these snapshots, when the caller has them.
    """
    own = con is None
    con = con or connect()
    try:
        keys, snap_rel = keyed or snapshot_keys(snapshots, leads)
        lead_ids = keys["lead_id"]
        first = ~snapshots["lead_id"].duplicated().to_numpy()
        con.register("snap_in", snap_rel)
        con.register("keys_in", keys)
        # The only engine-specific step: ids to integer keys (keeping only the leads asked
        # for), timestamps to epoch seconds, event types normalised.
        con.execute(
            "CREATE OR REPLACE TEMP VIEW snapshots AS "
            "SELECT snap_key, lead_key, as_of_ts, created_ts FROM snap_in"
        )
        kinds = None
        if isinstance(events, PreparedEvents):
            _prepared_view(con, events, lead_ids)
            kinds = events.kinds
        else:
            if isinstance(events, EventSource):
                source = f"({events.select_sql()})"
            else:
                con.register("events_in", events)
                source = "events_in"
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW events_prepared AS {events_prepared_sql(source)}"
            )
        # Nightly scoring asks for one moment and each lead once: then snap_key equals
        # lead_key (both number the leads in order) and the query needs no snapshot join.
        single = bool(first.all()) and snapshots["as_of"].nunique() == 1
        as_of_ts = snap_rel["as_of_ts"].to_numpy()
        sql = engagement_long_sql(spec, float(as_of_ts[0]) if single else None, kinds)
        long = con.sql(sql).to_arrow_table()
    finally:
        _release(con, own, ("snap_in", "keys_in", "events_in", "prep_map"))
    columns = {c: long.column(c).to_numpy() for c in long.column_names}
    del long
    return pivot_engagement(columns, spec, as_of_ts, snap_rel["created_ts"].to_numpy(), dtype)


def _release(con: duckdb.DuckDBPyConnection, own: bool, names: tuple[str, ...]) -> None:
    """Drop the frames a query registered (those it did), and close a connection of its own."""
    for name in names:
        try:
            con.unregister(name)
        except duckdb.Error:
            pass
    if own:
        con.close()


def _prepared_view(
    con: duckdb.DuckDBPyConnection, events: PreparedEvents, lead_ids: pd.Series
) -> None:
    """``events_prepared`` over prepared events: their keys renumbered to this request's
    (``lead_ids`` order). Creation and the last moment were cut when they were prepared."""
    found = events.keys_of(lead_ids)
    if (found < 0).any():
        raise ValueError(
            f"events were prepared for other leads ({int((found < 0).sum()):,} of "
            f"{len(found):,} leads asked for are not among them)"
        )
    first, last = int(found.min()), int(found.max())
    rows = events.select_sql(first, last)
    if np.array_equal(found, np.arange(first, first + len(found))):
        # A block of consecutive keys (nightly scoring): renumbered by subtraction.
        body = f"SELECT lead_key - {first} AS lead_key, ts, event_type FROM ({rows})"
    else:
        con.register(
            "prep_map",
            pd.DataFrame({"key": found, "lead_key": np.arange(len(found), dtype="int64")}),
        )
        body = f"SELECT m.lead_key, e.ts, e.event_type FROM ({rows}) e JOIN prep_map m ON m.key = e.lead_key"
    con.execute(
        "CREATE OR REPLACE TEMP VIEW events_prepared AS SELECT lead_key, ts, "
        f"CAST('-infinity' AS DOUBLE) AS created_ts, event_type FROM ({body})"
    )


def build_features(
    leads: pd.DataFrame,
    events: pd.DataFrame | EventSource | PreparedEvents,
    snapshots: pd.DataFrame,
    spec: FeatureSpec,
    con: duckdb.DuckDBPyConnection | None = None,
    *,
    chunk_rows: int = 1_000_000,
    stages: pd.DataFrame | None = None,
    field_history: pd.DataFrame | None = None,
    explicit: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Feature rows for the given (lead_id, as_of) pairs: key columns, then ``spec.feature_columns``.

    ``stages``: the stages table, needed when the spec has stages (``features.stages``).
    ``field_history``: changes to lead fields; with it, the explicit features of each row
    read the fields as they were at its ``as_of`` (``leadscore.features.history``), without
    it as the leads table holds them. ``explicit``: ``explicit_features(leads, spec)`` row for
    row, when the caller computed it already (a server, once for the folder it looks leads up
    in); a lead's explicit features depend on its own row alone.

    Rows come back in the order of ``snapshots``. Numeric features are float32 (half the memory
    of float64; LightGBM bins them anyway), categoricals use the spec's fixed levels. Large
    requests are cut into chunks of whole leads of at most ``chunk_rows`` pairs, so the
    engine's working memory stays bounded.

    It reads top to bottom as the steps of one block (keys, the engine's query, explicit and
    stage features on a thread, the join), which share the engine's connection.
    """
    if snapshots.empty:
        return _empty(spec)
    base = snapshots[KEY].reset_index(drop=True).copy()
    base["lead_id"] = base["lead_id"].astype("string")
    base["as_of"] = base["as_of"].dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    asked = is_in(leads["lead_id"], base["lead_id"])
    wanted = leads[asked]
    known = explicit[np.asarray(asked)].reset_index(drop=True) if explicit is not None else None
    if spec.stages and stages is None:
        raise ValueError("the features use funnel stages: give the stages table")
    n_leads = base["lead_id"].nunique()
    per_lead = max(1, len(base) // max(n_leads, 1))
    chunk_leads = max(1, chunk_rows // per_lead)
    # One chunk (nightly scoring asks for one at a time): its keys serve both queries.
    keyed = snapshot_keys(base, wanted) if n_leads <= chunk_leads else None
    parts: list[dict[str, np.ndarray]] = []
    rows = []
    # What does not depend on events (pandas, and the small stages query on a cursor of its
    # own) is built while the engine aggregates the events, which frees the GIL.
    fields = explicit_fields(wanted, field_history, spec)
    cursor = con.cursor() if con is not None and (spec.stages or fields) else None
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:  # its exit waits for the lead side
            lead_side = pool.submit(
                _lead_side,
                wanted,
                base,
                (stages, field_history, fields),
                spec,
                cursor,
                keyed,
                known,
            )
            with _read_once(events, wanted, base, chunk_leads, con) as source:
                for chunk in iter_chunks(base, chunk_leads):
                    # float32 per chunk (numpy's rounding): half the engine's doubles' memory.
                    parts.append(
                        engagement_table(chunk, wanted, source, spec, con, np.float32, keyed)
                    )
                    rows.append(chunk.index.to_numpy())  # base has a RangeIndex: row positions
            explicit, at, staged = lead_side.result()
    finally:
        if cursor is not None:  # also when the engine failed
            cursor.close()
    engaged = parts[0] if len(parts) == 1 else _stack(parts)
    order = None
    if len(rows) > 1 or not np.array_equal(rows[0], np.arange(len(base))):
        # Every snapshot comes exactly once: invert the chunks' positions to base order.
        order = np.empty(len(base), dtype=np.int64)
        order[np.concatenate(rows)] = np.arange(len(base))
    out = _assemble(base, explicit, at, engaged, order, spec)
    if staged is not None:
        for c in spec.stage_columns():
            out[c] = staged[c]
    if spec.account_window:
        out = add_account_features(out, lead_account(wanted, base["lead_id"]), spec.account_window)
    return out


def explicit_fields(
    leads: pd.DataFrame, history: pd.DataFrame | None, spec: FeatureSpec
) -> tuple[tuple[str, bool], ...]:
    """The fields the explicit features read that ``history`` changes (none without one)."""
    if history is None:
        return ()
    read = ("job_title", "email", *spec.categorical, *spec.numeric)
    return history_fields(leads, history, (*read, *spec.extra_numeric, *spec.extra_categorical))


def _lead_side(
    wanted: pd.DataFrame,
    base: pd.DataFrame,
    tables: tuple[pd.DataFrame | None, pd.DataFrame | None, tuple[tuple[str, bool], ...]],
    spec: FeatureSpec,
    con: duckdb.DuckDBPyConnection | None,
    keyed: tuple[pd.DataFrame, pd.DataFrame] | None,
    known: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame | None]:
    """The explicit features, each row of ``base``'s position among them (-1: no lead) and,
    with stages, the stage features of ``base`` (``con``: a cursor of the caller's
    connection, so its queries run beside theirs). ``tables``: the stages, the field
    history and the fields it changes (``_fields``); ``known``: the explicit features of
    ``wanted``, when computed already.

    Explicit features are built per lead; with a field history, also per row of ``base``
    whose lead has history, from the fields as they were at its ``as_of``.
    """
    stages, history, fields = tables
    explicit = known if known is not None else explicit_features(wanted, spec)
    ids = pd.Index(explicit["lead_id"].astype("string"))
    if not ids.is_unique:
        raise ValueError("leads: lead_id must be unique to build features")
    at = positions(base["lead_id"], ids)
    if fields:
        keyed = keyed or snapshot_keys(base, wanted)
        rows, then = fields_as_of(base, wanted, history, keyed, fields, con)
        if len(rows):
            at[rows] = len(explicit) + np.arange(len(rows))
            explicit = pd.concat([explicit, explicit_features(then, spec)], ignore_index=True)
    if not spec.stages:
        return explicit, at, None
    return explicit, at, stage_features(base, wanted, stages, spec, con, keyed)


def _stack(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Chunks' columns end to end, one column at a time (each chunk's freed as it goes)."""
    out = {}
    for c in list(parts[0]):
        out[c] = np.concatenate([p.pop(c) for p in parts])
    return out


def lead_account(leads: pd.DataFrame, lead_id: pd.Series) -> pd.Series:
    """Each ``lead_id``'s account from the leads table (missing without one)."""
    if "account" not in leads.columns:
        raise ValueError("the features use accounts: the leads table has no account column")
    at = positions(lead_id, leads["lead_id"])
    account = pd.Series(leads["account"].to_numpy()).reindex(at).to_numpy()  # -1: missing
    return pd.Series(account, index=lead_id.index)


def stage_features(
    snapshots: pd.DataFrame,
    leads: pd.DataFrame,
    stages: pd.DataFrame,
    spec: FeatureSpec,
    con: duckdb.DuckDBPyConnection | None = None,
    keyed: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """``current_stage`` (the spec's levels; ``missing`` before any stage) and
    ``days_in_stage`` (float32, NaN before any stage) for each row of ``snapshots``, in
    its order, by ``stage_sql`` (only entries at or before each row's as_of count).
    ``keyed``: ``snapshot_keys`` of these snapshots, when the caller has them."""
    own = con is None
    con = con or connect()
    keys, snap_rel = keyed or snapshot_keys(snapshots[KEY], leads)
    try:
        con.register("snap_in", snap_rel)
        con.register("stages_in", prepare_stages(stages, keys))
        con.execute(
            "CREATE OR REPLACE TEMP VIEW snapshots AS "
            "SELECT snap_key, lead_key, as_of_ts, created_ts FROM snap_in"
        )
        con.execute("CREATE OR REPLACE TEMP VIEW stages_prepared AS SELECT * FROM stages_in")
        found = con.sql(stage_sql(spec)).df()
    finally:
        _release(con, own, ("snap_in", "stages_in"))
    n = len(snapshots)
    name = np.full(n, None, dtype=object)
    days = np.full(n, np.nan, dtype="float32")
    row = found["snap_key"].to_numpy(dtype="int64")
    name[row] = found["current_stage"].to_numpy(dtype=object)
    days[row] = found["days_in_stage"].to_numpy(dtype="float32")
    return pd.DataFrame(
        {
            "current_stage": categorise(pd.Series(name), spec.categories["current_stage"]),
            "days_in_stage": days,
        }
    )


@contextmanager
def _read_once(
    events: pd.DataFrame | EventSource | PreparedEvents,
    leads: pd.DataFrame,
    base: pd.DataFrame,
    chunk_leads: int,
    con: duckdb.DuckDBPyConnection | None,
) -> Iterator[pd.DataFrame | EventSource | PreparedEvents]:
    """An event file that several chunks would each scan, prepared once for all of them
    (see ``leadscore.features.prepared``); anything else as it is."""
    if not isinstance(events, EventSource) or base["lead_id"].nunique() <= chunk_leads:
        yield events
        return
    own = con is None
    con = con or connect()
    try:
        with prepare_events(
            events, leads, base["lead_id"], base["as_of"].max(), chunk_leads, con
        ) as prepared:
            yield prepared
    finally:
        if own:
            con.close()


def _assemble(
    base: pd.DataFrame,
    explicit: pd.DataFrame,
    at: np.ndarray,
    engaged: dict[str, np.ndarray],
    order: np.ndarray | None,
    spec: FeatureSpec,
) -> pd.DataFrame:
    """Key columns, then ``spec.feature_columns`` but the stage ones: explicit values taken by
    lead (``at``, -1 where a lead has none), engine columns (float32) taken by row
    (``order``; None when already in order).

    The numbers are written into one float32 block that the frame takes as it is, each
    engine column freed once written: a frame made from separate columns copies them all
    into such a block, so the table would be held two or three times over at once.
    """
    cats = set(spec.categorical_features)
    have = set(explicit.columns) | set(engaged)
    later = {*spec.stage_columns(), *spec.account_columns()}  # added by build_features
    wanted = [c for c in spec.feature_columns if c not in later]
    missing = [c for c in wanted if c not in have]
    if missing:
        raise AssertionError(f"feature builder did not produce {missing}")
    numbers = [c for c in wanted if c in engaged or c not in cats]
    block = np.empty((len(numbers), len(base)), dtype=np.float32)
    for j, c in enumerate(numbers):
        if c in engaged:
            col = engaged.pop(c)
            block[j] = col if order is None else col[order]
        else:
            # One NaN appended for leads without a row (at == -1 picks it).
            known = explicit[c].to_numpy(dtype="float32", na_value=np.nan)
            block[j] = np.append(known, np.float32(np.nan))[at]
    out = pd.DataFrame(block.T, columns=numbers, copy=False)
    out.insert(0, "lead_id", base["lead_id"].array)
    out.insert(1, "as_of", base["as_of"].array)
    written = set(numbers)
    for i, c in enumerate(wanted):  # in column order, so each lands at its place
        if c not in written:
            out.insert(2 + i, c, explicit[c].array.take(at, allow_fill=True))
    return out


def _empty(spec: FeatureSpec) -> pd.DataFrame:
    data: dict[str, pd.Series] = {
        "lead_id": pd.Series([], dtype="string"),
        "as_of": pd.Series([], dtype="datetime64[ns, UTC]"),
    }
    for c in spec.feature_columns:
        levels = spec.categories.get(c)
        data[c] = (
            pd.Series(pd.Categorical([], categories=list(levels)))
            if levels
            else pd.Series([], dtype="float32")
        )
    return pd.DataFrame(data)


def iter_chunks(snapshots: pd.DataFrame, chunk_leads: int) -> Iterator[pd.DataFrame]:
    """Split snapshot pairs into chunks of whole leads, so memory stays flat as input grows."""
    ids = snapshots["lead_id"].unique()
    if len(ids) <= chunk_leads:
        yield snapshots
        return
    for start in range(0, len(ids), chunk_leads):
        chunk_ids = ids[start : start + chunk_leads]
        yield snapshots[is_in(snapshots["lead_id"], pd.Series(chunk_ids))]


def build_table(
    leads: pd.DataFrame,
    events: pd.DataFrame,
    outcomes: pd.DataFrame,
    as_of: list[pd.Timestamp],
    spec: FeatureSpec,
    horizon_days: int,
    data_end: pd.Timestamp,
    con: duckdb.DuckDBPyConnection | None = None,
    stages: pd.DataFrame | None = None,
    field_history: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Stacked feature table for every open lead at each ``as_of``, with ``label``.

    ``label`` is NaN where ``as_of + horizon`` passes ``data_end`` (the outcome is not known yet).
    """
    snaps = open_leads(leads, outcomes, [to_utc(d) for d in as_of])
    table = build_features(
        leads, events, snaps, spec, con, stages=stages, field_history=field_history
    )
    table["label"] = label_snapshots(table[KEY], outcomes, horizon_days, data_end).to_numpy()
    return table
