"""Fitting on row positions (``kinds.fit_rows``): every built-in kind learns exactly what it
learns from copies of those rows, and copies no more rows than it keeps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import config_from_dict
from leadscore.features.flat import fit_flat_spec
from leadscore.model import kinds, linear
from leadscore.model.linear import LogisticScorer
from leadscore.model.scorer import LeadScorer

CFG = config_from_dict({})


def _data(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    source = rng.choice(["web", "mail", "event", "partner"], n, p=[0.4, 0.3, 0.2, 0.1])
    logit = -2.0 + 1.5 * x + np.where(source == "partner", 1.0, 0.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype("float64")
    revenue = np.exp(rng.normal(size=n) * 2)
    # Missing only in the first 100 rows, which the fits below never read: complete there.
    partial = np.where(np.arange(n) < 100, np.nan, rng.normal(size=n))
    X = pd.DataFrame({"x": x, "revenue": revenue, "partial": partial, "source": source})
    return X, y


@pytest.fixture(scope="module")
def world():
    X, y = _data(4000, 0)
    spec = fit_flat_spec(X, ["x", "revenue", "partial", "source"], max_categories=10)
    rng = np.random.default_rng(1)
    rows = np.sort(rng.choice(np.arange(100, 3000), 2000, replace=False))
    valid_rows = np.arange(3000, 4000)
    weight = rng.uniform(0.5, 2.0, len(rows))
    return X, y, spec, rows, valid_rows, weight


@pytest.mark.parametrize("kind", ["logistic", "naive_bayes", "lightgbm"])
def test_positions_learn_what_copies_learn(world, kind, monkeypatch):
    X, y, spec, rows, valid_rows, weight = world
    # Fewer negatives kept than the rows have, so the logistic fit draws its own subset.
    monkeypatch.setattr(linear, "FIT_NEGATIVES", 500)
    on_rows = kinds.fit_rows(kinds.create(spec, CFG, kind), X, y, rows, weight, valid_rows)
    copied = kinds.create(spec, CFG, kind).fit(
        X.iloc[rows].copy(), y[rows], weight, valid=(X.iloc[valid_rows].copy(), y[valid_rows])
    )
    assert on_rows.margin(X).tolist() == copied.margin(X).tolist()
    assert on_rows.complete_columns_ == copied.complete_columns_
    if kind == "logistic":
        assert "partial" in on_rows.complete_columns_


def test_the_deployed_booster_on_positions_is_the_one_on_copies(world):
    X, y, spec, rows, _, weight = world
    fold = kinds.fit_rows(kinds.create(spec, CFG, "lightgbm"), X, y, rows, weight, rows[:500])
    on_rows = kinds.fit_rows(kinds.create(spec, CFG).for_deployment([fold]), X, y, rows, weight)
    copied = (
        kinds.create(spec, CFG).for_deployment([fold]).fit(X.iloc[rows].copy(), y[rows], weight)
    )
    assert on_rows.best_iteration_ == fold.best_iteration_
    assert on_rows.margin(X).tolist() == copied.margin(X).tolist()


def test_the_lightgbm_kind_copies_rows_only_into_its_matrix(world, monkeypatch):
    X, y, spec, rows, valid_rows, weight = world
    seen: list[int] = []
    frame = LeadScorer.frame
    monkeypatch.setattr(LeadScorer, "frame", lambda self, X: seen.append(len(X)) or frame(self, X))
    kinds.fit_rows(LeadScorer(spec), X, y, rows, weight, valid_rows)
    assert seen == [len(X), len(X)]  # aligned whole (no copy), then read at the positions


def test_the_logistic_kind_copies_only_the_rows_it_keeps(world, monkeypatch):
    X, y, spec, rows, valid_rows, weight = world
    monkeypatch.setattr(linear, "FIT_NEGATIVES", 500)
    seen: list[int] = []
    frame = LogisticScorer._frame
    monkeypatch.setattr(
        LogisticScorer, "_frame", lambda self, X: seen.append(len(X)) or frame(self, X)
    )
    kinds.fit_rows(LogisticScorer(spec), X, y, rows, weight, valid_rows)
    positives = int(y[rows].sum())
    assert seen == [500 + positives, len(valid_rows)]


def test_a_kind_without_takes_rows_gets_copies_of_the_rows(world):
    X, y, spec, rows, valid_rows, _ = world
    got = {}

    class Copies:
        def fit(self, X, y, weight=None, valid=None):
            got.update(
                rows=len(X), labels=y.tolist(), valid=len(valid[0]), valid_labels=len(valid[1])
            )
            return self

    kinds.fit_rows(Copies(), X, y, rows, None, valid_rows)
    assert got == {
        "rows": len(rows),
        "labels": y[rows].tolist(),
        "valid": len(valid_rows),
        "valid_labels": len(valid_rows),
    }
