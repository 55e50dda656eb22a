"""leadscore.data.validate: contract checks on tiny hand-made frames, hand-worked counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.data.contract import TIMESTAMP_DTYPE, Tables
from leadscore.data.load import load_data
from leadscore.data.validate import (
    Problem,
    ValidationReport,
    _count_repeats,
    require_valid,
    validate_tables,
)
from leadscore.errors import DataError

# --------------------------------------------------------------------------- fixtures


def csv_frame(columns: dict[str, list]) -> pd.DataFrame:
    """What leadscore.data.files.read_frame gives for a CSV: every cell a string, empty = NA."""
    return pd.DataFrame(columns, dtype="str")


def raw_csv() -> dict[str, pd.DataFrame]:
    """A small, valid data set as CSV text: 3 leads, 4 events, 2 outcomes."""
    return {
        "leads": csv_frame(
            {
                "lead_id": ["L1", "L2", "L3"],
                "created_at": ["2025-01-01T00:00:00", "2025-01-02T00:00:00", "2025-01-03T00:00:00"],
                "email": ["a@acme.com", "b@gmail.com", None],
                "job_title": ["CTO", "Intern", "VP Sales"],
                "industry": ["SaaS", "Retail", None],
                "country": ["DE", "US", "FR"],
                "lead_source": ["webinar", "ads", "organic"],
                "employees": ["250", "12", None],
                "annual_revenue": ["1500000.5", None, "30000"],
                "segment": ["smb", "mid", "ent"],
            }
        ),
        "events": csv_frame(
            {
                "lead_id": ["L1", "L1", "L2", "L3"],
                "occurred_at": [
                    "2025-01-05T09:00:00",
                    "2025-01-06T10:30:00",
                    "2025-01-07T00:00:00",
                    "2025-01-08T12:00:00",
                ],
                "event_type": ["email_open", "page_view", "demo_request", "form_submit"],
            }
        ),
        "outcomes": csv_frame(
            {
                "lead_id": ["L1", "L2"],
                "closed_at": ["2025-02-01T00:00:00", "2025-03-01T00:00:00"],
                "won": ["true", "false"],
                "amount": ["1000", None],
            }
        ),
    }


def raw_typed() -> dict[str, pd.DataFrame]:
    """The same data set as Parquet would give it: datetimes, numbers, bools."""
    return {
        "leads": pd.DataFrame(
            {
                "lead_id": pd.Series(["L1", "L2", "L3"], dtype="str"),
                "created_at": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03"]),
                "email": ["a@acme.com", "b@gmail.com", None],
                "job_title": ["CTO", "Intern", "VP Sales"],
                "industry": ["SaaS", "Retail", None],
                "country": ["DE", "US", "FR"],
                "lead_source": ["webinar", "ads", "organic"],
                "employees": pd.array([250, 12, None], dtype="Int64"),
                "annual_revenue": [1500000.5, np.nan, 30000.0],
                "segment": pd.Series(["smb", "mid", "ent"], dtype="str"),
            }
        ),
        "events": pd.DataFrame(
            {
                "lead_id": ["L1", "L1", "L2", "L3"],
                # zoned: 10:00 in Berlin (UTC+1 in January) is 09:00 UTC
                "occurred_at": pd.to_datetime(
                    [
                        "2025-01-05T10:00:00",
                        "2025-01-06T11:30:00",
                        "2025-01-07T01:00:00",
                        "2025-01-08T13:00:00",
                    ]
                ).tz_localize("Europe/Berlin"),
                "event_type": ["email_open", "page_view", "demo_request", "form_submit"],
            }
        ),
        "outcomes": pd.DataFrame(
            {
                "lead_id": ["L1", "L2"],
                "closed_at": pd.to_datetime(["2025-02-01", "2025-03-01"]).as_unit("ms"),
                "won": [True, False],
                "amount": [1000.0, np.nan],
            }
        ),
    }


def with_table(raw: dict[str, pd.DataFrame], name: str, **columns: list) -> dict:
    """``raw`` with table ``name`` replaced by a CSV-style frame of ``columns``."""
    return {**raw, name: csv_frame(columns)}


def only(report: ValidationReport, table: str, column: str | None) -> Problem:
    found = [p for p in report.problems if p.table == table and p.column == column]
    assert len(found) == 1, [p.line() for p in report.problems]
    return found[0]


def assert_accounted(report: ValidationReport) -> None:
    """rows in == kept + dropped per table, and the drops are exactly the reported ones."""
    assert report.tables is not None
    for name, frame in report.tables.as_dict().items():
        counts = report.counts[name]
        dropped = sum(
            p.rows for p in report.problems if p.table == name and p.message.endswith("(dropped)")
        )
        assert counts.kept == len(frame)
        assert counts.dropped == dropped
        assert counts.rows_in == counts.kept + counts.dropped
        assert list(frame.index) == list(range(len(frame)))


def leads3() -> dict[str, list]:
    return {
        "lead_id": ["L1", "L2", "L3"],
        "created_at": ["2025-01-01", "2025-01-02", "2025-01-03"],
    }


# --------------------------------------------------------------------------- clean input


def test_clean_csv_input_is_typed() -> None:
    report = validate_tables(raw_csv())
    assert report.problems == []
    tables = require_valid(report)
    assert isinstance(tables, Tables)
    leads, events, outcomes = tables.leads, tables.events, tables.outcomes

    assert list(leads.columns) == list(raw_csv()["leads"].columns)
    assert pd.api.types.is_string_dtype(leads["lead_id"].dtype)
    for frame, col in ((leads, "created_at"), (events, "occurred_at"), (outcomes, "closed_at")):
        assert frame[col].dtype == TIMESTAMP_DTYPE
    assert leads["employees"].dtype == np.float64
    assert leads["employees"].tolist()[:2] == [250.0, 12.0]
    assert np.isnan(leads["employees"].iloc[2])
    assert leads["annual_revenue"].dtype == np.float64
    assert outcomes["won"].dtype == bool
    assert outcomes["won"].tolist() == [True, False]
    assert outcomes["amount"].dtype == np.float64
    assert leads["job_title"].tolist() == ["CTO", "Intern", "VP Sales"]  # case untouched
    assert leads["segment"].tolist() == ["smb", "mid", "ent"]  # other columns kept
    assert events["occurred_at"].iloc[0] == pd.Timestamp("2025-01-05T09:00:00", tz="UTC")
    assert report.rejects.empty
    assert list(report.rejects.columns) == ["lead_id", "row", "reason"]
    assert_accounted(report)


def test_typed_parquet_style_input_gives_the_same_tables() -> None:
    from_csv = require_valid(validate_tables(raw_csv()))
    report = validate_tables(raw_typed())
    assert report.problems == []
    from_typed = require_valid(report)
    for name in ("leads", "events", "outcomes"):
        pd.testing.assert_frame_equal(
            from_typed.as_dict()[name], from_csv.as_dict()[name], check_dtype=False
        )
        for col, dtype in from_csv.as_dict()[name].dtypes.items():
            got = from_typed.as_dict()[name][col].dtype
            assert pd.api.types.is_string_dtype(got) if dtype == "str" else got == dtype, col


def test_naive_timestamp_is_utc_and_zoned_is_converted() -> None:
    raw = with_table(
        raw_csv(),
        "leads",
        lead_id=["A", "B", "C", "D"],
        created_at=[
            "2025-01-01T10:00:00",
            "2025-01-01T12:00:00+02:00",
            "2025-01-01T10:00:00Z",
            "2025-01-01 05:00:00-05:00",
        ],
    )
    raw["events"] = raw["events"].iloc[:0]
    raw["outcomes"] = raw["outcomes"].iloc[:0]
    leads = require_valid(validate_tables(raw)).leads
    assert leads["created_at"].nunique() == 1
    assert leads["created_at"].iloc[0] == pd.Timestamp("2025-01-01T10:00:00", tz="UTC")


def test_typed_naive_and_zoned_datetimes_are_the_same_instant() -> None:
    raw = raw_typed()
    raw["leads"] = pd.DataFrame(
        {"lead_id": ["A"], "created_at": pd.to_datetime(["2025-01-01T10:00:00"])}
    )
    raw["events"] = pd.DataFrame(
        {
            "lead_id": ["A"],
            "occurred_at": pd.to_datetime(["2025-01-01T12:00:00+02:00"]),
            "event_type": ["page_view"],
        }
    )
    raw["outcomes"] = raw["outcomes"].iloc[:0]
    tables = require_valid(validate_tables(raw))
    assert tables.events["occurred_at"].iloc[0] == tables.leads["created_at"].iloc[0]


def test_ids_are_stripped_and_event_types_normalised() -> None:
    raw = with_table(
        raw_csv(),
        "events",
        lead_id=[" L1", "L1 ", "L2", "L3"],
        occurred_at=["2025-01-05", "2025-01-06", "2025-01-07", "2025-01-08"],
        event_type=["Email_Open ", "email_open", " PAGE_VIEW", "form_submit"],
    )
    events = require_valid(validate_tables(raw)).events
    assert events["lead_id"].tolist() == ["L1", "L1", "L2", "L3"]
    assert events["event_type"].tolist() == ["email_open", "email_open", "page_view", "form_submit"]


def test_whole_number_float_ids_from_parquet_match_text_ids() -> None:
    raw = {
        "leads": pd.DataFrame({"lead_id": [12.0, 13.0], "created_at": ["2025-01-01"] * 2}),
        "events": csv_frame(
            {"lead_id": ["12"], "occurred_at": ["2025-01-02"], "event_type": ["page_view"]}
        ),
        "outcomes": pd.DataFrame({"lead_id": [13], "closed_at": ["2025-02-01"], "won": [1]}),
    }
    tables = require_valid(validate_tables(raw))
    assert tables.leads["lead_id"].tolist() == ["12", "13"]
    assert len(tables.events) == 1
    assert tables.outcomes["won"].tolist() == [True]


def test_unknown_event_type_is_kept_and_counted() -> None:
    raw = with_table(
        raw_csv(),
        "events",
        lead_id=["L1", "L1", "L2", "L2", "L3"],
        occurred_at=["2025-01-05", "2025-01-06", "2025-01-07", "2025-01-08", "2025-01-09"],
        event_type=["call", "chat_started", "Chat_Started", "page_view", "chat_started "],
    )
    report = validate_tables(raw)
    problem = only(report, "events", "event_type")
    assert (problem.rows, problem.fatal) == (4, False)
    assert problem.message == (
        "4 rows have an event type outside the contract's list "
        "(2 types: 'chat_started', 'call') (kept)"
    )
    events = require_valid(report).events
    assert events["event_type"].tolist() == [
        "call",
        "chat_started",
        "chat_started",
        "page_view",
        "chat_started",
    ]


def test_categorical_event_types_are_normalised_like_text() -> None:
    raw = raw_typed()
    raw["events"] = raw["events"].assign(
        event_type=pd.Categorical(["Email_Open ", "email_open", None, "Chat"])
    )
    report = validate_tables(raw)
    assert [p.line() for p in report.problems] == [
        "events.event_type: 1 row has no event_type (dropped)",
        "events.event_type: 1 row has an event type outside the contract's list "
        "(1 type: 'chat') (kept)",
    ]
    events = require_valid(report).events
    assert pd.api.types.is_string_dtype(events["event_type"].dtype)
    assert events["event_type"].tolist() == ["email_open", "email_open", "chat"]


def test_unknown_type_only_on_dropped_rows_is_not_counted() -> None:
    report = events_case(
        lead_id=["L1", "X9"],
        occurred_at=["2025-01-05", "2025-01-05"],
        event_type=["page_view", "mystery"],
    )
    assert [p.column for p in report.problems] == ["lead_id"]


def test_input_frames_are_not_modified() -> None:
    raw = raw_csv()
    raw["leads"].loc[1, "lead_id"] = " L2 "
    before = {name: frame.copy() for name, frame in raw.items()}
    validate_tables(raw)
    for name, frame in raw.items():
        pd.testing.assert_frame_equal(frame, before[name])


# --------------------------------------------------------------------------- fatal


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("leads", "lead_id"),
        ("leads", "created_at"),
        ("events", "lead_id"),
        ("events", "occurred_at"),
        ("events", "event_type"),
        ("outcomes", "lead_id"),
        ("outcomes", "closed_at"),
        ("outcomes", "won"),
    ],
)
def test_missing_required_column_is_fatal(table: str, column: str) -> None:
    raw = raw_csv()
    raw[table] = raw[table].drop(columns=column)
    n = len(raw[table])
    report = validate_tables(raw)
    assert report.tables is None
    problem = report.fatal[0]
    assert (problem.table, problem.column, problem.rows, problem.fatal) == (table, column, n, True)
    assert problem.line().startswith(
        f"{table}: table is missing required column {column!r} ({n} rows"
    )
    with pytest.raises(DataError, match=rf"^{table}: table is missing required column '{column}'"):
        require_valid(report)


def test_missing_column_message_lists_the_columns_present() -> None:
    raw = raw_csv()
    raw["events"] = raw["events"].rename(columns={"occurred_at": "ts"})
    with pytest.raises(DataError, match=r"\(4 rows; columns: lead_id, ts, event_type\)$"):
        require_valid(validate_tables(raw))


def test_missing_column_still_collects_other_problems() -> None:
    raw = raw_csv()
    raw["outcomes"] = raw["outcomes"].drop(columns="won")
    raw["leads"].loc[2, "created_at"] = "soon"
    report = validate_tables(raw)
    assert report.tables is None
    assert [p.fatal for p in report.problems] == [False, False, True]  # in table order
    assert only(report, "leads", "created_at").rows == 1
    assert only(report, "events", "lead_id").rows == 1  # L3's event: its lead was dropped
    assert report.counts["outcomes"].kept is None
    assert "outcomes: 2 rows in, not checked" in report.summary()


def test_empty_leads_table_is_fatal() -> None:
    raw = raw_csv()
    raw["leads"] = raw["leads"].iloc[:0]
    report = validate_tables(raw)
    problem = only(report, "leads", None)
    assert (problem.rows, problem.fatal) == (0, True)
    with pytest.raises(DataError, match=r"^leads: table is empty \(0 rows\)$"):
        require_valid(report)


def test_leads_with_no_valid_row_left_is_fatal() -> None:
    raw = with_table(raw_csv(), "leads", lead_id=["L1", "L2"], created_at=["never", None])
    report = validate_tables(raw)
    assert report.tables is None
    assert len(report.rejects) == 2
    with pytest.raises(
        DataError, match=r"^leads: table has no valid rows left \(all 2 rows dropped\)$"
    ):
        require_valid(report)


def test_missing_table_is_fatal() -> None:
    raw = raw_csv()
    del raw["outcomes"]
    with pytest.raises(DataError, match=r"^outcomes: table is missing \(no frame given\)$"):
        require_valid(validate_tables(raw))


def test_duplicated_column_name_is_fatal() -> None:
    raw = raw_csv()
    leads = raw["leads"]
    raw["leads"] = pd.concat([leads, leads[["lead_id"]]], axis=1)
    with pytest.raises(DataError, match=r"^leads: table has 2 columns named 'lead_id' \(3 rows\)$"):
        require_valid(validate_tables(raw))


@pytest.mark.parametrize("table", ["events", "outcomes"])
@pytest.mark.parametrize("shape", ["header only", "no columns"])
def test_empty_events_or_outcomes_is_a_note_not_fatal(table: str, shape: str) -> None:
    raw = raw_csv()
    raw[table] = raw[table].iloc[:0] if shape == "header only" else pd.DataFrame()
    report = validate_tables(raw)
    problem = only(report, table, None)
    assert (problem.rows, problem.fatal) == (0, False)
    assert problem.line() == f"{table}: table is empty (0 rows)"
    tables = require_valid(report)
    frame = tables.as_dict()[table]
    assert len(frame) == 0
    ts = "occurred_at" if table == "events" else "closed_at"
    assert frame[ts].dtype == TIMESTAMP_DTYPE
    assert_accounted(report)


# --------------------------------------------------------------------------- leads drops


def test_lead_without_id_is_dropped() -> None:
    raw = with_table(
        raw_csv(),
        "leads",
        lead_id=["L1", None, "  ", "L2", "L3"],
        created_at=["2025-01-01", "2025-01-01", "2025-01-01", "2025-01-02", "2025-01-03"],
    )
    report = validate_tables(raw)
    problem = only(report, "leads", "lead_id")
    assert (problem.rows, problem.fatal) == (2, False)
    assert problem.line() == "leads.lead_id: 2 rows have no lead_id (dropped)"
    assert report.rejects["row"].tolist() == [2, 3]  # numbered from 1
    assert report.rejects["reason"].tolist() == ["missing lead_id"] * 2
    assert report.rejects["lead_id"].isna().all()
    assert_accounted(report)


def test_duplicate_lead_id_keeps_the_first_valid_occurrence() -> None:
    raw = with_table(
        raw_csv(),
        "leads",
        lead_id=["L1", "L2", "L1", "L3", "L2", "L2"],
        created_at=["2025-01-01", "bad", "2025-01-05", "2025-01-03", "2025-01-02", "2025-01-09"],
    )
    report = validate_tables(raw)
    problem = only(report, "leads", "lead_id")
    assert problem.rows == 2
    assert problem.message == (
        "2 rows repeat an earlier lead_id, e.g. 'L1'; the first is kept (dropped)"
    )
    leads = require_valid(report).leads
    assert leads["lead_id"].tolist() == ["L1", "L3", "L2"]
    assert leads["created_at"].dt.day.tolist() == [1, 3, 2]
    assert report.rejects.to_dict("list") == {
        "lead_id": ["L2", "L1", "L2"],
        "row": [2, 3, 6],
        "reason": ["unparseable created_at", "duplicate lead_id", "duplicate lead_id"],
    }
    assert_accounted(report)


def test_lead_with_missing_created_at_is_dropped() -> None:
    raw = with_table(
        raw_csv(), "leads", lead_id=["L1", "L2", "L3"], created_at=["2025-01-01", None, ""]
    )
    report = validate_tables(raw)
    problem = only(report, "leads", "created_at")
    assert problem.rows == 2
    assert problem.line() == "leads.created_at: 2 rows have no created_at (dropped)"
    assert report.rejects["reason"].tolist() == ["missing created_at"] * 2
    assert_accounted(report)


def test_lead_with_unparseable_created_at_is_dropped() -> None:
    raw = with_table(
        raw_csv(),
        "leads",
        lead_id=["L1", "L2", "L3", "L4"],
        created_at=["2025-01-01", "31/12/2024", "2025-02-30", "2025-01-03"],
    )
    report = validate_tables(raw)
    problem = only(report, "leads", "created_at")
    assert problem.rows == 2
    assert problem.line() == (
        "leads.created_at: 2 rows have an unparseable timestamp, e.g. '31/12/2024' (dropped)"
    )
    assert report.rejects.to_dict("list") == {
        "lead_id": ["L2", "L3"],
        "row": [2, 3],
        "reason": ["unparseable created_at"] * 2,
    }
    # events and outcomes of a dropped lead go too, as unknown leads
    assert only(report, "events", "lead_id").rows == 2
    assert only(report, "outcomes", "lead_id").rows == 1
    assert_accounted(report)


def test_rejects_list_every_dropped_leads_row_once_with_its_first_reason() -> None:
    raw = with_table(
        raw_csv(),
        "leads",
        lead_id=["L1", None, "L2", "L3", "L1", "L4"],
        created_at=["2025-01-01", "bad", "2025-01-02", None, "2025-01-01", "2025-01-04"],
        country=["DE", "US", "FR", "IT", "ES", "PT"],
    )
    report = validate_tables(raw)
    rejects = report.rejects
    assert rejects["row"].dtype == np.int64
    assert rejects["lead_id"].isna().tolist() == [True, False, False]
    assert rejects["lead_id"].tolist()[1:] == ["L3", "L1"]
    assert rejects["row"].tolist() == [2, 4, 5]
    assert rejects["reason"].tolist() == [
        "missing lead_id",
        "missing created_at",
        "duplicate lead_id",
    ]
    assert report.counts["leads"].dropped == len(rejects) == 3
    assert require_valid(report).leads["country"].tolist() == ["DE", "FR", "PT"]


# --------------------------------------------------------------------------- events drops


def events_case(**events: list) -> ValidationReport:
    return validate_tables(with_table(raw_csv(), "events", **events))


def test_event_with_missing_occurred_at_is_dropped() -> None:
    report = events_case(
        lead_id=["L1", "L1", "L2"],
        occurred_at=["2025-01-05", None, "2025-01-07"],
        event_type=["page_view"] * 3,
    )
    problem = only(report, "events", "occurred_at")
    assert problem.rows == 1
    assert problem.line() == "events.occurred_at: 1 row has no occurred_at (dropped)"
    assert_accounted(report)


def test_event_with_unparseable_occurred_at_is_dropped() -> None:
    report = events_case(
        lead_id=["L1", "L1", "L2", "L3"],
        occurred_at=["2025-01-05", "yesterday", "2025-13-01", "2025-01-08T10:00:00+01:00"],
        event_type=["page_view"] * 4,
    )
    problem = only(report, "events", "occurred_at")
    assert problem.rows == 2
    assert problem.line() == (
        "events.occurred_at: 2 rows have an unparseable timestamp, e.g. 'yesterday' (dropped)"
    )
    assert require_valid(report).events["lead_id"].tolist() == ["L1", "L3"]
    assert_accounted(report)


def test_event_with_missing_event_type_is_dropped() -> None:
    report = events_case(
        lead_id=["L1", "L1", "L2"],
        occurred_at=["2025-01-05", "2025-01-06", "2025-01-07"],
        event_type=["page_view", None, " "],
    )
    problem = only(report, "events", "event_type")
    assert problem.rows == 2
    assert problem.line() == "events.event_type: 2 rows have no event_type (dropped)"
    assert_accounted(report)


def test_event_of_unknown_lead_is_dropped() -> None:
    report = events_case(
        lead_id=["L1", "X9", "X9", "L3", None],
        occurred_at=["2025-01-05"] * 5,
        event_type=["page_view"] * 5,
    )
    unknown = [p for p in report.problems if p.table == "events" and p.column == "lead_id"]
    assert [p.line() for p in unknown] == [
        "events.lead_id: 1 row has no lead_id (dropped)",
        "events.lead_id: 2 rows have a lead_id not among the valid leads, e.g. 'X9' (dropped)",
    ]
    assert require_valid(report).events["lead_id"].tolist() == ["L1", "L3"]
    assert_accounted(report)


def test_event_before_created_at_is_dropped() -> None:
    report = events_case(
        lead_id=["L1", "L2", "L2", "L3"],
        # L2 was created 2025-01-02T00:00Z: 23:59 the day before is too early, 00:00 is not
        occurred_at=[
            "2025-01-05",
            "2025-01-01T23:59:59",
            "2025-01-02T01:00:00+01:00",
            "2024-12-31",
        ],
        event_type=["page_view"] * 4,
    )
    problem = only(report, "events", "occurred_at")
    assert problem.rows == 2
    assert (
        problem.line()
        == "events.occurred_at: 2 rows occurred before the lead's created_at (dropped)"
    )
    assert require_valid(report).events["lead_id"].tolist() == ["L1", "L2"]
    assert_accounted(report)


def test_exact_duplicate_events_are_kept_and_counted() -> None:
    report = events_case(
        lead_id=["L1", "L1", "L1", "L1", "L2", "L2"],
        occurred_at=[
            "2025-01-05T10:00:00",
            "2025-01-05T11:00:00+01:00",  # same instant as row 0
            "2025-01-05T10:00:00",
            "2025-01-05T10:00:00",
            "2025-01-05T10:00:00",
            "2025-01-05T10:00:00",
        ],
        event_type=[
            "email_open",
            "Email_Open",
            "email_open",
            "page_view",
            "email_open",
            "page_view",
        ],
    )
    problem = only(report, "events", None)
    assert (problem.rows, problem.fatal) == (2, False)
    assert problem.line() == (
        "events: 2 rows repeat an earlier event with the same lead_id, occurred_at "
        "and event_type (kept)"
    )
    assert len(require_valid(report).events) == 6
    assert_accounted(report)


@pytest.mark.parametrize("n", [2, 50, 5000])
def test_count_repeats_matches_pandas(n: int) -> None:
    rng = np.random.default_rng(n)
    columns = [rng.integers(0, 4, n), rng.integers(-3, 3, n), rng.integers(0, 2, n)]
    expected = pd.DataFrame(dict(enumerate(columns))).duplicated().sum()
    assert _count_repeats(columns) == expected


# --------------------------------------------------------------------------- outcomes drops


def outcomes_case(**outcomes: list) -> ValidationReport:
    return validate_tables(with_table(raw_csv(), "outcomes", **outcomes))


def test_outcome_with_unparseable_closed_at_is_dropped() -> None:
    report = outcomes_case(
        lead_id=["L1", "L2", "L3"],
        closed_at=["2025-02-01", "Q3 2025", None],
        won=["1", "0", "1"],
    )
    lines = [p.line() for p in report.problems if p.column == "closed_at"]
    assert lines == [
        "outcomes.closed_at: 1 row has no closed_at (dropped)",
        "outcomes.closed_at: 1 row has an unparseable timestamp, e.g. 'Q3 2025' (dropped)",
    ]
    assert_accounted(report)


def test_won_accepts_the_usual_spellings() -> None:
    yes = ["true", "T", "Yes", "y", "WON", "1", "1.0"]
    no = ["false", "f", "NO", "n", "lost", "0", "0.0"]
    values = yes + no
    raw = raw_csv()
    raw["leads"] = csv_frame(
        {
            "lead_id": [f"L{i}" for i in range(len(values))],
            "created_at": ["2025-01-01"] * len(values),
        }
    )
    raw["events"] = raw["events"].iloc[:0]
    raw["outcomes"] = csv_frame(
        {
            "lead_id": [f"L{i}" for i in range(len(values))],
            "closed_at": ["2025-02-01"] * len(values),
            "won": values,
        }
    )
    report = validate_tables(raw)
    assert [p.column for p in report.problems] == [None]  # only the empty-events note
    assert require_valid(report).outcomes["won"].tolist() == [True] * len(yes) + [False] * len(no)


def test_outcome_with_unparseable_won_is_dropped() -> None:
    report = outcomes_case(
        lead_id=["L1", "L2", "L3"],
        closed_at=["2025-02-01"] * 3,
        won=["maybe", "true", "2"],
    )
    problem = only(report, "outcomes", "won")
    assert problem.rows == 2
    assert problem.line() == (
        "outcomes.won: 2 rows have an unparseable won value, e.g. 'maybe' "
        "(expected true/false, yes/no, won/lost, 1/0) (dropped)"
    )
    assert require_valid(report).outcomes["lead_id"].tolist() == ["L2"]
    assert_accounted(report)


def test_typed_won_numbers_other_than_0_1_are_unparseable() -> None:
    raw = raw_typed()
    raw["outcomes"] = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3"],
            "closed_at": pd.to_datetime(["2025-02-01"] * 3),
            "won": [1, 2, 0],
        }
    )
    report = validate_tables(raw)
    assert only(report, "outcomes", "won").rows == 1
    assert require_valid(report).outcomes["won"].tolist() == [True, False]


def test_outcome_of_unknown_lead_is_dropped() -> None:
    report = outcomes_case(lead_id=["L1", "L7"], closed_at=["2025-02-01"] * 2, won=["1", "0"])
    problem = only(report, "outcomes", "lead_id")
    assert problem.line() == (
        "outcomes.lead_id: 1 row has a lead_id not among the valid leads, e.g. 'L7' (dropped)"
    )
    assert_accounted(report)


def test_outcome_before_created_at_is_dropped() -> None:
    report = outcomes_case(
        lead_id=["L1", "L3"], closed_at=["2024-12-31T23:00:00", "2025-02-01"], won=["1", "0"]
    )
    problem = only(report, "outcomes", "closed_at")
    assert (
        problem.line() == "outcomes.closed_at: 1 row closed before the lead's created_at (dropped)"
    )
    assert require_valid(report).outcomes["lead_id"].tolist() == ["L3"]
    assert_accounted(report)


def test_several_outcomes_for_one_lead_keep_the_earliest() -> None:
    report = outcomes_case(
        lead_id=["L1", "L2", "L1", "L1", "L2"],
        closed_at=["2025-03-01", "2025-02-01", "2025-02-01", "2025-02-01", "2025-02-01"],
        won=["1", "0", "0", "1", "1"],
        amount=["300", None, "100", "200", "50"],
    )
    problem = only(report, "outcomes", "lead_id")
    assert problem.rows == 3
    assert problem.message == (
        "3 rows repeat a lead_id that has an earlier outcome, e.g. 'L1'; "
        "the earliest closed_at is kept (dropped)"
    )
    outcomes = require_valid(report).outcomes
    # L1: earliest is 2025-02-01, row 2 before row 3 in the file; L2: tie, row 1 first
    assert outcomes["lead_id"].tolist() == ["L2", "L1"]
    assert outcomes["won"].tolist() == [False, False]
    assert outcomes["amount"].tolist()[1] == 100.0
    assert_accounted(report)


# --------------------------------------------------------------------------- coerced values


def test_non_numeric_values_become_na() -> None:
    raw = with_table(
        raw_csv(),
        "leads",
        lead_id=["L1", "L2", "L3", "L4"],
        created_at=["2025-01-01"] * 4,
        employees=["50", "many", "1e3", "inf"],
        annual_revenue=["1,000", "2000", None, " 30 "],
    )
    raw["outcomes"] = csv_frame(
        {
            "lead_id": ["L1", "L2"],
            "closed_at": ["2025-02-01"] * 2,
            "won": ["1", "0"],
            "amount": ["x", "-5"],
        }
    )
    report = validate_tables(raw)
    assert only(report, "leads", "employees").line() == (
        "leads.employees: 2 rows have a non-numeric value, e.g. 'many' (set to NA)"
    )
    assert only(report, "leads", "annual_revenue").line() == (
        "leads.annual_revenue: 1 row has a non-numeric value, e.g. '1,000' (set to NA)"
    )
    assert only(report, "outcomes", "amount").rows == 1
    tables = require_valid(report)
    nan = float("nan")
    pd.testing.assert_series_equal(
        tables.leads["employees"], pd.Series([50.0, nan, 1000.0, nan], name="employees")
    )
    pd.testing.assert_series_equal(
        tables.leads["annual_revenue"], pd.Series([nan, 2000.0, nan, 30.0], name="annual_revenue")
    )
    # a negative amount is kept (credit notes)
    pd.testing.assert_series_equal(tables.outcomes["amount"], pd.Series([nan, -5.0], name="amount"))
    assert report.counts["leads"].dropped == 0
    assert_accounted(report)


def test_negative_employees_and_revenue_become_na() -> None:
    raw = raw_typed()
    raw["leads"] = raw["leads"].assign(
        employees=pd.array([-1, 12, None], dtype="Int64"), annual_revenue=[5.0, -0.5, -2.0]
    )
    report = validate_tables(raw)
    assert only(report, "leads", "employees").line() == (
        "leads.employees: 1 row has a negative value, e.g. '-1' (set to NA)"
    )
    assert only(report, "leads", "annual_revenue").rows == 2
    leads = require_valid(report).leads
    assert leads["employees"].isna().tolist() == [True, False, True]
    assert leads["annual_revenue"].isna().tolist() == [False, True, True]


# --------------------------------------------------------------------------- report


def test_summary_has_counts_and_every_problem_line() -> None:
    raw = with_table(raw_csv(), "leads", lead_id=["L1", "L2", None], created_at=["2025-01-01"] * 3)
    report = validate_tables(raw)
    summary = report.summary()
    assert summary.splitlines()[:3] == [
        "leads: 3 rows in, 2 kept, 1 dropped",
        "events: 4 rows in, 3 kept, 1 dropped",
        "outcomes: 2 rows in, 2 kept, 0 dropped",
    ]
    for problem in report.problems:
        assert problem.line() in summary
    assert "2 problems (0 fatal):" in summary


def test_problem_line_names_table_and_column() -> None:
    assert Problem("leads", "created_at", 12, "12 rows have x (dropped)", False).line() == (
        "leads.created_at: 12 rows have x (dropped)"
    )
    assert (
        Problem("events", None, 3, "3 rows repeat (kept)", False).line()
        == "events: 3 rows repeat (kept)"
    )


# --------------------------------------------------------------------------- load_data


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_load_data_reads_a_folder(tmp_path, fmt: str) -> None:
    for name, frame in raw_typed().items():
        if fmt == "csv":
            frame.to_csv(tmp_path / f"{name}.csv", index=False)
        else:
            frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    report = load_data(tmp_path)
    assert report.problems == []
    tables = require_valid(report)
    expected = require_valid(validate_tables(raw_csv()))
    for name in ("leads", "events", "outcomes"):
        pd.testing.assert_frame_equal(
            tables.as_dict()[name], expected.as_dict()[name], check_dtype=False
        )
    assert tables.events["occurred_at"].dtype == TIMESTAMP_DTYPE


def test_load_data_applies_the_column_mapping(tmp_path) -> None:
    raw = raw_csv()
    raw["events"] = raw["events"].rename(columns={"occurred_at": "ts", "event_type": "activity"})
    for name, frame in raw.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    with pytest.raises(DataError, match=r"^events: table is missing required column 'occurred_at'"):
        require_valid(load_data(tmp_path))
    report = load_data(tmp_path, {"events": {"occurred_at": "ts", "event_type": "activity"}})
    assert len(require_valid(report).events) == 4


def test_load_data_with_bad_rows_in_a_csv(tmp_path) -> None:
    (tmp_path / "leads.csv").write_text(
        "lead_id,created_at,employees\nL1,2025-01-01,10\n,2025-01-01,5\nL2,01/02/2025,x\n"
    )
    (tmp_path / "events.csv").write_text("lead_id,occurred_at,event_type\n")
    (tmp_path / "outcomes.csv").write_text("lead_id,closed_at,won\nL1,2025-02-01,won\n")
    report = load_data(tmp_path)
    assert report.rejects.to_dict("list")["line"] == [3, 4]  # the header is line 1
    assert [p.line() for p in report.problems] == [
        "leads.lead_id: 1 row has no lead_id (dropped)",
        "leads.created_at: 1 row has an unparseable timestamp, e.g. '01/02/2025' (dropped)",
        "events: table is empty (0 rows)",
    ]
    assert require_valid(report).outcomes["won"].tolist() == [True]


def test_rejects_name_the_line_of_a_csv_file_and_the_row_of_a_parquet_one(tmp_path) -> None:
    # Line 1 the header, 2 a row whose quoted note spans lines 2-4, 5 blank, 6 a good row,
    # 7 the unparseable date, 8 a row with no id.
    leads = (
        "lead_id,created_at,note\n"
        'L1,2025-01-01,"called twice\nno answer\r\nmailed"\n'
        "\n"
        "L2,2025-01-02,\n"
        "L3,31/12/2024,\n"
        ",2025-01-03,\n"
    )
    (tmp_path / "leads.csv").write_text(leads, newline="")
    (tmp_path / "events.csv").write_text("lead_id,occurred_at,event_type\n")
    (tmp_path / "outcomes.csv").write_text("lead_id,closed_at,won\nL1,2025-02-01,won\n")
    rejects = load_data(tmp_path).rejects
    assert rejects.columns.tolist() == ["lead_id", "line", "reason"]
    assert rejects["line"].tolist() == [7, 8]
    assert rejects["reason"].tolist() == ["unparseable created_at", "missing lead_id"]
    # The same table as Parquet: rows numbered from 1 (L1 is row 1).
    pd.read_csv(tmp_path / "leads.csv", dtype=str).to_parquet(tmp_path / "leads.parquet")
    (tmp_path / "leads.csv").unlink()
    rejects = load_data(tmp_path).rejects
    assert rejects.columns.tolist() == ["lead_id", "row", "reason"]
    assert rejects["row"].tolist() == [3, 4]


TIMESTAMP_SHAPES = [
    "2025-01-01T10:00:00",
    "2025-01-01 10:00:00",
    "2025-01-01",
    "2025-01-01T10:00",
    "2025-01-01T10:00:00.250",
    "2025-01-01T10:00:00.123456",
    "2025-01-01T10:00:00Z",
    "2025-01-01T12:00:00+02:00",
    "2025-01-01T12:00:00+0200",
    "2025-01-01T05:30:00-04:30",
    "2025-01-01T12:00:00+02",
    "2025-01-01 12:00:00.5+02:00",
    "2025-02-30",
    "31/12/2024",
    "bad",
    "",
    None,
]


@pytest.mark.parametrize("block", [1 << 20, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_timestamp_parsing_agrees_with_pandas_iso8601(monkeypatch, block: int, seed: int) -> None:
    """The Arrow fast path (any mix of shapes, any block size) gives pandas' answer."""
    import leadscore.data.validate.values as validate

    monkeypatch.setattr(validate, "_BLOCK", block)
    rng = np.random.default_rng(seed)
    shapes = np.array(TIMESTAMP_SHAPES, dtype=object)
    for pool in (shapes[:2], shapes[6:8], shapes[:12], shapes):
        text = pd.Series(pool[rng.integers(0, len(pool), 40)], dtype="str")
        values, missing, bad = validate._parse_timestamps(text)
        stripped = text.str.strip().replace("", None)
        expected = pd.to_datetime(stripped, utc=True, format="ISO8601", errors="coerce")
        expected = expected.dt.as_unit("us").dt.tz_localize(None).to_numpy().view(np.int64)
        assert values.tolist() == expected.tolist()
        assert missing.tolist() == stripped.isna().tolist()
        unparseable = (expected == np.iinfo(np.int64).min) & stripped.notna().to_numpy()
        assert bad.tolist() == unparseable.tolist()


