"""The logistic-regression kind: exact reasons, its strength chosen on held-out rows, saved
and loaded whole, served end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import leadscore
from leadscore.features.flat import fit_flat_spec
from leadscore.model.linear import STRENGTHS, LogisticScorer, skewed_columns


def _data(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    source = rng.choice(["web", "mail", "event", "partner"], n, p=[0.4, 0.3, 0.2, 0.1])
    x_missing = np.where(rng.random(n) < 0.1, np.nan, x)
    logit = -1.0 + 1.5 * x + np.where(source == "partner", 1.0, 0.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype("float64")
    return pd.DataFrame({"x": x_missing, "source": source}), y


@pytest.fixture(scope="module")
def fitted():
    X, y = _data(3000, 0)
    spec = fit_flat_spec(X, ["x", "source"], max_categories=10)
    Xv, yv = _data(1000, 1)
    scorer = LogisticScorer(spec).fit(X, y, valid=(Xv, yv))
    return scorer.calibrate_margins(scorer.margin(Xv), yv, np.zeros(len(yv))), X


def test_contributions_add_up_to_the_margin_with_missing_values_and_categories(fitted):
    scorer, X = fitted
    c = scorer.contributions(X)
    assert list(c.columns) == ["x", "source", "bias"]
    np.testing.assert_allclose(c.sum(axis=1).to_numpy(), scorer.margin(X), atol=1e-9)
    # A higher x pushes the score up, and the partner source more than the others.
    assert np.corrcoef(X["x"].fillna(0), c["x"])[0, 1] > 0.99
    partner = c.loc[X["source"] == "partner", "source"].mean()
    assert partner > c.loc[X["source"] == "web", "source"].mean()


def test_the_strength_comes_from_the_validation_rows_and_travels_to_deployment(fitted):
    scorer, _ = fitted
    assert scorer.strength_ in STRENGTHS
    deployed = scorer.for_deployment([scorer, scorer])
    assert deployed.strength == scorer.strength_


def test_saved_and_loaded_it_scores_the_same(fitted, tmp_path):
    scorer, X = fitted
    again = LogisticScorer.load(scorer.save(tmp_path / "s"))
    np.testing.assert_array_equal(again.predict_proba(X), scorer.predict_proba(X))
    pd.testing.assert_frame_equal(again.contributions(X), scorer.contributions(X))


@pytest.mark.slow
def test_a_logistic_model_trains_registers_and_scores(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    leadscore.generate(2500, seed=8, out=tmp_path / "data")
    config = {"model": {"kind": "logistic"}}
    summary = leadscore.train(leadscore.load_data(tmp_path / "data"), config)
    assert isinstance(summary.result.scorer, LogisticScorer)
    out = tmp_path / "scores.parquet"
    leadscore.score(tmp_path / "data", "2026-01-01", out, model=summary.model_uri, config=config)
    scores = pd.read_parquet(out)
    assert scores["probability"].between(0, 1).all() and scores["probability"].nunique() > 10
    assert scores["top_reasons"].str.len().gt(0).mean() > 0.9


def test_skewed_never_negative_numbers_go_on_a_log_scale():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "revenue": rng.lognormal(12, 2, 2000),  # skewed: logged
            "normal": rng.normal(50, 5, 2000),  # symmetric: kept
            "signed": rng.lognormal(0, 2, 2000) - 1,  # skewed but negative: kept
            "flag": (rng.random(2000) < 0.05).astype(float),  # skewed, two values: kept
            "counts": np.where(rng.random(2000) < 0.1, rng.poisson(3, 2000), 0) * 1.0,
        }
    )
    frame.loc[::7, "revenue"] = np.nan  # missing values are not counted
    assert skewed_columns(frame, list(frame.columns)) == ["revenue", "counts"]


def test_a_logged_column_scores_and_explains_exactly_beyond_its_range():
    rng = np.random.default_rng(4)
    n = 4000
    revenue = rng.lognormal(13, 1.5, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-8 + 0.6 * np.log(revenue))))).astype(float)
    X = pd.DataFrame({"revenue": revenue})
    spec = fit_flat_spec(X, ["revenue"], max_categories=10)
    scorer = LogisticScorer(spec)
    scorer.strength = 1.0
    scorer.fit(X, y).calibrate_margins(scorer.margin(X), y, np.zeros(n))
    assert scorer.logged_ == ["revenue"]
    # the margin is linear in log revenue: a hundredfold revenue beyond the range adds
    # exactly twice what a tenfold one does
    far = pd.DataFrame({"revenue": [revenue.max(), 10 * revenue.max(), 100 * revenue.max()]})
    m = scorer.margin(far)
    assert (m[2] - m[1]) == pytest.approx(m[1] - m[0], rel=1e-3) and m[1] > m[0]
    c = scorer.contributions(far)
    np.testing.assert_allclose(c.sum(axis=1).to_numpy(), m, rtol=1e-9)


def _shaped(n: int, seed: int, heavy: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """One number: linear in its value on an even spread, or (``heavy``) in its rank when
    its values are Cauchy (a few huge outliers of either sign)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_cauchy(n) if heavy else rng.uniform(-3, 3, n)
    logit = 2.0 * np.sign(x) * (np.abs(x) > 0.3) if heavy else 1.5 * x
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype("float64")
    return pd.DataFrame({"x": x}), y


