"""A night's scores on their way to the file: the output's columns, a sink that appends
score chunks to one Parquet or CSV file, a scratch sink that holds a night until its ranks
and tiers are set (``NightSink``, ``place``), and the rejects file beside the output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from leadscore.config import TierConfig
from leadscore.data.files import iso_utc, to_arrow, write_atomic
from leadscore.model.tiers import ranks_and_tiers

#: A scored row's tier group when a segmented model cuts tiers per segment: kept while the
#: night is placed, never written.
SEGMENT = "tier_segment"

SCORE_COLUMNS = [
    "lead_id",
    "as_of",
    "probability",
    "score",
    "rank",
    "score_change",
    "tier",
    "tier_since",
    "baseline_score",
    "baseline_tier",
    "fit_grade",
    "top_reasons",
    "model_version",
]


def _zoned(scores: pd.DataFrame) -> list[str]:
    return [c for c in scores.columns if isinstance(scores[c].dtype, pd.DatetimeTZDtype)]


def _csv_text(scores: pd.DataFrame) -> pd.DataFrame:
    # Zoned times as ISO 8601 UTC text, the contract's time format in CSV.
    return scores.assign(**{c: iso_utc(scores[c]) for c in _zoned(scores)})


def write_scores(scores: pd.DataFrame, out: str | Path) -> Path:
    """Atomic write; byte-identical for identical input (no timestamps in the file)."""
    p = Path(out)
    if p.suffix == ".csv":
        text = _csv_text(scores)
        return write_atomic(p, lambda t: text.to_csv(t, index=False, float_format="%.6g"))
    table = to_arrow(scores)
    return write_atomic(p, lambda t: pq.write_table(table, t, compression="zstd"))


class ScoreSink:
    """Score chunks appended to one file as they come: a Parquet row group each (the first
    chunk's schema for all) or CSV rows under one header. ``close`` writes an empty table
    with the score columns when no chunk came."""

    def __init__(self, path: Path, csv: bool) -> None:
        self.path, self.csv, self.rows = path, csv, 0
        self._writer: pq.ParquetWriter | None = None

    def add(self, scores: pd.DataFrame) -> None:
        if self.csv:
            _csv_text(scores).to_csv(
                self.path, mode="a", header=self.rows == 0, index=False, float_format="%.6g"
            )
        else:
            table = to_arrow(scores)
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self._writer.write_table(table.cast(self._writer.schema))
        self.rows += len(scores)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        elif self.rows == 0:
            empty = pd.DataFrame(columns=SCORE_COLUMNS)
            if self.csv:
                empty.to_csv(self.path, index=False)
            else:
                pq.write_table(to_arrow(empty), self.path, compression="zstd")


def place(scores: pd.DataFrame, tiers: TierConfig) -> pd.DataFrame:
    """One night's scores (``score_frame``'s rows, all of them) with ``rank`` and ``tier``
    set on the whole night (tiers within each segment where the rows carry one), without
    the raw ``margin``."""
    segment = scores[SEGMENT].to_numpy() if SEGMENT in scores else None
    rank, tier = ranks_and_tiers(
        scores["probability"].to_numpy("float64"),
        scores["margin"].to_numpy("float64"),
        tiers,
        segment,
    )
    internal = [c for c in ("margin", SEGMENT) if c in scores]
    return scores.drop(columns=internal).assign(rank=rank, tier=tier)


class NightSink:
    """A night's score chunks kept in a scratch Parquet file as they come, with their
    probabilities and margins in memory (16 bytes a lead), so ranks and tiers can be set on
    the whole night before the output is written (``placed``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: pq.ParquetWriter | None = None
        self._p: list[np.ndarray] = []
        self._m: list[np.ndarray] = []
        self._s: list[np.ndarray] = []

    def add(self, scores: pd.DataFrame) -> None:
        self._p.append(scores["probability"].to_numpy("float64"))
        self._m.append(scores["margin"].to_numpy("float64"))
        if SEGMENT in scores:
            self._s.append(scores[SEGMENT].to_numpy(dtype=object))
        table = to_arrow(scores.drop(columns=[c for c in ("margin", SEGMENT) if c in scores]))
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table.cast(self._writer.schema))

    def placed(self, tiers: TierConfig) -> Iterator[pd.DataFrame]:
        """The chunks again, in order, with the night's ``rank`` and ``tier``."""
        if self._writer is None:
            return
        self._writer.close()
        p, m = np.concatenate(self._p), np.concatenate(self._m)
        segment = np.concatenate(self._s) if self._s else None
        rank, tier = ranks_and_tiers(p, m, tiers, segment)
        start = 0
        with pq.ParquetFile(self.path) as stored:
            for i in range(stored.num_row_groups):
                part = stored.read_row_group(i).to_pandas()
                end = start + len(part)
                yield part.assign(rank=rank[start:end], tier=tier[start:end])
                start = end

    def remove(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self.path.unlink(missing_ok=True)


def rejects_path_for(out: Path) -> Path:
    return out.with_name(out.stem + ".rejects.csv")


def write_rejects(rejects: pd.DataFrame, out: Path) -> Path:
    return write_atomic(rejects_path_for(out), lambda t: rejects.to_csv(t, index=False))


def _registry_uri(version: str) -> str | None:
    """``models:/name/N`` for a scores file's ``model_version`` (``name/N``), else None."""
    name, _, number = str(version).rpartition("/")
    return f"models:/{version}" if name and number.isdigit() else None


def model_of_scores(path: str | Path) -> str | None:
    """The registry URI of the model that wrote a scores file (its last row's
    ``model_version``), or None when that cannot be read (the caller names the champion)."""
    p = Path(path)
    try:
        if p.suffix.lower() == ".csv":
            versions = pd.read_csv(p, usecols=["model_version"], dtype=str)["model_version"]
        else:
            versions = pq.read_table(p, columns=["model_version"]).column(0).to_pandas()
    except (OSError, ValueError, KeyError, pa.ArrowException):
        return None
    return _registry_uri(versions.iloc[-1]) if len(versions) else None
