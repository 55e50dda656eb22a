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

import itertools
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

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
    # Per tree, its SHAP by leaf (``LeafTables``), or None where only LightGBM per cell works.
    leaves: list[LeafTables | None] = field(default_factory=list)


@dataclass(frozen=True)
class LeafTables:
    """One tree's SHAP values, leaf by leaf, asked of LightGBM once per model.

    TreeSHAP is linear in the leaf values, and a leaf's share depends on a row only through
    which of its path's features the row follows all the way (one bit per feature). Per
    (leaf, path feature) pair, in leaf order: ``pos`` (the feature's place in the tree's
    cuts), ``follows`` (tree-local cell -> 1 if its values follow the path), ``shift`` (the
    feature's bit, its rank on the path) and ``out`` (its model column). Per leaf: ``starts``
    (its first pair), ``width`` (its path features) and ``offset`` into ``values``, where
    ``values[offset + pattern * width + k]`` is the contribution of the leaf's k-th path
    feature under a pattern of bits, leaf value included. ``base``: the tree's expected value.
    """

    pos: np.ndarray
    follows: np.ndarray
    shift: np.ndarray
    out: np.ndarray
    starts: np.ndarray
    offset: np.ndarray
    width: np.ndarray
    values: np.ndarray
    base: float


def _subsets(thresholds: pd.Series) -> list[set[int]]:
    return [{int(float(v)) for v in str(t).split("||") if v != ""} for t in thresholds]


def _numeric_cuts(thresholds: pd.Series, zero: bool = True) -> np.ndarray:
    """The thresholds, sorted; with ``zero`` also ``ZERO_CUTS`` (where a split reads zero-like
    values as missing)."""
    t = thresholds.astype("float64").to_numpy()
    return np.unique(np.concatenate([t, ZERO_CUTS]) if zero else t)


def _zero_matters(splits: pd.DataFrame) -> bool:
    """Whether zero-like values need cells of their own in one tree's splits of a feature.

    LightGBM reads any |x| <= ``_Z`` as 0 (and, where a split's missing type is Zero, as
    missing). That changes a branch only at a split whose threshold lies in that band, or
    that reads zero as missing; elsewhere such values compare like the numbers they are.
    """
    near = (splits["threshold"].astype("float64").abs() <= _Z).any()
    return bool(near or (splits["missing_type"] == "Zero").any())


def split_nodes(booster: lgb.Booster) -> pd.DataFrame:
    """Every split of the model: tree, feature name, threshold, decision type.

    Read from ``dump_model`` (what ``trees_to_dataframe`` reads too, without the per-node
    statistics that make it slow).
    """
    names = booster.feature_name()
    rows: list[tuple[int, str, object, str, str]] = []
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
                        node.get("missing_type", "None"),
                    )
                )
                stack += [node["left_child"], node["right_child"]]
    return pd.DataFrame(
        rows,
        columns=["tree_index", "split_feature", "threshold", "decision_type", "missing_type"],
    ).astype({"threshold": "object"})


def tree_cuts(booster: lgb.Booster, leaves: bool = True) -> TreeCuts:
    """The model's splits, read once; with ``leaves``, each tree's leaf tables too (about
    1 s for the benchmark model's 138 trees: worth it on batches of about 100k rows up)."""
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
            t = _numeric_cuts(g["threshold"], zero=_zero_matters(g))
            # Model-wide bin i ends at thresholds[i]: its side of every split of this tree.
            ends = np.append(b.thresholds, np.inf)
            local = [*np.searchsorted(t, ends, side="left"), len(t) + 1]
        _, cell = np.unique(np.asarray(local), return_inverse=True)
        trees[int(tree)].append(Cut(b.column, cell.astype(np.int64), int(cell.max()) + 1))
    cuts = TreeCuts(list(binnings.values()), trees)
    return with_leaf_tables(booster, cuts) if leaves else cuts


def with_leaf_tables(booster: lgb.Booster, cuts: TreeCuts) -> TreeCuts:
    """``cuts`` with each tree's leaf tables (see ``leaf_tables``)."""
    return replace(cuts, leaves=leaf_tables(booster, cuts.binnings, cuts.trees))


# A leaf whose path features have more tree-local cell combinations than this is not
# searched for a row that reaches it; its tree is then explained per cell.
MAX_COMBINATIONS = 4096
# Leaf tables hold 2^k patterns for a leaf with k distinct features on its path; trees with
# longer paths (deep trees) are explained per cell instead.
MAX_PATH_FEATURES = 6
# LightGBM calls on a few rows run on one thread: an OpenMP team per call would mostly
# spin, and spins hard when the cores are busy with other work (scoring builds features).
ONE = {"num_threads": 1}


