"""LightGBM's own SHAP values (``pred_contrib``), asked once per distinct tree cell.

TreeSHAP of one tree depends on a row only through the branch it takes at each of that
tree's splits. Rows that fall in the same cell of a tree (same side of every threshold, same
category subset, same missing-value status) therefore get identical contributions from it.
So, tree by tree, rows are grouped by cell, LightGBM explains one representative row per cell
(``pred_contrib`` with ``start_iteration=t, num_iteration=1``), and the answer is copied to
every row of the cell. The numbers are LightGBM's, summed over trees in LightGBM's order; on
the benchmark model a tree has a few thousand occupied cells, so it is evaluated a few
thousand times per chunk instead of once per lead.

Cells are finer than strictly needed where that is cheap and safe: missing values and
zero-like values get cells of their own, whatever the split's missing-value rule.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

# Below this many rows one direct pred_contrib call is faster than a call per tree.
DIRECT_BELOW = 4_000
# Cells are numbered with a bincount over at most this many candidate keys.
DENSE_KEYS = 1 << 18
# LightGBM's kZeroThreshold (a float: 1e-35f): |x| <= it counts as zero where zero means
# missing. Cutting every numeric feature here too gives zero-like values bins of their own.
_Z = float(np.float32(1e-35))
ZERO_CUTS = np.array([np.nextafter(-_Z, -np.inf), -_Z, _Z])


@dataclass(frozen=True)
class Binning:
    """One feature cut at every split the model makes on it (all trees together).

    Numeric: bin ``i`` holds values in ``(t[i-1], t[i]]`` (``t`` includes ``ZERO_CUTS``), then
    one bin for missing. Categorical: the category code itself (codes above every code a
    split names share one bin), then one bin for missing.
    """

    column: int
    thresholds: np.ndarray | None = None
    top_code: int = 0

    @property
    def size(self) -> int:
        return len(self.thresholds) + 2 if self.thresholds is not None else self.top_code + 2

    def bins(self, x: np.ndarray) -> np.ndarray:
        missing = np.isnan(x)
        if self.thresholds is not None:
            b = np.searchsorted(self.thresholds, x, side="left")
            b[missing] = len(self.thresholds) + 1
            return b
        code = np.where(missing, -1.0, x)
        b = np.clip(code, 0, self.top_code).astype(np.int64)
        b[code < 0] = self.top_code + 1
        return b


@dataclass(frozen=True)
class Cut:
    """How one tree splits one feature: model-wide bin -> this tree's cell (0..cells-1)."""

    column: int
    cell: np.ndarray
    cells: int


@dataclass(frozen=True)
class TreeCuts:
    binnings: list[Binning]
    trees: list[list[Cut]]


def _subsets(thresholds: pd.Series) -> list[set[int]]:
    return [{int(float(v)) for v in str(t).split("||") if v != ""} for t in thresholds]


def _numeric_cuts(thresholds: pd.Series) -> np.ndarray:
    return np.unique(np.concatenate([thresholds.astype("float64").to_numpy(), ZERO_CUTS]))


def split_nodes(booster: lgb.Booster) -> pd.DataFrame:
    """Every split of the model: tree, feature name, threshold, decision type.

    Read from ``dump_model`` (what ``trees_to_dataframe`` reads too, without the per-node
    statistics that make it slow).
    """
    names = booster.feature_name()
    rows: list[tuple[int, str, object, str]] = []
    for info in booster.dump_model()["tree_info"]:
        stack = [info["tree_structure"]]
        while stack:
            node = stack.pop()
            if "split_feature" in node:
                rows.append(
                    (
                        info["tree_index"],
                        names[node["split_feature"]],
                        node["threshold"],
                        node["decision_type"],
                    )
                )
                stack += [node["left_child"], node["right_child"]]
    return pd.DataFrame(
        rows, columns=["tree_index", "split_feature", "threshold", "decision_type"]
    ).astype({"threshold": "object"})


def tree_cuts(booster: lgb.Booster) -> TreeCuts:
    """The model's splits, read once."""
    names = {n: i for i, n in enumerate(booster.feature_name())}
    nodes = split_nodes(booster)
    binnings: dict[str, Binning] = {}
    for feature, g in nodes.groupby("split_feature", sort=True):
        if (g["decision_type"] == "==").all():
            top = max((max(s) for s in _subsets(g["threshold"]) if s), default=0) + 1
            binnings[feature] = Binning(names[feature], top_code=top)
        else:
            t = _numeric_cuts(g["threshold"])
            binnings[feature] = Binning(names[feature], thresholds=t)
    trees: list[list[Cut]] = [[] for _ in range(booster.num_trees())]
    for (tree, feature), g in nodes.groupby(["tree_index", "split_feature"], sort=True):
        b = binnings[feature]
        if b.thresholds is None:
            subsets = _subsets(g["threshold"])
            # A code's cell is its membership pattern over this tree's subsets.
            local = [
                sum(1 << i for i, s in enumerate(subsets) if c in s) for c in range(b.top_code + 1)
            ]
            local.append(-1)  # missing
        else:
            t = _numeric_cuts(g["threshold"])
            # Model-wide bin i ends at thresholds[i]: its side of every split of this tree.
            ends = np.append(b.thresholds, np.inf)
            local = [*np.searchsorted(t, ends, side="left"), len(t) + 1]
        _, cell = np.unique(np.asarray(local), return_inverse=True)
        trees[int(tree)].append(Cut(b.column, cell.astype(np.int64), int(cell.max()) + 1))
    return TreeCuts(list(binnings.values()), trees)