def test_stages_are_optional_and_checked_like_events() -> None:
    assert validate_tables(raw_csv()).tables.stages is None
    raw = with_table(
        raw_csv(),
        "stages",
        lead_id=["L1", "L1", None, "L9", "L2", "L2", "L3"],
        stage=["Lead", " MQL", "sql", "sql", None, "SQL", "sql"],
        entered_at=[
            "2025-01-01T00:00:00",
            "2025-01-04T00:00:00",
            "2025-01-04T00:00:00",
            "2025-01-04T00:00:00",
            "2025-01-04T00:00:00",
            "not a time",
            "2024-12-01T00:00:00",  # before L3 was created
        ],
    )
    report = validate_tables(raw)
    assert_accounted(report)
    stages = report.tables.stages
    assert stages["stage"].tolist() == ["lead", "mql"]  # one spelling, like event types
    assert report.counts["stages"].dropped == 5
    lines = [p.line() for p in report.problems if p.table == "stages"]
    assert any("stages.lead_id" in x and "no lead_id" in x for x in lines)
    assert any("stages.lead_id" in x and "not among the valid leads" in x for x in lines)
    assert any("stages.stage" in x for x in lines)
    assert any("stages.entered_at" in x and "unparseable" in x for x in lines)
    assert any("entered before the lead's created_at" in x for x in lines)
    assert "stages: 7 rows in, 2 kept, 5 dropped" in report.summary()


