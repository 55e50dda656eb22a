"""A data fingerprint for every run: row counts, date ranges and a content hash per table."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from leadscore.io.source import EventSource


def content_hash(frame: pd.DataFrame) -> str:
    """Hash of a table's content, independent of row order (a re-sorted export hashes the same)."""
    if frame.empty:
        return hashlib.sha256(b"|".join(c.encode() for c in frame.columns)).hexdigest()[:16]
    rows = pd.util.hash_pandas_object(frame[sorted(frame.columns)], index=False).to_numpy(
        dtype=np.uint64
    )
    total = int(rows.sum(dtype=np.uint64))  # wraps mod 2**64: order-independent by design
    head = "|".join(sorted(frame.columns)) + f"|{len(frame)}|{total}"
    return hashlib.sha256(head.encode()).hexdigest()[:16]


def fingerprint(
    tables: dict[str, pd.DataFrame], time_columns: dict[str, str] | None = None
) -> dict[str, str | int]:
    """Flat dict (loggable as MLflow params) describing the data a run saw."""
    time_columns = time_columns or {
        "leads": "created_at",
        "events": "occurred_at",
        "outcomes": "closed_at",
    }
    out: dict[str, str | int] = {}
    for name, frame in tables.items():
        out[f"data.{name}.rows"] = len(frame)
        out[f"data.{name}.hash"] = content_hash(frame)
        col = time_columns.get(name)
        if col and col in frame.columns and len(frame):
            out[f"data.{name}.from"] = str(frame[col].min())
            out[f"data.{name}.to"] = str(frame[col].max())
    return out


def source_fingerprint(name: str, source: EventSource) -> dict[str, str | int]:
    """The same keys as ``fingerprint`` for a table left in its file, read by the engine."""
    rows, first, last, total = source.summary()
    out: dict[str, str | int] = {
        f"data.{name}.rows": rows,
        f"data.{name}.hash": hashlib.sha256(f"engine|{rows}|{total}".encode()).hexdigest()[:16],
    }
    if rows:
        out[f"data.{name}.from"], out[f"data.{name}.to"] = str(first), str(last)
    return out
