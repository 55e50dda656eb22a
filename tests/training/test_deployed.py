"""The deployed model end to end: short histories train, and its out-of-time calibration
holds on leads it scores later. Each test trains in a private MLflow store."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.config import config_from_dict
from leadscore.data.synthetic.world import generate_world
from leadscore.data.validate import require_valid, validate_tables
from leadscore.metrics import point_metrics
from leadscore.training.dataset import feature_table
from leadscore.training.run import train_events

pytestmark = pytest.mark.slow


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_four_months_of_weekly_snapshots_with_a_30_day_horizon_train(store):
    raw = generate_world(8000, seed=1, start="2025-01-01", end="2025-04-30")
    tables = require_valid(validate_tables(raw))
    cfg = config_from_dict({"training": {"horizon_days": 30, "cadence": 7}})
    lines: list[str] = []
    summary = train_events(tables, cfg, None, say=lines.append)
    plan = summary.result.plan
    assert len(plan.folds) >= 1
    assert "set by the history" in plan.how  # the run says how the folds were chosen
    assert any(line.strip().startswith("rolling backtest:") for line in lines)
    # The deployed model learned from every snapshot whose 30-day label is known.
    last = pd.Timestamp(plan.deploy_label.split("..")[-1].split(" ")[0], tz="UTC")
    assert last + pd.Timedelta(days=30) <= pd.Timestamp("2025-04-30 23:59:59", tz="UTC")
    assert last + pd.Timedelta(days=37) > pd.Timestamp("2025-04-30", tz="UTC")
    assert summary.promoted  # the first model of the store, whichever candidate won


def test_out_of_time_calibration_holds_on_a_later_as_of(store):
    tables = require_valid(validate_tables(generate_world(30_000, seed=11)))
    cfg = config_from_dict({})
    summary = train_events(tables, cfg, pd.Timestamp("2025-06-01", tz="UTC"), say=lambda _m: None)
    # Two months later: leads the model never saw, labels that came after its as_of.
    later = feature_table(
        tables, cfg, [pd.Timestamp("2025-08-01", tz="UTC")], spec=summary.result.scorer.spec
    )
    later = later[later["label"].notna()]
    assert len(later) > 15_000
    p = summary.result.scorer.predict_proba(later)
    m = point_metrics(later["label"].to_numpy(), p)
    assert m["ece"] <= 0.03
    assert p.mean() == pytest.approx(later["label"].mean(), rel=0.35)
    assert m["roc_auc"] > 0.85
