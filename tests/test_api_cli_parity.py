"""The command and the Python API take one path: the same CSV options, drop limit, mode check
and model-age warning, whichever way a user calls a step."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

import leadscore
from leadscore.cli import main
from leadscore.config import defaults
from leadscore.errors import DataError, ModelError

# The files of a European CRM export: Windows-1252, semicolons, decimal commas.
EUROPEAN = "io:\n  csv:\n    delimiter: ';'\n    encoding: cp1252\n    decimal: ','\n"


@pytest.fixture(scope="module")
def csv_folder(tmp_path_factory):
    data = tmp_path_factory.mktemp("parity") / "data"
    leadscore.generate(400, seed=2, out=data, fmt="csv")
    return data


def _config(tmp_path, text: str):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def _european(folder, out):
    """``folder``'s CSV files written again as a European export, with accents in the titles."""
    out.mkdir()
    for path in folder.glob("*.csv"):
        frame = pd.read_csv(path)
        if path.stem == "leads":
            frame.loc[::3, "job_title"] = "Geschäftsführer Vertrieb"
        frame.to_csv(out / path.name, sep=";", decimal=",", encoding="cp1252", index=False)
    return out


def _error(capsys) -> str:
    return capsys.readouterr().err.strip().splitlines()[-1].removeprefix("leadscore: error: ")


def test_both_read_csv_files_as_the_config_says(csv_folder, tmp_path, capsys):
    cfg = _config(tmp_path, "io:\n  csv:\n    delimiter: ';'\n")  # the files use ','
    assert main(["validate", "--data", str(csv_folder), "--config", str(cfg)]) == 2
    said = _error(capsys)
    report = leadscore.validate(csv_folder, cfg)
    assert report.fatal and report.fatal[0].line() == said
    with pytest.raises(DataError):
        leadscore.load_data(csv_folder, cfg)
    assert leadscore.validate(csv_folder).fatal == []  # detected when the config says auto


def test_both_read_a_european_export_with_its_csv_options(csv_folder, tmp_path, capsys):
    data = _european(csv_folder, tmp_path / "eu")
    cfg = _config(tmp_path, EUROPEAN)
    assert main(["validate", "--data", str(data), "--config", str(cfg)]) == 0
    said = capsys.readouterr().out
    report = leadscore.validate(data, cfg)
    assert report.fatal == [] and said.startswith(report.summary() + "\n")
    assert said.splitlines()[-1].startswith("valid: the data folder meets the contract")
    tables = leadscore.load_data(data, cfg)
    plain = leadscore.load_data(csv_folder)
    assert len(tables.leads) == len(plain.leads)
    accented = tables.leads["job_title"] == "Geschäftsführer Vertrieb"
    assert accented.sum() == len(range(0, len(plain.leads), 3))
    pd.testing.assert_series_equal(tables.leads["employees"], plain.leads["employees"])


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
    said = _error(capsys)
    assert "validation.max_drop_share" in said
    with pytest.raises(DataError) as raised:
        leadscore.load_data(broken, cfg)
    assert str(raised.value) == said
    with pytest.raises(DataError) as raised:
        leadscore.validate(broken, cfg)
    assert str(raised.value) == said
    lenient = _config(tmp_path, "validation:\n  max_drop_share: 0.5\n")
    assert len(leadscore.load_data(broken, lenient).leads) < len(leads)
    assert leadscore.validate(broken, lenient).problems


class _Stop:
    """A scorer that ends the night at its first use: what comes before it are the checks."""

    def __getattr__(self, name: str):
        raise ModelError("the checks are done")


def _stand_in(monkeypatch, settings):
    """The registry's model replaced by one with ``settings``, for both ways of scoring."""
    from leadscore.model.registered import LeadScoreModel
    from leadscore.scoring import night

    model = LeadScoreModel()
    model.scorer, model.settings = _Stop(), settings
    model.uri, model.version = "models:/leadscore@champion", "leadscore/1"
    monkeypatch.setattr(night, "find_model", lambda uri, cfg, flat=False: model)
    return model


