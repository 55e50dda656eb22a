"""SHAP contributions asked once per tree cell equal LightGBM's own, row for row."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import replace

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.model import attribution, leaf_tables, row_cells
from leadscore.model.attribution import contributions, tree_cuts

LEVELS = [f"c{i}" for i in range(12)]


def frame(n: int, seed: int) -> pd.DataFrame:
    """Numeric columns with missing values, exact zeros and negatives, plus a categorical."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(1.0, n).astype("float32")
    counts[rng.random(n) < 0.1] = np.nan
    signed = rng.normal(0, 3, n).round(1).astype("float32")
    signed[rng.random(n) < 0.05] = 0.0
    wide = rng.lognormal(3, 2, n).astype("float32")
    wide[rng.random(n) < 0.2] = np.nan
    cat = pd.Categorical(rng.choice(LEVELS, n), categories=LEVELS)
    cat[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"counts": counts, "signed": signed, "wide": wide, "cat": cat})


def label(X: pd.DataFrame, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = (
        np.nan_to_num(X["counts"].to_numpy(), nan=-1.0) * 0.8
        + 0.3 * X["signed"].to_numpy()
        + 0.2 * np.log1p(np.nan_to_num(X["wide"].to_numpy()))
        + (X["cat"].cat.codes.to_numpy() % 3 == 0)
    )
    return (z + rng.logistic(size=len(X)) > 1.5).astype(float)


@pytest.fixture(scope="module", params=["nan", "zero_as_missing", "no_missing"])
def booster(request) -> lgb.Booster:
    X = frame(4000, 1)
    params = {"objective": "binary", "verbosity": -1, "num_leaves": 15, "max_depth": 4}
    params["min_data_per_group"] = 5
    params["cat_smooth"] = 1
    if request.param == "zero_as_missing":
        params["zero_as_missing"] = True
    if request.param == "no_missing":
        params["use_missing"] = False
    return lgb.train(params, lgb.Dataset(X, label(X, 2)), num_boost_round=40)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_cells_give_lightgbms_own_contributions(booster, monkeypatch, threads):
    monkeypatch.setattr(attribution, "DIRECT_BELOW", 0)
    X = frame(6000, 3)
    ours = contributions(booster, X, threads=threads)
    theirs = booster.predict(X, pred_contrib=True)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.sum(axis=1), booster.predict(X, raw_score=True), atol=1e-12)


