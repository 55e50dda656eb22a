"""Two training runs on one local MLflow store at once: both are recorded, one after the
other, and the registry stays consistent (no half-created store, no lost version)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from mlflow import MlflowClient

from leadscore.cli import main

pytestmark = pytest.mark.slow  # two trainings


def train_setup(tmp_path, seed: int) -> tuple[str, list[str], dict[str, str]]:
    """A small world, a quick config and a private store: (store, train command, env)."""
    data = tmp_path / "data"
    assert main(["generate", "--out", str(data), "--leads", "2500", "--seed", str(seed)]) == 0
    cfg = tmp_path / "quick.yaml"
    cfg.write_text("model:\n  num_boost_round: 80\n  early_stopping_rounds: 10\n")
    store = f"sqlite:///{tmp_path}/mlflow.db"
    cmd = [
        sys.executable,
        "-m",
        "leadscore.cli",
        "train",
        "--data",
        str(data),
        "--config",
        str(cfg),
    ]
    return store, cmd, {**os.environ, "MLFLOW_TRACKING_URI": store}


def test_two_trains_on_one_new_store_both_record(tmp_path):
    store, cmd, env = train_setup(tmp_path, 1)
    procs = [
        subprocess.Popen(
            cmd,
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(2)
    ]
    outs = [p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-1500:] for o in outs]
    client = MlflowClient(tracking_uri=store)
    versions = sorted(int(v.version) for v in client.search_model_versions("name='leadscore'"))
    # Each run registers its model (and the points sheet when it wins): no number lost.
    assert len(versions) >= 2 and versions == list(range(1, len(versions) + 1))
    runs = client.search_runs([client.get_experiment_by_name("leadscore").experiment_id])
    assert sorted(r.info.status for r in runs) == ["FINISHED", "FINISHED"]
    champion = client.get_model_version_by_alias("leadscore", "champion")
    assert int(champion.version) in versions
    for v in versions:  # every version has its artifacts
        assert client.get_model_version("leadscore", str(v)).source


def test_a_killed_train_leaves_the_registry_consistent_and_the_rerun_succeeds(tmp_path):
    import signal
    import time

    import numpy as np

    store, cmd, env = train_setup(tmp_path, 3)
    # Seeded moments: early (reading, the table) and late (fitting, tracking).
    for delay in np.random.default_rng(5).uniform(2.0, 25.0, size=2):
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(float(delay))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-1500:]
    client = MlflowClient(tracking_uri=store)
    versions = client.search_model_versions("name='leadscore'")
    assert versions and all(v.status == "READY" for v in versions)
    champion = client.get_model_version_by_alias("leadscore", "champion")
    assert champion.version in {v.version for v in versions}
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_an_upgrade_killed_between_its_steps_is_repaired(tmp_path):
    """SQLite commits each step of a table upgrade on its own; what a kill leaves between
    them is undone under the store's lock, and the store's data stays."""
    import sqlite3

    from leadscore.tracking import repair_interrupted_migration

    db = tmp_path / "mlflow.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE trace_tags (k TEXT)")
    con.execute("CREATE TABLE _alembic_tmp_trace_tags (k TEXT)")  # copy beside its table
    con.execute("CREATE TABLE _alembic_tmp_runs (k TEXT)")  # copy whose table was dropped
    con.execute("INSERT INTO _alembic_tmp_runs VALUES ('kept')")
    con.commit()
    con.close()
    assert repair_interrupted_migration(db) == ["runs", "trace_tags"]
    con = sqlite3.connect(db)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert names == {"trace_tags", "runs"}
    assert con.execute("SELECT k FROM runs").fetchall() == [("kept",)]
    con.close()
    assert repair_interrupted_migration(db) == []  # nothing left to do
    assert repair_interrupted_migration(tmp_path / "none.db") == []
