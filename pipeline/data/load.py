"""Reading a data folder: validated in memory, or with the events left in their file.

``load_data`` reads all three tables and validates them. ``load_streaming`` reads and
validates leads and outcomes, and leaves events in their file for the feature engine to
scan (``leadscore.io.source``): the validator's event rules are then counted by the
engine over the file in one pass, so memory does not grow with the event history.
"""

from __future__ import annotations

import atexit
import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from leadscore.data.contract import Tables
from leadscore.data.files import (
    find_table,
    read_optional_tables,
    read_raw_tables,
    read_table,
    require_whole,
    with_file_lines,
)
from leadscore.data.validate import (
    ValidationReport,
    check_drop_share,
    require_valid,
    validate_tables,
)
from leadscore.errors import DataError
from leadscore.io.csv_format import utf8_copy
from leadscore.io.scratch import scratch_dir
from leadscore.io.source import EventSource, connect
from leadscore.io.sql import event_key_sql

if TYPE_CHECKING:
    from leadscore.config import Config
    from leadscore.io.spark import SparkEvents

Say = Callable[[str], None]


def load_data(
    data_dir: str | Path,
    columns: dict[str, dict[str, str]] | None = None,
    csv: dict[str, str] | None = None,
) -> ValidationReport:
    """Read a data folder (``columns``: the config's mapping, ``csv`` its ``io.csv``) and
    validate it.

    A folder or file that cannot be read raises :class:`~leadscore.errors.DataError`.
    """
    raw = read_raw_tables(data_dir, columns or {}, csv)
    read_as = {n: f.attrs["read_as"] for n, f in raw.items() if f.attrs.get("read_as")}
    report = with_leads_lines(validate_tables(raw), data_dir, csv)
    return dataclasses.replace(report, read_as=read_as)


def with_leads_lines(
    report: ValidationReport, data_dir: str | Path, csv: dict[str, str] | None
) -> ValidationReport:
    """The report with its rejects placed in the leads file (``files.with_file_lines``)."""
    leads = report.counts.get("leads")
    rejects = with_file_lines(
        report.rejects, find_table(data_dir, "leads"), leads.rows_in if leads else 0, csv
    )
    return dataclasses.replace(report, rejects=rejects)


def check_folder(data_dir: str | Path, cfg: Config) -> ValidationReport:
    """A data folder read and validated as the config says: its column mapping and its
    ``io.csv`` options."""
    return load_data(data_dir, cfg.columns.model_dump(), cfg.io.csv.model_dump())


def load_valid(
    data_dir: str | Path, cfg: Config, say: Say = lambda _m: None
) -> tuple[ValidationReport, Tables]:
    """The folder's tables, validated as the config says; each drop said, then a
    ``DataError`` when a table is unusable or more than ``validation.max_drop_share`` of
    its rows were dropped."""
    report = check_folder(data_dir, cfg)
    for line in report.read_as_lines():
        say(f"  data: {line}")
    tables = require_valid(report)
    for problem in report.problems:
        say(f"  data: {problem.line()}")
    require_drops_within(report, cfg)  # after saying what was dropped
    return report, tables


def require_drops_within(report: ValidationReport, cfg: Config) -> None:
    """A ``DataError`` when a table lost more than the config's ``validation.max_drop_share``
    of its rows. A report with a fatal problem is left to its caller, which tells that first."""
    if not report.fatal:
        require_valid(report, cfg.validation.max_drop_share)


def load_streaming(
    data_dir: str | Path,
    columns: dict[str, dict[str, str]],
    say: Say = lambda _m: None,
    count_events: bool = True,
    csv: dict[str, str] | None = None,
    max_drop_share: float | None = None,
) -> tuple[Tables, EventSource, ValidationReport]:
    """Leads and outcomes read and validated in memory; events left in their file.

    Returns (tables with an empty events frame, the ``EventSource``, the validation report).
    The event file's columns are checked; with ``count_events`` its rows are also counted by
    the validator's rules (one scan of the file) and reported through ``say``; without, the
    caller counts them when it suits (scoring does it in its own scan of the file).
    """
    tables, report = load_without_events(data_dir, columns, say, csv, max_drop_share)
    source = EventSource(
        str(find_table(data_dir, "events")), columns.get("events") or {}, csv=dict(csv or {})
    )
    fmt = source.csv_format()
    if fmt is not None:
        require_whole(source.path, fmt)
    read_as = source.read_as()
    if read_as:
        say(f"  data: events: read as {read_as}")
    source = engine_readable(source)
    check_event_columns(source)
    if count_events:
        for line in count_event_rules(source, tables.leads, max_drop_share):
            say(f"  data: {line}")
    return tables, source, report


