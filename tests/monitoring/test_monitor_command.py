"""`leadscore monitor` end to end: a model trained on one generated world watches a second
sample of that world (no drift), worlds shifted on purpose (drift), and its own history
(realised performance), through the command a nightly job runs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from leadscore.cli import main

pytestmark = pytest.mark.slow  # a training and several scoring runs

NIGHT = "2026-01-01"


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    root = tmp_path_factory.mktemp("monitor")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
    mp.chdir(root)
    for name, seed in (("trained", 6), ("same", 7)):
        assert (
            main(["generate", "--out", str(root / name), "--leads", "4000", "--seed", str(seed)])
            == 0
        )
    quick = root / "quick.yaml"
    quick.write_text("model:\n  num_boost_round: 80\n  early_stopping_rounds: 10\n")
    assert main(["train", "--data", str(root / "trained"), "--config", str(quick)]) == 0
    # Shifted on purpose, from the second sample: every email open twice (an hour apart),
    # and 30% of leads from a source the model never saw.
    for name in ("opens", "source"):
        shutil.copytree(root / "same", root / name)
    events = pd.read_parquet(root / "same" / "events.parquet")
    opens = events[events["event_type"] == "email_open"]
    opens = opens.assign(occurred_at=opens["occurred_at"] + pd.Timedelta(hours=1))
    pd.concat([events, opens]).to_parquet(root / "opens" / "events.parquet", index=False)
    leads = pd.read_parquet(root / "same" / "leads.parquet")
    moved = np.random.default_rng(0).random(len(leads)) < 0.3
    leads.loc[moved, "lead_source"] = "podcast"
    leads.to_parquet(root / "source" / "leads.parquet", index=False)
    for name in ("same", "opens", "source"):
        args = ["score", "--data", str(root / name), "--as-of", NIGHT]
        assert main([*args, "--out", str(root / f"{name}.parquet")]) == 0
    for night in ("2025-08-01", "2025-09-01", NIGHT):
        args = ["score", "--data", str(root / "trained"), "--as-of", night, "--out"]
        assert (
            main([*args, str(root / f"night-{night}.parquet"), "--history", str(root / "hist")])
            == 0
        )
    yield root
    mp.undo()


def monitor(root, name: str, *extra: str) -> tuple[int, dict]:
    out = root / f"{name}.json"
    source = (
        ["--history", str(root / "hist")]
        if name == "hist"
        else ["--scores", str(root / f"{name}.parquet")]
    )
    data = root / ("trained" if name == "hist" else name)
    code = main(
        [
            "monitor",
            *source,
            "--data",
            str(data),
            "--out",
            str(root / f"{name}.html"),
            "--json",
            str(out),
            *extra,
        ]
    )
    return code, json.loads(out.read_text()) if out.exists() else {}


def test_a_second_sample_of_the_same_world_raises_nothing(worlds):
    code, result = monitor(worlds, "same")
    assert code == 0
    assert result["ok"] and result["alerts"] == [] and result["drifted_features"] == []
    (night,) = result["nights"]
    assert night["psi_probability"] < 0.1
    assert (worlds / "same.html").read_text().count("<section") == 3
    # One night has no earlier one to hold its slices against.
    assert result["slice_drift"] == []
    assert any(n.startswith("drift by slice: no earlier night") for n in result["notes"])


def test_doubled_email_opens_are_flagged(worlds, capsys):
    code, result = monitor(worlds, "opens")
    assert "email_open_30d" in result["drifted_features"]
    assert "lead_source" not in result["drifted_features"]
    # The model ranks email opens low, so by default they are flagged but do not alert; an
    # alert on every feature makes the job fail, naming the measure, value and threshold.
    assert code == (3 if result["alerts"] else 0)
    config = worlds / "every_feature.yaml"
    config.write_text("monitor:\n  top_features: 1000\n")
    capsys.readouterr()
    code, result = monitor(worlds, "opens", "--config", str(config))
    err = capsys.readouterr().err
    assert code == 3 and not result["ok"]
    assert "leadscore: alert: PSI of email_open_30d on 2026-01-01 is" in err
    assert "(monitor.psi_alert)" in err


def test_a_new_lead_source_is_flagged(worlds):
    _, result = monitor(worlds, "source")
    assert "lead_source" in result["drifted_features"]
    row = next(f for f in result["features"] if f["feature"] == "lead_source")
    assert row["outside_now"] > row["outside_reference"] + 0.25


def test_realised_performance_of_the_history_matches_the_outcomes(worlds, capsys):
    code, result = monitor(worlds, "hist")
    assert code in (0, 3)
    assert [n["as_of"] for n in result["nights"]] == ["2025-08-01", "2025-09-01", NIGHT]
    # 90-day horizon, data to 2025-12-31: the two older nights have outcomes, the last not.
    assert [r["as_of"] for r in result["realised"]] == ["2025-08-01", "2025-09-01"]
    outcomes = pd.read_parquet(worlds / "trained" / "outcomes.parquet")
    first = outcomes.sort_values("closed_at").drop_duplicates("lead_id")
    for r in result["realised"]:
        scores = pd.read_parquet(worlds / f"night-{r['as_of']}.parquet")
        night = pd.Timestamp(r["as_of"], tz="UTC")
        won = first[
            first["won"].astype(bool)
            & (first["closed_at"] > night)
            & (first["closed_at"] <= night + pd.Timedelta(days=90))
        ]
        assert r["leads"] == len(scores)
        assert r["realised"] == scores["lead_id"].isin(won["lead_id"]).sum()
        assert r["expected"] == pytest.approx(scores["probability"].sum())
    tiers = pd.DataFrame(result["realised_tiers"])
    assert tiers["leads"].sum() == result["realised"][-1]["leads"]
    # The latest realised night by slice: each column's slices add up to the night, and
    # only slices with enough conversions are judged (evaluation.slice_min_conversions).
    slices = pd.DataFrame(result["realised_slices"])
    assert set(slices["column"]) == {"lead_source", "country", "industry"}
    totals = slices.groupby("column")[["leads", "realised"]].sum()
    assert (totals["leads"] == result["realised"][-1]["leads"]).all()
    assert (totals["realised"] == result["realised"][-1]["realised"]).all()
    assert (slices.loc[slices["judged"], "realised"] >= 20).all()
    assert slices.loc[~slices["judged"], "roc_auc_model"].isna().all()
    judged = int(slices["judged"].sum())
    assert f"  realised by slice: {judged} of {len(slices)} slices judged (lead_source, " in (
        capsys.readouterr().out
    )


def _lead_source(root) -> pd.Series:
    """Each lead's source as the slices read it (the generated world's are lower-case)."""
    leads = pd.read_parquet(root / "trained" / "leads.parquet")
    return leads.set_index("lead_id")["lead_source"].str.strip().str.lower()


def test_drift_by_slice_holds_the_latest_night_against_the_earlier_ones(worlds, capsys):
    capsys.readouterr()
    _, result = monitor(worlds, "hist")
    t = pd.DataFrame(result["slice_drift"])
    assert set(t["column"]) == {"lead_source", "country", "industry"}
    nights = {n["as_of"]: n["leads"] for n in result["nights"]}
    totals = t.groupby("column")[["leads", "baseline_leads"]].sum()
    assert (totals["leads"] == nights[NIGHT]).all()
    assert (totals["baseline_leads"] == nights["2025-08-01"] + nights["2025-09-01"]).all()
    # A value of its own needs monitor.min_leads (300) tonight; judged, as many before too.
    assert (t.loc[t["value"] != "other", "leads"] >= 300).all()
    assert (t["judged"] == ((t["leads"] >= 300) & (t["baseline_leads"] >= 300))).all()
    assert t.loc[~t["judged"], "psi"].isna().all() and t["judged"].any()
    # The largest lead source's PSI, by hand: deciles of its earlier probabilities.
    web = t[t["column"] == "lead_source"].iloc[0]
    source = _lead_source(worlds)
    night = {
        d: pd.read_parquet(worlds / f"night-{d}.parquet") for d in ("2025-08-01", "2025-09-01")
    }
    before = pd.concat(night.values())
    now = pd.read_parquet(worlds / f"night-{NIGHT}.parquet")
    b = before.loc[before["lead_id"].map(source).eq(web["value"]).to_numpy(), "probability"]
    n = now.loc[now["lead_id"].map(source).eq(web["value"]).to_numpy(), "probability"]
    assert (len(n), len(b)) == (web["leads"], web["baseline_leads"])
    edges = np.unique(np.quantile(b, np.arange(1, 10) / 10, method="lower"))
    edges = edges[edges < b.max()]
    shares = [np.bincount(np.searchsorted(edges, x), minlength=len(edges) + 1) / len(x)
              for x in (b, n)]  # fmt: skip
    r, c = (np.maximum(x, 1e-4) for x in shares)
    assert web["psi"] == pytest.approx(float(np.sum((c - r) * np.log(c / r))))
    assert web["mean_shift"] == pytest.approx(n.mean() - b.mean())
    out = capsys.readouterr().out
    assert (
        f"  drift by slice: {int(t['judged'].sum())} of {len(t)} slices judged "
        f"(lead_source, country, industry), {int(t['drifted'].sum())} drifted"
    ) in out
    assert '<section id="slice-drift">' in (worlds / "hist.html").read_text()


def test_a_lead_source_whose_scores_moved_alerts_alone_in_its_column(worlds, tmp_path, capsys):
    hist = tmp_path / "hist"
    shutil.copytree(worlds / "hist", hist)
    (latest,) = hist.glob(f"as_of={NIGHT}/*.parquet")
    night = pd.read_parquet(latest)
    _, before = monitor(worlds, "hist")
    sources = pd.DataFrame(before["slice_drift"]).query(
        "column == 'lead_source' & judged & value != 'other'"
    )
    moved = sources["value"].iloc[-1]  # the smallest judged source of its own
    mine = night["lead_id"].map(_lead_source(worlds)).eq(moved).to_numpy()
    night.loc[mine, "probability"] = (night.loc[mine, "probability"] * 3).clip(upper=1.0)
    night.to_parquet(latest, index=False)
    capsys.readouterr()
    argv = ["monitor", "--history", str(hist), "--data", str(worlds / "trained")]
    code = main([*argv, "--out", str(tmp_path / "m.html"), "--json", str(tmp_path / "m.json")])
    err = capsys.readouterr().err
    t = pd.DataFrame(json.loads((tmp_path / "m.json").read_text())["slice_drift"])
    by_source = t[t["column"] == "lead_source"].set_index("value")
    assert list(by_source.index[by_source["drifted"]]) == [moved]
    assert code == 3
    row = by_source.loc[moved]
    line = (
        f"leadscore: alert: PSI of the probability in lead_source = {moved} "
        f"({int(row['leads']):,} leads) on {NIGHT} is {row['psi']:.3f}, above the threshold "
        "0.250 (monitor.psi_alert)"
    )
    assert line in err
    assert err.count("PSI of the probability in lead_source") == 1


def test_a_corrupt_night_is_named_and_nothing_written(worlds, capsys):
    hist = worlds / "hist_broken"
    shutil.copytree(worlds / "hist", hist)
    bad = next(hist.glob("as_of=2025-09-01/*.parquet"))
    bad.write_bytes(b"not parquet")
    capsys.readouterr()
    out = worlds / "broken.html"
    code = main(
        ["monitor", "--history", str(hist), "--data", str(worlds / "trained"), "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 2 and "as_of=2025-09-01/" in err and "cannot be read" in err
    assert not out.exists()
    assert len(list(hist.glob("as_of=*/*.parquet"))) == 3  # the history left as it was


def test_scores_or_history_not_both(worlds, capsys):
    code = main(["monitor", "--data", str(worlds / "same"), "--out", str(worlds / "x.html")])
    assert code == 2 and "--scores FILE or --history DIR" in capsys.readouterr().err


def test_leads_the_data_folder_lacks_are_counted_and_an_empty_night_refused(worlds, capsys):
    scores = pd.read_parquet(worlds / "same.parquet")
    stranger = scores.head(2).assign(lead_id=["nobody-1", "nobody-2"])
    pd.concat([scores, stranger]).to_parquet(worlds / "strangers.parquet", index=False)
    args = ["monitor", "--data", str(worlds / "same"), "--out", str(worlds / "s.html")]
    json_out = worlds / "strangers.json"
    code = main([*args, "--scores", str(worlds / "strangers.parquet"), "--json", str(json_out)])
    result = json.loads(json_out.read_text())
    assert code == 0
    assert any(n.startswith("2 scored rows name leads not in") for n in result["notes"])
    assert result["nights"][0]["leads"] == len(scores) + 2
    scores.head(0).to_parquet(worlds / "empty.parquet", index=False)
    capsys.readouterr()
    assert main([*args, "--scores", str(worlds / "empty.parquet")]) == 2
    assert "no scored rows (0 rows)" in capsys.readouterr().err


def test_bins_kept_at_scoring_give_the_drift_of_features_built_again(worlds, capsys):
    assert len(list((worlds / "hist").glob("as_of=*/*.bins.json"))) == 3
    bare = worlds / "hist_without_bins"
    shutil.copytree(worlds / "hist", bare, dirs_exist_ok=True)
    for kept in bare.glob("as_of=*/*.bins.json"):
        kept.unlink()
    capsys.readouterr()
    _, kept = monitor(worlds, "hist")
    assert "kept when the night was scored" in capsys.readouterr().out
    code = main(
        [
            "monitor",
            "--history",
            str(bare),
            "--data",
            str(worlds / "trained"),
            "--out",
            str(worlds / "bare.html"),
            "--json",
            str(worlds / "bare.json"),
        ]  # fmt: skip
    )
    assert code in (0, 3)
    assert "features built again" in capsys.readouterr().out
    rebuilt = json.loads((worlds / "bare.json").read_text())
    assert rebuilt["features"] == kept["features"]
    assert rebuilt["feature_psi"] == kept["feature_psi"]


def test_a_night_too_small_to_tell_shows_its_drift_without_alerting(worlds):
    pd.read_parquet(worlds / "opens.parquet").head(50).to_parquet(worlds / "few.parquet")
    shutil.copytree(worlds / "opens", worlds / "few", dirs_exist_ok=True)
    config = worlds / "few.yaml"
    config.write_text("monitor:\n  top_features: 1000\n")
    code, result = monitor(worlds, "few", "--config", str(config))
    assert code == 0 and result["alerts"] == []
    assert any("fewer than monitor.min_leads (300)" in n for n in result["notes"])
    assert result["features"]  # measured and shown all the same


def test_the_nights_are_compared_with_the_model_that_scored_them(tmp_path):
    import pandas as pd

    from leadscore.monitoring.nights import scored_by

    night = tmp_path / "history" / "as_of=2026-01-01" / "leadscore-3.parquet"
    night.parent.mkdir(parents=True)
    pd.DataFrame({"lead_id": ["a"], "model_version": ["leadscore/3"]}).to_parquet(night)
    assert scored_by(None, tmp_path / "history") == "models:/leadscore/3"
    scores = tmp_path / "scores.csv"
    pd.DataFrame(
        {
            "lead_id": ["a", "b"],
            "as_of": ["2026-01-01T00:00:00Z"] * 2,
            "probability": [0.1, 0.2],
            "score": [10.0, 20.0],
            "tier": ["A", "B"],
            "baseline_score": [5.0, 7.0],
            "model_version": ["leadscore-flat/12", "leadscore-flat/12"],
        }
    ).to_csv(scores, index=False)
    assert scored_by(scores, None) == "models:/leadscore-flat/12"
    assert scored_by(tmp_path / "missing.parquet", None) is None  # the champion, then


def test_the_history_s_experiment_is_on_the_page_and_in_the_json(worlds, tmp_path, capsys):
    hist = tmp_path / "hist"
    shutil.copytree(worlds / "hist", hist)
    argv = ["handoff", "--scores", str(worlds / "night-2025-08-01.parquet"), "--capacity", "200"]
    argv += ["--holdout", "0.3", "--history", str(hist), "--out", str(tmp_path / "list.csv")]
    assert main(argv) == 0
    out = tmp_path / "m.json"
    argv = ["monitor", "--history", str(hist), "--data", str(worlds / "trained")]
    assert main([*argv, "--out", str(tmp_path / "m.html"), "--json", str(out)]) in (0, 3)
    x = json.loads(out.read_text())["experiment"]
    log = pd.read_parquet(hist / "handoffs" / "as_of=2025-08-01.parquet")
    assert x["experiment"] == "leadscore" and x["horizon_days"] == 90
    assert x["overall"]["control_leads"] == (log["arm"] == "control").sum() > 0
    assert x["overall"]["treated_leads"] == (log["arm"] == "treated").sum()
    assert f"experiment leadscore: {x['verdict']}" in capsys.readouterr().out
    html = (tmp_path / "m.html").read_text()
    assert "<h2>Experiment leadscore: routed against held back</h2>" in html
