"""A random holdout in the hand-off: a stable control arm per lead and experiment, held back
from routing, not counted against capacity, logged beside the treated leads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.cli import main
from leadscore.handoff.select import CONTROL, HANDED_OFF, control_arm, route

from .test_command import night


def test_the_control_arm_is_its_share_and_stable_per_lead_and_experiment():
    ids = pd.Series([f"L{i:07d}" for i in range(100_000)])
    arm = control_arm(ids, "q1-test", 0.1)
    assert abs(arm.mean() - 0.1) <= 0.01  # 10% +- 1 point of 100k leads
    assert (control_arm(ids.iloc[::-1], "q1-test", 0.1)[::-1] == arm).all()  # per lead
    other = control_arm(ids, "q2-test", 0.1)
    assert 0.005 < (arm & other).mean() < 0.015  # another experiment draws afresh
    assert not control_arm(ids, "q1-test", 0.0).any()


def test_held_back_leads_are_not_routed_and_do_not_use_capacity():
    n = 2_000
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "probability": np.linspace(0.9, 0.01, n),
            "score": np.linspace(90, 1, n),
            "tier": ["A"] * n,
        }
    )
    plain = route(frame, capacity=300)
    held = route(frame, capacity=300, holdout=0.2, experiment="x")
    arm = control_arm(frame["lead_id"], "x", 0.2)
    assert held.counts[HANDED_OFF] == 300  # capacity counts the treated only
    routed = set(held.rows["lead_id"])
    assert not routed & set(frame["lead_id"][arm])
    control = set(held.control["lead_id"])
    assert control <= set(frame["lead_id"][arm]) and held.counts[CONTROL] == len(control)
    # The control arm is what routing would have reached: ranked above the last lead routed.
    last = frame.index[frame["lead_id"] == held.rows["lead_id"].iloc[-1]][0]
    reached = frame.iloc[: last + 1]
    assert control == set(reached["lead_id"][arm[: last + 1]])
    assert 0.13 < len(control) / (len(control) + 300) < 0.27
    assert sum(held.counts.values()) == n and plain.control is None
    assert "held back (control)" in held.lines(7)[0]


def test_the_log_keeps_both_arms(tmp_path, capsys):
    hist = tmp_path / "history"
    scores = night(tmp_path / "n.parquet", "2026-01-05", ids="abcdefghijklmnopqrst")
    argv = ["handoff", "--scores", str(scores), "--capacity", "10", "--history", str(hist)]
    argv += ["--holdout", "0.3", "--experiment", "e1", "--out", str(tmp_path / "l.csv")]
    assert main(argv) == 0
    log = pd.read_parquet(next((hist / "handoffs").glob("*.parquet")))
    listed = set(pd.read_csv(tmp_path / "l.csv")["lead_id"])
    assert set(log.loc[log["arm"] == "treated", "lead_id"]) == listed
    assert (log["arm"] == "control").sum() >= 1 and not set(
        log.loc[log["arm"] == "control", "lead_id"]
    ) & listed
    assert "held back (control)" in capsys.readouterr().out
    assert main([*argv[:-2], "--holdout", "1.5", "--out", str(tmp_path / "x.csv")]) == 2


def test_the_config_sets_the_holdout_and_the_command_line_wins(tmp_path):
    from leadscore.config import ConfigError, config_from_dict

    scores = night(tmp_path / "n.parquet", "2026-01-05", ids="abcdefghijklmnopqrst")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("handoff:\n  holdout: {share: 0.5, name: e1}\n")
    hist = tmp_path / "history"
    argv = ["handoff", "--scores", str(scores), "--capacity", "5", "--config", str(cfg)]
    assert main([*argv, "--history", str(hist), "--out", str(tmp_path / "a.csv")]) == 0
    log = pd.read_parquet(next((hist / "handoffs").glob("*.parquet")))
    assert (log["arm"] == "control").any()
    assert main([*argv, "--holdout", "0", "--out", str(tmp_path / "b.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "b.csv")) == 5
    with pytest.raises(ConfigError, match="handoff.holdout.share"):
        config_from_dict({"handoff": {"holdout": {"share": 1.0}}})