def engine_readable(source: EventSource) -> EventSource:
    """``source``, or a UTF-8 copy of it in a private temporary folder (removed when the
    process ends: sources cut from it share the copy) when the engine cannot decode its
    encoding itself."""
    fmt = source.csv_format()
    if fmt is None or fmt.engine_reads_it:
        return source
    folder = scratch_dir("leadscore-csv-")
    try:
        copy = utf8_copy(source.path, fmt, folder)
    except (OSError, UnicodeError) as err:
        shutil.rmtree(folder, ignore_errors=True)
        raise DataError(f"events: {Path(source.path).name} cannot be read ({err})") from None
    utf8 = EventSource(str(copy), source.columns, source.until, {**source.csv, "encoding": "utf-8"})
    atexit.register(shutil.rmtree, str(folder), True)
    return utf8


def load_without_events(
    data_dir: str | Path,
    columns: dict[str, dict[str, str]],
    say: Say = lambda _m: None,
    csv: dict[str, str] | None = None,
    max_drop_share: float | None = None,
) -> tuple[Tables, ValidationReport]:
    """Leads and outcomes read and validated in memory (their drops reported through
    ``say``); the tables' events frame is empty, for an engine that reads the events itself."""
    leads = read_table(data_dir, "leads", columns.get("leads"), csv)
    outcomes = read_table(data_dir, "outcomes", columns.get("outcomes"), csv)
    for name, frame in (("leads", leads), ("outcomes", outcomes)):
        if frame.attrs.get("read_as"):
            say(f"  data: {name}: read as {frame.attrs['read_as']}")
    empty = pd.DataFrame(
        {c: pd.Series([], dtype="string") for c in ("lead_id", "occurred_at", "event_type")}
    )
    optional = read_optional_tables(data_dir, columns, csv)
    report = validate_tables({"leads": leads, "events": empty, "outcomes": outcomes, **optional})
    report = with_leads_lines(report, data_dir, csv)
    tables = require_valid(report)
    for problem in report.problems:
        if problem.table != "events":
            say(f"  data: {problem.line()}")
    require_valid(report, max_drop_share)  # after the lines that say what was dropped
    return tables, report


# Each row is counted once, for the first rule it breaks, in the validator's order.
EVENT_CHECKS_SQL = """
SELECT
    COUNT(*) AS rows_in,
    COUNT(*) FILTER (WHERE e.occurred_at IS NULL) AS bad_time,
    COUNT(*) FILTER (WHERE e.occurred_at IS NOT NULL AND NOT typed) AS no_type,
    COUNT(*) FILTER (WHERE e.occurred_at IS NOT NULL AND typed AND l.lead_id IS NULL) AS unknown_lead,
    COUNT(*) FILTER (WHERE e.occurred_at IS NOT NULL AND typed AND e.occurred_at < l.created_at) AS before_created
FROM (SELECT *, COALESCE({key} <> '', false) AS typed FROM ({events})) e
LEFT JOIN leads_in l ON l.lead_id = e.lead_id
"""


RULES = (
    "unreadable or missing occurred_at",
    "missing event_type",
    "lead_id not in leads",
    "occurred before the lead's created_at",
)