def test_both_refuse_a_model_of_the_other_mode(csv_folder, tmp_path, monkeypatch, capsys):
    from leadscore.model.settings import ModelSettings
    from leadscore.scoring.night import score_flat

    cfg, out = defaults(), tmp_path / "scores.parquet"
    _stand_in(monkeypatch, ModelSettings.for_flat(cfg, "lead_id", "won"))
    night = ["--data", str(csv_folder), "--as-of", "2025-06-01", "--out", str(out)]
    assert main(["score", *night]) == 2
    said = _error(capsys)
    assert said.endswith("is a flat-mode model; score it with --flat FILE")
    with pytest.raises(ModelError) as raised:
        leadscore.score(csv_folder, "2025-06-01", out)
    assert str(raised.value) == said
    with pytest.raises(ModelError) as raised:
        leadscore.score(leadscore.load_data(csv_folder), "2025-06-01", out)
    assert str(raised.value) == said

    events = _stand_in(monkeypatch, ModelSettings.for_events(cfg))
    leads = str(csv_folder / "leads.csv")
    assert main(["score", "--flat", leads, "--out", str(out)]) == 2
    said = _error(capsys)
    assert said.endswith("was trained on event data; score it with --data DIR --as-of DATE")
    with pytest.raises(ModelError) as raised:
        score_flat(leads, out, cfg)
    assert str(raised.value) == said
    with pytest.raises(ModelError) as raised:
        score_flat(leads, out, cfg, events)
    assert str(raised.value) == said
    assert not out.exists()


def test_both_warn_of_an_old_model(csv_folder, tmp_path, monkeypatch, capsys):
    from leadscore.model.settings import ModelSettings

    old = ModelSettings.for_events(defaults()).model_copy(update={"data_end": "2025-01-31"})
    _stand_in(monkeypatch, old)
    out = tmp_path / "scores.parquet"
    night = ["--data", str(csv_folder), "--as-of", "2025-06-01", "--out", str(out)]
    assert main(["score", *night]) == 2
    cli = capsys.readouterr().err.splitlines()
    with pytest.raises(ModelError, match="the checks are done"):
        leadscore.score(csv_folder, "2025-06-01", out)
    with pytest.raises(ModelError, match="the checks are done"):
        leadscore.score(leadscore.load_data(csv_folder), "2025-06-01", out)
    api = capsys.readouterr().err.splitlines()
    warning = (
        "leadscore: warning: the model's data ended 2025-01-31, 121 days before 2025-06-01 "
        "(more than training.max_model_age_days = 90); retrain it"
    )
    assert cli == [warning, "leadscore: error: the checks are done"]
    assert api == [warning, warning]


@pytest.mark.slow
def test_both_score_alike_and_check_a_real_models_mode(csv_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    leadscore.generate(2500, seed=6, out=tmp_path / "plain", fmt="csv")
    data = _european(tmp_path / "plain", tmp_path / "data")
    config = _config(tmp_path, EUROPEAN)
    leadscore.train(leadscore.load_data(data, config), config)
    capsys.readouterr()
    late = "2026-12-01"  # the world ends 2025-12-31: the model is eleven months old then
    out = tmp_path / "cli.parquet"
    argv = ["score", "--data", str(data), "--as-of", late, "--out", str(out)]
    assert main([*argv, "--config", str(config)]) == 0
    cli_warning = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    leadscore.score(data, late, tmp_path / "api.parquet", config=config)
    api_warning = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert cli_warning == api_warning and len(api_warning) == 1
    assert "more than training.max_model_age_days = 90" in api_warning[0]
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(tmp_path / "api.parquet"))

    flat = copy.copy(leadscore.load_model())
    flat.settings = flat.settings.model_copy(update={"mode": "flat"})
    with pytest.raises(ModelError, match="is a flat-mode model; score it with --flat FILE"):
        leadscore.score(data, late, tmp_path / "x.parquet", model=flat, config=config)
    tables = leadscore.load_data(data, config)
    with pytest.raises(ModelError, match="is a flat-mode model"):
        leadscore.score(tables, late, tmp_path / "x.parquet", model=flat, config=config)
