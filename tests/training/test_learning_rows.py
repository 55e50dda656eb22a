"""Which rows a booster learns from, and with what weight: hand-worked on tiny tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import config_from_dict
from leadscore.training import backtest
from leadscore.training.backtest import learning_rows, recency_weights
from leadscore.training.deploy import calibration_folds


def table(n_pos: int, n_neg: int) -> pd.DataFrame:
    n = n_pos + n_neg
    return pd.DataFrame(
        {
            "lead_id": pd.Series([f"L{i}" for i in range(n)], dtype="string"),
            "as_of": pd.Timestamp("2025-06-01", tz="UTC"),
            "label": [1.0] * n_pos + [0.0] * n_neg,
        }
    )


def test_recency_weights_halve_every_half_life_before_the_latest_snapshot():
    when = pd.Series(pd.to_datetime(["2025-07-01", "2025-04-02", "2025-01-01"], utc=True))
    np.testing.assert_allclose(recency_weights(when, 90), [1.0, 0.5, 0.5 ** (181 / 90)])
    assert recency_weights(when, None) is None


def test_every_row_learns_with_equal_weight_by_default():
    # The default thins only beyond 200,000 non-converted rows: small tables keep every row.
    t = table(10, 990)
    y = t["label"].to_numpy()
    rows, weight = learning_rows(t, y, np.ones(len(t), bool), config_from_dict({}))
    assert rows.all() and weight is None


def test_thinned_negatives_keep_every_conversion_and_their_weight():
    t = table(100, 9900)
    y = t["label"].to_numpy()
    cfg = config_from_dict({"model": {"max_negatives_per_positive": 20, "min_negatives_kept": 0}})
    rows, weight = learning_rows(t, y, np.ones(len(t), bool), cfg)
    assert rows[:100].all()  # every conversion stays
    kept_negatives = int(rows[100:].sum())
    assert 1700 < kept_negatives < 2300  # about 20 per conversion
    # Kept negatives weigh 9900 / 2000 each: in expectation they stand for all 9,900.
    assert weight[:100].tolist() == [1.0] * 100
    assert weight[100:].sum() == pytest.approx(9900, rel=0.15)
    again, _ = learning_rows(t, y, np.ones(len(t), bool), cfg)
    assert again.tolist() == rows.tolist()  # the same rows every time (seeded hash)
    # Already balanced enough: nothing is left out.
    balanced = table(100, 1500)
    rows, weight = learning_rows(balanced, balanced["label"].to_numpy(), np.ones(1600, bool), cfg)
    assert rows.all() and weight is None
    # And never below the floor of non-converted rows kept.
    floor = config_from_dict(
        {"model": {"max_negatives_per_positive": 20, "min_negatives_kept": 5000}}
    )
    rows, _ = learning_rows(t, y, np.ones(len(t), bool), floor)
    assert 4500 < rows[100:].sum() < 5500


def test_deployed_calibration_uses_all_or_the_latest_folds():
    class F:
        def __init__(self, n):
            self.number = n

    class B:
        folds = [F(1), F(2), F(3), F(4)]

    assert calibration_folds(B(), "all") == [1, 2, 3, 4]
    assert calibration_folds(B(), 2) == [3, 4]


class _RowSum:
    """A scorer whose margin is each row's sum, and which records the rows it was given."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        self.sizes.append(len(X))
        return X.sum(axis=1).to_numpy()


def test_margins_score_the_marked_rows_in_blocks_in_their_order(monkeypatch):
    monkeypatch.setattr(backtest, "SCORE_ROWS", 2)
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "b": [10.0, 0, 0, 0, 0, 20.0]})
    rows = np.array([True, False, True, True, False, True])
    scorer = _RowSum()
    np.testing.assert_array_equal(backtest.margins(scorer, X, rows), [11.0, 3.0, 4.0, 26.0])
    assert scorer.sizes == [2, 2]
    assert len(backtest.margins(scorer, X, np.zeros(6, bool))) == 0
