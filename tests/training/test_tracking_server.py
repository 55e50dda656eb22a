"""The same training run against an MLflow tracking server (started here, on localhost)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from mlflow import MlflowClient

from leadscore.config import config_from_dict
from leadscore.data.synthetic.world import generate_world
from leadscore.data.validate import require_valid, validate_tables
from leadscore.training.run import train_events

# Starts an MLflow server and trains against it.
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp_path, port: int) -> tuple[str, subprocess.Popen]:
    """An MLflow server on localhost over a store in ``tmp_path``, once it answers."""
    cmd = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{tmp_path}/server.db",
        "--artifacts-destination", str(tmp_path / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    log = open(tmp_path / "server.log", "a")  # noqa: SIM115
    proc = subprocess.Popen(
        cmd,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        env={**os.environ, "MLFLOW_TRACKING_URI": ""},
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return url, proc
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(
                f"mlflow server did not start: {(tmp_path / 'server.log').read_text()[-2000:]}"
            )
        time.sleep(0.5)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def server(tmp_path):
    url, proc = start_server(tmp_path, free_port())
    try:
        yield url
    finally:
        stop(proc)


def test_training_logs_and_registers_on_a_tracking_server(server, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)
    monkeypatch.chdir(tmp_path)
    tables = require_valid(validate_tables(generate_world(4000, seed=11)))
    cfg = config_from_dict(
        {
            "model": {"num_boost_round": 100, "early_stopping_rounds": 20},
            "training": {"min_positives": 20},
        }
    )
    summary = train_events(tables, cfg, None, say=lambda _m: None)
    client = MlflowClient(tracking_uri=server)
    run = client.get_run(summary.run_id)
    assert "model_roc_auc" in run.data.metrics
    assert (
        str(client.get_model_version_by_alias("leadscore", "champion").version) == summary.version
    )
    assert not (tmp_path / "mlflow.db").exists()  # nothing went to the local default store


def test_a_server_lost_during_training_is_one_line_and_registers_nothing(tmp_path):
    """The server answers when train starts and is gone when it would record: one line
    naming it, exit 2, and the store (back up) holds no version and no alias."""
    from leadscore.cli import main

    port = free_port()
    url, proc = start_server(tmp_path, port)
    data = tmp_path / "data"
    assert main(["generate", "--out", str(data), "--leads", "2500", "--seed", "2"]) == 0
    quick = tmp_path / "quick.yaml"  # the model itself is beside the point here
    quick.write_text("model:\n  num_boost_round: 80\n  early_stopping_rounds: 10\n")
    cmd = [
        sys.executable,
        "-m",
        "leadscore.cli",
        "train",
        "--data",
        str(data),
        "--config",
        str(quick),
    ]
    train = subprocess.Popen(
        cmd, cwd=tmp_path, env={**os.environ, "MLFLOW_TRACKING_URI": url},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for line in train.stdout:  # past the start-up check: the table is being built
            if line.startswith("training table:"):
                break
        stop(proc)
        _, err = train.communicate(timeout=300)
    finally:
        if train.poll() is None:
            train.kill()
    assert train.returncode == 2
    lines = err.strip().splitlines()
    assert lines[-1].startswith(f"leadscore: error: tracking server {url} cannot be reached")
    url, proc = start_server(tmp_path, port)
    try:
        client = MlflowClient(tracking_uri=url)
        assert client.search_model_versions("name='leadscore'") == []
        assert client.search_registered_models() == []
    finally:
        stop(proc)