def test_float64_input_is_not_narrowed(booster, monkeypatch):
    """Values a float32 cannot hold keep their side of every threshold."""
    monkeypatch.setattr(attribution, "DIRECT_BELOW", 0)
    cuts = tree_cuts(booster)
    X = frame(5000, 12)
    for b in cuts.binnings:
        if b.thresholds is not None:
            name = booster.feature_name()[b.column]
            t = b.thresholds[len(b.thresholds) // 2]
            X[name] = X[name].astype("float64")
            X.loc[:199, name] = np.nextafter(t, np.inf)  # just right of the split
            X.loc[200:399, name] = t  # on it: left
            break
    np.testing.assert_allclose(
        contributions(booster, X, cuts), booster.predict(X, pred_contrib=True), atol=1e-12
    )


def test_values_on_and_beside_every_threshold(booster, monkeypatch):
    """A value equal to a split threshold goes left, one just above goes right: both kept."""
    monkeypatch.setattr(attribution, "DIRECT_BELOW", 0)
    cuts = tree_cuts(booster)
    base = frame(len(cuts.binnings) * 200, 4)
    rows = []
    for b in cuts.binnings:
        if b.thresholds is None:
            continue
        name = booster.feature_name()[b.column]
        for t in b.thresholds:
            for v in (t, np.nextafter(t, np.inf), -t, np.nextafter(-t, -np.inf)):
                row = base.iloc[[len(rows) % len(base)]].copy()
                row[name] = np.float32(v) if abs(v) < 3e38 else np.float32(np.sign(v) * np.inf)
                rows.append(row)
    X = pd.concat([*rows, base], ignore_index=True)
    np.testing.assert_allclose(
        contributions(booster, X, cuts), booster.predict(X, pred_contrib=True), atol=1e-12
    )


def test_unseen_and_missing_categories(booster, monkeypatch):
    monkeypatch.setattr(attribution, "DIRECT_BELOW", 0)
    X = frame(3000, 5)
    X.loc[::7, "cat"] = np.nan
    np.testing.assert_allclose(
        contributions(booster, X), booster.predict(X, pred_contrib=True), atol=1e-12
    )


def test_sorting_path_for_trees_with_many_cells(booster, monkeypatch):
    """Trees whose cells outgrow a bincount are numbered by sorting: same answer."""
    monkeypatch.setattr(attribution, "DIRECT_BELOW", 0)
    monkeypatch.setattr(row_cells, "DENSE_KEYS", 4)
    X = frame(2500, 6)
    np.testing.assert_allclose(
        contributions(booster, X), booster.predict(X, pred_contrib=True), atol=1e-12
    )


def test_a_tree_without_splits():
    X = frame(500, 7)
    y = label(X, 8)
    b = lgb.train(
        {"objective": "binary", "verbosity": -1, "min_data_in_leaf": 10_000},
        lgb.Dataset(X, y),
        num_boost_round=3,
    )
    assert all(not t for t in tree_cuts(b).trees)
    attribution_direct = b.predict(X, pred_contrib=True)
    original = attribution.DIRECT_BELOW
    try:
        attribution.DIRECT_BELOW = 0
        np.testing.assert_allclose(contributions(b, X), attribution_direct, atol=1e-12)
    finally:
        attribution.DIRECT_BELOW = original


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True, width=32),
            st.sampled_from([0.0, -0.0, 1.0, 2.0, 0.5, 1.5]),
        ),
        min_size=4,
        max_size=60,
    ),
    st.lists(st.one_of(st.none(), st.sampled_from(LEVELS)), min_size=4, max_size=60),
)
def test_any_values(values, cats):
    """Property: whatever the values (infinities, -0.0, NaN), the answer is LightGBM's."""
    b = _BOOSTER
    n = min(len(values), len(cats))
    X = frame(n, 9)
    for c in ("counts", "signed", "wide"):
        X[c] = (
            np.array(values[:n], dtype="float32")[::-1]
            if c == "signed"
            else np.array(values[:n], dtype="float32")
        )
    X["cat"] = pd.Categorical(cats[:n], categories=LEVELS)
    original = attribution.DIRECT_BELOW
    try:
        attribution.DIRECT_BELOW = 0
        ours = contributions(b, X)
    finally:
        attribution.DIRECT_BELOW = original
    np.testing.assert_allclose(ours, b.predict(X, pred_contrib=True), atol=1e-12)


_X = frame(3000, 10)
_BOOSTER = lgb.train(
    {"objective": "binary", "verbosity": -1, "num_leaves": 15, "min_data_per_group": 5},
    lgb.Dataset(_X, label(_X, 11)),
    num_boost_round=20,
)


@pytest.mark.parametrize("direct_below", [0, 10**9])
def test_contributions_summed_into_groups(booster, monkeypatch, direct_below):
    """``columns`` adds features into shared columns as they are gathered: the same sums."""
    monkeypatch.setattr(attribution, "DIRECT_BELOW", direct_below)
    X = frame(5000, 13)
    columns = np.array([1, 0, 1, 2])  # counts and wide together; signed; cat
    theirs = booster.predict(X, pred_contrib=True)
    expected = np.column_stack(
        [theirs[:, 1], theirs[:, 0] + theirs[:, 2], theirs[:, 3], theirs[:, 4]]
    )
    np.testing.assert_allclose(contributions(booster, X, columns=columns), expected, atol=1e-12)