def test_field_history_is_optional_and_each_bad_row_counted_once() -> None:
    assert validate_tables(raw_csv()).tables.field_history is None
    raw = with_table(
        raw_csv(),
        "field_history",
        lead_id=["L1", "L1", None, "L9", "L2", "L2", "L3", "L3", "L2"],
        field=[
            "job_title",
            " industry",
            "job_title",
            "job_title",
            "Status",  # not a leads column
            "job_title",
            "created_at",  # cannot change
            None,
            "employees",
        ],
        value=["CEO", "Retail", "x", "x", "Open", "VP", "x", "x", "lots"],
        changed_at=[
            "2025-01-05T00:00:00",
            "2024-12-31T00:00:00",  # before L1 was created: kept
            "2025-01-05T00:00:00",
            "2025-01-05T00:00:00",
            "2025-01-05T00:00:00",
            "not a time",
            "2025-01-05T00:00:00",
            "2025-01-05T00:00:00",
            "2025-01-05T00:00:00",
        ],
    )
    report = validate_tables(raw)
    assert_accounted(report)
    history = report.tables.field_history
    assert history["field"].tolist() == ["job_title", "industry", "employees"]
    assert history["value"].tolist()[:2] == ["CEO", "Retail"]
    assert pd.isna(history["value"].iloc[2])  # a non-number for a number column
    assert str(history["changed_at"].dtype) == str(TIMESTAMP_DTYPE)
    assert report.counts["field_history"].dropped == 6
    lines = [p.line() for p in report.problems if p.table == "field_history"]
    assert "field_history.lead_id: 1 row has no lead_id (dropped)" in lines
    assert any("field_history.changed_at: 1 row has an unparseable" in x for x in lines)
    assert "field_history.field: 1 row has no field (dropped)" in lines
    assert any(
        x.startswith("field_history.field: 2 rows name a field that is not a column of the leads")
        and "'Status'" in x
        for x in lines
    )
    assert any("field_history.lead_id: 1 row has a lead_id not among" in x for x in lines)
    assert any("field_history.employees: 1 row has a non-numeric value" in x for x in lines)
    assert "field_history: 9 rows in, 3 kept, 6 dropped" in report.summary()


