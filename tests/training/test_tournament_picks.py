"""The tournament picks the kind the data calls for, and `score` serves it with its reasons.

Three flat files in time order, each built so one approach is right by construction:
- a linear logit whose covariate drifts beyond its training range (the base rate climbs from
  about 5% to about 35%): trees stay flat past what they saw, a logistic regression follows;
- an XOR of two signs: neither number tells anything alone, so only trees can learn it;
- a label drawn from the points sheet's own rules (an AND of two of its lines): nothing can
  rank better than the sheet, so the points sheet is the candidate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from leadscore.cli import main
from leadscore.config import config_from_dict, registered_name
from leadscore.model.registered import load_registered

pytestmark = pytest.mark.slow


def _frame(n: int, seed: int, logit) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / n
    x = pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "x1": rng.normal(0, 1, n),
            "x2": rng.normal(0, 1, n),
            "noise": rng.normal(0, 1, n),
            "source": rng.choice(["referral", "event", "web", "ad"], n),
            "visits": rng.poisson(3, n),
        }
    )
    p = 1 / (1 + np.exp(-logit(x, t)))
    x["Converted"] = (rng.random(n) < p).astype(int)
    return x


def trend(x: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    x["x1"] = x["x1"] + 3 * t  # the covariate drifts upward through the file
    return -3.5 + 1.0 * x["x1"] + 0.8 * x["x2"]


def xor(x: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    return -2.0 + 3.0 * ((x["x1"] > 0) == (x["x2"] > 0))


POINTS = {"referral": 30, "event": 20, "web": 5, "ad": 0}


def points_built(x: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    score = x["source"].map(POINTS) + np.select([x["visits"] >= 6, x["visits"] >= 3], [25, 10], 0)
    return np.where(score >= 35, 0.4, -3.5)


RULES = (
    "baseline:\n  max_points: 55\n  rules:\n"
    "    - {column: source, kind: fit, values: {referral: 30, event: 20, web: 5, ad: 0}}\n"
    "    - {column: visits, kind: engagement, bands: [[0, 0], [3, 10], [6, 25]]}\n"
)


def train_and_score(tmp_path, monkeypatch, capsys, frame: pd.DataFrame) -> tuple[str, str, str]:
    """Train on the file, score fresh rows with the champion; (winner, candidate, champion
    kind), after checking the scores carry reasons."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    cut = int(len(frame) * 0.9)
    frame.iloc[:cut].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[cut:].drop(columns="Converted").to_csv(tmp_path / "new.csv", index=False)
    (tmp_path / "c.yaml").write_text(RULES)
    cfg = ["--config", str(tmp_path / "c.yaml")]
    argv = ["train", "--flat", str(tmp_path / "train.csv"), "--label", "Converted", "--ordered"]
    assert main([*argv, *cfg]) == 0
    said = capsys.readouterr().out
    assert "tournament by roc_auc on the latest 2 folds" in said
    run = MlflowClient().search_runs(
        [MlflowClient().get_experiment_by_name("leadscore").experiment_id]
    )[0]
    out = tmp_path / "s.csv"
    assert main(["score", "--flat", str(tmp_path / "new.csv"), *cfg, "--out", str(out)]) == 0
    scores = pd.read_csv(out)
    assert len(scores) == len(frame) - cut and scores["top_reasons"].str.len().gt(0).all()
    name = registered_name(config_from_dict({}), flat=True)
    champion = load_registered(f"models:/{name}@champion").scorer.kind
    return run.data.tags["tournament.winner"], run.data.tags["champion.candidate"], champion


def test_a_linear_trend_picks_the_logistic_regression(tmp_path, monkeypatch, capsys):
    winner, candidate, champion = train_and_score(
        tmp_path, monkeypatch, capsys, _frame(6000, 1, trend)
    )
    assert (winner, candidate, champion) == ("logistic", "model", "logistic")


def test_an_interaction_picks_lightgbm(tmp_path, monkeypatch, capsys):
    winner, candidate, champion = train_and_score(
        tmp_path, monkeypatch, capsys, _frame(6000, 2, xor)
    )
    assert (winner, candidate, champion) == ("lightgbm", "model", "lightgbm")


def test_a_label_made_by_the_points_rules_picks_the_points_sheet(tmp_path, monkeypatch, capsys):
    _, candidate, champion = train_and_score(
        tmp_path, monkeypatch, capsys, _frame(20000, 3, points_built)
    )
    assert (candidate, champion) == ("points", "points")
