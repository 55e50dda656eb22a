"""Batch scoring: every open lead once, rejects counted, byte-identical reruns, no skew."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadscore.cli import main
from leadscore.config import config_from_dict
from leadscore.data.files import write_tables
from leadscore.data.load import load_data
from leadscore.data.synthetic.world import generate_world
from leadscore.data.validate import require_valid
from leadscore.features.snapshots import open_leads
from leadscore.scoring.batch import scoring_features
from leadscore.scoring.sinks import SCORE_COLUMNS
from leadscore.training.dataset import training_table
from leadscore.training.run import train_events

# Every test here scores with a model trained once for the module (end to end).
pytestmark = pytest.mark.slow

AS_OF = "2025-11-15"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A data folder (CSV, with two broken leads rows) and a champion trained on it."""
    root = tmp_path_factory.mktemp("score")
    tables = generate_world(6000, seed=3)
    leads = tables["leads"].copy()
    bad = leads.iloc[:2].copy()
    bad["lead_id"] = ["BAD1", "L0000010"]  # an unreadable timestamp, a duplicate id
    bad["created_at"] = [pd.NaT, leads["created_at"].iloc[9]]
    tables["leads"] = pd.concat([leads, bad], ignore_index=True)
    data = root / "data"
    write_tables(tables, data, fmt="csv")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
    mp.chdir(root)
    report = load_data(data)
    valid = require_valid(report)
    cfg = config_from_dict(
        {
            "model": {"num_boost_round": 300, "early_stopping_rounds": 30},
            "training": {"min_positives": 20},
        }
    )
    summary = train_events(valid, cfg, None, say=lambda _m: None)
    yield {"root": root, "data": data, "tables": valid, "summary": summary, "cfg": cfg}
    mp.undo()


def run_score(trained, out: str, *extra: str) -> int:
    return main(
        [
            "score",
            "--data",
            str(trained["data"]),
            "--as-of",
            AS_OF,
            "--out",
            str(trained["root"] / out),
            *extra,
        ]
    )


def test_every_open_lead_appears_exactly_once(trained, capsys):
    assert run_score(trained, "scores.parquet") == 0
    scores = pd.read_parquet(trained["root"] / "scores.parquet")
    assert list(scores.columns) == SCORE_COLUMNS
    tables = trained["tables"]
    expected = open_leads(tables.leads, tables.outcomes, [pd.Timestamp(AS_OF, tz="UTC")])
    assert scores["lead_id"].is_unique
    assert set(scores["lead_id"]) == set(expected["lead_id"])
    assert scores["probability"].between(0, 1).all()
    assert scores["score"].between(0, 100).all()
    assert set(scores["tier"]) <= {"A", "B", "C", "D"}
    assert set(scores["baseline_tier"]) <= {"SQL", "MQL", "nurture"}
    assert set(scores["fit_grade"]) <= set("ABCDEF") and scores["fit_grade"].nunique() > 1
    assert scores["top_reasons"].str.count("; ").eq(2).all()  # three reasons each
    assert scores["top_reasons"].str.match(r"^[+-] ").all()
    assert (scores["model_version"] == f"leadscore/{trained['summary'].version}").all()
    out = capsys.readouterr().out
    assert f"in {len(expected) + 2:,} = scored {len(expected):,} + rejected 2" in out


def test_rejected_rows_are_written_with_their_reason(trained):
    assert run_score(trained, "s2.parquet") == 0
    rejects = pd.read_csv(trained["root"] / "s2.rejects.csv")
    assert rejects.columns.tolist() == ["lead_id", "line", "reason"]
    # The two broken rows close the CSV file: after the header and the good rows.
    good = len(trained["tables"].leads)
    assert rejects["line"].tolist() == [good + 2, good + 3]
    assert rejects["reason"].str.len().gt(0).all()


