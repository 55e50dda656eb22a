"""The champion decision: the model, the points sheet and the champion on the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from leadscore.cli import main
from leadscore.config import config_from_dict, defaults
from leadscore.data.files import write_tables
from leadscore.data.synthetic.world import generate_world
from leadscore.data.validate import require_valid, validate_tables
from leadscore.features.snapshots import open_leads
from leadscore.features.table import build_features
from leadscore.model.points import PointsScorer
from leadscore.model.registered import load_registered
from leadscore.training.champion import decide
from leadscore.training.dataset import spec_for
from leadscore.training.run import train_events


def rows(p_model: list[float], p_points: list[float], label: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "fold": [3, 3, 4, 4][: len(label)],
            "label": label,
            "p_model": p_model,
            "p_baseline": p_points,
        }
    )


GOOD = [0.9, 0.1, 0.8, 0.2]  # ranks the two conversions first: AUC 1
BAD = [0.1, 0.9, 0.2, 0.8]  # ranks them last: AUC 0
Y = [1, 0, 1, 0]


def test_a_model_better_than_the_points_sheet_is_the_candidate():
    d = decide(rows(GOOD, BAD, Y), "roc_auc", None, None)
    assert (d.candidate, d.promote, d.folds, d.rows) == ("model", True, [3, 4], 4)
    assert (
        d.reason
        == "roc_auc model 1.0000 vs points sheet 0.0000 on the latest 2 folds, 4 rows; first champion"
    )


def test_an_unordered_flat_files_folds_are_all_judged_and_said_so():
    d = decide(rows(GOOD, BAD, Y), "roc_auc", None, None, in_time=False)
    assert "on every fold (2), 4 rows" in d.reason


def test_a_model_that_does_not_beat_the_points_sheet_is_never_the_candidate():
    for model in (BAD, GOOD):  # worse, then equal
        d = decide(rows(model, GOOD, Y), "roc_auc", None, None)
        assert d.candidate == "points"
        assert d.reason.startswith("the model does not beat the points sheet")


def many(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """``n`` rows with a 20% base rate; a score that ranks them well and one that is noise."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    good = np.clip(0.2 + 0.5 * (y - 0.2) + rng.normal(0, 0.15, n), 0.01, 0.99)
    noise = rng.uniform(0.01, 0.99, n)
    frame = pd.DataFrame({"fold": np.repeat([3, 4], n // 2), "label": y})
    return frame, good, noise


def test_a_retrain_that_ties_its_champion_takes_over():
    tie = decide(rows(GOOD, BAD, Y), "roc_auc", np.array(GOOD), "3", basis="its recipe")
    assert tie.promote and tie.champion_value == 1.0
    assert (tie.difference, tie.difference_low, tie.difference_high) == (0.0, 0.0, 0.0)
    assert tie.reason.endswith(
        "the model takes over from champion v3 (its recipe): not worse beyond chance "
        "(1.0000 vs 1.0000, difference +0.0000 [+0.0000, +0.0000])"
    )


def test_the_champion_stays_only_when_the_candidate_is_worse_beyond_chance():
    frame, good, noise = many()
    worse = decide(frame.assign(p_model=noise, p_baseline=1 - good), "roc_auc", good, "3")
    assert worse.candidate == "model"
    assert not worse.promote and worse.difference_high < 0
    assert "champion v3 stays" in worse.reason
    better = decide(frame.assign(p_model=good, p_baseline=noise), "roc_auc", noise, "3")
    assert better.promote and better.difference_low > 0
    assert "the model beats champion v3" in better.reason
    # Lower is better for log loss: the noisy candidate's higher loss is the worse side.
    loss = decide(frame.assign(p_model=noise, p_baseline=1 - good), "log_loss", good, "3")
    assert not loss.promote and loss.difference_low > 0


def test_a_champion_past_its_age_is_replaced_even_by_a_worse_model():
    frame, good, noise = many()
    old = "its data ends 2025-01-01, 200 days before this run's (training.max_model_age_days 90)"
    d = decide(
        frame.assign(p_model=noise, p_baseline=noise * 0.5), "roc_auc", good, "3", too_old=old
    )
    assert d.promote and d.difference_high < 0
    assert f"takes over from champion v3: {old}" in d.reason


def test_points_scorer_contributions_add_up_to_its_score(tiny_tables):
    cfg = defaults()
    spec = spec_for(tiny_tables, cfg, pd.Timestamp("2024-03-31", tz="UTC"))
    snaps = open_leads(
        tiny_tables.leads, tiny_tables.outcomes, [pd.Timestamp("2024-03-01", tz="UTC")]
    )
    feats = build_features(tiny_tables.leads, tiny_tables.events, snaps, spec)
    points = PointsScorer(spec, cfg.baseline).fit_calibrator(
        np.array([0.0, 10, 20, 30, 40, 50]), np.array([0, 0, 0, 1, 1, 1]), "sigmoid"
    )
    contrib = points.contributions(feats)
    np.testing.assert_allclose(contrib.sum(axis=1), points.score(feats), atol=1e-9)
    grouped = points.contributions(feats, groups={c: "all" for c in spec.feature_columns})
    np.testing.assert_allclose(grouped.sum(axis=1), points.score(feats), atol=1e-9)
    p = points.predict_proba(feats)
    order = np.argsort(points.score(feats))
    assert np.all(np.diff(p[order]) >= 0)  # more points, never a lower probability


@pytest.mark.slow
def test_when_the_points_sheet_wins_it_becomes_champion_and_scores(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    raw = generate_world(4000, seed=5)
    write_tables(raw, tmp_path / "data")
    tables = require_valid(validate_tables(raw))
    # A model that can barely learn (two stumps): the points sheet, written for this kind of
    # world, ranks better, so it must take the champion alias in the model's place.
    weak = config_from_dict(
        {
            "model": {
                "kind": "lightgbm",
                "num_boost_round": 2,
                "early_stopping_rounds": 1,
                "params": {"num_leaves": 2, "learning_rate": 0.001},
            },
            "training": {"min_positives": 20},
        }
    )
    summary = train_events(tables, weak, None, say=lambda _m: None)
    d = summary.decision
    assert d.candidate == "points" and d.points_value > d.model_value and summary.promoted
    client = MlflowClient()
    champion = client.get_model_version_by_alias("leadscore", "champion")
    assert str(champion.version) == summary.points_version != summary.version
    run = client.get_run(summary.run_id)
    assert run.data.tags["champion.candidate"] == "points"
    served = load_registered("models:/leadscore@champion")
    assert served.scorer.kind == "points"

    out = tmp_path / "scores.parquet"
    assert (
        main(
            ["score", "--data", str(tmp_path / "data"), "--as-of", "2025-12-01", "--out", str(out)]
        )
        == 0
    )
    scores = pd.read_parquet(out)
    assert set(scores["model_version"]) == {f"leadscore/{summary.points_version}"}
    assert scores["top_reasons"].str.len().gt(0).all()
    # The points sheet's probabilities follow its score.
    assert scores.sort_values("baseline_score")["probability"].is_monotonic_increasing
    report = tmp_path / "report.html"
    assert main(["report", "--scores", str(out), "--out", str(report)]) == 0
    assert "the points sheet: it beat the model in the backtest" in report.read_text()
