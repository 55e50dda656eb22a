"""The `leadscore` command: help everywhere, one-line errors, the features table, flat mode."""

from __future__ import annotations

import argparse
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from leadscore.cli import main
from leadscore.data.files import feature_table_horizon

COMMANDS = ["generate", "validate", "features", "train", "score", "report"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: leadscore" in capsys.readouterr().out


def _parsers(p, name="leadscore"):
    yield name, p
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            for sub_name, sub in a.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_option_of_every_command_says_what_it_is():
    from leadscore.cli.main import parser

    seen, bare = 0, []
    for name, p in _parsers(parser()):
        for a in p._actions:
            if a.option_strings and a.dest != "help":
                seen += 1
                if not (a.help or "").strip():
                    bare.append(f"{name} {a.option_strings[0]}")
    assert seen > 50 and bare == []


def test_version_says_the_package_version(capsys):
    import leadscore

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"leadscore {leadscore.__version__}"


def test_console_script_is_installed():
    out = subprocess.run(
        [sys.executable, "-m", "leadscore.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "generate" in out.stdout and "score" in out.stdout


def test_the_process_exits_with_the_commands_status(tmp_path):
    # The entry point tunes the collector around ``main``; the exit status and the one-line
    # error are still main's.
    out = subprocess.run(
        [sys.executable, "-m", "leadscore.cli", "validate", "--data", str(tmp_path / "none")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("leadscore: error:") and out.stderr.count("\n") == 1


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli") / "data"
    assert main(["generate", "--out", str(d), "--leads", "1500", "--seed", "5"]) == 0
    return d


def test_generate_then_validate(data_dir, capsys):
    assert {p.name for p in data_dir.iterdir()} == {
        "leads.parquet",
        "events.parquet",
        "outcomes.parquet",
        "stages.parquet",
    }
    assert main(["validate", "--data", str(data_dir)]) == 0
    assert "valid" in capsys.readouterr().out


def test_generate_another_shape_and_a_shorter_history(tmp_path, capsys):
    d = tmp_path / "other"
    args = ["generate", "--out", str(d), "--leads", "800", "--shape", "other-crm"]
    assert main([*args, "--start", "2025-01-01", "--closed-share", "0.5"]) == 0
    leads = pd.read_parquet(d / "leads.parquet")
    events = pd.read_parquet(d / "events.parquet")
    outcomes = pd.read_parquet(d / "outcomes.parquet")
    assert leads["created_at"].min() >= pd.Timestamp("2025-01-01", tz="UTC")
    assert len(outcomes) == 400
    assert "Page View" in set(events["event_type"].astype(str))
    capsys.readouterr()
    assert main(["validate", "--data", str(d)]) == 0
    out = capsys.readouterr().out
    assert "before the lead's created_at (dropped)" in out and "outside the contract" in out


def test_generate_refuses_a_bad_share_in_one_line(tmp_path, capsys):
    assert main(["generate", "--out", str(tmp_path / "x"), "--variant-share", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "leadscore: error: generate: variant_share must be between 0 and 1"


def test_features_command_writes_the_table(data_dir, tmp_path, capsys):
    out = tmp_path / "f.parquet"
    assert (
        main(
            [
                "features",
                "--data",
                str(data_dir),
                "--as-of",
                "2025-03-01,2025-12-01",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    table = pd.read_parquet(out)
    assert list(table.columns[:2]) == ["lead_id", "as_of"] and table.columns[-1] == "label"
    assert set(table["as_of"].dt.strftime("%Y-%m-%d")) == {"2025-03-01", "2025-12-01"}
    # Mar 1 + 90 days is inside the data: labelled; Dec 1 + 90 days is past its end: not.
    assert table.loc[table["as_of"].dt.month == 3, "label"].notna().all()
    assert table.loc[table["as_of"].dt.month == 12, "label"].isna().all()
    assert not table.duplicated(["lead_id", "as_of"]).any()
    assert feature_table_horizon(out) == 90  # the horizon its labels were built with


def test_a_feature_table_of_another_horizon_is_refused(data_dir, tmp_path, capsys):
    out = tmp_path / "f.parquet"
    argv = ["features", "--data", str(data_dir), "--as-of", "2025-03-01", "--out", str(out)]
    assert main(argv) == 0
    cfg = tmp_path / "c.yaml"
    cfg.write_text("training:\n  horizon_days: 30\n")
    capsys.readouterr()
    assert main(["train", "--features", str(out), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("leadscore: error: features: f.parquet has labels over 90 days")
    assert "training.horizon_days is 30" in err and err.count("\n") == 0


def test_missing_required_column_is_one_line_and_non_zero(data_dir, tmp_path, capsys):
    for name in ("leads", "outcomes"):
        pd.read_parquet(data_dir / f"{name}.parquet").to_csv(tmp_path / f"{name}.csv", index=False)
    pd.read_parquet(data_dir / "events.parquet").drop(columns="occurred_at").to_csv(
        tmp_path / "events.csv", index=False
    )
    assert main(["validate", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "leadscore: error: events: table is missing required column 'occurred_at'"
    )
    assert "\n" not in err
    assert (
        main(
            [
                "features",
                "--data",
                str(tmp_path),
                "--as-of",
                "2025-01-01",
                "--out",
                str(tmp_path / "x.parquet"),
            ]
        )
        == 2
    )
    assert not (tmp_path / "x.parquet").exists()


def test_missing_data_folder_and_bad_dates(tmp_path, capsys):
    assert main(["validate", "--data", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert (
        main(["features", "--data", str(tmp_path), "--as-of", "not-a-date", "--out", "x.parquet"])
        == 2
    )
    assert "--as-of: cannot read 'not-a-date'" in capsys.readouterr().err


def test_bad_config_key_exits_non_zero(data_dir, tmp_path, capsys):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("model:\n  lerning_rate: 0.1\n")
    assert main(["train", "--data", str(data_dir), "--config", str(cfg)]) == 2
    assert "config key 'model.lerning_rate' is not a known setting" in capsys.readouterr().err


def flat_world(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    visits = rng.poisson(3, n)
    minutes = rng.gamma(2, 200, n)
    source = rng.choice(["Google", "google", "Direct", "Referral", "Select"], n)
    logit = (
        -2.2
        + 0.25 * visits
        + 0.002 * minutes
        + np.where(np.char.lower(source.astype(str)) == "referral", 1.2, 0)
    )
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "Prospect ID": [f"P{i:05d}" for i in range(n)],
            "TotalVisits": visits,
            "Time On Site": minutes.round(1),
            "Lead Source": source,
            "Constant": "same",
            "Converted": y.astype(int),
        }
    )


@pytest.mark.slow
def test_flat_mode_train_and_score(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    flat_world(3000, 1).to_csv(tmp_path / "train.csv", index=False)
    cfg = tmp_path / "flat.yaml"
    cfg.write_text(
        "flat:\n  id_column: Prospect ID\n  value_map: {Lead Source: {google: Google}}\n"
        "baseline:\n  rules:\n    - {column: TotalVisits, kind: engagement, per_unit: 5, cap: 40}\n"
        "    - {column: Lead Source, kind: fit, values: {referral: 30}}\n"
        "  max_points: 70\nmodel:\n  num_boost_round: 200\n"
    )
    assert (
        main(
            [
                "train",
                "--flat",
                str(tmp_path / "train.csv"),
                "--label",
                "Converted",
                "--config",
                str(cfg),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "stratified at random" in out
    assert "placeholder: Lead Source:" in out and "constant: Constant: dropped" in out
    new = flat_world(500, 2).drop(columns="Converted")
    new.to_csv(tmp_path / "new.csv", index=False)
    assert (
        main(
            [
                "score",
                "--flat",
                str(tmp_path / "new.csv"),
                "--config",
                str(cfg),
                "--out",
                str(tmp_path / "s.csv"),
            ]
        )
        == 0
    )
    scores = pd.read_csv(tmp_path / "s.csv")
    assert len(scores) == 500 and scores["lead_id"].tolist() == new["Prospect ID"].tolist()
    # No moment and no history in a flat file; the columns in the batch's order.
    assert list(scores.columns) == [
        "lead_id",
        "probability",
        "score",
        "rank",
        "tier",
        "baseline_score",
        "baseline_tier",
        "fit_grade",
        "top_reasons",
        "model_version",
    ]
    assert "not open" not in capsys.readouterr().out
    assert scores["baseline_score"].gt(0).any()


def test_flat_label_column_missing(tmp_path, capsys):
    flat_world(50, 1).to_csv(tmp_path / "f.csv", index=False)
    assert main(["train", "--flat", str(tmp_path / "f.csv"), "--label", "Won"]) == 2
    assert "flat file: label column 'Won' not found" in capsys.readouterr().err


def test_streamed_events_file_missing_a_column_is_one_line(data_dir, tmp_path, capsys):
    """`features` and `score` read events straight from the file: the same contract check."""
    for name in ("leads", "outcomes"):
        (tmp_path / f"{name}.parquet").write_bytes((data_dir / f"{name}.parquet").read_bytes())
    pd.read_parquet(data_dir / "events.parquet").drop(columns="event_type").to_parquet(
        tmp_path / "events.parquet"
    )
    code = main(
        [
            "features",
            "--data",
            str(tmp_path),
            "--as-of",
            "2025-06-01",
            "--out",
            str(tmp_path / "f.parquet"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert (
        err
        == "leadscore: error: events: table is missing required column 'event_type' (events.parquet)"
    )
    assert not (tmp_path / "f.parquet").exists()


@pytest.mark.slow
def test_flat_rows_in_time_order_backtest_by_position(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    flat_world(3000, 3).to_csv(tmp_path / "ordered.csv", index=False)
    argv = ["train", "--flat", str(tmp_path / "ordered.csv"), "--label", "Converted", "--ordered"]
    assert main([*argv, "--id-column", "Prospect ID"]) == 0
    out = capsys.readouterr().out
    assert "out of time by row order: the last 20% of rows in 4 consecutive folds" in out
    assert "fold 4 (rows 2,851-3,000)" in out  # 10 rows repeat others apart from the id: kept