def test_reruns_are_byte_identical(trained):
    digests = []
    for name in ("a.parquet", "b.parquet"):
        assert run_score(trained, name) == 0
        digests.append(hashlib.sha256((trained["root"] / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_csv_output(trained):
    assert run_score(trained, "scores.csv") == 0
    scores = pd.read_csv(trained["root"] / "scores.csv")
    assert list(scores.columns) == SCORE_COLUMNS


def test_training_and_scoring_features_are_identical(trained):
    """No training/serving skew: a lead's features at t are the same on both paths."""
    tables, cfg = trained["tables"], trained["cfg"]
    tt = training_table(tables, cfg)
    t = tt.frame["as_of"].max()
    train_rows = tt.frame[tt.frame["as_of"] == t].drop(columns="label").reset_index(drop=True)
    snaps = open_leads(tables.leads, tables.outcomes, [t])
    serve_rows = scoring_features(tables, snaps, tt.spec)
    pd.testing.assert_frame_equal(train_rows, serve_rows)


def test_contributions_plus_base_value_equal_the_raw_score(trained):
    scorer = trained["summary"].result.scorer
    sample = trained["summary"].result.test_sample.head(300)
    contrib = scorer.contributions(sample)
    np.testing.assert_allclose(contrib.sum(axis=1).to_numpy(), scorer.margin(sample), atol=1e-9)


def test_unknown_model_is_a_one_line_error_and_writes_nothing(trained, capsys):
    code = run_score(trained, "none.parquet", "--model", "models:/no-such-model/7")
    assert code != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("leadscore: error: model models:/no-such-model/7") and "\n" not in err
    assert not (trained["root"] / "none.parquet").exists()


def test_as_of_before_all_data_is_an_error(trained, capsys):
    code = main(
        [
            "score",
            "--data",
            str(trained["data"]),
            "--as-of",
            "2019-01-01",
            "--out",
            str(trained["root"] / "early.parquet"),
        ]
    )
    assert code != 0
    assert "before all data" in capsys.readouterr().err
    assert not (trained["root"] / "early.parquet").exists()


def test_data_without_the_models_columns_is_an_error(trained, tmp_path, capsys):
    leads = pd.read_csv(trained["data"] / "leads.csv").drop(columns=["industry"])
    leads.to_csv(tmp_path / "leads.csv", index=False)
    for name in ("events", "outcomes"):
        (tmp_path / f"{name}.csv").write_bytes((trained["data"] / f"{name}.csv").read_bytes())
    code = main(
        ["score", "--data", str(tmp_path), "--as-of", AS_OF, "--out", str(tmp_path / "x.parquet")]
    )
    assert code != 0
    assert (
        "leads: column(s) industry used by the model are not in the data folder"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "x.parquet").exists()


def test_events_streamed_from_their_file_give_the_same_features(trained):
    """Scoring reads events with the engine from the file; training holds them in memory."""
    from leadscore.io.source import EventSource
    from leadscore.training.dataset import spec_for

    tables, cfg = trained["tables"], trained["cfg"]
    t = pd.Timestamp(AS_OF, tz="UTC")
    spec = spec_for(tables, cfg, t)
    source = EventSource(str(trained["data"] / "events.csv"))
    assert spec_for(tables, cfg, t, source) == spec  # discovery over the file agrees too
    snaps = open_leads(tables.leads, tables.outcomes, [t])
    in_memory = scoring_features(tables, snaps, spec)
    streamed = scoring_features(tables, snaps, spec, source)
    pd.testing.assert_frame_equal(in_memory, streamed)


def test_values_lightgbm_would_take_silently_are_counted(trained):
    """Unseen categories become 'other' and NaNs where training had none are counted."""
    from leadscore.scoring.batch import drift_counts

    scorer = trained["summary"].result.scorer
    sample = trained["summary"].result.test_sample.head(10).copy()
    assert "days_since_created" in scorer.complete_columns_
    sample.loc[sample.index[:3], "days_since_created"] = np.nan
    sample["industry"] = sample["industry"].cat.add_categories([]).astype("object")
    sample.loc[sample.index[:2], "industry"] = "other"
    unseen, missing = drift_counts(sample, scorer)
    assert missing == {"days_since_created": 3}
    assert unseen.get("industry", 0) >= 2


def test_chunks_of_any_size_give_the_same_scores(trained, tmp_path):
    """Small chunks (features of the next built while this one is explained; LightGBM asked
    directly) and one big chunk (contributions asked once per tree cell) agree."""
    from leadscore.model.settings import ModelSettings
    from leadscore.scoring.batch import score_tables

    scorer = trained["summary"].result.scorer
    settings = ModelSettings.for_events(trained["cfg"])
    rejects = pd.DataFrame()
    t = pd.Timestamp(AS_OF, tz="UTC")
    whole = score_tables(
        trained["tables"], rejects, scorer, settings, "v", t, tmp_path / "a.parquet"
    )
    small = score_tables(
        trained["tables"],
        rejects,
        scorer,
        settings,
        "v",
        t,
        tmp_path / "b.parquet",
        chunk_leads=700,
    )
    assert whole.scored == small.scored > 4000  # the big chunk takes the per-cell path
    a, b = pd.read_parquet(whole.out), pd.read_parquet(small.out)
    pd.testing.assert_frame_equal(a.drop(columns="probability"), b.drop(columns="probability"))
    np.testing.assert_allclose(a["probability"], b["probability"], rtol=1e-9)
    # Ranks and tiers are the whole night's, across chunks: the configured shares, held to
    # within the largest group of leads tied on probability and margin.
    n = len(b)
    assert b["rank"].min() == 1 and b["rank"].max() <= n
    assert (np.diff(b.sort_values("rank")["probability"].to_numpy()) <= 0).all()
    held = b["tier"].value_counts().reindex(list("ABCD"), fill_value=0) / n
    ties = b.groupby("rank").size().max() / n
    for tier, want in {"A": 0.05, "B": 0.15, "C": 0.30, "D": 0.50}.items():
        assert abs(held[tier] - want) <= 2 * ties + 1 / n, (tier, held[tier], ties)
    # CSV chunks are appended under one header: the same rows as the Parquet file.
    csv = score_tables(
        trained["tables"], rejects, scorer, settings, "v", t, tmp_path / "c.csv", chunk_leads=700
    )
    c = pd.read_csv(csv.out, keep_default_na=False)
    assert len(c) == whole.scored and list(c.columns) == list(a.columns)
    assert (c["lead_id"].astype(str).to_numpy() == a["lead_id"].to_numpy()).all()
    np.testing.assert_allclose(c["probability"], a["probability"], rtol=1e-5)


def test_malformed_events_file_is_a_one_line_error_and_writes_nothing(trained, tmp_path, capsys):
    """A broken row deep in the events file is found before any scoring, not as a traceback."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(trained["data"], data)
    with open(data / "events.csv", "a") as f:
        f.write('L0000005,"2025-01-01T00:00:00Z,unterminated,extra\n')
    out = tmp_path / "s.parquet"
    code = main(["score", "--data", str(data), "--as-of", AS_OF, "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert err.startswith("leadscore: error: events: events.csv cannot be read") and "\n" not in err
    assert not out.exists()


def test_engine_memory_cap_changes_nothing_but_memory(trained, monkeypatch):
    """Scoring caps the feature engine's memory (beyond the cap it spills to a private
    folder, removed with its connection): under a tight cap the features are the same."""
    import gc

    from leadscore.io.source import connect
    from leadscore.scoring import batch as score
    from leadscore.training.dataset import spec_for

    con = connect(memory_limit="100MB")
    (limit,) = con.sql("SELECT current_setting('memory_limit')").fetchall()[0]
    (spill,) = con.sql("SELECT current_setting('temp_directory')").fetchall()[0]
    assert limit.replace(" ", "") in {"95.3MiB", "100.0MB"} and "leadscore-engine-" in spill
    con.close()
    del con
    gc.collect()
    assert not Path(spill).exists()  # the spill folder goes with its connection

    tables, cfg = trained["tables"], trained["cfg"]
    t = pd.Timestamp(AS_OF, tz="UTC")
    spec = spec_for(tables, cfg, t)
    snaps = open_leads(tables.leads, tables.outcomes, [t])
    free = scoring_features(tables, snaps, spec)
    monkeypatch.setattr(score, "ENGINE_MEMORY", "32MB")
    pd.testing.assert_frame_equal(scoring_features(tables, snaps, spec), free)


def test_engine_failure_is_a_one_line_error_and_writes_nothing(trained, monkeypatch, capsys):
    """If the feature engine cannot run (here: a memory cap too small to work in), the run
    stops with one line naming the table and the number of leads, and writes nothing."""
    from leadscore.scoring import batch as score

    monkeypatch.setattr(score, "ENGINE_MEMORY", "1MB")
    assert run_score(trained, "oom.parquet") != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error: events: the feature engine failed on" in err[0]
    assert not (trained["root"] / "oom.parquet").exists()


def _score_process(trained, out: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "leadscore.cli", "score", "--data", str(trained["data"])]
    cmd += ["--as-of", AS_OF, "--out", str(trained["root"] / out)]
    return subprocess.Popen(
        cmd, cwd=trained["root"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def _leftovers(folder: Path, name: str) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(f".{name}.")]


def test_a_killed_score_leaves_no_partial_file_and_the_rerun_cleans_up(trained):
    """SIGKILL at several moments (seeded): the output is absent or whole, never partial;
    the next run succeeds and leaves no temporary file beside its output."""
    root = trained["root"]
    for delay in np.random.default_rng(11).uniform(0.5, 6.0, size=3):
        proc = _score_process(trained, "killed.parquet")
        time.sleep(float(delay))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        out = root / "killed.parquet"
        if out.exists():
            pd.read_parquet(out)  # only ever a whole file
            out.unlink()
    assert run_score(trained, "killed.parquet") == 0
    assert _leftovers(root, "killed.parquet") == []
    assert len(pd.read_parquet(root / "killed.parquet")) > 0


def test_two_scores_writing_one_file_end_with_one_whole_file(trained):
    procs = [_score_process(trained, "shared.parquet") for _ in range(2)]
    errors = [p.communicate()[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    root = trained["root"]
    assert run_score(trained, "alone.parquet") == 0
    shared = (root / "shared.parquet").read_bytes()
    assert shared == (root / "alone.parquet").read_bytes()  # whole, and the same scores
    assert _leftovers(root, "shared.parquet") == []


def test_scoring_long_after_the_models_data_warns_loudly(trained, capsys):
    from leadscore.model.registered import load_registered

    model = load_registered(trained["summary"].model_uri)
    assert model.settings.data_end is not None  # recorded by training
    capsys.readouterr()
    assert run_score(trained, "fresh.parquet") == 0
    assert "warning" not in capsys.readouterr().err
    code = main(
        ["score", "--data", str(trained["data"]), "--as-of", "2026-09-01",
         "--out", str(trained["root"] / "late.parquet")]
    )  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "leadscore: warning: the model's data ended" in err and "retrain it" in err


def test_feature_importance_means_what_it_says(trained):
    """Gain importance agrees with what the model does: shuffling the top feature's group
    (its columns carry the same behaviour, so one alone is replaced by the others) costs
    ranking quality on the out-of-time rows, shuffling a feature it never splits on changes
    no probability at all, and the top features include behaviour (the generator's drivers)."""
    from sklearn.metrics import roc_auc_score

    from leadscore.scoring.reasons import feature_groups

    result = trained["summary"].result
    scorer, importance, rows = result.scorer, result.importance, result.test_sample
    y = rows["label"].to_numpy()
    base = scorer.predict_proba(rows)
    order = np.random.default_rng(0).permutation(len(rows))

    def shuffled(columns: list[str]) -> np.ndarray:
        frame = rows.copy()
        for c in columns:  # one permutation for the group: rows move together
            frame[c] = frame[c].to_numpy()[order]
        return scorer.predict_proba(frame)

    groups = feature_groups(scorer.spec)
    top = groups[importance["feature"].iloc[0]]
    group = [c for c, g in groups.items() if g == top]
    assert roc_auc_score(y, shuffled(group)) < roc_auc_score(y, base) - 0.01
    idle = importance.loc[importance["importance"] == 0, "feature"]
    assert len(idle) > 0
    assert np.array_equal(shuffled([idle.iloc[0]]), base)
    engagement = set(scorer.spec.engagement_columns())
    assert engagement & set(importance["feature"].head(10))


def test_too_many_broken_events_stop_score_before_it_writes(trained, tmp_path, capsys):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(trained["data"], data)
    events = pd.read_csv(data / "events.csv", dtype=str)
    broken = np.random.default_rng(1).random(len(events)) < 0.3
    events.loc[broken, "occurred_at"] = "31/02/2025 25:00"
    events.to_csv(data / "events.csv", index=False)
    out = tmp_path / "scores.parquet"
    capsys.readouterr()
    code = main(["score", "--data", str(data), "--as-of", AS_OF, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "events: " in err and "more than validation.max_drop_share (5.0%)" in err
    assert "most for unreadable or missing occurred_at" in err


def test_fuzzed_folders_never_give_score_a_traceback(trained, tmp_path):
    from hypothesis import HealthCheck, given, settings

    from tests.data.test_fuzzed_files import table

    @settings(max_examples=15, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(leads=table("leads"), events=table("events"), outcomes=table("outcomes"))
    def run(leads, events, outcomes):
        d = tmp_path / "fuzz"
        d.mkdir(exist_ok=True)
        for name, data in (("leads", leads), ("events", events), ("outcomes", outcomes)):
            (d / f"{name}.csv").write_bytes(data)
        args = ["score", "--data", str(d), "--as-of", AS_OF, "--out", str(tmp_path / "f.parquet")]
        assert main(args) in (0, 2)

    run()


def test_score_keeps_its_nights_in_the_history(trained, capsys):
    history = trained["root"] / "history"
    for as_of in (AS_OF, AS_OF, "2025-12-01"):  # the first night twice: a rerun
        args = ["score", "--data", str(trained["data"]), "--as-of", as_of]
        args += ["--out", str(trained["root"] / "nightly.parquet"), "--history", str(history)]
        assert main(args) == 0
    files = sorted(p.relative_to(history).as_posix() for p in history.rglob("*.parquet"))
    version = trained["summary"].version
    assert files == [
        f"as_of=2025-11-15/leadscore-{version}.parquet",
        f"as_of=2025-12-01/leadscore-{version}.parquet",
    ]
    last = pd.read_parquet(trained["root"] / "nightly.parquet")
    assert last["score_change"].notna().any()  # against the kept 2025-11-15 night
    assert (last["tier_since"] <= pd.Timestamp("2025-12-01", tz="UTC")).all()
    assert (last["tier_since"] >= pd.Timestamp("2025-11-15", tz="UTC")).all()
    lead = last["lead_id"].iloc[0]
    capsys.readouterr()
    assert main(["history", "--history", str(history), "--lead", str(lead)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line[:10] for line in lines] == ["2025-11-15", "2025-12-01"]


def test_score_writes_a_crm_file_with_the_scores_beside_it(trained, capsys):
    assert run_score(trained, "crm.csv", "--format", "salesforce") == 0
    root = trained["root"]
    crm = pd.read_csv(root / "crm.csv", dtype={"Id": str})
    scores = pd.read_parquet(root / "crm.scores.parquet")
    assert list(scores.columns) == SCORE_COLUMNS
    assert crm["Id"].tolist() == scores["lead_id"].tolist()
    assert crm.columns[0] == "Id" and "Leadscore_Reasons__c" in crm.columns
    assert "salesforce -> " in capsys.readouterr().out
    assert run_score(trained, "crm.json", "--format", "dynamics") == 2
