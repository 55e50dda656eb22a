"""Score history: every nightly run's scores kept, one Parquet file per run, so a lead's
score can be followed over time.

Layout: ``<folder>/as_of=YYYY-MM-DD/<model>-<version>.parquet`` (a Hive-style partition
that DuckDB, Spark and pyarrow read as one dataset). A rerun for the same ``as_of`` and
model version replaces its file atomically, so reruns never duplicate a night.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from leadscore.data.io import write_atomic
from leadscore.errors import DataError


def partition_path(folder: str | Path, as_of: pd.Timestamp, version: str) -> Path:
    """Where the run of ``version`` at ``as_of`` is kept."""
    name = re.sub(r"[^0-9A-Za-z._]+", "-", version).strip("-") or "model"
    return Path(folder) / f"as_of={as_of:%Y-%m-%d}" / f"{name}.parquet"


def record(folder: str | Path, scores: Path, as_of: pd.Timestamp, version: str) -> Path:
    """Keep a scores output (a Parquet file or folder, or a CSV file) in the history."""
    try:
        table = (
            pa.Table.from_pandas(
                pd.read_csv(scores, dtype={"lead_id": "string"}), preserve_index=False
            )
            if scores.suffix == ".csv"
            else pq.read_table(scores)
        )
    except (pa.ArrowException, OSError, ValueError) as err:
        raise DataError(f"history: the scores {scores.name} cannot be read ({err})") from None
    target = partition_path(folder, as_of, version)
    return write_atomic(target, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def partitions(folder: str | Path, before: pd.Timestamp | None = None) -> list[Path]:
    """The history's files in as_of order (then by name); with ``before``, only the runs
    strictly before that moment (a run reads no history from its own night or later)."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"history: folder {root} does not exist")
    found = []
    for part in sorted(root.glob("as_of=*/*.parquet")):
        day = pd.Timestamp(part.parent.name.removeprefix("as_of="), tz="UTC")
        if before is None or day < before:
            found.append(part)
    return found


def read_history(
    folder: str | Path, lead: str | None = None, before: pd.Timestamp | None = None
) -> pd.DataFrame:
    """The kept scores (of one lead, with ``lead``), oldest run first. A file that cannot
    be read is one ``DataError`` naming it; the others are untouched."""
    frames = []
    parts = partitions(folder, before)
    for part in parts:
        try:
            table = pq.read_table(part, filters=[("lead_id", "=", lead)] if lead else None)
        except (pa.ArrowException, OSError) as err:
            raise DataError(
                f"history: {part.parent.name}/{part.name} cannot be read ({str(err).splitlines()[0]}); "
                f"the other {len(parts) - 1} file(s) are untouched: move it aside or rerun that night"
            ) from None
        frames.append(table.to_pandas())
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["as_of", "model_version"], kind="stable", ignore_index=True)
