"""An events file read once for a job that builds features block by block.

Nightly scoring builds features for a few hundred thousand leads at a time, and each block
would otherwise scan the whole file again: parse its strings, spell its event types, join
its lead ids. ``prepare_events`` does that work once. It writes the events of the leads the
job needs, cut to the job's moments, as integers (``lead_key``, epoch seconds, a code per
spelling of event type) into a private temporary folder, one Parquet part per block of
leads; each block's features then read only their part.

The same scan counts every row of the file by the validator's rules, so the job reports
what it skipped without a second pass. Every row lands in exactly one class, tried in the
validator's order: unreadable or missing ``occurred_at``, missing ``event_type``, unknown
lead, before the lead's creation; the rest are used or not needed (a lead not asked for, or
later than the last moment).
"""

from __future__ import annotations

import shutil
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from leadscore.features.spec import event_key
from leadscore.io.ids import positions
from leadscore.io.scratch import scratch_dir
from leadscore.io.source import EventSource

#: The classes rows fall into (negative block numbers in the folder), in the order tried.
SKIPPED = {
    -1: "unreadable or missing occurred_at",
    -2: "missing event_type",
    -3: "lead_id not in leads",
    -4: "occurred before the lead's created_at",
}
NOT_NEEDED = -5


def epoch_seconds(ts: pd.Series) -> np.ndarray:
    """Zoned times as epoch seconds (doubles), as the engine compares them."""
    return (ts.dt.tz_convert("UTC").astype("datetime64[ns, UTC]").astype("int64") / 1e9).to_numpy()


