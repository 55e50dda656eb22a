"""The segmented model: each row scored and explained by its segment's model, the pooled
model for the rest, one margin scale for all, saved and loaded as one scorer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import logit

from leadscore.config import config_from_dict
from leadscore.errors import ConfigError, ModelError
from leadscore.features.spec import FeatureSpec
from leadscore.model import kinds
from leadscore.model.linear import LogisticScorer
from leadscore.model.segmented import SegmentedScorer


def rows(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """EMEA converts on ``b``, every other region on ``a``."""
    rng = np.random.default_rng(seed)
    region = rng.choice(["amer", "emea", "apac"], n, p=[0.5, 0.4, 0.1])
    a, b = rng.normal(size=n), rng.normal(size=n)
    z = np.where(region == "emea", 2.5 * b, 2.5 * a) - 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    return pd.DataFrame({"a": a, "b": b, "region": region}), y


def fitted(spec: FeatureSpec, X: pd.DataFrame, y: np.ndarray) -> LogisticScorer:
    cfg = config_from_dict({"model": {"kind": "logistic"}})
    s = LogisticScorer.create(spec, cfg).fit(X, y)
    s.calibrate_margins(s.margin(X), y, np.zeros(len(y)))
    return s


@pytest.fixture(scope="module")
def model(region_spec) -> SegmentedScorer:
    X, y = rows(4000, 1)
    emea = (X["region"] == "emea").to_numpy()
    routes = {"emea": "europe", "amer": "americas"}
    return SegmentedScorer(
        fitted(region_spec, X, y),
        "region",
        routes,
        {"europe": fitted(region_spec, X[emea], y[emea])},
    )


def test_each_row_is_scored_by_its_segments_model_and_the_rest_by_the_pooled_one(model):
    X, _ = rows(300, 2)
    p = model.predict_proba(X)
    emea = (X["region"] == "emea").to_numpy()
    assert emea.any() and (~emea).any()
    np.testing.assert_array_equal(p[emea], model.models["europe"].predict_proba(X[emea]))
    # americas has no model of its own, apac no segment: the pooled model serves both.
    np.testing.assert_array_equal(p[~emea], model.pooled.predict_proba(X[~emea]))
    assert model.segment_of(X).tolist() == ["europe" if r == "emea" else None for r in X["region"]]


def test_the_margin_is_the_log_odds_and_contributions_add_up_to_it(model):
    X, _ = rows(200, 3)
    p = model.predict_proba(X)
    np.testing.assert_allclose(model.margin(X), logit(p), rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.calibrated(model.margin(X)), p, rtol=0, atol=1e-12)
    c = model.contributions(X)
    assert list(c.index) == list(X.index)
    np.testing.assert_allclose(c.sum(axis=1), logit(p), rtol=0, atol=1e-9)
    np.testing.assert_allclose(model.probability_from(c, X), p, rtol=0, atol=1e-12)


def test_reasons_come_from_the_model_that_scored_the_row(model):
    X, _ = rows(200, 4)
    emea = (X["region"] == "emea").to_numpy()
    c = model.contributions(X).drop(columns="bias")
    own = model.models["europe"].contributions(X[emea]).drop(columns="bias")
    pooled = model.pooled.contributions(X[~emea]).drop(columns="bias")
    pd.testing.assert_frame_equal(c[emea], own)
    pd.testing.assert_frame_equal(c[~emea], pooled)


def test_saved_and_loaded_as_one_scorer(model, tmp_path):
    X, _ = rows(100, 5)
    back = kinds.load_scorer(model.save(tmp_path / "m"))
    assert isinstance(back, SegmentedScorer) and back.routes == model.routes
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))


def test_it_is_built_from_models_never_named_as_a_kind_to_fit(cfg, model, region_spec):
    with pytest.raises(ConfigError, match="unknown kind 'segmented'"):
        kinds.create(region_spec, cfg, kind="segmented")
    with pytest.raises(ModelError, match="no value routes to it"):
        SegmentedScorer(model.pooled, "region", {"emea": "europe"}, {"asia": model.pooled})
    with pytest.raises(ModelError, match="'a' is not a categorical feature"):
        SegmentedScorer(model.pooled, "a", {}, {})


def test_tiers_by_segment_name_each_rows_model_and_survive_a_save(model, tmp_path):
    X, _ = rows(50, 6)
    assert model.tier_segments(X) is None  # tiers cut over every lead
    per = SegmentedScorer(model.pooled, "region", model.routes, model.models, "segment")
    want = ["europe" if r == "emea" else "" for r in X["region"]]
    assert per.tier_segments(X).tolist() == want
    back = kinds.load_scorer(per.save(tmp_path / "per"))
    assert back.tiers_by == "segment" and back.tier_segments(X).tolist() == want
    with pytest.raises(ModelError, match="tiers by 'region'; overall or segment"):
        SegmentedScorer(model.pooled, "region", model.routes, model.models, "region")