def test_field_history_old_values_are_read_like_values() -> None:
    raw = with_table(
        raw_csv(),
        "field_history",
        lead_id=["L1", "L2"],
        field=["employees", "job_title"],
        value=["300", "VP"],
        changed_at=["2025-01-05T00:00:00", "2025-01-05T00:00:00"],
        old_value=["250", None],
    )
    history = validate_tables(raw).tables.field_history
    assert history["value"].tolist() == ["300.0", "VP"]
    assert history["old_value"].tolist()[0] == "250.0"
    assert pd.isna(history["old_value"].iloc[1])


def test_field_history_fields_follow_the_leads_mapping(tmp_path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    raw = raw_csv()
    raw["leads"] = raw["leads"].rename(columns={"job_title": "Title"})
    raw["field_history"] = csv_frame(
        {
            "LeadId": ["L1"],
            "Field": ["Title"],
            "NewValue": ["CEO"],
            "CreatedDate": ["2025-01-05T00:00:00"],
        }
    )
    for name, frame in raw.items():
        frame.to_csv(data / f"{name}.csv", index=False)
    columns = {
        "leads": {"job_title": "Title"},
        "field_history": {
            "lead_id": "LeadId",
            "field": "Field",
            "value": "NewValue",
            "changed_at": "CreatedDate",
        },
    }
    report = load_data(data, columns)
    assert report.tables.field_history["field"].tolist() == ["job_title"]


def test_a_run_without_field_history_says_fields_are_taken_as_exported() -> None:
    from leadscore.data.views import fields_note

    tables = validate_tables(raw_csv()).tables
    assert fields_note(tables).startswith("lead fields: taken as of the export")
    raw = with_table(
        raw_csv(),
        "field_history",
        lead_id=["L1"],
        field=["job_title"],
        value=["CEO"],
        changed_at=["2025-01-05T00:00:00"],
    )
    assert fields_note(validate_tables(raw).tables) is None
