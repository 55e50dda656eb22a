"""Training end to end on a small synthetic world: baseline vs model, calibration, MLflow."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from leadscore.config import config_from_dict, load_config
from leadscore.data.synthetic.world import generate_world
from leadscore.data.validate import require_valid, validate_tables
from leadscore.errors import ConfigError
from leadscore.training.run import train_events

FAST = {"model": {"num_boost_round": 400, "early_stopping_rounds": 50}}


@pytest.fixture(scope="module")
def world():
    tables = generate_world(12_000, seed=7)
    return require_valid(validate_tables(tables))


@pytest.fixture(scope="module")
def first_run(world, store):
    cfg = config_from_dict(FAST)
    return train_events(world, cfg, None, say=lambda _m: None)


def metric(summary, name: str, side: str = "model") -> float:
    comp = summary.result.evaluation.comparison.set_index("metric")
    return float(comp.loc[name, side])


@pytest.mark.slow
def test_model_beats_points_baseline_on_auc_and_brier(first_run):
    # A broken feature pipeline (leakage removed, windows wrong, types lost) would not clear
    # these margins: the baseline already uses fit and decayed engagement.
    assert metric(first_run, "roc_auc") > metric(first_run, "roc_auc", "baseline") + 0.03
    assert metric(first_run, "brier") < metric(first_run, "brier", "baseline")
    assert metric(first_run, "log_loss") < metric(first_run, "log_loss", "baseline")
    # The points model is a real competitor, far better than random.
    assert metric(first_run, "roc_auc", "baseline") > 0.75


@pytest.mark.slow
def test_calibrated_probabilities_mean_what_they_say(first_run):
    assert metric(first_run, "ece") < 0.03
    rows = first_run.result.evaluation.rows
    # Over the whole test slice, predicted and observed conversion agree within 30%.
    assert rows["p_model"].mean() == pytest.approx(rows["label"].mean(), rel=0.3)


@pytest.mark.slow
def test_backtest_folds_and_the_deployed_window(first_run, world):
    result = first_run.result
    plan = result.plan
    assert len(plan.folds) >= 2 and len(result.folds) == len(plan.folds)
    horizon = pd.Timedelta(days=90)
    frame_dates = result.evaluation.rows.groupby("fold")["period"].min()
    for fold in plan.folds:
        # The embargo, per fold: every training label window ends by the fold's test start.
        train_end = pd.Timestamp(fold.train_label.split("..")[-1].split(" ")[0], tz="UTC")
        assert train_end + horizon <= frame_dates[fold.number]
    # The deployed model learned from every snapshot whose label is known by as_of: its
    # window ends at as_of - horizon (the data end here), rounded down to a snapshot.
    end = pd.Timestamp(plan.deploy_label.split("..")[-1].split(" ")[0], tz="UTC")
    data_end = max(world.leads["created_at"].max(), world.events["occurred_at"].max())
    assert end + horizon <= data_end < end + horizon + pd.Timedelta(days=31)
    # The folds' median of boosting rounds; kinds without rounds keep none of their own.
    rounds = result.deployed.rounds
    assert rounds >= 1
    assert result.scorer.best_iteration_ == (rounds if result.scorer.kind == "lightgbm" else 0)


@pytest.mark.slow
def test_run_metrics_artifacts_and_registered_model(first_run):
    client = MlflowClient()
    run = client.get_run(first_run.run_id)
    for key in (
        "model_roc_auc",
        "baseline_roc_auc",
        "model_brier",
        "baseline_brier",
        "model_ece",
        "model_roc_auc_low",
        "diff_roc_auc",
        "model_conversions_top100",
        "fold1_model_roc_auc",
        "deploy_rounds",
    ):
        assert key in run.data.metrics, key
    assert run.data.params["mode"] == "events"
    assert "data.events.hash" in run.data.params
    names = {a.path for a in client.list_artifacts(first_run.run_id)}
    assert {
        "config.yaml",
        "evaluation.csv",
        "importance.csv",
        "reliability.png",
        "lift.png",
        "importance.png",
        "capacity.csv",
        "folds.csv",
    } <= names
    version = client.get_model_version("leadscore", first_run.version)
    assert version.run_id == first_run.run_id
    assert (
        str(client.get_model_version_by_alias("leadscore", "champion").version) == first_run.version
    )


@pytest.mark.slow
def test_registered_model_loads_with_pyfunc_and_predicts(first_run, world):
    model = mlflow.pyfunc.load_model(f"models:/leadscore/{first_run.version}")
    scorer = model.unwrap_python_model().scorer
    sample = first_run.result.test_sample.head(50)
    from leadscore.model.registered import signature_frame

    out = model.predict(signature_frame(sample, scorer))
    assert list(out.columns) == ["probability", "score"]
    assert out["probability"].between(0, 1).all()
    np.testing.assert_allclose(
        out["probability"].to_numpy(), scorer.predict_proba(sample), rtol=1e-9
    )


@pytest.mark.slow
def test_columns_are_aligned_by_name_not_position(first_run):
    scorer = first_run.result.scorer
    sample = first_run.result.test_sample.head(200)
    shuffled = sample[list(reversed(sample.columns))]
    np.testing.assert_array_equal(scorer.predict_proba(sample), scorer.predict_proba(shuffled))


@pytest.mark.slow
def test_same_data_config_and_seed_give_the_same_metrics(first_run, world):
    again = train_events(world, config_from_dict(FAST), None, say=lambda _m: None)
    pd.testing.assert_frame_equal(
        first_run.result.evaluation.comparison, again.result.evaluation.comparison, check_exact=True
    )
    # A retrain on unchanged data ties the champion's recipe run through the same folds, and
    # the fresher model takes the alias.
    assert again.promoted and again.champion_before == first_run.version
    assert again.decision.difference == 0.0
    assert (
        "its recipe" in again.decision.reason and "not worse beyond chance" in again.decision.reason
    )


@pytest.mark.slow
def test_a_worse_model_does_not_take_the_champion_alias(first_run, world):
    weak = config_from_dict(
        {
            "model": {
                "kind": "lightgbm",
                "num_boost_round": 2,
                "early_stopping_rounds": 1,
                "params": {"num_leaves": 2, "learning_rate": 0.01},
            },
            "features": {"windows_days": [365]},
            # A points sheet that gives every lead the same points: no help as a stand-in.
            "baseline": {"rules": [{"column": "employees", "kind": "fit", "bands": [[0, 0]]}]},
        }
    )
    client = MlflowClient()
    before = str(client.get_model_version_by_alias("leadscore", "champion").version)
    summary = train_events(world, weak, None, say=lambda _m: None)
    assert not summary.promoted and summary.champion_before == before
    decision = summary.decision
    assert decision.champion_value is not None
    assert decision.champion_value > decision.candidate_value
    # Worse beyond chance: the whole paired interval of the difference is below zero.
    assert decision.difference_high < 0
    assert "its recipe" in decision.reason and "stays" in decision.reason
    assert str(client.get_model_version_by_alias("leadscore", "champion").version) == before
    run = client.get_run(summary.run_id)
    assert run.data.tags["champion.decision"] == "kept champion"
    assert run.data.metrics["champion_check_champion_roc_auc"] == pytest.approx(
        decision.champion_value
    )
    # The weak version stays registered (so does every version: rolling back is moving the alias).
    assert str(client.get_model_version("leadscore", summary.version).version) == summary.version


def test_bad_config_key_is_named():
    with pytest.raises(
        ConfigError, match=r"config key 'model.learning_rat' is not a known setting"
    ):
        config_from_dict({"model": {"learning_rat": 0.1}})
    with pytest.raises(ConfigError, match=r"config key 'training.horizon_days'"):
        config_from_dict({"training": {"horizon_days": -5}})


def test_config_file_round_trip(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("tracking:\n  experiment: x\n  registered_model_name: y\n")
    assert load_config(p).tracking.registered_model_name == "y"
    p.write_text("trackin: {}\n")
    with pytest.raises(ConfigError, match="'trackin' is not a known setting"):
        load_config(p)


def test_shipped_default_config_equals_embedded_defaults():
    from pathlib import Path

    import yaml

    from leadscore.config import default_dict

    shipped = yaml.safe_load((Path(__file__).parents[2] / "configs" / "default.yaml").read_text())
    assert shipped == default_dict()