def check_event_columns(source: EventSource) -> None:
    """A one-line ``DataError`` when the event file lacks a required column (reads only its
    header or schema)."""
    con = connect()
    try:
        have = {r[0] for r in con.sql(f"DESCRIBE SELECT * FROM {source.relation_sql()}").fetchall()}
    except duckdb.Error as err:
        raise unreadable(source, err) from None
    finally:
        con.close()
    needed = {c: source.columns.get(c, c) for c in ("lead_id", "occurred_at", "event_type")}
    absent = [
        f"'{c}'" + (f" (mapped to '{f}')" if f != c else "")
        for c, f in needed.items()
        if f not in have
    ]
    if absent:
        raise DataError(
            f"events: table is missing required column {', '.join(absent)} ({Path(source.path).name})"
        )


def count_event_rules(
    source: EventSource, leads: pd.DataFrame, max_drop_share: float | None = None
) -> list[str]:
    """The validator's event rules, counted by the engine over the file (one scan): one
    line each; with ``max_drop_share``, a ``DataError`` when they skip more than that share."""
    total, skipped = event_rule_counts(source, leads)
    if max_drop_share is not None:
        check_event_drops(total, skipped, max_drop_share)
    return event_rule_lines(source, total, skipped)


def check_event_drops(total: int, skipped: dict[str, int], max_drop_share: float) -> None:
    """``check_drop_share`` for an events file's skipped rows (by rule)."""
    if skipped:
        rule, most = max(skipped.items(), key=lambda kv: kv[1])
        check_drop_share("events", total, sum(skipped.values()), max_drop_share, (rule, most))


def event_rule_counts(source: EventSource, leads: pd.DataFrame) -> tuple[int, dict[str, int]]:
    """Rows in the file, and the rows each of the validator's event rules skips."""
    con = connect()
    try:
        con.register(
            "leads_in",
            leads[["lead_id", "created_at"]].assign(lead_id=leads["lead_id"].astype(str)),
        )
        try:
            row = con.sql(
                EVENT_CHECKS_SQL.format(events=source.select_sql(), key=event_key_sql("event_type"))
            ).fetchall()[0]
        except duckdb.Error as err:
            raise unreadable(source, err) from None
    finally:
        con.close()
    return int(row[0]), dict(zip(RULES, map(int, row[1:]), strict=True))


def count_event_rules_spark(
    events: SparkEvents, leads: pd.DataFrame, max_drop_share: float | None = None
) -> list[str]:
    """The validator's event rules counted by Spark over its events table: the same query,
    in Spark's dialect."""
    spark = events.spark
    # Creation times travel as epoch microseconds: a pandas time without a zone would be
    # read in the driver's local zone.
    created_us = leads["created_at"].dt.tz_convert("UTC").dt.tz_localize(None).astype("M8[us]")
    keys = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].astype(str).to_numpy(),
            "created_us": created_us.astype("int64"),
        }
    )
    spark.createDataFrame(keys, "lead_id STRING, created_us BIGINT").selectExpr(
        "lead_id", "timestamp_micros(created_us) AS created_at"
    ).createOrReplaceTempView("leads_in")
    events.frame().createOrReplaceTempView("leadscore_events")
    sql = EVENT_CHECKS_SQL.format(
        events="SELECT * FROM leadscore_events", key=event_key_sql("event_type", "spark")
    )
    row = spark.sql(sql).collect()[0]
    total, skipped = int(row[0]), dict(zip(RULES, map(int, row[1:]), strict=True))
    if max_drop_share is not None:
        check_event_drops(total, skipped, max_drop_share)
    return event_rule_lines(events, total, skipped)


def event_rule_lines(
    source: EventSource | SparkEvents, total: int, skipped: dict[str, int]
) -> list[str]:
    """What the event rules did to a file, one line each: rows read, then each reason a row
    was skipped for (reasons that skipped nothing are left out)."""
    lines = [f"events: {total:,} rows read from {Path(source.path).name}"]
    lines += [f"events: {n:,} rows with {name} (skipped)" for name, n in skipped.items() if n]
    return lines


def unreadable(source: EventSource, err: duckdb.Error) -> DataError:
    """The one-line error for an event file the engine cannot read."""
    return DataError(
        f"events: {Path(source.path).name} cannot be read ({str(err).splitlines()[0]})"
    )
