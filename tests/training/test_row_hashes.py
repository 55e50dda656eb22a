"""Row hashes made once per table: the same draws and holdouts as hashing each time, and
backtests and the deployed fit on one table hash its rows once."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.config import config_from_dict
from leadscore.features.flat import fit_flat_spec
from leadscore.training.backtest import run_backtest
from leadscore.training.deploy import deploy
from leadscore.training.folds import Fold, Plan, fit_holdout, lead_hashes
from leadscore.training.sampling import RowHashes, draws, thin

CFG = config_from_dict(
    {
        "model": {
            "max_negatives_per_positive": 5,
            "min_negatives_kept": 100,
            "calibration": "sigmoid",
        }
    }
)


def _table(n_leads: int = 300, months: int = 6, seed: int = 0) -> tuple[pd.DataFrame, Plan]:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=months, freq="MS", tz="UTC")
    x = rng.normal(size=n_leads * months)
    table = pd.DataFrame(
        {
            "lead_id": pd.Series([f"L{i}" for i in range(n_leads)] * months, dtype="string"),
            "as_of": np.repeat(dates, n_leads),
            "x": x.astype("float32"),
            "label": (rng.random(len(x)) < 1 / (1 + np.exp(2.5 - 1.5 * x))).astype("float64"),
        }
    )
    when = table["as_of"].to_numpy()
    folds = [
        Fold(k, when < dates[months - 3 + k], when == dates[months - 3 + k], f"f{k}", "before")
        for k in (1, 2)
    ]
    return table, Plan(folds, np.ones(len(table), bool), "all", "", True, snapshots=True)


def test_the_hashes_are_those_made_each_time_and_of_their_own_table():
    table, plan = _table()
    hashes = RowHashes(table, 7)
    assert hashes.draw.tolist() == draws(table, 7).tolist()
    assert hashes.lead.tolist() == lead_hashes(table["lead_id"], 7).tolist()
    y, train = table["label"].to_numpy(), plan.folds[0].train
    assert (
        fit_holdout(table["lead_id"], y, train, 7, hashes.lead).tolist()
        == fit_holdout(table["lead_id"], y, train, 7).tolist()
    )
    for keep in (None, 50):
        shared = thin(table, y, train, keep, 7, hashes)
        alone = thin(table, y, train, keep, 7)
        assert [a.tolist() for a in shared] == [a.tolist() for a in alone]
    assert RowHashes.of(table, 7, hashes) is hashes
    assert RowHashes.of(table.copy(), 7, hashes) is not hashes  # another table
    assert RowHashes.of(table, 8, hashes) is not hashes  # another seed


def test_backtests_and_the_deployed_fit_hash_the_table_once(monkeypatch):
    table, plan = _table()
    spec = fit_flat_spec(table, ["x"], max_categories=10)
    alone = run_backtest(table, spec, plan, CFG, "naive_bayes")
    calls = []
    real = pd.util.hash_pandas_object
    monkeypatch.setattr(
        pd.util, "hash_pandas_object", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    hashes = RowHashes(table, CFG.model.seed)
    first = run_backtest(table, spec, plan, CFG, "naive_bayes", hashes=hashes)
    second = run_backtest(table, spec, plan, CFG, "logistic", hashes=hashes)
    deploy(table, spec, plan, second, CFG)
    assert len(calls) == 2  # the leads' hashes and the rows' draws, once each
    pd.testing.assert_frame_equal(first.rows, alone.rows)
