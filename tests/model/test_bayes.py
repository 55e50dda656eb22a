"""The naive Bayes kind: frequency tables over bins, Laplace-smoothed, exact reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import leadscore
from leadscore.features.flat import fit_flat_spec
from leadscore.model import kinds
from leadscore.model.bayes import NaiveBayesScorer


def test_worked_example_of_one_category():
    X = pd.DataFrame({"source": ["web", "web", "web", "mail"]})
    y = np.array([1.0, 1.0, 0.0, 0.0])
    spec = fit_flat_spec(X, ["source"], max_categories=10)
    nb = NaiveBayesScorer(spec).fit(X, y)
    # Prior: log((2 + 1) / (2 + 1)) = 0. Bins of "source": the kept levels, other, missing
    # (from the spec) and the missing-code bin; smoothing adds one row to each.
    levels = len(spec.categories["source"]) + 1
    web = list(spec.categories["source"]).index("web")
    n1, n0 = 2 + levels, 2 + levels
    assert nb.prior_ == pytest.approx(0.0)
    assert nb.ratios_[0][web] == pytest.approx(np.log(3 / n1) - np.log(2 / n0))
    c = nb.contributions(X)
    np.testing.assert_allclose(c.sum(axis=1).to_numpy(), nb.margin(X), atol=1e-12)


def test_numbers_are_binned_and_missing_has_its_own_bin(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-2 * x))).astype("float64")
    X = pd.DataFrame({"x": np.where(rng.random(2000) < 0.1, np.nan, x)})
    spec = fit_flat_spec(X, ["x"], max_categories=10)
    nb = NaiveBayesScorer(spec).fit(X, y)
    nb.calibrate_margins(nb.margin(X), y, np.zeros(len(y)))
    assert len(nb.edges_["x"]) == 9 and len(nb.ratios_[0]) == 11  # 10 bins and missing
    assert np.corrcoef(X["x"].fillna(0), nb.contributions(X)["x"])[0, 1] > 0.8
    again = NaiveBayesScorer.load(nb.save(tmp_path / "nb"))
    np.testing.assert_array_equal(again.predict_proba(X), nb.predict_proba(X))
    assert "naive_bayes" in kinds.names()


@pytest.mark.slow
def test_a_naive_bayes_model_trains_registers_and_scores(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    leadscore.generate(2500, seed=9, out=tmp_path / "data")
    config = {"model": {"kind": "naive_bayes"}}
    summary = leadscore.train(leadscore.load_data(tmp_path / "data"), config)
    assert isinstance(summary.result.scorer, NaiveBayesScorer)
    out = tmp_path / "scores.parquet"
    leadscore.score(tmp_path / "data", "2026-01-01", out, model=summary.model_uri, config=config)
    scores = pd.read_parquet(out)
    assert scores["probability"].between(0, 1).all() and scores["top_reasons"].str.len().gt(0).any()
