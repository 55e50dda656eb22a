"""The Spark session and events read by Spark: how a job reaches a cluster (or a local
session) and reads a Parquet or CSV events table there.

Needs the ``spark`` extra (``pip install "leadscore[spark]"``) and a Java runtime.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from leadscore.io.csv_format import CsvFormat, sniff_csv
from leadscore.io.sql import event_key_sql

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# A local session bound to the loopback interface: on machines whose host name resolves to
# an unreachable address, results are otherwise lost between the driver and its executors.
LOCAL_SETTINGS = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
}
# Local mode runs every task inside the driver's JVM, whose heap is 1 GB unless set: too
# little for a few million events. Half the machine's memory (at most 16 GB) by default.
LOCAL_MEMORY_SHARE, LOCAL_MEMORY_MAX_GB = 0.5, 16
SETTINGS = {
    "spark.sql.session.timeZone": "UTC",  # a timestamp without a zone is UTC (the contract)
    "spark.sql.ansi.enabled": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # pandas writes nanosecond timestamps, which Spark reads only as their INT64 value.
    "spark.sql.legacy.parquet.nanosAsLong": "true",
    # Spark 4 reads only a few charsets unless told to use Java's (Windows-1252 among them).
    "spark.sql.legacy.javaCharsets": "true",
    # Zoned microsecond timestamps, as pandas and DuckDB read them (not the legacy INT96).
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}


def spark_session(master: str | None = None) -> SparkSession:
    """The active Spark session, or a new one (``master``: e.g. ``local[2]``; default what
    ``spark-submit`` set, else every local core). Local sessions run their Python workers in
    this interpreter, so they see the same packages."""
    try:
        from pyspark import SparkConf
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkInputError(
            'the Spark engine needs pyspark: pip install "leadscore[spark]" (and Java 17+)'
        ) from None
    master = master or SparkConf().get("spark.master", None) or "local[*]"
    builder = SparkSession.builder.appName("leadscore").master(master)
    settings = dict(SETTINGS)
    if master.startswith("local"):
        settings["spark.driver.memory"] = SparkConf().get("spark.driver.memory", _local_memory())
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        settings.update(LOCAL_SETTINGS)
    for key, value in settings.items():
        builder = builder.config(key, value)
    # PySpark warns on every pandas conversion that it does not yet support pandas 3; the
    # conversions used here are checked equal to DuckDB's results by the tests.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    for key in SETTINGS:  # an existing session keeps its own; these matter for the results
        spark.conf.set(key, SETTINGS[key])
    return spark


def _local_memory() -> str:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not on Linux/macOS: Spark's own default
        return "1g"
    # A container's own limit (cgroup v2, then v1) is below the host's memory.
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = open(limit).read().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    gb = min(LOCAL_MEMORY_MAX_GB, max(1, int(total * LOCAL_MEMORY_SHARE / 2**30)))
    return f"{gb}g"


class SparkInputError(ValueError):
    """Input Spark cannot use as given (a missing column); the CLI prints it as one line."""


@dataclass(frozen=True)
class SparkEvents:
    """An events table read by Spark from a Parquet (or CSV) path or URI.

    ``columns`` maps contract names to the table's own, as in ``EventSource``. Offers the
    two questions a feature spec asks of events (``type_counts``, ``max_time``), so
    ``fit_spec`` treats it like a file read by DuckDB.
    """

    spark: Any
    path: str
    columns: dict[str, str] = field(default_factory=dict)
    csv: dict[str, str] = field(default_factory=dict)  # the config's io.csv

    def csv_format(self) -> CsvFormat:
        """A local file's format is detected as for DuckDB; a URI's is the config's (``csv``)
        or the plain one. Either way the config's settings win."""
        local = self.path.removeprefix("file://")
        if not is_uri(self.path) and os.path.isfile(local):
            return sniff_csv(local, self.csv)
        given = {k: v for k, v in self.csv.items() if v not in (None, "auto")}
        return CsvFormat(**{**vars(CsvFormat()), **given})

    def raw(self) -> DataFrame:
        reader = self.spark.read
        if self.path.endswith(".csv"):
            fmt = self.csv_format()
            # Quoted fields may hold newlines (notes, subjects): parsed as DuckDB does.
            reader = (
                reader.option("header", True)
                .option("sep", fmt.delimiter)
                .option("encoding", fmt.java_encoding)
                .option("multiLine", True)
                .option("quote", '"')
                .option("escape", '"')
            )
            return reader.csv(self.path)
        return reader.parquet(self.path)

    def frame(self) -> DataFrame:
        """``lead_id`` (text), ``occurred_at`` (timestamp, NULL when unreadable), ``event_type``."""
        from pyspark.sql import functions as F

        raw = self.raw()
        missing = [
            f"'{c}'" + (f" (mapped to '{self.columns[c]}')" if c in self.columns else "")
            for c in ("lead_id", "occurred_at", "event_type")
            if self.columns.get(c, c) not in raw.columns
        ]
        if missing:
            raise SparkInputError(f"events: {self.path} has no column {', '.join(missing)}")

        def col(name: str):
            return F.col(f"`{self.columns.get(name, name)}`")

        when = col("occurred_at")
        kind = dict(raw.dtypes)[self.columns.get("occurred_at", "occurred_at")]
        if kind == "string":
            when = F.try_to_timestamp(F.trim(when))
        elif kind == "bigint":  # a nanosecond timestamp (see SETTINGS); DuckDB keeps micros
            # Integer division: nanoseconds since 1970 pass 2^53, beyond a double's integers.
            when = F.timestamp_micros(
                F.expr(f"div(`{self.columns.get('occurred_at', 'occurred_at')}`, 1000)")
            )
        return raw.select(
            col("lead_id").cast("string").alias("lead_id"),
            when.cast("timestamp").alias("occurred_at"),
            col("event_type").cast("string").alias("event_type"),
        )

    def type_counts(self, cutoff: pd.Timestamp) -> pd.Series:
        """Events per type (``event_key``) up to ``cutoff``."""
        self.frame().createOrReplaceTempView("leadscore_events")
        rows = self.spark.sql(
            f"SELECT {event_key_sql('event_type', 'spark')} AS t, COUNT(*) AS n "
            "FROM leadscore_events WHERE event_type IS NOT NULL "
            f"AND UNIX_MICROS(occurred_at) <= {int(cutoff.value // 1000)} GROUP BY 1"
        ).collect()
        return pd.Series({r["t"]: int(r["n"]) for r in rows if r["t"]}, dtype="int64")

    def max_time(self) -> pd.Timestamp | None:
        (row,) = self.frame().selectExpr("MAX(UNIX_MICROS(occurred_at)) AS m").collect()
        return None if row["m"] is None else pd.Timestamp(int(row["m"]), unit="us", tz="UTC")


def is_uri(path: str) -> bool:
    return "://" in path and not path.startswith("file://")
