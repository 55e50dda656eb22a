"""The model contract: a kind registered from outside goes through training, the registry,
scoring and reasons with no other change, and every built-in kind keeps the contract."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import leadscore
from leadscore.errors import ConfigError, ModelError
from leadscore.features.flat import flat_spec
from leadscore.features.spec import FeatureSpec
from leadscore.features.table import build_features
from leadscore.model import kinds
from leadscore.model.kind import Scorer
from leadscore.model.linear import LogisticScorer
from leadscore.model.points import PointsScorer
from leadscore.model.scorer import Calibrator, LeadScorer


class ToyScorer:
    """A least-squares line through the numeric features: the smallest honest kind."""

    kind = "toy"

    def __init__(self, spec: FeatureSpec) -> None:
        self.spec = spec
        self.best_iteration_ = 0
        self.complete_columns_: list[str] = []
        self.numeric = [c for c in spec.feature_columns if c not in spec.categories]

    @classmethod
    def create(cls, spec, cfg):
        return cls(spec)

    def _x(self, X: pd.DataFrame) -> np.ndarray:
        return X[self.numeric].astype("float64").fillna(0.0).to_numpy()

    def fit(self, X, y, weight=None, valid=None):
        x = self._x(X)
        self.mean_ = x.mean(axis=0)
        coef, *_ = np.linalg.lstsq(x - self.mean_, np.asarray(y) - np.mean(y), rcond=None)
        self.coef_, self.intercept_ = coef, float(np.mean(y))
        return self

    def for_deployment(self, folds: Sequence[Scorer]):
        return ToyScorer(self.spec)

    def margin(self, X):
        return self.intercept_ + (self._x(X) - self.mean_) @ self.coef_

    def calibrate_margins(self, margin, y, period):
        self.calibration_method_ = "sigmoid"
        self.calibrator_ = Calibrator("sigmoid").fit(margin, y)
        return self

    def calibrated(self, margin):
        return self.calibrator_.predict(margin)

    def predict_proba(self, X):
        return self.calibrated(self.margin(X))

    def contributions(self, X, threads=2, groups=None, helpers_after=None):
        parts = pd.DataFrame(
            (self._x(X) - self.mean_) * self.coef_, columns=self.numeric, index=X.index
        )
        out = pd.DataFrame(0.0, index=X.index, columns=list(self.spec.feature_columns))
        out[self.numeric] = parts
        if groups is not None:
            out = out.T.groupby(lambda c: groups.get(c, c)).sum().T
        out["bias"] = self.intercept_
        return out

    def probability_from(self, contributions, X):
        return self.calibrated(contributions.sum(axis=1).to_numpy())

    def prepare(self, rows):
        pass

    def importance(self):
        frame = pd.DataFrame(
            {"feature": self.numeric, "importance": np.abs(self.coef_), "splits": 0}
        )
        return frame.sort_values(["importance", "feature"], ascending=[False, True])

    def save(self, folder):
        d = Path(folder)
        d.mkdir(parents=True, exist_ok=True)
        state = {
            "kind": self.kind,
            "spec": self.spec.to_dict(),
            "mean": self.mean_.tolist(),
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_,
            "calibration": [float(v) for v in self.calibrator_.model_.coef_.ravel()]
            + [float(self.calibrator_.model_.intercept_[0])],
        }
        (d / "scorer.json").write_text(json.dumps(state))
        return d

    @classmethod
    def load(cls, folder):
        state = json.loads((Path(folder) / "scorer.json").read_text())
        obj = cls(FeatureSpec.from_dict(state["spec"]))
        obj.mean_, obj.coef_ = np.array(state["mean"]), np.array(state["coef"])
        obj.intercept_ = state["intercept"]
        cal = Calibrator("sigmoid")
        margin = np.array([-1.0, 1.0])
        cal.fit(margin, np.array([0, 1]))  # a fitted object to set the stored numbers on
        cal.model_.coef_[:] = state["calibration"][0]
        cal.model_.intercept_[:] = state["calibration"][1]
        obj.calibrator_, obj.calibration_method_ = cal, "sigmoid"
        return obj


@pytest.fixture
def toy_kind():
    kinds.register(ToyScorer)
    yield ToyScorer
    kinds._KINDS.pop(ToyScorer.kind, None)


def test_the_built_in_kinds_keep_the_contract():
    assert kinds.names()[:3] == ["lightgbm", "points", "logistic"]
    for cls in (LeadScorer, PointsScorer, LogisticScorer):
        assert kinds.kind_class(cls.kind) is cls
        assert [m for m in kinds.CONTRACT if not callable(getattr(cls, m, None))] == []
    assert "create" in kinds.CONTRACT and "contributions" in kinds.CONTRACT


def _spec_dict() -> dict:
    return flat_spec(("a",), (), {}).to_dict()


def test_an_unknown_kind_names_the_setting(cfg):
    with pytest.raises(ConfigError, match="model.kind: unknown kind 'forest'; registered kinds"):
        kinds.create(FeatureSpec.from_dict(_spec_dict()), cfg, kind="forest")


def test_a_class_without_the_contract_is_refused():
    class Half:
        kind = "half"

        def fit(self, X, y):
            return self

    with pytest.raises(TypeError, match="Half lacks create, for_deployment"):
        kinds.register(Half)
    assert "half" not in kinds.names()


def test_a_saved_scorer_of_an_unregistered_kind_says_so(tmp_path):
    (tmp_path / "scorer.json").write_text(json.dumps({"kind": "gone"}))
    with pytest.raises(ModelError, match="kind 'gone', which this installation does not"):
        kinds.load_scorer(tmp_path)


@pytest.mark.slow
def test_a_registered_toy_kind_trains_registers_scores_and_explains(
    toy_kind, tmp_path, monkeypatch
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    leadscore.generate(3000, seed=5, out=tmp_path / "data")
    config = {"model": {"kind": "toy"}}
    summary = leadscore.train(leadscore.load_data(tmp_path / "data"), config)
    assert isinstance(summary.result.scorer, ToyScorer)
    assert summary.result.folds["best_iteration"].eq(0).all()

    loaded = leadscore.load_model(summary.model_uri, config)
    assert isinstance(loaded.scorer, ToyScorer)  # back from MLflow by its kind
    out = tmp_path / "scores.parquet"
    leadscore.score(tmp_path / "data", "2026-01-01", out, model=summary.model_uri, config=config)
    scores = pd.read_parquet(out)
    assert len(scores) > 100 and scores["top_reasons"].str.len().gt(0).any()

    # Its probabilities are its own: the loaded scorer's, on the same leads' features.
    tables = leadscore.load_data(tmp_path / "data")
    keys = pd.DataFrame(
        {"lead_id": scores["lead_id"], "as_of": pd.Timestamp("2026-01-01", tz="UTC")}
    )
    feats = build_features(
        tables.leads, tables.events, keys, loaded.scorer.spec, stages=tables.stages
    )
    want = loaded.scorer.predict_proba(feats)
    np.testing.assert_allclose(scores["probability"].to_numpy(), want, rtol=0, atol=1e-12)


def test_each_kinds_contributions_add_up_to_its_margin(cfg):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=400)})
    y = (X["a"] + rng.normal(size=400) > 0.8).astype("float64").to_numpy()
    spec = FeatureSpec.from_dict(_spec_dict())
    toy = ToyScorer(spec).fit(X, y)
    lgbm = LeadScorer(spec, cfg.model).fit(X, y, valid=(X, y))
    logistic = LogisticScorer(spec).fit(X, y, valid=(X, y))
    for scorer in (toy, lgbm, logistic):
        c = scorer.contributions(X)
        np.testing.assert_allclose(c.sum(axis=1).to_numpy(), scorer.margin(X), atol=1e-9)
