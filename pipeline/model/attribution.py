"""LightGBM's own SHAP values (``pred_contrib``), asked once per model and per tree cell.

TreeSHAP of one tree depends on a row only through the branch it takes at each of that
tree's splits. Rows that fall in the same cell of a tree (same side of every threshold, same
category subset, same missing-value status) therefore get identical contributions from it.
So, tree by tree, rows are grouped by cell and each cell's contributions are copied to its
rows.

Where the cells' values come from:

- Leaf tables (the usual case). TreeSHAP is linear in the leaf values, and one leaf's share
  depends on a row only through which of its path's features the row follows all the way
  (one bit per path feature). So once per model, LightGBM explains, for every leaf, one
  built row per bit pattern with a copy of the model whose leaves are worth 0 except that
  one (``pred_contrib`` on a few dozen rows per tree; ``pred_leaf`` checks that each built
  row really takes the path). A cell's contributions are then a sum of table entries.
- Per cell (a tree whose leaves could not be reached by built rows): LightGBM explains one
  representative row per occupied cell (``start_iteration=t, num_iteration=1``).

Either way the numbers are LightGBM's (tests compare with a direct ``pred_contrib`` to
1e-12). Cells are finer than strictly needed where that is cheap and safe: missing values
and zero-like values get cells of their own, whatever the split's missing-value rule.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadscore.model.leaf_tables import tree_cuts, with_leaf_tables
from leadscore.model.tree_cells import Cut, LeafTables, TreeCuts

__all__ = ["TreeCuts", "as_matrix", "contributions", "tree_cuts", "with_leaf_tables"]

# Below this many rows one direct pred_contrib call is faster than a call per tree.
DIRECT_BELOW = 4_000


# Cells are numbered with a bincount over at most this many candidate keys.
DENSE_KEYS = 1 << 18


# Trees are summed in this many interleaved lanes (at most this many threads help).
LANES = 2


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


def contributions(
    booster: lgb.Booster,
    X: pd.DataFrame,
    cuts: TreeCuts | None = None,
    threads: int = 2,
    columns: np.ndarray | None = None,
    helpers_after: Future | None = None,
) -> np.ndarray:
    """``booster.predict(X, pred_contrib=True)``: one column per feature, then the base value.

    ``X`` must already have the model's columns, in order, with its categories (what
    ``LeadScorer.frame`` returns). ``columns[j]`` names the output column feature ``j`` is
    added into (default: its own), so contributions can be summed by group as they are
    gathered: fewer, narrower additions.

    Up to ``threads`` threads work (each LightGBM call itself runs on one: its thread team
    would mostly spin-wait on calls this small). With ``helpers_after`` (e.g. the future of
    work running beside this call) only the calling thread starts; the others join when it
    completes, so two cores stay busy without fighting over them. The trees are summed in
    fixed lanes (``LANES``), whoever computes them, so the result has the same bits for any
    ``threads`` and any timing. (Kept whole: the lanes, the helper threads and the shared
    output buffer are one piece of concurrency, easier to check in one place.)

    The per-tree work and the threads that share it are one unit: the lanes read the same
    row arrays.
    """
    n_trees = booster.current_iteration()
    f = X.shape[1]
    target = np.arange(f) if columns is None else np.asarray(columns, dtype=np.int64)
    width = int(target.max()) + 1 if f else 0
    if len(X) < DIRECT_BELOW or booster.num_model_per_iteration() != 1:
        values = booster.predict(X, pred_contrib=True, num_iteration=n_trees)
        if columns is None:
            return values
        return np.column_stack([values[:, :f] @ _one_hot(target, width), values[:, f]])
    cuts = tree_cuts(booster) if cuts is None else cuts
    n = len(X)
    dtype = _dtype(X)
    bins = {b.column: b.bins(_column(X.iloc[:, b.column], dtype)) for b in cuts.binnings}
    # The full matrix only for trees LightGBM must explain per cell (no leaf tables).
    m = as_matrix(X) if not cuts.leaves or any(t is None for t in cuts.leaves) else None
    # Column-major so that adding one column's contributions touches contiguous memory.
    sums = [np.zeros((n, width), dtype=np.float64, order="F") for _ in range(LANES)]
    base = np.zeros(n_trees)
    scratches: dict[int, _Scratch] = {}

    def explain(t: int, lane: int, booster: lgb.Booster) -> None:
        tree = cuts.trees[t]
        me = threading.get_ident()
        if me not in scratches:
            scratches[me] = _Scratch(n)
        scratch = scratches[me]
        inverse, rep = _cells(tree, bins, scratch)
        tables = cuts.leaves[t] if cuts.leaves else None
        if tables is not None:
            outs, per_cell = _by_leaf(tables, tree, bins, rep, target)
            base[t] = tables.base
        else:
            assert m is not None
            outs, per_cell = _by_lightgbm(booster, t, m[rep], tree, target)
            base[t] = per_cell[-1, 0]  # the tree's expected value: the same for every row
            per_cell = per_cell[:-1]
        out = sums[lane]
        for j, v in zip(outs, per_cell, strict=True):
            np.take(v, inverse, out=scratch.values)  # numpy and LightGBM release the GIL here
            out[:, j] += scratch.values

    _run_in_lanes(booster, n_trees, explain, threads, helpers_after)
    total = np.empty((n, width + 1), dtype=np.float64)
    total[:, :width] = sums[0]
    for s in sums[1:]:
        total[:, :width] += s
    total[:, width] = base.sum()
    return total


def _by_leaf(
    tables: LeafTables,
    tree: list[Cut],
    bins: dict[int, np.ndarray],
    rep: np.ndarray,
    target: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per cell (one row ``rep`` each), the tree's contributions summed into output columns,
    read from its leaf tables: no LightGBM call."""
    local = np.stack([c.cell[bins[c.column][rep]] for c in tree])  # tree-local cell per feature
    pairs = np.arange(len(tables.pos))
    bits = tables.follows[pairs[:, None], local[tables.pos]] << tables.shift[:, None]
    pattern = np.add.reduceat(bits, tables.starts, axis=0)  # per leaf, per cell
    leaf = np.repeat(np.arange(len(tables.starts)), tables.width)
    index = (
        tables.offset[leaf, None] + pattern[leaf] * tables.width[leaf, None] + tables.shift[:, None]
    )
    values = tables.values[index]  # per (leaf, path feature), per cell
    columns = target[tables.out]
    order = np.argsort(columns, kind="stable")
    outs, first = np.unique(columns[order], return_index=True)
    return outs, np.add.reduceat(values[order], first, axis=0)