def _dense(key: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """Keys in ``[0, size)`` renumbered ``0..k-1`` (k = distinct keys)."""
    if size <= DENSE_KEYS:
        present = np.flatnonzero(np.bincount(key, minlength=size))
        slot = np.empty(size, dtype=np.int64)
        slot[present] = np.arange(len(present))
        return slot[key], len(present)
    _, inverse = np.unique(key, return_inverse=True)
    return inverse, int(inverse.max()) + 1 if len(key) else 0


def _cells(parts: list[tuple[np.ndarray, int]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell index of each row, and one representative row per cell."""
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for cells, radix in parts:
        if size * radix > DENSE_KEYS and size > 1:
            key, size = _dense(key, size)  # renumber before the key space outgrows a bincount
        key = key * radix + cells
        size *= radix
    inverse, count = _dense(key, size)
    rep = np.empty(count, dtype=np.int64)
    rep[inverse] = np.arange(n)  # any row of a cell represents it
    return inverse, rep


def as_matrix(X: pd.DataFrame) -> np.ndarray:
    """``X`` as the float matrix LightGBM scores: category codes, missing as NaN.

    Float32 (half the memory) when every numeric column already is, as ``LeadScorer.frame``
    makes them: category codes are small integers, so no value changes.
    """
    narrow = all(isinstance(t, pd.CategoricalDtype) or t == np.float32 for t in X.dtypes)
    dtype = np.float32 if narrow else np.float64
    out = np.empty((len(X), X.shape[1]), dtype=dtype)
    for j, c in enumerate(X.columns):
        col = X[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy().astype(dtype)
            codes[codes < 0] = np.nan
            out[:, j] = codes
        else:
            out[:, j] = col.to_numpy(dtype=dtype, na_value=np.nan)
    return out


def contributions(
    booster: lgb.Booster,
    X: pd.DataFrame,
    cuts: TreeCuts | None = None,
    threads: int = 2,
    columns: np.ndarray | None = None,
) -> np.ndarray:
    """``booster.predict(X, pred_contrib=True)``: one column per feature, then the base value.

    ``X`` must already have the model's columns, in order, with its categories (what
    ``LeadScorer.frame`` returns). ``columns[j]`` names the output column feature ``j`` is
    added into (default: its own), so contributions can be summed by group as they are
    gathered: fewer, narrower additions. ``threads`` splits the trees between that many
    threads (each LightGBM call itself runs on one: its thread team would mostly spin-wait
    on calls this small); pass 1 when other work is running beside it.
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
    m = as_matrix(X)
    n = len(m)
    bins = {b.column: b.bins(m[:, b.column]) for b in cuts.binnings}

    def explain(trees: range, booster: lgb.Booster) -> np.ndarray:
        # Column-major so that adding one column's contributions touches contiguous memory.
        out = np.zeros((n, width + 1), dtype=np.float64, order="F")
        buffer = np.empty(n, dtype=np.float64)
        for t in trees:
            tree = cuts.trees[t]
            inverse, rep = _cells([(c.cell[bins[c.column]], c.cells) for c in tree], n)
            vals = booster.predict(
                m[rep], pred_contrib=True, start_iteration=t, num_iteration=1, num_threads=1
            )
            used = [c.column for c in tree]
            # Per cell, the tree's features summed into their output columns, plus the base.
            outs, slot = np.unique(target[used], return_inverse=True)
            per_cell = np.empty((len(vals), len(outs) + 1))
            for k in range(len(outs)):  # a handful of columns (no BLAS: its threads spin)
                per_cell[:, k] = vals[
                    :, [u for u, s in zip(used, slot, strict=True) if s == k]
                ].sum(axis=1)
            per_cell[:, -1] = vals[:, f]
            for j, v in zip([*outs, width], np.ascontiguousarray(per_cell.T), strict=True):
                np.take(v, inverse, out=buffer)  # numpy and LightGBM release the GIL here
                out[:, j] += buffer
        return out

    if threads <= 1:
        return explain(range(n_trees), booster)
    # One booster per thread: a call's start_iteration is state on the booster itself, so
    # two threads sharing one would answer for each other's trees.
    text = booster.model_to_string()
    boosters = [booster, *(lgb.Booster(model_str=text) for _ in range(threads - 1))]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = list(
            pool.map(explain, [range(i, n_trees, threads) for i in range(threads)], boosters)
        )
    total = parts[0]
    for p in parts[1:]:
        total += p
    return total


def _one_hot(index: np.ndarray, width: int) -> np.ndarray:
    m = np.zeros((len(index), width))
    m[np.arange(len(index)), index] = 1.0
    return m
