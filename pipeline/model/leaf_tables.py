"""Leaf tables: once per model, each leaf's SHAP share per pattern of the path features a row
follows, from LightGBM's own answers on a few built rows (see ``leadscore.model.attribution``)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import replace

import lightgbm as lgb
import numpy as np

from leadscore.model.tree_cells import (
    _Z,
    Binning,
    Cut,
    LeafTables,
    TreeCuts,
    _numeric_cuts,
    _subsets,
    _zero_matters,
    split_nodes,
)

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
    """The leaf tables of tree ``t`` (see the module docstring), or None when a leaf's path
    is too long or the built rows do not reach it."""
    place = {c.column: i for i, c in enumerate(tree)}
    reps = _cell_values(tree, by_column)

    def leaf_of(rows: np.ndarray) -> np.ndarray:
        return booster.predict(rows, pred_leaf=True, start_iteration=t, num_iteration=1, **ONE)[
            :, 0
        ]

    pairs: list[_Pair] = []
    starts, offsets, widths, values = [], [], [], []
    size = 0
    for leaf, value, conditions in _leaf_paths(info["tree_structure"]):
        path = list(dict.fromkeys(c[0] for c in conditions))
        if len(path) > MAX_PATH_FEATURES:
            return None
        pos = [place[f] for f in path]
        row = _reaching_row(tree, reps, path, pos, conditions, leaf, leaf_of, n_feat)
        if row is None:
            return None
        follows = _follow_bits(tree, reps, pos, row, leaf, leaf_of)
        table = _pattern_table(hot[leaf], t, tree, reps, pos, row, follows, value)
        starts.append(len(pairs))
        offsets.append(size)
        widths.append(len(pos))
        values.append(table.ravel())
        size += table.size
        pairs += [
            (p, f, b, tree[p].column) for b, (p, f) in enumerate(zip(pos, follows, strict=True))
        ]
    if not pairs:
        return None
    return _packed(pairs, starts, offsets, widths, values, base)


# One (leaf, path feature) pair: its place in the tree's cuts, which of its cells follow the
# path, its bit, its model column.
_Pair = tuple[int, np.ndarray, int, int]


def _cell_values(tree: list[Cut], by_column: dict[int, Binning]) -> list[np.ndarray]:
    """A value for each tree-local cell of each feature the tree splits on."""
    reps = []
    for c in tree:
        first = [int(np.flatnonzero(c.cell == j)[0]) for j in range(c.cells)]
        reps.append(np.array([_bin_value(by_column[c.column], i) for i in first]))
    return reps


def _reaching_row(
    tree: list[Cut],
    reps: list[np.ndarray],
    path: list[int],
    pos: list[int],
    conditions: tuple[Condition, ...],
    leaf: int,
    leaf_of: Callable[[np.ndarray], np.ndarray],
    n_feat: int,
) -> np.ndarray | None:
    """A row LightGBM sends to ``leaf``, or None.

    A likely row first (each feature's first value that seems to follow its conditions),
    then all such combinations, then, if LightGBM disagrees with all of them, every
    combination of cells (each within MAX_COMBINATIONS).
    """
    fits = []
    for f, p in zip(path, pos, strict=True):
        mine = [c for c in conditions if c[0] == f]
        fits.append([j for j, v in enumerate(reps[p]) if _follows(v, mine)] or [0])
    for choice in ([f[:1] for f in fits], fits, [range(tree[p].cells) for p in pos]):
        rows = _rows(tree, reps, pos, choice, n_feat)
        if rows is None:
            return None
        reached = np.flatnonzero(leaf_of(rows) == leaf)
        if len(reached):
            return rows[reached[0]]
    return None


def _follow_bits(
    tree: list[Cut],
    reps: list[np.ndarray],
    pos: list[int],
    row: np.ndarray,
    leaf: int,
    leaf_of: Callable[[np.ndarray], np.ndarray],
) -> list[np.ndarray]:
    """Bit k: does this cell of path feature k keep ``row`` on the leaf's path?"""
    follows = []
    for p in pos:
        trial = np.repeat(row[None, :], tree[p].cells, axis=0)
        trial[:, tree[p].column] = reps[p]
        follows.append((leaf_of(trial) == leaf).astype(np.int64))
    return follows


def _pattern_table(
    hot: lgb.Booster,
    t: int,
    tree: list[Cut],
    reps: list[np.ndarray],
    pos: list[int],
    row: np.ndarray,
    follows: list[np.ndarray],
    value: float,
) -> np.ndarray:
    """The leaf's contributions per path feature (columns) for each pattern of bits (rows),
    asked of ``hot`` (the model with only this leaf worth 1) and scaled by the leaf value."""
    k = len(pos)
    patterns = np.repeat(row[None, :], 1 << k, axis=0)
    for b, (p, f) in enumerate(zip(pos, follows, strict=True)):
        off = np.flatnonzero(f == 0)
        if len(off):  # otherwise no cell leaves the path here: bit b is always 1
            patterns[[q for q in range(1 << k) if not q >> b & 1], tree[p].column] = reps[p][off[0]]
    contrib = hot.predict(patterns, pred_contrib=True, start_iteration=t, num_iteration=1, **ONE)
    return contrib[:, [tree[p].column for p in pos]] * value


def _packed(
    pairs: list[_Pair],
    starts: list[int],
    offsets: list[int],
    widths: list[int],
    values: list[np.ndarray],
    base: float,
) -> LeafTables:
    """The per-leaf pieces as one ``LeafTables`` (``follows`` padded to the widest feature)."""
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


def with_leaf_tables(booster: lgb.Booster, cuts: TreeCuts) -> TreeCuts:
    """``cuts`` with each tree's leaf tables (see ``leaf_tables``)."""
    return replace(cuts, leaves=leaf_tables(booster, cuts.binnings, cuts.trees))


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
