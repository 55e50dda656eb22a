"""The report's sample of out-of-time rows: up to 5,000 of them, drawn (seeded) before any
row is copied, and the very rows a draw from a copy of every out-of-time row gives."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from leadscore.training.fit import _sample


def _table(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"x": rng.normal(size=n), "lead_id": [f"L{i}" for i in range(n)]})


def test_the_sample_is_the_draw_from_a_copy_of_every_tested_row():
    table = _table(20_000)
    tested = np.sort(np.random.default_rng(4).choice(20_000, 12_000, replace=False))
    backtest = SimpleNamespace(rows=pd.DataFrame({"row": tested}))
    got = _sample(table, backtest, seed=7)
    want = table.iloc[tested].sample(n=5000, random_state=7).sort_index()
    pd.testing.assert_frame_equal(got, want)
    assert got.index.is_monotonic_increasing and set(got.index) <= set(tested)


def test_fewer_tested_rows_than_the_sample_are_all_taken():
    table = _table(50)
    backtest = SimpleNamespace(rows=pd.DataFrame({"row": [40, 3, 17]}))
    assert _sample(table, backtest, seed=0).index.tolist() == [3, 17, 40]
