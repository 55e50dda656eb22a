"""The DuckDB engine aggregates per (snapshot, event type) and numpy pivots: the result must be
the one-statement SQL's (the definition Spark runs), bit for bit, in both query forms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import load_config
from leadscore.data.synthetic.shape import OTHER_CRM, reshape
from leadscore.data.synthetic.world import generate_world
from leadscore.data.validate import require_valid, validate_tables
from leadscore.features.dialects import events_prepared_sql
from leadscore.features.engagement import engagement_sql, pivot_engagement
from leadscore.features.snapshots import open_leads
from leadscore.features.table import engagement_table, snapshot_keys
from leadscore.io.ids import is_in, positions
from leadscore.io.source import connect
from leadscore.training.dataset import spec_for

DATES = [pd.Timestamp(d, tz="UTC") for d in ("2024-09-01", "2025-03-01", "2025-06-15 13:30")]


@pytest.fixture(scope="module")
def world():
    tables = require_valid(validate_tables(reshape(generate_world(800, seed=3), OTHER_CRM, 3)))
    spec = spec_for(tables, load_config(), DATES[-1])
    return tables, spec


def _wide_sql(tables, snaps, spec, single: bool) -> pd.DataFrame:
    """``engagement_sql`` run whole by DuckDB, rows in snapshot order."""
    con = connect()
    keys, snap_rel = snapshot_keys(snaps, tables.leads)
    con.register("snap_in", snap_rel)
    con.register("keys_in", keys)
    con.register("events_in", tables.events)
    con.execute("CREATE TEMP VIEW snapshots AS SELECT * FROM snap_in")
    con.execute(f"CREATE TEMP VIEW events_prepared AS {events_prepared_sql('events_in')}")
    as_of = float(snap_rel["as_of_ts"].iloc[0]) if single else None
    wide = con.sql(engagement_sql(spec, as_of)).df().sort_values("snap_key")
    con.close()
    return wide.drop(columns="snap_key").reset_index(drop=True)


@pytest.mark.parametrize("single", [True, False])
def test_pivot_gives_the_one_statement_sqls_values(world, single):
    tables, spec = world
    dates = DATES[-1:] if single else DATES
    snaps = open_leads(tables.leads, tables.outcomes, dates)
    assert len(snaps) > 100
    ours = pd.DataFrame(engagement_table(snaps, tables.leads, tables.events, spec))
    theirs = _wide_sql(tables, snaps, spec, single)
    assert list(ours.columns) == list(theirs.columns) == spec.engagement_columns()
    for c in ours.columns:
        a, b = ours[c].to_numpy("float64"), theirs[c].to_numpy("float64")
        assert np.array_equal(a, b, equal_nan=True), c
    # float32, as feature tables hold them: each double rounded once.
    narrow = engagement_table(snaps, tables.leads, tables.events, spec, dtype=np.float32)
    for c, v in narrow.items():
        assert v.dtype == np.float32
        assert np.array_equal(v, ours[c].to_numpy("float64").astype(np.float32), equal_nan=True)


def test_pivot_by_hand(world):
    """Two snapshots, one with two event types and active days, one with nothing at all."""
    _, spec = world
    email = spec.event_types.index("email_open")
    other = len(spec.event_types)  # the pooled bucket: no columns of its own, yet in totals
    long = {
        "snap_key": np.array([0, 0, 0]),
        "et": np.array([email, other, -1]),
        "n_7": np.array([1.0, 2.0, 2.0]),
        "n_30": np.array([3.0, 2.0, 4.0]),
        "n_90": np.array([4.0, 5.0, 6.0]),
        "n_total": np.array([9.0, 5.0, np.nan]),
        "since": np.array([2.5, 0.25, np.nan]),
        "decayed": np.array([0.5, 1.25, np.nan]),
    }
    out = pivot_engagement(long, spec, np.array([86400.0 * 10, 86400.0 * 10]), np.zeros(2))
    assert out["email_open_7d"].tolist() == [1.0, 0.0]
    assert out["email_open_total"].tolist() == [9.0, 0.0]
    assert out["email_open_days_since"][0] == 2.5 and np.isnan(out["email_open_days_since"][1])
    assert out["other_30d"].tolist() == [2.0, 0.0]
    assert out["events_30d"].tolist() == [5.0, 0.0]
    assert out["events_total"].tolist() == [14.0, 0.0]
    assert out["days_since_last_event"][0] == 0.25 and np.isnan(out["days_since_last_event"][1])
    assert out["engagement_decayed"].tolist() == [1.75, 0.0]
    assert out["active_days_30d"].tolist() == [4.0, 0.0]
    assert out["days_since_created"].tolist() == [10.0, 10.0]
    # A lead with no history is exactly flat; 5 events in 30 days of 9 in 90 is a rise.
    assert out["activity_trend"][1] == 1.0
    assert out["activity_trend"][0] == pytest.approx(((5 + 1 / 3) / 30) / ((9 - 5 + 2 / 3) / 60))


def test_positions_and_membership_of_ids():
    pool = pd.Series(["a", "b", "c", "b"], dtype="string")
    values = pd.Series(["c", None, "z", "b", "a"], dtype="string")
    assert positions(values, pool).tolist() == [2, -1, -1, 1, 0]
    assert is_in(values, pool).tolist() == [True, False, False, True, True]
    assert positions(np.array(["b"], dtype=object), pd.Index(["a", "b"])).tolist() == [1]
    assert positions(pd.Series([], dtype="string"), pool).tolist() == []