@dataclass
class PreparedEvents:
    """Events of ``lead_ids`` (``lead_key`` = position) in blocks of ``block_leads`` keys.

    ``kinds``: the event key of each type code; ``rows``: rows of the file by class
    ("used", "not needed" and the ``SKIPPED`` reasons). ``close`` removes the folder.
    """

    folder: Path
    lead_ids: pd.Index
    block_leads: int
    kinds: tuple[str, ...]
    rows: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.folder), True)

    def close(self) -> None:
        self._cleanup()

    def __enter__(self) -> PreparedEvents:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def keys_of(self, ids: pd.Series | np.ndarray) -> np.ndarray:
        """Each id's ``lead_key`` (-1 for leads not prepared)."""
        return positions(ids, self.lead_ids)

    def select_sql(self, first: int, last: int) -> str:
        """``lead_key, ts, event_type`` (a type code) of the keys ``first..last``."""
        files = []
        for b in range(first // self.block_leads, last // self.block_leads + 1):
            part = self.folder / f"block={b}"
            if part.is_dir():
                files += sorted(str(f) for f in part.glob("*.parquet"))
        if not files:
            return "SELECT 0 AS lead_key, 0.0 AS ts, 0 AS event_type WHERE false"
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        return (
            f"SELECT lead_key, ts, event_type FROM read_parquet([{listed}], "
            f"hive_partitioning = false) WHERE lead_key BETWEEN {first} AND {last}"
        )


def _spellings(con: duckdb.DuckDBPyConnection, source: EventSource) -> tuple[tuple, pd.DataFrame]:
    """The event types (``event_key``, sorted) and a table from each raw spelling in the file
    to its type's code; spellings with no key are left out."""
    raw = [
        r[0]
        for r in con.sql(
            f"SELECT DISTINCT event_type FROM ({source.select_sql()}) WHERE event_type IS NOT NULL"
        ).fetchall()
    ]
    spelled = {v: event_key(v) for v in raw}
    kinds = tuple(sorted({k for k in spelled.values() if k}))
    code = {k: i for i, k in enumerate(kinds)}
    spellings = pd.DataFrame(
        {
            "raw": pd.Series([v for v in raw if spelled[v]], dtype="string"),
            "kind": pd.Series([code[spelled[v]] for v in raw if spelled[v]], dtype="int32"),
        }
    )
    return kinds, spellings


def _lead_keys(leads: pd.DataFrame, wanted_ids: pd.Index) -> pd.DataFrame:
    """Every valid lead's id and creation (epoch seconds), and its key among the wanted
    leads (NA for a lead the job does not need)."""
    ids = leads["lead_id"].astype("string")
    position = positions(ids, wanted_ids)
    keys = pd.DataFrame(
        {
            "lead_id": ids.to_numpy(),
            "created_ts": epoch_seconds(leads["created_at"]),
            "open_key": pd.array(np.where(position >= 0, position, 0), dtype="Int64"),
        }
    )
    keys.loc[position < 0, "open_key"] = pd.NA
    return keys


def _write_blocks_sql(source: EventSource, until: pd.Timestamp, block_leads: int) -> str:
    """Each event classed (a block of wanted keys, or why it is skipped), as written: rows
    that feed no feature keep only their class (a column of one value per part)."""
    t = repr(float(until.timestamp()))
    classes = f"""
        SELECT k.open_key AS lead_key, epoch(e.occurred_at) AS ts, m.kind AS event_type,
            CASE
                WHEN e.occurred_at IS NULL THEN -1
                WHEN m.kind IS NULL THEN -2
                WHEN k.lead_id IS NULL THEN -3
                WHEN epoch(e.occurred_at) < k.created_ts THEN -4
                WHEN k.open_key IS NULL OR epoch(e.occurred_at) > {t} THEN {NOT_NEEDED}
                ELSE k.open_key // {int(block_leads)}
            END AS block
        FROM ({source.select_sql()}) e
        LEFT JOIN prep_keys k ON k.lead_id = e.lead_id
        LEFT JOIN prep_kinds m ON m.raw = e.event_type
    """
    return f"""
        SELECT CASE WHEN block >= 0 THEN lead_key END AS lead_key,
            CASE WHEN block >= 0 THEN ts END AS ts,
            CAST(CASE WHEN block >= 0 THEN event_type END AS INTEGER) AS event_type, block
        FROM ({classes})
    """


def _forget(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what preparation registered on the connection (whatever state it is in)."""
    try:
        con.execute("DROP TABLE IF EXISTS prep_keys")
    except duckdb.Error:
        pass
    for name in ("prep_keys_in", "prep_kinds"):
        try:
            con.unregister(name)
        except duckdb.Error:
            pass


def prepare_events(
    source: EventSource,
    leads: pd.DataFrame,
    wanted: pd.Series,
    until: pd.Timestamp,
    block_leads: int,
    con: duckdb.DuckDBPyConnection,
) -> PreparedEvents:
    """Read ``source`` once: the events of the ``wanted`` lead ids (keys in that order) from
    their lead's creation up to ``until``, in blocks of ``block_leads`` keys.

    ``leads``: every valid lead (``lead_id``, ``created_at``), for the unknown-lead and
    before-creation rules. Blocks are written in parallel by the engine; the folder is
    private and removed by ``close`` (or when the object is collected).
    """
    wanted_ids = pd.Index(pd.Series(wanted).astype("string").unique())
    folder = scratch_dir("leadscore-events-")
    try:
        kinds, spellings = _spellings(con, source)
        con.register("prep_keys_in", _lead_keys(leads, wanted_ids))
        con.register("prep_kinds", spellings)
        # A table of the engine's own: its hash join builds faster than on a pandas scan.
        con.execute("CREATE OR REPLACE TEMP TABLE prep_keys AS SELECT * FROM prep_keys_in")
        path = str(folder).replace("'", "''")
        con.execute(
            f"COPY ({_write_blocks_sql(source, until, block_leads)}) TO '{path}' "
            "(FORMAT parquet, PARTITION_BY (block), OVERWRITE_OR_IGNORE true)"
        )
        # Rows per part, from the files' metadata (no data read).
        counts = (
            dict(
                con.sql(
                    f"SELECT block, COUNT(*) FROM read_parquet('{path}/*/*.parquet', "
                    "hive_partitioning = true) GROUP BY block"
                ).fetchall()
            )
            if any(folder.glob("*/*.parquet"))
            else {}  # an empty file writes no part
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        _forget(con)
    prepared = PreparedEvents(folder, wanted_ids, int(block_leads), kinds)
    rows = {reason: int(counts.get(b, 0)) for b, reason in SKIPPED.items()}
    rows["not needed"] = int(counts.get(NOT_NEEDED, 0))
    rows["used"] = int(sum(n for b, n in counts.items() if b >= 0))
    prepared.rows = rows
    return prepared
