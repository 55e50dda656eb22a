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


@pytest.fixture
def server(tmp_path):
    port = free_port()
    cmd = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{tmp_path}/server.db",
        "--artifacts-destination", str(tmp_path / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        cmd,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        env={**os.environ, "MLFLOW_TRACKING_URI": ""},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(
                    f"mlflow server did not start: {(tmp_path / 'server.log').read_text()[-2000:]}"
                )
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
