"""Rows of one table under the rules: the first failing check marks a row dropped (and says
so once per rule), kept leads looked up by id, repeated rows counted, rejects listed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.data.validate.report import Problem, TableCounts, _example, _say
from leadscore.data.validate.values import _arrow_text, _ts_int
from leadscore.io.ids import positions

_REJECT_COLUMNS = ("lead_id", "row", "reason")


class _Rows:
    """Per-row drop reasons for one table: the first failing check wins."""

    def __init__(self, table: str, n: int, problems: list[Problem]) -> None:
        self.table = table
        self.n = n
        self.code = np.zeros(n, np.int8)
        self.labels = [""]
        self.problems = problems
        self.dropped = 0

    @property
    def kept(self) -> np.ndarray:
        return self.code == 0

    def drop(
        self,
        mask: np.ndarray,
        column: str,
        label: str,
        what: str,
        example: pd.Series | None = None,
    ) -> None:
        new = mask & (self.code == 0)
        k = int(np.count_nonzero(new))
        if not k:
            return
        self.labels.append(label)
        self.code[new] = len(self.labels) - 1
        self.dropped += k
        text = _say(what, k, _example(example, new) if example is not None else "")
        self.problems.append(Problem(self.table, column, k, f"{text} (dropped)", False))

    def counts(self) -> TableCounts:
        return TableCounts(self.n, self.n - self.dropped, self.dropped)


class _LeadRef:
    """The kept leads' ids (an Arrow array for hash look-ups), created_at as int64 and the
    table's columns with their values' dtypes (what a field history may name)."""

    def __init__(self, leads: pd.DataFrame) -> None:
        self.ids = _arrow_text(leads["lead_id"])
        self.created = _ts_int(leads["created_at"])
        self.columns = dict(leads.dtypes.items())

    def locate(self, ids: pd.Series) -> np.ndarray:
        """Position of each id among the leads, -1 when absent (or missing)."""
        return positions(_arrow_text(ids), self.ids)


def _keep(frame: pd.DataFrame, kept: np.ndarray) -> pd.DataFrame:
    if kept.all():
        return frame.reset_index(drop=True)
    return frame[kept].reset_index(drop=True)


def _rejects(ids: pd.Series, rows: np.ndarray, reasons: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": pd.Series(ids.to_numpy(), dtype="str"),
            "row": pd.Series(rows, dtype="int64"),
            "reason": pd.Series(reasons, dtype="str"),
        },
        columns=list(_REJECT_COLUMNS),
    )


def _count_repeats(columns: list[np.ndarray]) -> int:
    """Rows that repeat an earlier row across ``columns`` (integer arrays), counted exactly.

    Each row gets a 32-bit hash; sorting the hashes finds those seen twice; only rows whose
    hash falls in a bucket of those (a small share) are compared exactly, so a collision
    cannot change the count.
    """
    h = columns[0].astype(np.int64).view(np.uint64).copy()
    _mix(h)
    for col in columns[1:]:
        h ^= col.astype(np.int64, copy=False).view(np.uint64)
        _mix(h)
    h32 = (h >> np.uint64(32)).astype(np.uint32)
    del h
    ordered = np.sort(h32)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return 0
    shared = ordered[1:][same]
    bits = int(min(26, max(10, np.ceil(np.log2(len(shared))) + 6)))
    table = np.zeros(1 << bits, bool)
    table[shared >> np.uint32(32 - bits)] = True
    candidates = table[h32 >> np.uint32(32 - bits)]
    sub = pd.DataFrame({i: col[candidates] for i, col in enumerate(columns)})
    return int(sub.duplicated().sum())


def _mix(x: np.ndarray) -> None:
    """splitmix64's finaliser, in place: a cheap, well-spread 64-bit hash."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
