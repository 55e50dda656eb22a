"""A tracking server that is down ends train and score quickly with one line naming it."""

from __future__ import annotations

import socket
import time

import pytest

from leadscore.cli import main


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # released on exit: nothing listens there


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("down") / "data"
    assert main(["generate", "--out", str(d), "--leads", "300", "--seed", "4"]) == 0
    return d


@pytest.mark.parametrize("command", ["train", "score"])
def test_an_unreachable_server_is_one_line_within_seconds(
    command, data_dir, tmp_path, monkeypatch, capsys
):
    uri = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    args = {
        "train": ["train", "--data", str(data_dir)],
        "score": ["score", "--data", str(data_dir), "--as-of", "2025-06-01", "--out", str(tmp_path / "s.parquet")],
    }[command]  # fmt: skip
    capsys.readouterr()
    t0 = time.perf_counter()
    assert main(args) == 2
    assert time.perf_counter() - t0 < 30
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [err[-1]] and err[-1].startswith(
        f"leadscore: error: tracking server {uri} cannot be reached"
    )
    assert not (tmp_path / "s.parquet").exists()


@pytest.mark.parametrize("command", ["score", "monitor"])
def test_a_missing_local_store_is_one_line_and_creates_nothing(
    command, data_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    out = tmp_path / "out"
    args = {
        "score": ["score", "--data", str(data_dir), "--as-of", "2025-06-01", "--out", str(out / "s.parquet")],
        "monitor": ["monitor", "--data", str(data_dir), "--scores", str(tmp_path / "s.parquet"), "--out", str(out / "m.html")],
    }[command]  # fmt: skip
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [err[-1]] and "no MLflow store at mlflow.db" in err[-1]
    assert "train a model first or set MLFLOW_TRACKING_URI" in err[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_model_the_store_does_not_hold_names_the_ones_it_does(tmp_path, monkeypatch):
    from mlflow import MlflowClient

    from leadscore.errors import RegistryError
    from leadscore.model.registered import load_registered

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'store.db'}")
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'store.db'}")
    MlflowClient().create_registered_model("leadscore-flat")
    with pytest.raises(RegistryError) as err:
        load_registered("models:/leadscore@champion")
    assert "the store registers leadscore-flat (`leadscore models list`" in str(err.value)
