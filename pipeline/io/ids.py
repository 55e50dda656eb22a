"""Lead ids matched by Arrow's hash kernels: pandas walks a large pool of strings in Python
objects, Arrow hashes the strings where they lie (several times faster on a million ids)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

Ids = pd.Series | pd.Index | np.ndarray | pa.Array | pa.ChunkedArray


def _text(values: Ids) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values  # already text as Arrow holds it (a caller's own, kept for reuse)
    if isinstance(values, np.ndarray):
        values = pd.Series(values)
    return pa.array(pd.Series(values).astype("string").array, type=pa.large_string())


def is_in(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """``values.isin(pool)`` for id strings."""
    return pc.is_in(_text(values), value_set=_text(pool)).to_numpy(zero_copy_only=False)


def positions(values: Ids, pool: Ids) -> np.ndarray:
    """Each value's position in ``pool`` (its first, if repeated), -1 where absent or missing:
    ``pd.Index(pool).get_indexer(values)`` for id strings."""
    if not len(values):  # the look-up would hash the whole pool for nothing
        return np.zeros(0, np.int64)
    found = pc.index_in(_text(values), value_set=_text(pool), skip_nulls=True)
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