def _bin_value(b: Binning, i: int) -> float:
    """A value that falls in model-wide bin ``i`` of ``b`` (any one: they all split alike)."""
    if b.thresholds is None:
        return float(i) if i <= b.top_code else np.nan
    t = b.thresholds
    if i < len(t):
        return float(t[i])  # bin i is (t[i-1], t[i]]
    return float(t[-1] + max(1.0, abs(t[-1]))) if i == len(t) else np.nan


# feature, decision type, threshold, went left, default left, missing type
Condition = tuple[int, str, object, bool, bool, str]


def _leaf_paths(
    node: dict, path: tuple[Condition, ...] = ()
) -> list[tuple[int, float, tuple[Condition, ...]]]:
    """(leaf index, leaf value, the conditions on its path, root first) per leaf."""
    if "split_feature" not in node:
        return [(int(node.get("leaf_index", 0)), float(node["leaf_value"]), path)]
    f, kind, threshold = int(node["split_feature"]), node["decision_type"], node["threshold"]
    rule = (bool(node.get("default_left", False)), str(node.get("missing_type", "None")))
    return _leaf_paths(node["left_child"], (*path, (f, kind, threshold, True, *rule))) + (
        _leaf_paths(node["right_child"], (*path, (f, kind, threshold, False, *rule)))
    )


def _follows(value: float, conditions: list[Condition]) -> bool:
    """Whether a value takes the path's way at each of its nodes, by LightGBM's documented
    rules: only used to pick likely rows, which LightGBM itself then checks."""
    for _, kind, threshold, left, default_left, missing in conditions:
        if kind == "==":
            codes = {int(float(v)) for v in str(threshold).split("||") if v}
            hit = not np.isnan(value) and int(value) in codes
        elif np.isnan(value) and missing == "NaN" or missing == "Zero" and abs(value) <= _Z:
            hit = default_left
        else:
            hit = (0.0 if np.isnan(value) else value) <= float(threshold)
        if hit != left:
            return False
    return True


def _one_hot_boosters(booster: lgb.Booster, leaves: int) -> list[lgb.Booster]:
    """Copies of the model whose every tree has leaf ``l`` worth 1 and the others 0."""
    text = re.sub(r"^tree_sizes=.*\n", "", booster.model_to_string(), flags=re.M)
    out = []
    for hot in range(leaves):

        def one_hot(m: re.Match, hot: int = hot) -> str:
            n = len(m.group(1).split())
            return "leaf_value=" + " ".join("1" if i == hot else "0" for i in range(n))

        out.append(lgb.Booster(model_str=re.sub(r"^leaf_value=(.*)$", one_hot, text, flags=re.M)))
    return out


def leaf_tables(
    booster: lgb.Booster, binnings: list[Binning], trees: list[list[Cut]]
) -> list[LeafTables | None]:
    """Each tree's ``LeafTables``, from LightGBM's own answers on a few built rows.

    Per leaf: a row that reaches it (searched over the tree-local cells of its path
    features, checked with ``pred_leaf``); which cells of each path feature still reach it
    from that row (the feature's bit); and ``pred_contrib`` of the one-hot-leaf model on one
    row per bit pattern. A tree where any step fails is left to the per-cell path (None).
    """
    if booster.num_model_per_iteration() != 1 or "is_linear=1" in booster.model_to_string():
        return [None] * len(trees)
    by_column = {b.column: b for b in binnings}
    info = booster.dump_model()["tree_info"]
    n_feat = booster.num_feature()
    widest = max((len(_leaf_paths(t["tree_structure"])) for t in info), default=1)
    hot = _one_hot_boosters(booster, widest)
    blank = np.full((1, n_feat), np.nan)
    out: list[LeafTables | None] = []
    for t, tree in enumerate(trees):
        base = float(
            booster.predict(blank, pred_contrib=True, start_iteration=t, num_iteration=1, **ONE)[
                0, -1
            ]
        )
        out.append(_tree_tables(booster, hot, t, tree, info[t], by_column, n_feat, base))
    return out


