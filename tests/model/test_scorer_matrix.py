"""LightGBM learns from one float32 matrix of codes and numbers: the same model as from the
frame, and a booster saved from a frame still reads frames."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadscore.config import config_from_dict
from leadscore.features.flat import fit_flat_spec
from leadscore.model.scorer import LeadScorer, as_matrix


def _data(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 4000
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": np.where(rng.random(n) < 0.1, np.nan, rng.poisson(2, n).astype(float)),
            "c": rng.choice(["x", "y", "z", None], size=n, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )
    lift = X["c"].map({"x": 1.0, "y": 0.0, "z": -1.0}).fillna(0.5).to_numpy()
    y = (X["a"] + lift + rng.logistic(size=n) > 1.0).astype(float).to_numpy()
    return X, y


def test_a_frame_becomes_codes_and_float32_numbers_with_nan_for_missing():
    frame = pd.DataFrame(
        {
            "n": pd.Series([1.5, np.nan, 3.0], dtype="float32"),
            "c": pd.Categorical(["b", None, "a"], categories=["a", "b"]),
        }
    )
    m = as_matrix(frame)
    assert m.dtype == np.float32 and m.flags["F_CONTIGUOUS"]
    expected = np.array([[1.5, 1.0], [np.nan, np.nan], [3.0, 0.0]], dtype=np.float32)
    np.testing.assert_array_equal(m, expected)


def test_rows_taken_into_the_matrix_are_those_of_the_frame_at_their_positions():
    frame = pd.DataFrame(
        {
            "n": pd.Series([1.5, np.nan, 3.0, 4.0], dtype="float32"),
            "c": pd.Categorical(["b", None, "a", "b"], categories=["a", "b"]),
        }
    )
    rows = np.array([3, 1, 1])
    m = as_matrix(frame, rows)
    assert m.flags["F_CONTIGUOUS"]
    np.testing.assert_array_equal(m, as_matrix(frame.iloc[rows]))
    np.testing.assert_array_equal(m, [[4.0, 1.0], [np.nan, np.nan], [np.nan, np.nan]])


def test_the_booster_from_the_matrix_is_the_one_from_the_frame():
    X, y = _data()
    spec = fit_flat_spec(
        X, ["a", "b", "c"], max_categories=config_from_dict({}).flat.max_categories
    )
    scorer = LeadScorer(spec).fit_rounds(X, y, 30)
    frame = scorer.frame(X)
    direct = lgb.train(
        scorer.lgb_params(y),
        lgb.Dataset(frame, label=y, categorical_feature=list(spec.categorical_features)),
        num_boost_round=30,
    )
    want = direct.predict(frame, raw_score=True)
    np.testing.assert_array_equal(scorer.margin(X), want)
    assert scorer.booster_.pandas_categorical is None
    assert scorer.complete_columns_ == ["a"]  # b has missing values; c is a category
    # A booster that learned from a frame (an older saved model) is still given a frame.
    scorer.booster_ = direct
    np.testing.assert_array_equal(scorer.margin(X), want)
