"""Events read once from their file for block-by-block features (``features.prepared``).

The same rows as events held in memory, for all inputs; every file row counted once, in
the validator's order; the private folder gone after use.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.features.prepared import prepare_events
from leadscore.features.snapshots import open_leads
from leadscore.features.table import build_features, engagement_table
from leadscore.io.source import EventSource, connect
from leadscore.training.dataset import spec_for

from .test_point_in_time import CFG, worlds

UTC = "datetime64[ns, UTC]"


def _write(events: pd.DataFrame, folder: Path, spelled: bool) -> EventSource:
    events = events.copy()
    if spelled:  # spelling variants of the same types, as another CRM writes them
        events["event_type"] = events["event_type"].str.replace("_", " ").str.title()
    path = folder / "events.parquet"
    events.to_parquet(path)
    return EventSource(str(path))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds(), later=st.integers(0, 60), block=st.integers(1, 3), spelled=st.booleans())
def test_events_read_once_in_blocks_give_the_rows_of_events_in_memory(world, later, block, spelled):
    tables, as_of = world
    spec = spec_for(tables, CFG, as_of)
    moments = [as_of] if later == 0 else [as_of, as_of + pd.Timedelta(days=later)]
    snaps = open_leads(tables.leads, tables.outcomes, moments)
    expected = build_features(tables.leads, tables.events, snaps, spec, stages=tables.stages)
    with tempfile.TemporaryDirectory() as d:
        source = _write(tables.events, Path(d), spelled)
        # A few leads a chunk: several chunks share one prepared read of the file.
        got = build_features(
            tables.leads, source, snaps, spec, chunk_rows=block * len(moments), stages=tables.stages
        )
    pd.testing.assert_frame_equal(got, expected)


def _messy(tmp_path: Path) -> tuple[EventSource, pd.DataFrame]:
    leads = pd.DataFrame(
        {
            "lead_id": pd.Series(["A", "B", "C"], dtype="string"),
            "created_at": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"], utc=True),
        }
    )
    rows = [
        ("A", "2024-01-05", "Email Open"),  # used
        ("A", "2024-01-05", "email_open"),  # used (the same event, deduplicated later)
        ("A", "not a time", "email_open"),  # unreadable time
        ("A", None, "email_open"),  # missing time
        ("A", "2024-01-06", None),  # missing type
        ("A", "2024-01-06", " -- "),  # nothing left of the type
        ("Z", "2024-01-06", "email_open"),  # unknown lead
        ("C", "2024-01-06", "page_view"),  # before C was created
        ("C", "2024-03-06", "page_view"),  # after until: not needed
        ("B", "2024-01-07", "page_view"),  # B not asked for: not needed
        ("Z", None, None),  # broken three ways: counted once, for the first rule
    ]
    path = tmp_path / "events.csv"
    pd.DataFrame(rows, columns=["lead_id", "occurred_at", "event_type"]).to_csv(path, index=False)
    return EventSource(str(path)), leads


def test_every_row_is_counted_once_in_the_validators_order(tmp_path):
    source, leads = _messy(tmp_path)
    con = connect()
    until = pd.Timestamp("2024-03-01", tz="UTC")
    with prepare_events(source, leads, pd.Series(["A", "C"]), until, 1, con) as prepared:
        assert prepared.rows == {
            "unreadable or missing occurred_at": 3,
            "missing event_type": 2,
            "lead_id not in leads": 1,
            "occurred before the lead's created_at": 1,
            "not needed": 2,
            "used": 2,
        }
        assert prepared.kinds == ("email_open", "page_view")
        folder = prepared.folder
        assert folder.is_dir()
    assert not folder.exists()  # the private folder goes with the object


def test_the_validators_own_count_agrees_with_the_prepared_read(tmp_path):
    from leadscore.data.load import count_event_rules

    source, leads = _messy(tmp_path)
    lines = count_event_rules(source, leads)
    assert lines == [
        "events: 11 rows read from events.csv",
        "events: 3 rows with unreadable or missing occurred_at (skipped)",
        "events: 2 rows with missing event_type (skipped)",
        "events: 1 rows with lead_id not in leads (skipped)",
        "events: 1 rows with occurred before the lead's created_at (skipped)",
    ]


def test_leads_asked_for_in_another_order_are_renumbered(tmp_path, tiny_tables, cfg):
    at = pd.Timestamp("2024-04-01", tz="UTC")
    spec = spec_for(tiny_tables, cfg, at)
    snaps = open_leads(tiny_tables.leads, tiny_tables.outcomes, [at])
    expected = build_features(tiny_tables.leads, tiny_tables.events, snaps, spec)
    source = _write(tiny_tables.events, tmp_path, spelled=False)
    con = connect()
    until = snaps["as_of"].max()
    with prepare_events(source, tiny_tables.leads, snaps["lead_id"], until, 2, con) as prepared:
        backwards = snaps.iloc[::-1].reset_index(drop=True)
        got = pd.DataFrame(engagement_table(backwards, tiny_tables.leads, prepared, spec, con))
        got.index = pd.Index(backwards["lead_id"].to_numpy(), dtype="string")
        want = expected.set_index("lead_id")[got.columns].astype("float64")
        pd.testing.assert_frame_equal(got.sort_index(), want.sort_index(), check_names=False)
        with pytest.raises(ValueError, match="prepared for other leads"):
            other = snaps.assign(lead_id=pd.Series(["nobody"] * len(snaps), dtype="string"))
            engagement_table(other, tiny_tables.leads, prepared, spec, con)
