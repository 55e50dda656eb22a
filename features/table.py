"""Feature tables: explicit + engagement features for (lead, as_of) pairs, and labels.

The same function builds training rows and scoring rows, so a lead's features at ``t`` are
the same whichever job asks for them (no training/serving skew).
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.engagement import engagement_sql
from features.explicit import explicit_values
from features.snapshots import label_snapshots, open_leads, to_utc
from features.source import EventSource, connect
from features.spec import MISSING, OTHER, FeatureSpec

KEY = ["lead_id", "as_of"]


def is_in(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """``values.isin(pool)`` for id strings, by Arrow (pandas walks a large pool in Python)."""
    as_text = [pa.array(s.astype("string").array) for s in (values, pool)]
    return pc.is_in(as_text[0], value_set=as_text[1]).to_numpy(zero_copy_only=False)


def categorise(values: pd.Series, levels: tuple[str, ...]) -> pd.Categorical:
    """Map values onto fixed levels: blanks to ``missing``, unseen values to ``other``."""
    v = values.astype("object").where(values.notna(), MISSING)
    known = set(levels)
    if OTHER in known:
        v = v.where(v.isin(known), OTHER)
    return pd.Categorical(v, categories=list(levels))


def explicit_features(leads: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Explicit features per lead with the spec's categories (``lead_id`` + columns)."""
    out = explicit_values(
        leads, spec.categorical, spec.numeric, spec.extra_numeric, spec.extra_categorical
    )
    for name, levels in spec.categories.items():
        out[name] = categorise(out[name], levels)
    return out


def _epoch_seconds(ts: pd.Series) -> np.ndarray:
    return (ts.dt.tz_convert("UTC").astype("datetime64[ns, UTC]").astype("int64") / 1e9).to_numpy()


def engagement_features(
    snapshots: pd.DataFrame,
    leads: pd.DataFrame,
    events: pd.DataFrame | EventSource,
    spec: FeatureSpec,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pd.DataFrame:
    """Engagement features for each (lead_id, as_of) in ``snapshots``, computed in DuckDB."""
    own = con is None
    con = con or connect()
    try:
        snap = snapshots[KEY].merge(leads[["lead_id", "created_at"]], on="lead_id", how="left")
        lead_ids = pd.Series(snap["lead_id"].unique()).astype("string")
        key_of = pd.Series(np.arange(len(lead_ids), dtype="int64"), index=lead_ids.to_numpy())
        first = ~snap["lead_id"].duplicated().to_numpy()
        keys = pd.DataFrame(
            {
                "lead_id": lead_ids.to_numpy(),
                "lead_key": key_of.to_numpy(),
                "created_ts": _epoch_seconds(snap["created_at"])[first],
            }
        )
        snap_rel = pd.DataFrame(
            {
                "snap_key": np.arange(len(snap), dtype="int64"),
                "lead_key": key_of.loc[snap["lead_id"].astype("string").to_numpy()].to_numpy(),
                "as_of_ts": _epoch_seconds(snap["as_of"]),
                "created_ts": _epoch_seconds(snap["created_at"]),
            }
        )
        con.register("snap_in", snap_rel)
        con.register("keys_in", keys)
        # The only engine-specific step: ids to integer keys (keeping only the leads asked
        # for), timestamps to epoch seconds, event types normalised.
        con.execute(
            "CREATE OR REPLACE TEMP VIEW snapshots AS "
            "SELECT snap_key, lead_key, as_of_ts, created_ts FROM snap_in"
        )
        if isinstance(events, EventSource):
            lid, ts, et = (events.column(c) for c in ("lead_id", "occurred_at", "event_type"))
            source = f"({events.select_sql()})"
        else:
            con.register("events_in", events)
            source = "events_in"
        con.execute(
            "CREATE OR REPLACE TEMP VIEW events_prepared AS "
            "SELECT k.lead_key, epoch(e.occurred_at) AS ts, k.created_ts, "
            "lower(trim(CAST(e.event_type AS VARCHAR))) AS event_type "
            f"FROM {source} e JOIN keys_in k ON k.lead_id = CAST(e.lead_id AS VARCHAR) "
            "WHERE e.occurred_at IS NOT NULL AND e.event_type IS NOT NULL AND trim(CAST(e.event_type AS VARCHAR)) <> ''"
        )
        # No ORDER BY: rows are matched back by key (build_features keeps the snapshot order).
        # Nightly scoring asks for one moment and each lead once: then snap_key equals
        # lead_key (both number the leads in order) and the query needs no snapshot join.
        single = bool(first.all()) and snap["as_of"].nunique() == 1
        sql = engagement_sql(spec, float(snap_rel["as_of_ts"].iloc[0]) if single else None)
        result = con.sql(sql).to_arrow_table().to_pandas()
    finally:
        for name in ("snap_in", "keys_in", "events_in"):
            try:
                con.unregister(name)
            except duckdb.Error:
                pass
        if own:
            con.close()
    key = result.pop("snap_key").to_numpy()
    result.insert(
        0, "lead_id", pd.array(snap["lead_id"].astype("string").to_numpy()[key], dtype="string")
    )
    result.insert(1, "as_of", snap["as_of"].array.take(key))
    return result


def build_features(
    leads: pd.DataFrame,
    events: pd.DataFrame | EventSource,
    snapshots: pd.DataFrame,
    spec: FeatureSpec,
    con: duckdb.DuckDBPyConnection | None = None,
    *,
    chunk_rows: int = 1_000_000,
) -> pd.DataFrame:
    """Feature rows for the given (lead_id, as_of) pairs: key columns, then ``spec.feature_columns``.

    Rows come back in the order of ``snapshots``. Numeric features are float32 (half the memory
    of float64; LightGBM bins them anyway), categoricals use the spec's fixed levels. Large
    requests are cut into chunks of whole leads of at most ``chunk_rows`` pairs, so the
    engine's working memory stays bounded.
    """
    if snapshots.empty:
        return _empty(spec)
    base = snapshots[KEY].reset_index(drop=True).copy()
    base["lead_id"] = base["lead_id"].astype("string")
    base["as_of"] = base["as_of"].dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    wanted = leads[is_in(leads["lead_id"], base["lead_id"])]
    explicit = explicit_features(wanted, spec)
    explicit["lead_id"] = explicit["lead_id"].astype("string")
    n_leads = base["lead_id"].nunique()
    per_lead = max(1, len(base) // max(n_leads, 1))
    parts = [
        engagement_features(chunk, wanted, events, spec, con)
        for chunk in iter_chunks(base, max(1, chunk_rows // per_lead))
    ]
    engaged = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    engaged["as_of"] = engaged["as_of"].astype("datetime64[ns, UTC]")
    out = base.merge(explicit, on="lead_id", how="left").merge(engaged, on=KEY, how="left")
    return _typed(out, spec)


def _typed(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    cols = spec.feature_columns
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise AssertionError(f"feature builder did not produce {missing}")
    cats = set(spec.categorical_features)
    data = {k: frame[k] for k in KEY}
    for c in cols:
        data[c] = frame[c] if c in cats else frame[c].astype("float32")
    return pd.DataFrame(data)


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
) -> pd.DataFrame:
    """Stacked feature table for every open lead at each ``as_of``, with ``label``.

    ``label`` is NaN where ``as_of + horizon`` passes ``data_end`` (the outcome is not known yet).
    """
    snaps = open_leads(leads, outcomes, [to_utc(d) for d in as_of])
    table = build_features(leads, events, snaps, spec, con)
    table["label"] = label_snapshots(table[KEY], outcomes, horizon_days, data_end).to_numpy()
    return table