def test_same_bits_whatever_the_threads_and_their_timing(booster, monkeypatch):
    """Trees are summed in fixed lanes, so who computes them and when cannot change a bit
    (scores rerun byte for byte): one thread, two, and a helper that joins late or never."""
    monkeypatch.setattr(attribution, "DIRECT_BELOW", 0)
    X = frame(6000, 14)
    alone = contributions(booster, X, threads=1)
    assert np.array_equal(contributions(booster, X, threads=2), alone)

    never: Future = Future()  # work beside that outlasts the call: the caller does it all
    assert np.array_equal(contributions(booster, X, threads=2, helpers_after=never), alone)

    late: Future = Future()
    cuts = tree_cuts(booster)
    calls = 0
    cells = attribution._cells

    def counting(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 10:  # the helper is let in a quarter of the way through
            late.set_result(None)
        return cells(*args, **kwargs)

    monkeypatch.setattr(attribution, "_cells", counting)
    helped = contributions(booster, X, cuts, threads=2, helpers_after=late)
    assert late.done() and calls == booster.num_trees()
    assert np.array_equal(helped, alone)


def test_leaf_tables_and_lightgbm_per_cell_agree(booster, monkeypatch):
    """Every tree of these models gets leaf tables (no LightGBM call per chunk); the
    per-cell path they replace, still used where a tree has none, gives the same values."""
    monkeypatch.setattr(attribution, "DIRECT_BELOW", 0)
    cuts = tree_cuts(booster)
    assert all(t is not None for t in cuts.leaves)
    X = frame(5000, 15)
    by_leaf = contributions(booster, X, cuts)
    per_cell = contributions(booster, X, replace(cuts, leaves=[None] * len(cuts.trees)))
    np.testing.assert_allclose(by_leaf, per_cell, rtol=0, atol=1e-12)


def test_a_tree_whose_leaves_are_not_found_is_explained_per_cell(booster, monkeypatch):
    """Leaf tables need a row reaching each leaf; where the likely rows miss and the full
    search is over MAX_COMBINATIONS, the tree is left to LightGBM per cell: same values."""
    monkeypatch.setattr(leaf_tables, "_follows", lambda value, conditions: False)
    monkeypatch.setattr(leaf_tables, "MAX_COMBINATIONS", 1)
    monkeypatch.setattr(attribution, "DIRECT_BELOW", 0)
    cuts = tree_cuts(booster)
    assert all(t is None for t, cut in zip(cuts.leaves, cuts.trees, strict=True) if cut)
    X = frame(5000, 16)
    np.testing.assert_allclose(
        contributions(booster, X, cuts), booster.predict(X, pred_contrib=True), atol=1e-12
    )


def test_deep_trees_are_explained_per_cell(monkeypatch):
    """Leaf tables grow as 2^k in a leaf's path length: deeper trees keep the per-cell path
    (here 'deep' is more than 2 distinct features on a path: the frame has only 4)."""
    monkeypatch.setattr(attribution, "DIRECT_BELOW", 0)
    monkeypatch.setattr(leaf_tables, "MAX_PATH_FEATURES", 2)
    X = frame(4000, 1)
    params = {"objective": "binary", "verbosity": -1, "num_leaves": 63, "min_data_in_leaf": 5}
    deep = lgb.train(params, lgb.Dataset(X, label(X, 2)), num_boost_round=5)
    cuts = tree_cuts(deep)
    paths = [
        max(len({c[0] for c in p}) for _, _, p in leaf_tables._leaf_paths(t["tree_structure"]))
        for t in deep.dump_model()["tree_info"]
    ]
    assert any(k > 2 for k in paths)
    for k, tables in zip(paths, cuts.leaves, strict=True):
        assert (tables is None) == (k > leaf_tables.MAX_PATH_FEATURES)
    X2 = frame(5000, 17)
    np.testing.assert_allclose(
        contributions(deep, X2, cuts), deep.predict(X2, pred_contrib=True), atol=1e-12
    )
