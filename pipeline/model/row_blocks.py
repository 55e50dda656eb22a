"""A booster's rows read from the table in blocks, never copied whole.

LightGBM bins its training rows once: from a matrix it needs the whole float32 matrix in
memory while it bins (on 2.25M rows of 104 features, 0.94 GB beside the table they come
from). Given a ``lightgbm.Sequence`` it samples the rows it sets its bins on, one at a time,
then reads the rest in blocks: the same sample (LightGBM draws the same row numbers) and the
same values, so the same bins and the same booster, with one block in memory at a time.
"""

from __future__ import annotations

import numbers

import lightgbm as lgb
import numpy as np
import pandas as pd

#: Rows per block: 65,536 rows of 100 features are 26 MB of float32.
BLOCK_ROWS = 65_536


def column_values(frame: pd.DataFrame) -> list[tuple[np.ndarray, bool]]:
    """Each column of an aligned frame as a numpy array (categories as their codes, numbers
    as float32 without a copy when they are float32 already) and whether it is categorical."""
    out = []
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            out.append((col.cat.codes.to_numpy(), True))
        else:
            out.append((col.to_numpy(dtype=np.float32, na_value=np.nan), False))
    return out


def fill(
    out: np.ndarray, values: list[tuple[np.ndarray, bool]], rows: np.ndarray | None
) -> np.ndarray:
    """``out`` filled column by column with ``values`` at ``rows`` (None: all): codes as
    numbers, NaN where a category is missing."""
    for j, (v, categorical) in enumerate(values):
        taken = v if rows is None else v[rows]
        out[:, j] = taken
        if categorical:
            out[taken < 0, j] = np.nan
    return out


class RowBlocks(lgb.Sequence):
    """The rows at ``rows`` of an aligned frame, as LightGBM reads a ``Sequence``: single
    rows (its bin sample, in increasing order) and ranges (its blocks). A single row comes
    from the block that holds it, built once. ``complete`` says, once every row has been read
    in blocks, which columns held no missing value."""

    batch_size = BLOCK_ROWS

    def __init__(self, frame: pd.DataFrame, rows: np.ndarray | None = None) -> None:
        self._values = column_values(frame)
        self._rows = np.arange(len(frame)) if rows is None else np.asarray(rows)
        self._cached: tuple[int, np.ndarray] | None = None
        self.complete = np.ones(frame.shape[1], dtype=bool)

    def __len__(self) -> int:
        return len(self._rows)

    def _block(self, start: int, stop: int) -> np.ndarray:
        out = np.empty((stop - start, len(self._values)), dtype=np.float32)  # rows in C order
        return fill(out, self._values, self._rows[start:stop])

    def __getitem__(self, idx: int | slice) -> np.ndarray:
        if isinstance(idx, numbers.Integral):
            first = int(idx) - int(idx) % BLOCK_ROWS
            if self._cached is None or self._cached[0] != first:
                self._cached = (first, self._block(first, min(first + BLOCK_ROWS, len(self))))
            # LightGBM bins its sample as doubles (float32 to float64 is exact).
            return self._cached[1][int(idx) - first].astype(np.float64)
        if isinstance(idx, slice) and idx.step in (None, 1):
            self._cached = None  # the sample is drawn: its block is not read again
            start, stop, _ = idx.indices(len(self))
            block = self._block(start, stop)
            self.complete &= ~np.isnan(block).any(axis=0)
            return block
        raise TypeError(f"rows are read one at a time or in ranges, not by {type(idx).__name__}")


class BlockDataset(lgb.Dataset):
    """A Dataset binned with every parameter, its rows from a ``RowBlocks`` or a matrix.

    From a matrix LightGBM bins with all the training parameters; from a Sequence with the
    dataset's own only, so the seed that draws the bin sample and ``min_data_in_leaf``,
    which drops features no split could use, would be their defaults and the booster
    another. Given them all, the Sequence's bins and booster are the matrix's (and a
    validation Dataset binned by reference sees the same parameters as its reference).
    """

    def get_params(self) -> dict:
        return dict(self.params or {})