@pytest.mark.parametrize(("heavy", "way"), [(False, "standard"), (True, "quantile")])
def test_auto_keeps_the_way_numbers_enter_that_the_validation_rows_favour(heavy, way):
    X, y = _shaped(4000, 0, heavy)
    spec = fit_flat_spec(X, ["x"], max_categories=10)
    Xv, yv = _shaped(4000, 1, heavy)
    scorer = LogisticScorer(spec, numbers="auto").fit(X, y, valid=(Xv, yv))
    assert scorer.numbers_ == way
    fixed = LogisticScorer(spec, numbers="standard").fit(X, y, valid=(Xv, yv))
    assert fixed.numbers_ == "standard"


def test_quantile_numbers_explain_exactly_travel_to_deployment_and_load_back(tmp_path):
    X, y = _shaped(3000, 2, heavy=True)
    X["x"] = X["x"].where(np.arange(len(X)) % 10 != 0)  # some missing
    spec = fit_flat_spec(X, ["x"], max_categories=10)
    scorer = LogisticScorer(spec, numbers="quantile").fit(X, y, valid=(X, y))
    scorer.calibrate_margins(scorer.margin(X), y, np.zeros(len(y)))
    np.testing.assert_allclose(
        scorer.contributions(X).sum(axis=1).to_numpy(), scorer.margin(X), atol=1e-9
    )
    again = LogisticScorer.load(scorer.save(tmp_path / "q"))
    assert again.numbers_ == "quantile"
    np.testing.assert_array_equal(again.predict_proba(X), scorer.predict_proba(X))
    standard = LogisticScorer(spec, numbers="standard").fit(X, y, valid=(X, y))
    auto = LogisticScorer(spec, numbers="auto")
    assert auto.for_deployment([scorer, scorer, standard]).numbers == "quantile"
    assert auto.for_deployment([scorer, standard]).numbers == "standard"  # a tie: the first way
    with pytest.raises(ValueError, match="model.logistic_numbers: unknown value 'spline'"):
        LogisticScorer(spec, numbers="spline").fit(X, y)


def test_the_config_forces_a_flat_column_to_categories_or_numbers():
    X = pd.DataFrame({"zip": [10115, 20095, 10115], "grade": ["1", "2", "x"], "n": [1.0, 2, 3]})
    detected = fit_flat_spec(X, ["zip", "grade", "n"], max_categories=10)
    assert detected.extra_numeric == ("zip", "n") and detected.extra_categorical == ("grade",)
    forced = fit_flat_spec(
        X, ["zip", "grade", "n"], categorical=["zip"], numeric=["grade"], max_categories=10
    )
    assert forced.extra_numeric == ("grade", "n") and forced.extra_categorical == ("zip",)
    assert forced.categories["zip"][:2] == ("10115", "20095")
