"""LightGBM reads its training rows from the table in blocks: the same bins and booster as
from one matrix of those rows, with one block in memory at a time."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from leadscore.config import config_from_dict
from leadscore.features.flat import fit_flat_spec
from leadscore.model import row_blocks
from leadscore.model.row_blocks import BlockDataset, RowBlocks
from leadscore.model.scorer import LeadScorer, as_matrix


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "n": pd.Series([1.5, np.nan, 3.0, 4.0, 5.0], dtype="float32"),
            "c": pd.Categorical(["b", None, "a", "b", "a"], categories=["a", "b"]),
        }
    )


def test_blocks_and_single_rows_are_the_matrix_rows_at_the_positions(monkeypatch):
    monkeypatch.setattr(row_blocks, "BLOCK_ROWS", 2)
    frame, rows = _frame(), np.array([4, 1, 3])
    blocks = RowBlocks(frame, rows)
    whole = as_matrix(frame, rows)
    assert len(blocks) == 3
    # Single rows (LightGBM's bin sample) are doubles; ranges (its blocks) float32 rows.
    one = blocks[1]
    assert one.dtype == np.float64 and one.flags["OWNDATA"]
    np.testing.assert_array_equal(one, [np.nan, np.nan])
    np.testing.assert_array_equal(blocks[2], [4.0, 1.0])
    block = blocks[0:2]
    assert block.dtype == np.float32 and block.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(block, whole[0:2])
    np.testing.assert_array_equal(blocks[2:3], whole[2:3])
    with pytest.raises(TypeError):
        blocks[[0, 1]]


def test_a_column_is_complete_when_no_block_held_a_missing_value(monkeypatch):
    monkeypatch.setattr(row_blocks, "BLOCK_ROWS", 2)
    frame = _frame()
    full = RowBlocks(frame, np.array([0, 2, 3]))
    missing_late = RowBlocks(frame, np.array([0, 2, 1]))  # row 1 lacks both, in block 2
    for blocks in (full, missing_late):
        for start in range(0, len(blocks), 2):
            blocks[start : start + 2]
    assert full.complete.tolist() == [True, True]
    assert missing_late.complete.tolist() == [False, False]


def _world(seed: int = 0, n: int = 6000):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": np.where(rng.random(n) < 0.1, np.nan, rng.poisson(2, n).astype(float)),
            # Too rare for a leaf of min_data_in_leaf rows: LightGBM drops it while binning.
            "rare": np.where(np.arange(n) % 1000 == 0, 1.0, 0.0),
            "c": rng.choice(["x", "y", "z", None], size=n, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )
    lift = X["c"].map({"x": 1.0, "y": 0.0, "z": -1.0}).fillna(0.5).to_numpy()
    y = (X["a"] + lift + rng.logistic(size=n) > 1.0).astype(float).to_numpy()
    spec = fit_flat_spec(X, list(X.columns), max_categories=10)
    return X, y, spec


def test_the_booster_from_blocks_is_the_one_from_the_matrix(monkeypatch):
    monkeypatch.setattr(row_blocks, "BLOCK_ROWS", 1000)
    monkeypatch.setattr(RowBlocks, "batch_size", 1000)
    X, y, spec = _world()
    # Bins set on a sample of the rows (not all of them), min_data_in_leaf above the rare
    # feature's count, features drawn per tree: every way the bins could differ.
    cfg = config_from_dict(
        {"model": {"params": {"bin_construct_sample_cnt": 2000, "min_data_in_leaf": 50}}}
    )
    rows = np.sort(np.random.default_rng(1).choice(len(X), 5000, replace=False))
    scorer = LeadScorer(spec, cfg.model)
    built: list[int] = []
    block = RowBlocks._block
    monkeypatch.setattr(
        RowBlocks, "_block", lambda self, a, b: built.append(b - a) or block(self, a, b)
    )
    scorer.fit_rounds(X, y[rows], 40, rows=rows)  # labels of the rows learnt from
    frame = scorer.frame(X)
    matrix = lgb.Dataset(
        as_matrix(frame, rows),
        label=y[rows],
        feature_name=list(spec.feature_columns),
        categorical_feature=list(spec.categorical_features),
    )
    expected = lgb.train(scorer.lgb_params(y[rows]), matrix, num_boost_round=40)
    assert scorer.booster_.model_to_string() == expected.model_to_string()
    assert max(built) <= 1000  # never more than a block of rows at once
    complete = [c for c in spec.feature_columns if c not in spec.categories]
    assert scorer.complete_columns_ == [c for c in complete if not X[c].iloc[rows].isna().any()]


def test_a_validation_set_binned_by_reference_sees_the_same_parameters(recwarn):
    X, y, spec = _world(n=2000)
    scorer = LeadScorer(spec)
    scorer.fit_early(X.iloc[:1500], y[:1500], X.iloc[1500:], y[1500:])
    assert scorer.best_iteration_ >= 1
    assert not [w for w in recwarn if "Reference Dataset" in str(w.message)]


def test_the_dataset_bins_with_every_training_parameter():
    data = BlockDataset(np.zeros((4, 1)), params={"seed": 3, "min_data_in_leaf": 7})
    assert data.get_params() == {"seed": 3, "min_data_in_leaf": 7}