def _by_lightgbm(
    booster: lgb.Booster, t: int, rows: np.ndarray, tree: list[Cut], target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per cell (one row each), LightGBM's contributions of tree ``t`` summed into output
    columns, then a last row with the tree's expected value."""
    vals = booster.predict(
        rows, pred_contrib=True, start_iteration=t, num_iteration=1, num_threads=1
    )
    used = [c.column for c in tree]
    outs, slot = np.unique(target[used], return_inverse=True)
    per_cell = np.empty((len(outs) + 1, len(vals)))
    for k in range(len(outs)):  # a handful of columns (no BLAS: its threads spin)
        per_cell[k] = vals[:, [u for u, s in zip(used, slot, strict=True) if s == k]].sum(axis=1)
    per_cell[-1] = vals[:, -1]
    return outs, per_cell


def _run_in_lanes(
    booster: lgb.Booster,
    n_trees: int,
    explain: Callable[[int, int, lgb.Booster], None],
    threads: int,
    helpers_after: Future | None,
) -> None:
    """Call ``explain(tree, lane, booster)`` for every tree, lane ``tree % LANES``.

    A lane is worked by one thread at a time, in tree order, so its sum does not depend on
    which thread computed what. A thread takes the free lane that is furthest behind, so the
    lanes stay level and a thread that joins late finds half of the rest waiting.
    """
    lock = threading.Lock()
    following = list(range(LANES))  # next tree of each lane
    busy = [False] * LANES

    def claim() -> tuple[int, int] | None:
        with lock:
            free = [i for i in range(LANES) if not busy[i] and following[i] < n_trees]
            if not free:
                return None
            lane = min(free, key=lambda i: following[i])
            busy[lane] = True
            following[lane] += LANES
            return following[lane] - LANES, lane

    def work(own: lgb.Booster) -> None:
        while (job := claim()) is not None:
            try:
                explain(*job, own)
            finally:
                with lock:
                    busy[job[1]] = False

    helpers = min(threads, LANES) - 1
    if helpers <= 0:
        work(booster)
        return
    # One booster per thread: a call's start_iteration is state on the booster itself, so
    # two threads sharing one would answer for each other's trees.
    text = booster.model_to_string()
    go = threading.Event()
    if helpers_after is None:
        go.set()
    else:
        helpers_after.add_done_callback(lambda _f: go.set())

    def helper() -> None:
        go.wait()
        work(lgb.Booster(model_str=text))

    with ThreadPoolExecutor(max_workers=helpers) as pool:
        waiting = [pool.submit(helper) for _ in range(helpers)]
        try:
            work(booster)
        finally:
            go.set()  # nothing left to claim: waiting helpers return at once
        for w in waiting:
            w.result()


def _one_hot(index: np.ndarray, width: int) -> np.ndarray:
    m = np.zeros((len(index), width))
    m[np.arange(len(index)), index] = 1.0
    return m
