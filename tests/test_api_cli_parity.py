"""The command and the Python API take one path: the same CSV options, drop limit, mode check
and model-age warning, whichever way a user calls a step."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

import leadscore
from leadscore.cli import main
from leadscore.errors import DataError, ModelError


@pytest.fixture(scope="module")
def csv_folder(tmp_path_factory):
    data = tmp_path_factory.mktemp("parity") / "data"
    leadscore.generate(400, seed=2, out=data, fmt="csv")
    return data


def _config(tmp_path, text: str):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def test_both_read_csv_files_as_the_config_says(csv_folder, tmp_path, capsys):
    cfg = _config(tmp_path, "io:\n  csv:\n    delimiter: ';'\n")  # the files use ','
    assert main(["validate", "--data", str(csv_folder), "--config", str(cfg)]) == 2
    said = capsys.readouterr().err.strip().removeprefix("leadscore: error: ")
    report = leadscore.validate(csv_folder, cfg)
    assert report.fatal and report.fatal[0].line() == said
    with pytest.raises(DataError):
        leadscore.load_data(csv_folder, cfg)
    assert leadscore.validate(csv_folder).fatal == []  # detected when the config says auto


def test_both_stop_at_the_drop_limit(csv_folder, tmp_path, capsys):
    leads = pd.read_csv(csv_folder / "leads.csv")
    leads.loc[: len(leads) // 5, "created_at"] = "not a time"  # a fifth of the leads dropped
    broken = tmp_path / "data"
    broken.mkdir()
    leads.to_csv(broken / "leads.csv", index=False)
    for name in ("events", "outcomes", "stages"):
        (broken / f"{name}.csv").write_bytes((csv_folder / f"{name}.csv").read_bytes())
    cfg = _config(tmp_path, "validation:\n  max_drop_share: 0.1\n")
    assert main(["validate", "--data", str(broken), "--config", str(cfg)]) == 2
    said = capsys.readouterr().err.strip().removeprefix("leadscore: error: ")
    assert "validation.max_drop_share" in said
    with pytest.raises(DataError) as raised:
        leadscore.load_data(broken, cfg)
    assert str(raised.value) == said
    lenient = _config(tmp_path, "validation:\n  max_drop_share: 0.5\n")
    assert len(leadscore.load_data(broken, lenient).leads) < len(leads)


@pytest.mark.slow
def test_both_check_the_mode_and_warn_of_an_old_model(csv_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    leadscore.generate(2500, seed=6, out=data)
    leadscore.train(leadscore.load_data(data))
    capsys.readouterr()
    late = "2026-12-01"  # the world ends 2025-12-31: the model is eleven months old then
    out = tmp_path / "cli.parquet"
    assert main(["score", "--data", str(data), "--as-of", late, "--out", str(out)]) == 0
    cli_warning = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    leadscore.score(data, late, tmp_path / "api.parquet")
    api_warning = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert cli_warning == api_warning and len(api_warning) == 1
    assert "more than training.max_model_age_days = 90" in api_warning[0]
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(tmp_path / "api.parquet"))

    flat = copy.copy(leadscore.load_model())
    flat.settings = flat.settings.model_copy(update={"mode": "flat"})
    with pytest.raises(ModelError, match="is a flat-mode model; score it with --flat FILE"):
        leadscore.score(data, late, tmp_path / "x.parquet", model=flat)
    with pytest.raises(ModelError, match="is a flat-mode model"):
        leadscore.score(leadscore.load_data(data), late, tmp_path / "x.parquet", model=flat)
