"""`leadscore models`: list the versions, promote one, roll back; score follows the alias."""

from __future__ import annotations

import pandas as pd
import pytest
from mlflow import MlflowClient

from leadscore.cli import main

pytestmark = pytest.mark.slow  # two trainings


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    data = root / "data"
    assert main(["generate", "--out", str(data), "--leads", "2500", "--seed", "6"]) == 0
    mp = pytest.MonkeyPatch()
    store = f"sqlite:///{root}/mlflow.db"
    mp.setenv("MLFLOW_TRACKING_URI", store)
    mp.chdir(root)
    cfg = root / "quick.yaml"
    cfg.write_text("model:\n  num_boost_round: 80\n  early_stopping_rounds: 10\n")
    for seed in (1, 2):
        (root / f"seed{seed}.yaml").write_text(cfg.read_text() + f"  seed: {seed}\n")
        assert main(["train", "--data", str(data), "--config", str(root / f"seed{seed}.yaml")]) == 0
    yield {"root": root, "data": data, "client": MlflowClient(tracking_uri=store)}
    mp.undo()


def champion(registry) -> str:
    return str(registry["client"].get_model_version_by_alias("leadscore", "champion").version)


def scored_version(registry, name: str) -> str:
    out = registry["root"] / name
    args = ["score", "--data", str(registry["data"]), "--as-of", "2025-10-01", "--out", str(out)]
    assert main(args) == 0
    return pd.read_parquet(out)["model_version"].iloc[0]


def test_list_shows_every_version_and_the_champion(registry, capsys):
    capsys.readouterr()
    assert main(["models", "list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    versions = registry["client"].search_model_versions("name='leadscore'")
    assert len(lines) == len(versions) >= 2
    assert sum("[champion]" in line for line in lines) == 1
    assert all("roc_auc" in line and ".." in line for line in lines)  # metrics, window


def test_promote_then_rollback_move_the_alias_and_score_follows(registry, capsys):
    before = str(champion(registry))
    other = next(
        str(v.version)
        for v in registry["client"].search_model_versions("name='leadscore'")
        if str(v.version) != before
    )
    assert main(["models", "promote", f"v{other}", "--reason", "a check"]) == 0
    assert champion(registry) == other
    mv = registry["client"].get_model_version("leadscore", other)
    assert mv.tags["champion.why"] == "a check" and mv.tags["champion.previous"] == before
    assert scored_version(registry, "promoted.parquet") == f"leadscore/{other}"
    assert main(["models", "rollback"]) == 0
    assert champion(registry) == before
    assert scored_version(registry, "rolled_back.parquet") == f"leadscore/{before}"
    assert (
        "rolled back by hand (from v"
        in registry["client"].get_model_version("leadscore", before).tags["champion.why"]
    )


def test_unknown_versions_and_empty_registries_are_one_line(
    registry, tmp_path, monkeypatch, capsys
):
    capsys.readouterr()
    assert main(["models", "promote", "99"]) == 2
    assert "has no version 99 (versions: 1, 2" in capsys.readouterr().err
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/empty.db")
    assert main(["models", "list"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("leadscore: error: no MLflow store at")
