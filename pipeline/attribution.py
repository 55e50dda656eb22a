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

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

# Below this many rows one direct pred_contrib call is faster than a call per tree.
DIRECT_BELOW = 4_000
# Cells are numbered with a bincount over at most this many candidate keys.
DENSE_KEYS = 1 << 18
# Trees are summed in this many interleaved lanes (at most this many threads help).
LANES = 2
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
    m = as_matrix(X)
    n = len(m)
    bins = {b.column: b.bins(m[:, b.column]) for b in cuts.binnings}
    # Column-major so that adding one column's contributions touches contiguous memory.
    sums = [np.zeros((n, width), dtype=np.float64, order="F") for _ in range(LANES)]
    base = np.zeros(n_trees)
    buffers: dict[int, np.ndarray] = {}

    def explain(t: int, lane: int, booster: lgb.Booster) -> None:
        tree = cuts.trees[t]
        inverse, rep = _cells([(c.cell[bins[c.column]], c.cells) for c in tree], n)
        vals = booster.predict(
            m[rep], pred_contrib=True, start_iteration=t, num_iteration=1, num_threads=1
        )
        base[t] = vals[0, f]  # the tree's expected value: the same for every row
        used = [c.column for c in tree]
        # Per cell, the tree's features summed into their output columns.
        outs, slot = np.unique(target[used], return_inverse=True)
        per_cell = np.empty((len(outs), len(vals)))
        for k in range(len(outs)):  # a handful of columns (no BLAS: its threads spin)
            per_cell[k] = vals[:, [u for u, s in zip(used, slot, strict=True) if s == k]].sum(
                axis=1
            )
        buffer = buffers.setdefault(threading.get_ident(), np.empty(n, dtype=np.float64))
        out = sums[lane]
        for j, v in zip(outs, per_cell, strict=True):
            np.take(v, inverse, out=buffer)  # numpy and LightGBM release the GIL here
            out[:, j] += buffer

    _run_in_lanes(booster, n_trees, explain, threads, helpers_after)
    total = np.empty((n, width + 1), dtype=np.float64)
    total[:, :width] = sums[0]
    for s in sums[1:]:
        total[:, :width] += s
    total[:, width] = base.sum()
    return total


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