def _rows(
    tree: list[Cut], reps: list[np.ndarray], pos: list[int], cells: list, n_feat: int
) -> np.ndarray | None:
    """One row per combination of the given tree-local cells of the features at ``pos``
    (other features missing), or None past ``MAX_COMBINATIONS``."""
    combos = list(itertools.product(*cells))
    if len(combos) > MAX_COMBINATIONS:
        return None
    rows = np.full((len(combos), n_feat), np.nan)
    pick = np.array(combos, dtype=np.int64).reshape(len(combos), len(pos))
    for k, p in enumerate(pos):
        rows[:, tree[p].column] = reps[p][pick[:, k]]
    return rows


def _tree_tables(
    booster: lgb.Booster,
    hot: list[lgb.Booster],
    t: int,
    tree: list[Cut],
    info: dict,
    by_column: dict[int, Binning],
    n_feat: int,
    base: float,
) -> LeafTables | None:
    """The leaf tables of tree ``t`` (see the module docstring), or None when the built rows
    do not reach its leaves. One function: the per-leaf path patterns, the rows built from
    them and the table they fill share their state; split, a dozen arrays would travel."""
    place = {c.column: i for i, c in enumerate(tree)}
    # A value for each tree-local cell of each feature the tree splits on.
    reps = []
    for c in tree:
        first = [int(np.flatnonzero(c.cell == j)[0]) for j in range(c.cells)]
        reps.append(np.array([_bin_value(by_column[c.column], i) for i in first]))

    def leaf_of(rows: np.ndarray) -> np.ndarray:
        return booster.predict(rows, pred_leaf=True, start_iteration=t, num_iteration=1, **ONE)[
            :, 0
        ]

    pairs: list[tuple[int, np.ndarray, int, int]] = []  # (pos, follows, shift, column)
    starts, offsets, widths, values = [], [], [], []
    size = 0
    for leaf, value, conditions in _leaf_paths(info["tree_structure"]):
        path = list(dict.fromkeys(c[0] for c in conditions))
        if len(path) > MAX_PATH_FEATURES:
            return None
        pos = [place[f] for f in path]
        # A likely row first (each feature's first value that seems to follow its
        # conditions), then all such combinations, then, if LightGBM disagrees with all of
        # them, every combination of cells (each within MAX_COMBINATIONS).
        fits = []
        for f, p in zip(path, pos, strict=True):
            mine = [c for c in conditions if c[0] == f]
            fits.append([j for j, v in enumerate(reps[p]) if _follows(v, mine)] or [0])
        row = None
        for choice in ([f[:1] for f in fits], fits, [range(tree[p].cells) for p in pos]):
            rows = _rows(tree, reps, pos, choice, n_feat)
            if rows is None:
                break
            reached = np.flatnonzero(leaf_of(rows) == leaf)
            if len(reached):
                row = rows[reached[0]]
                break
        if row is None:
            return None
        # Bit k: does this cell of path feature k keep the row on the leaf's path?
        follows = []
        for p in pos:
            trial = np.repeat(row[None, :], tree[p].cells, axis=0)
            trial[:, tree[p].column] = reps[p]
            follows.append((leaf_of(trial) == leaf).astype(np.int64))
        k = len(pos)
        patterns = np.repeat(row[None, :], 1 << k, axis=0)
        for b, (p, f) in enumerate(zip(pos, follows, strict=True)):
            off = np.flatnonzero(f == 0)
            if len(off):  # otherwise no cell leaves the path here: bit b is always 1
                patterns[[q for q in range(1 << k) if not q >> b & 1], tree[p].column] = reps[p][
                    off[0]
                ]
        contrib = hot[leaf].predict(
            patterns, pred_contrib=True, start_iteration=t, num_iteration=1, **ONE
        )
        table = contrib[:, [tree[p].column for p in pos]] * value
        starts.append(len(pairs))
        offsets.append(size)
        widths.append(k)
        values.append(table.ravel())
        size += table.size
        pairs += [
            (p, f, b, tree[p].column) for b, (p, f) in enumerate(zip(pos, follows, strict=True))
        ]
    if not pairs:
        return None
    cells = max(len(f) for _, f, _, _ in pairs)
    follows = np.zeros((len(pairs), cells), dtype=np.int64)
    for i, (_, f, _, _) in enumerate(pairs):
        follows[i, : len(f)] = f
    return LeafTables(
        pos=np.array([p for p, _, _, _ in pairs]),
        follows=follows,
        shift=np.array([b for _, _, b, _ in pairs]),
        out=np.array([c for _, _, _, c in pairs]),
        starts=np.array(starts),
        offset=np.array(offsets),
        width=np.array(widths),
        values=np.concatenate(values),
        base=base,
    )


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
