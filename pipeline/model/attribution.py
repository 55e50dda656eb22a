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
from concurrent.futures import Future

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadscore.model.leaf_tables import tree_cuts, with_leaf_tables
from leadscore.model.row_cells import _cells, _column, _dtype, _Scratch, as_matrix
from leadscore.model.tree_cells import Cut, LeafTables, TreeCuts
from leadscore.model.tree_lanes import LANES, _run_in_lanes

__all__ = ["TreeCuts", "as_matrix", "contributions", "tree_cuts", "with_leaf_tables"]

# Below this many rows one direct pred_contrib call is faster than a call per tree.
DIRECT_BELOW = 4_000


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
    ``threads`` and any timing.
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
    lanes = _Lanes(X, cuts, target, width, n_trees)
    _run_in_lanes(booster, n_trees, lanes.explain, threads, helpers_after)
    return lanes.total()


class _Lanes:
    """What ``contributions`` gathers tree by tree: the rows' bins, one sum per lane (each
    lane added to by one thread at a time, in tree order) and each tree's base value."""

    def __init__(
        self, X: pd.DataFrame, cuts: TreeCuts, target: np.ndarray, width: int, n_trees: int
    ) -> None:
        n = len(X)
        dtype = _dtype(X)
        self.n, self.cuts, self.target = n, cuts, target
        self.bins = {b.column: b.bins(_column(X.iloc[:, b.column], dtype)) for b in cuts.binnings}
        # The full matrix only for trees LightGBM must explain per cell (no leaf tables).
        leaves = cuts.leaves
        self.m = as_matrix(X) if not leaves or any(t is None for t in leaves) else None
        # Column-major so that adding one column's contributions touches contiguous memory.
        self.sums = [np.zeros((n, width), dtype=np.float64, order="F") for _ in range(LANES)]
        self.base = np.zeros(n_trees)
        self.scratches: dict[int, _Scratch] = {}

    def explain(self, t: int, lane: int, booster: lgb.Booster) -> None:
        """Add tree ``t``'s contributions, cell by cell, into ``lane``'s sum."""
        cuts, tree = self.cuts, self.cuts.trees[t]
        me = threading.get_ident()
        if me not in self.scratches:
            self.scratches[me] = _Scratch(self.n)
        scratch = self.scratches[me]
        inverse, rep = _cells(tree, self.bins, scratch)
        tables = cuts.leaves[t] if cuts.leaves else None
        if tables is not None:
            outs, per_cell = _by_leaf(tables, tree, self.bins, rep, self.target)
            self.base[t] = tables.base
        else:
            assert self.m is not None
            outs, per_cell = _by_lightgbm(booster, t, self.m[rep], tree, self.target)
            self.base[t] = per_cell[-1, 0]  # the tree's expected value: the same for every row
            per_cell = per_cell[:-1]
        out = self.sums[lane]
        for j, v in zip(outs, per_cell, strict=True):
            np.take(v, inverse, out=scratch.values)  # numpy and LightGBM release the GIL here
            out[:, j] += scratch.values

    def total(self) -> np.ndarray:
        """The lanes added in lane order, then the base values: one column per output."""
        width = self.sums[0].shape[1]
        total = np.empty((self.n, width + 1), dtype=np.float64)
        total[:, :width] = self.sums[0]
        for s in self.sums[1:]:
            total[:, :width] += s
        total[:, width] = self.base.sum()
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


def _one_hot(index: np.ndarray, width: int) -> np.ndarray:
    m = np.zeros((len(index), width))
    m[np.arange(len(index)), index] = 1.0
    return m
