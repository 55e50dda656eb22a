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
