"""A LightGBM model's splits as cells: per feature, model-wide bins (every threshold any tree
uses, plus zero-like and missing values), and per tree, which bins fall in the same cell of
that tree (same side of every threshold it uses). Rows in one cell of a tree get the same
SHAP contributions from it (``leadscore.model.attribution``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

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
