"""Rows as LightGBM reads them, and which cell of one tree each row falls in: rows in the same
cell get the same SHAP contributions from that tree (``leadscore.model.attribution``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.model.tree_cells import Cut

# Cells are numbered with a bincount over at most this many candidate keys.
DENSE_KEYS = 1 << 18


def _dense(key: np.ndarray, size: int, out: np.ndarray) -> int:
    """Keys in ``[0, size)`` renumbered ``0..k-1`` into ``out`` (which may be ``key``);
    returns k, the distinct keys."""
    if size <= DENSE_KEYS:
        present = np.flatnonzero(np.bincount(key, minlength=size))
        slot = np.empty(size, dtype=np.int64)
        slot[present] = np.arange(len(present))
        np.take(slot, key, out=out)
        return len(present)
    _, inverse = np.unique(key, return_inverse=True)
    out[:] = inverse.reshape(-1)
    return int(out.max()) + 1 if len(key) else 0


class _Scratch:
    """One thread's row arrays, reused from tree to tree: fresh arrays of every row for each
    tree and feature cost the kernel a page fault per 4 KiB (a sixth of the CPU time)."""

    def __init__(self, n: int) -> None:
        self.key = np.empty(n, dtype=np.int64)
        self.part = np.empty(n, dtype=np.int64)
        self.inverse = np.empty(n, dtype=np.int64)
        self.values = np.empty(n, dtype=np.float64)
        self.rows = np.arange(n)


def _cells(
    tree: list[Cut], bins: dict[int, np.ndarray], scratch: _Scratch
) -> tuple[np.ndarray, np.ndarray]:
    """Cell index of each row (in ``scratch.inverse``), and one representative row per cell."""
    key, part = scratch.key, scratch.part
    key.fill(0)
    size = 1
    for c in tree:
        if size * c.cells > DENSE_KEYS and size > 1:
            size = _dense(key, size, key)  # renumber before the key space outgrows a bincount
        np.take(c.cell, bins[c.column], out=part)
        key *= c.cells
        key += part
        size *= c.cells
    count = _dense(key, size, scratch.inverse)
    rep = np.empty(count, dtype=np.int64)
    rep[scratch.inverse] = scratch.rows  # any row of a cell represents it
    return scratch.inverse, rep


def _dtype(X: pd.DataFrame) -> type:
    # Float32 (half the memory) when every numeric column already is, as
    # ``LeadScorer.frame`` makes them: category codes are small integers, so no value changes.
    narrow = all(isinstance(t, pd.CategoricalDtype) or t == np.float32 for t in X.dtypes)
    return np.float32 if narrow else np.float64


def _column(col: pd.Series, dtype: type) -> np.ndarray:
    """One column as LightGBM reads it: category codes, missing as NaN."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy().astype(dtype)
        codes[codes < 0] = np.nan
        return codes
    return col.to_numpy(dtype=dtype, na_value=np.nan)


def as_matrix(X: pd.DataFrame) -> np.ndarray:
    """``X`` as the float matrix LightGBM scores: category codes, missing as NaN."""
    dtype = _dtype(X)
    out = np.empty((len(X), X.shape[1]), dtype=dtype)
    for j, c in enumerate(X.columns):
        out[:, j] = _column(X[c], dtype)
    return out
