"""The public API: ``import leadscore`` is light, and each function does its step."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import leadscore
from leadscore.config import Config
from leadscore.errors import ConfigError, DataError


def test_import_is_light():
    # The stages (and MLflow, seconds to import) load only when a function runs.
    code = "import sys, leadscore; print(sorted(m for m in ('mlflow', 'pandas', 'lightgbm') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_is_a_documented_function():
    for name in leadscore.__all__:
        fn = getattr(leadscore, name)
        assert callable(fn) and fn.__doc__, name


def test_load_config_takes_defaults_a_dict_a_file_or_a_config(tmp_path):
    default = leadscore.load_config()
    assert isinstance(default, Config)
    changed = leadscore.load_config({"training": {"horizon_days": 30}})
    assert changed.training.horizon_days == 30
    path = tmp_path / "c.yaml"
    path.write_text("training:\n  horizon_days: 45\n")
    assert leadscore.load_config(path).training.horizon_days == 45
    assert leadscore.load_config(changed) is changed
    with pytest.raises(ConfigError, match="config key 'model.lerning_rate' is not a known setting"):
        leadscore.load_config({"model": {"lerning_rate": 0.1}})


def test_generate_validate_load_and_features(tmp_path):
    tables = leadscore.generate(800, seed=4, out=tmp_path / "data", fmt="csv")
    assert {p.name for p in (tmp_path / "data").iterdir()} == {
        "leads.csv",
        "events.csv",
        "outcomes.csv",
        "stages.csv",
    }
    report = leadscore.validate(tmp_path / "data")
    assert report.fatal == []
    loaded = leadscore.load_data(tmp_path / "data")
    assert len(loaded.leads) == len(tables["leads"]) == 800
    feats = leadscore.feature_table(loaded, ["2025-06-01"])
    assert feats["as_of"].unique().tolist() == [pd.Timestamp("2025-06-01", tz="UTC")]
    assert not feats["lead_id"].duplicated().any()


def test_load_data_refuses_a_broken_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        leadscore.load_data(tmp_path / "nowhere")


def test_openmp_threads_sleep_between_regions_unless_the_user_says_otherwise():
    import os
    import subprocess
    import sys

    code = "import os, leadscore; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.stdout.strip() == "PASSIVE"
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.stdout.strip() == "ACTIVE"
