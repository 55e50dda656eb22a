"""``experiment plan``: the holdout and nights a relative uplift needs, on hand-made nights,
against statsmodels' power (its figures cited where it is not installed)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from leadscore.cli import main
from leadscore.handoff.plan import GRID, new_at_bar, plan_experiment
from leadscore.metrics.proportions import effect_size, treated_needed


def scores(at_bar: int = 1000, below: int = 500, p: float = 0.05) -> pd.DataFrame:
    n = at_bar + below
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "probability": [p] * at_bar + [0.001] * below,
            "score": [p * 100] * at_bar + [0.1] * below,
            "tier": ["A"] * at_bar + ["B"] * below,
        }
    )


def test_a_given_share_needs_the_leads_statsmodels_gives():
    plan = plan_experiment(scores(), uplift=0.2, holdout=0.1)
    row = plan.chosen
    # statsmodels 0.15.0: NormalIndPower().solve_power(proportion_effectsize(0.06, 0.05),
    # nobs1=None, alpha=0.05, power=0.8, ratio=1/9) = 40712.98 treated leads.
    assert row["treated_needed"] == pytest.approx(40712.9769710194, rel=1e-8)
    assert row["control_needed"] == pytest.approx(40712.9769710194 / 9, rel=1e-8)
    assert row["treated_per_night"] == pytest.approx(900) and row["control_per_night"] == 100
    assert row["nights"] == math.ceil(40712.977 / 900)  # 46
    assert row["forgone"] == pytest.approx(40712.977 / 9 * 0.05 * 0.2, rel=1e-6)
    assert plan.leads_at_bar == 1000 and plan.bar == "tier A" and plan.given
    lines = plan.lines(90)
    assert lines[0].startswith("1,000 leads at the bar (tier A), 1,000 new a night")
    assert "holdout 10% (given): 46 nights" in lines[2]
    assert any(n.startswith("note: every lead at the bar taken as new") for n in lines)


def test_without_a_share_the_smallest_that_finishes_in_time():
    plan = plan_experiment(scores(), uplift=0.2, max_nights=60)
    t = plan.table.set_index("share")
    assert t.loc[plan.share, "nights"] <= 60
    smaller = [s for s in GRID if s < plan.share]
    assert all(t.loc[s, "nights"] > 60 for s in smaller)
    h = float(effect_size(0.06, 0.05))
    s = plan.share
    assert t.loc[s, "treated_needed"] == pytest.approx(treated_needed(h, 0.8, s / (1 - s)))
    slow = plan_experiment(scores(at_bar=10), uplift=0.2, max_nights=5)
    assert slow.share == 0.5 and "no holdout up to 50%" in slow.notes[-1]


def test_a_capacity_reaches_past_the_treated_arm_and_lowers_the_rate():
    frame = scores(at_bar=1000, below=0)
    frame["probability"] = np.linspace(0.1, 0.01, 1000)
    plan = plan_experiment(frame, uplift=0.2, capacity=90, holdout=0.1)
    row = plan.chosen
    # The hand-off reaches 100 leads: 90 treated and the 10 held back among them.
    assert row["treated_per_night"] == pytest.approx(90) and row["control_per_night"] == 10
    assert row["control_rate"] == pytest.approx(frame["probability"][:100].mean())


def test_new_leads_at_the_bar_are_counted_over_the_nights():
    a = scores(at_bar=3, below=1)  # L00000-L00002 at the bar
    b = a.copy()
    b.loc[[0, 3], "tier"] = ["B", "A"]  # L00003 new at the bar, L00000 leaves
    c = b.copy()
    c.loc[0, "tier"] = "A"  # L00000 back: not new
    assert new_at_bar([a], None, None) is None
    assert new_at_bar([a, b, c], None, None) == pytest.approx(0.5)  # 1 then 0
    plan = plan_experiment(a, uplift=0.2, holdout=0.5, new_per_night=0.5)
    assert plan.chosen["treated_per_night"] == pytest.approx(0.25)


def test_the_command_plans_and_writes_json(tmp_path, capsys):
    path = tmp_path / "s.parquet"
    scores().assign(as_of=pd.Timestamp("2026-01-05", tz="UTC")).to_parquet(path)
    out = tmp_path / "plan.json"
    argv = ["experiment", "plan", "--scores", str(path), "--uplift", "0.2", "--holdout", "0.1"]
    assert main([*argv, "--json", str(out)]) == 0
    said = capsys.readouterr().out
    assert "holdout 10% (given): 46 nights" in said
    data = json.loads(out.read_text())
    assert data["holdout"] == 0.1 and data["nights"] == 46 and data["leads_at_bar"] == 1000


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--uplift", "0"], "--uplift is a relative uplift above 0"),
        (["--power", "0.01"], "--power 0.01 and --alpha 0.05 must be in (0, 1)"),
        (["--holdout", "1"], "--holdout is a share in (0, 1)"),
        (["--tiers", "Z"], "no lead at the bar (tier Z) of 1,500 scored leads"),
    ],
)
def test_bad_input_is_one_line(tmp_path, capsys, extra, message):
    path = tmp_path / "s.parquet"
    scores().to_parquet(path)
    assert main(["experiment", "plan", "--scores", str(path), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_a_missing_scores_file_is_one_line(tmp_path, capsys):
    assert main(["experiment", "plan", "--scores", str(tmp_path / "none.parquet")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"leadscore: error: scores {tmp_path / 'none.parquet'}: does not exist"]


def test_a_score_history_counts_the_leads_new_at_the_bar(tmp_path, capsys):
    from leadscore.scoring.history import record

    hist = tmp_path / "history"
    for k, day in enumerate(["2026-01-05", "2026-01-06", "2026-01-07"]):
        frame = scores(at_bar=1000, below=0).assign(as_of=pd.Timestamp(day, tz="UTC"))
        frame["lead_id"] = [f"L{i + 100 * k:05d}" for i in range(1000)]  # 100 new a night
        path = tmp_path / f"{day}.parquet"
        frame.to_parquet(path, index=False)
        record(hist, path, pd.Timestamp(day, tz="UTC"), "v1")
    argv = ["experiment", "plan", "--scores", str(hist), "--holdout", "0.1"]
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert "1,000 leads at the bar (tier A), 100 new a night (over the history)" in said
    assert f"holdout 10% (given): {math.ceil(40712.977 / 90):,} nights" in said
    assert "note: every lead" not in said
