"""Events read by the engine straight from their file, never into Python memory."""

from __future__ import annotations

import shutil
import weakref
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from leadscore.io.csv_format import CsvFormat, sniff_csv
from leadscore.io.scratch import scratch_dir
from leadscore.io.sql import event_key_sql


def connect(memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection set up for batch work: no progress bar, UTC session time zone.

    ``memory_limit`` (e.g. ``"1500MB"``) caps the engine's working memory: beyond it DuckDB
    spills to a private temporary folder (removed with the connection) instead of growing.
    """
    con = duckdb.connect()
    if memory_limit is not None:
        spill = str(scratch_dir("leadscore-engine-"))
        weakref.finalize(con, shutil.rmtree, spill, True)
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{spill.replace(chr(39), chr(39) * 2)}'")
    try:
        con.execute("SET enable_progress_bar = false")  # batch jobs: no terminal chatter
    except duckdb.InvalidInputException:
        pass  # inside Jupyter without ipywidgets DuckDB refuses the setting; the bar is off there
    con.execute("SET TimeZone = 'UTC'")  # a timestamp without a zone is UTC (the contract)
    return con


@dataclass(frozen=True)
class EventSource:
    """An events table in a Parquet or CSV file, scanned by the engine when needed.

    ``columns`` maps contract names to the file's own ({"occurred_at": "Activity Date"});
    ``until`` hides events after a moment (``train --as-of``: act as if today were then).
    Rows the validator would drop are skipped by the same rules in SQL: unreadable or
    missing timestamps, missing types, unknown leads (by the join), events before the lead's
    creation (by the engagement query itself, for every source).
    """

    path: str
    columns: dict[str, str] = field(default_factory=dict)
    until: pd.Timestamp | None = None
    csv: dict[str, str] = field(default_factory=dict)  # the config's io.csv

    def csv_format(self) -> CsvFormat | None:
        """The CSV file's format (``sniff_csv``); None for Parquet."""
        if str(self.path).endswith(".parquet"):
            return None
        return sniff_csv(self.path, self.csv)

    def read_as(self) -> str | None:
        """The CSV format in words when it is not the plain one (for the run to say)."""
        fmt = self.csv_format()
        return None if fmt is None or fmt.is_default else fmt.describe()

    def relation_sql(self) -> str:
        p = str(self.path).replace("'", "''")
        fmt = self.csv_format()
        if fmt is None:
            return f"read_parquet('{p}')"
        return f"read_csv('{p}', all_varchar = true, header = true, {fmt.duckdb_options()})"

    def column(self, name: str) -> str:
        return '"' + self.columns.get(name, name).replace('"', '""') + '"'

    def select_sql(self) -> str:
        """lead_id, occurred_at (TIMESTAMPTZ, NULL when unreadable), event_type."""
        lid, ts, et = (self.column(c) for c in ("lead_id", "occurred_at", "event_type"))
        if not str(self.path).endswith(".parquet"):
            # DuckDB 2.0 pushes a bare TRY_CAST of a CSV column into the reader as a strict
            # cast (one unreadable time fails the scan); a function call in between stops it.
            ts = f"trim({ts})"
        sql = (
            f"SELECT CAST({lid} AS VARCHAR) AS lead_id, TRY_CAST({ts} AS TIMESTAMPTZ) AS occurred_at, "
            f"CAST({et} AS VARCHAR) AS event_type FROM {self.relation_sql()}"
        )
        if self.until is not None:
            sql = (
                f"SELECT * FROM ({sql}) WHERE occurred_at <= TIMESTAMPTZ '{self.until.isoformat()}'"
            )
        return sql

    def cut(self, until: pd.Timestamp) -> EventSource:
        return EventSource(
            self.path,
            self.columns,
            until if self.until is None else min(until, self.until),
            self.csv,
        )

    def _query(self, sql: str) -> list[tuple]:
        con = connect()
        try:
            return con.sql(sql).fetchall()
        finally:
            con.close()

    def summary(self) -> tuple[int, pd.Timestamp | None, pd.Timestamp | None, int]:
        """Rows, first and last time, and an order-independent content hash (the sum of the
        rows' hashes, modulo 2**64), read by the engine in one scan."""
        ((n, lo, hi, total),) = self._query(
            "SELECT COUNT(*), epoch(MIN(occurred_at)), epoch(MAX(occurred_at)), "
            f"SUM(hash(lead_id, occurred_at, event_type)) FROM ({self.select_sql()})"
        )

        def when(v: float | None) -> pd.Timestamp | None:
            return None if v is None else pd.Timestamp(float(v), unit="s", tz="UTC")

        return int(n), when(lo), when(hi), int(total or 0) % 2**64

    def type_counts(self, cutoff: pd.Timestamp) -> pd.Series:
        """Events per type (``event_key``) up to ``cutoff``."""
        rows = self._query(
            f"SELECT {event_key_sql('event_type')} AS t, COUNT(*) FROM ({self.select_sql()}) "
            f"WHERE occurred_at <= TIMESTAMPTZ '{cutoff.isoformat()}' AND event_type IS NOT NULL GROUP BY 1"
        )
        return pd.Series({t: n for t, n in rows if t}, dtype="int64")

    def max_time(self) -> pd.Timestamp | None:
        # Epoch seconds: fetching a zoned timestamp into Python would need pytz.
        (value,) = self._query(f"SELECT epoch(MAX(occurred_at)) FROM ({self.select_sql()})")[0]
        return None if value is None else pd.Timestamp(float(value), unit="s", tz="UTC")
