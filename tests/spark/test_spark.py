"""The Spark engine gives what DuckDB gives: the same SQL run on both, features equal on a
generated world, and scores through ``mlflow.pyfunc.spark_udf`` equal to in-process ones.

One local[2] session for the module. In CI (``CI`` set) a missing Java runtime fails the
run; elsewhere these tests are skipped with the reason.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadscore.cli import main
from leadscore.config import config_from_dict, load_config
from leadscore.data.files import (
    feature_table_horizon,
    read_feature_table,
    write_feature_table,
    write_tables,
)
from leadscore.data.load import (
    count_event_rules,
    count_event_rules_spark,
    load_data,
    load_streaming,
)
from leadscore.data.synthetic.shape import OTHER_CRM, reshape
from leadscore.data.synthetic.world import generate_world
from leadscore.data.validate import require_valid
from leadscore.features.dialects import events_prepared_sql
from leadscore.features.engagement import SCALE
from leadscore.features.snapshots import open_leads
from leadscore.features.table import build_features
from leadscore.training.dataset import spec_for

JAVA_MISSING = (
    "no Java runtime on this machine: the Spark engine tests need one "
    "(apt-get install -y openjdk-17-jre-headless)"
)


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Spark tests: {JAVA_MISSING}")
        pytest.skip(JAVA_MISSING)
    from leadscore.io.spark import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A generated world shaped unlike the default one (variant spellings, extra types,
    events before creation), as Parquet files."""
    root = tmp_path_factory.mktemp("spark_world")
    tables = reshape(generate_world(1500, seed=5), OTHER_CRM, seed=5)
    write_tables(tables, root / "data")
    cfg = load_config()
    loaded, source, _ = load_streaming(root / "data", cfg.columns.model_dump())
    return {"root": root, "data": root / "data", "tables": loaded, "source": source, "cfg": cfg}


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(as_of=pd.to_datetime(frame["as_of"], utc=True))
    return frame.sort_values(["as_of", "lead_id"], kind="stable").reset_index(drop=True)


def assert_same_features(duck: pd.DataFrame, spark: pd.DataFrame, spec) -> None:
    duck, spark = _sorted(duck), _sorted(spark)
    assert len(duck) == len(spark)
    assert (duck["lead_id"].astype(str).to_numpy() == spark["lead_id"].astype(str).to_numpy()).all()
    assert (duck["as_of"] == spark["as_of"]).all()
    for c in spec.feature_columns:
        if c in spec.categories:
            a = duck[c].astype(object).where(duck[c].notna(), None).to_numpy()
            b = spark[c].astype(object).where(spark[c].notna(), None).to_numpy()
            assert (a == b).all(), c
        elif c.endswith("_decayed"):
            # Weights are whole multiples of 2^-24 on both engines; EXP may differ by an ulp.
            a, b = duck[c].to_numpy("float64"), spark[c].to_numpy("float64")
            n = duck[
                c.replace("_decayed", "_total") if c != "engagement_decayed" else "events_total"
            ]
            assert np.all(np.abs(a - b) <= n.to_numpy("float64") / SCALE + 1e-7), c
        else:
            a, b = duck[c].to_numpy("float64"), spark[c].to_numpy("float64")
            assert np.array_equal(a, b, equal_nan=True), c


def test_preparation_gives_the_same_rows_on_both_engines(spark):
    import duckdb

    events = pd.DataFrame(
        {
            "lead_id": ["a", "a", "b", "zz", "a", "b"],
            "occurred_at": pd.to_datetime(
                [
                    "2024-03-01T10:00:00.250",
                    None,
                    "2024-03-02T00:00:01",
                    "2024-03-03",
                    "2024-03-04T23:59:59.999999",
                    "2024-03-05",
                ],
                utc=True,
                format="ISO8601",
            ),
            "event_type": ["Email Click", "email_open", " EMAIL-click_ ", "webinar", None, "!!"],
        }
    )
    keys = pd.DataFrame({"lead_id": ["a", "b"], "lead_key": [0, 1], "created_ts": [0.0, 5.0]})
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("src", events)
    con.register("keys_in", keys)
    duck = con.sql(events_prepared_sql("src")).df()
    naive = events.assign(occurred_at=events["occurred_at"].dt.tz_localize(None))
    spark.createDataFrame(naive).createOrReplaceTempView("src")
    spark.createDataFrame(keys).createOrReplaceTempView("keys_in")
    sp = spark.sql(events_prepared_sql("src", "spark")).toPandas()
    cols = ["lead_key", "ts", "event_type"]
    a = duck.sort_values("ts")[cols].reset_index(drop=True)
    b = sp.sort_values("ts")[cols].reset_index(drop=True)
    # Rows without a time, without a type or of unknown leads are left out on both.
    assert a["event_type"].tolist() == ["email_click", "email_click"]
    assert b["event_type"].tolist() == a["event_type"].tolist()
    assert b["lead_key"].tolist() == a["lead_key"].tolist()
    assert b["ts"].tolist() == a["ts"].tolist()  # microseconds kept, the same doubles
    assert a["ts"].iloc[0] == pd.Timestamp("2024-03-01T10:00:00.250", tz="UTC").timestamp()


@pytest.mark.parametrize("dates", [["2025-06-01"], ["2025-03-01", "2025-06-01", "2025-09-01"]])
def test_features_equal_duckdb_on_a_generated_world(spark, world, dates):
    """Both forms of the engagement query (one moment, and the snapshot join) and the
    explicit features by mapInPandas give DuckDB's values."""
    from leadscore.features.spark import spark_features
    from leadscore.io.spark import SparkEvents

    tables, source = world["tables"], world["source"]
    as_of = [pd.Timestamp(d, tz="UTC") for d in dates]
    spec = spec_for(tables, world["cfg"], as_of[-1], source)
    # Half the types decay at their own rate, the rest at the common one.
    own = {t: 3.0 + i for i, t in enumerate(spec.event_types[::2])}
    spec = dataclasses.replace(spec, event_half_lives=own)
    snaps = open_leads(tables.leads, tables.outcomes, as_of)
    duck = build_features(tables.leads, source, snaps, spec, stages=tables.stages)
    events = SparkEvents(spark, source.path)
    sp = spark_features(spark, tables.leads, events, snaps, spec, stages=tables.stages).toPandas()
    assert list(sp.columns) == list(duck.columns)
    assert_same_features(duck, sp, spec)


def _edited_history(leads: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Edits to a third of the leads' titles, industries and sizes at random moments after
    their creation (old values on some), as a CRM's field history records them."""
    rng = np.random.default_rng(seed)
    picked = leads.sample(frac=1 / 3, random_state=seed)
    rows = []
    for name, values in (
        ("job_title", ["CEO", "Intern", "VP Sales", None]),
        ("industry", ["Retail", "software", None]),
        ("employees", ["12", "5000", "lots"]),
    ):
        k = len(picked)
        rows.append(
            pd.DataFrame(
                {
                    "lead_id": picked["lead_id"].to_numpy(),
                    "field": name,
                    "value": rng.choice(np.array(values, dtype=object), k),
                    "changed_at": (
                        picked["created_at"].reset_index(drop=True)
                        + pd.to_timedelta(rng.integers(0, 400 * 24, k), unit="h")
                    ).to_numpy(),
                    "old_value": np.where(rng.random(k) < 0.5, None, "Manager"),
                }
            )
        )
    history = pd.concat(rows, ignore_index=True)
    history["changed_at"] = pd.to_datetime(history["changed_at"], utc=True)
    return history


@pytest.mark.parametrize("dates", [["2025-06-01"], ["2025-03-01", "2025-06-01", "2025-09-01"]])
def test_fields_as_of_each_snapshot_equal_duckdb(spark, world, dates):
    """With a field history, the explicit features Spark builds per snapshot (the same
    as-of query, run by Spark) equal DuckDB's, and they differ from the fields as exported."""
    from leadscore.features.spark import spark_features
    from leadscore.io.spark import SparkEvents

    tables, source = world["tables"], world["source"]
    history = _edited_history(tables.leads, seed=3)
    as_of = [pd.Timestamp(d, tz="UTC") for d in dates]
    spec = spec_for(tables, world["cfg"], as_of[-1], source)
    snaps = open_leads(tables.leads, tables.outcomes, as_of)
    duck = build_features(
        tables.leads, source, snaps, spec, stages=tables.stages, field_history=history
    )
    exported = build_features(tables.leads, source, snaps, spec, stages=tables.stages)
    assert (duck["seniority"] != exported["seniority"]).any()
    sp = spark_features(
        spark,
        tables.leads,
        SparkEvents(spark, source.path),
        snaps,
        spec,
        stages=tables.stages,
        field_history=history,
    ).toPandas()
    assert list(sp.columns) == list(duck.columns)
    assert_same_features(duck, sp, spec)


def test_event_questions_and_counts_agree_with_duckdb(spark, world):
    from leadscore.io.spark import SparkEvents

    source = world["source"]
    events = SparkEvents(spark, source.path)
    cutoff = pd.Timestamp("2025-06-01", tz="UTC")
    assert events.type_counts(cutoff).sort_index().equals(source.type_counts(cutoff).sort_index())
    assert events.max_time() == source.max_time()
    leads = world["tables"].leads
    lines = count_event_rules_spark(events, leads)
    assert lines == count_event_rules(source, leads)
    assert any("before the lead's created_at" in line for line in lines)  # the shape has some


def test_a_missing_event_column_is_named(spark, world):
    from leadscore.io.spark import SparkEvents, SparkInputError

    with pytest.raises(SparkInputError, match="mapped to .When."):
        SparkEvents(spark, world["source"].path, {"occurred_at": "When"}).frame()


def test_account_features_equal_duckdb(spark, world):
    """Colleagues' activity as Spark window sums gives the pandas group sums."""
    import dataclasses

    from leadscore.features.spark import spark_features
    from leadscore.io.spark import SparkEvents

    tables, source = world["tables"], world["source"]
    as_of = [pd.Timestamp(d, tz="UTC") for d in ("2025-03-01", "2025-06-01")]
    spec = spec_for(tables, world["cfg"], as_of[-1], source)
    spec = dataclasses.replace(spec, account_window=30)
    snaps = open_leads(tables.leads, tables.outcomes, as_of)
    duck = build_features(tables.leads, source, snaps, spec, stages=tables.stages)
    sp = spark_features(
        spark, tables.leads, SparkEvents(spark, source.path), snaps, spec, stages=tables.stages
    ).toPandas()
    assert list(sp.columns) == list(duck.columns)
    assert duck["account_open_leads"].gt(0).any()  # some leads have colleagues
    assert_same_features(duck, sp, spec)


def test_feature_table_folders_carry_their_spec_and_replace_whole(spark, world, tmp_path):
    from leadscore.features.spark import write_parquet
    from leadscore.io.spark import SparkEvents
    from leadscore.training.dataset import feature_table, spark_feature_table

    tables, cfg = world["tables"], world["cfg"]
    dates = [pd.Timestamp("2025-03-01", tz="UTC"), pd.Timestamp("2025-07-01", tz="UTC")]
    frame, spec = spark_feature_table(tables, cfg, dates, SparkEvents(spark, world["source"].path))
    out = tmp_path / "features.parquet"
    out.mkdir()
    (out / "stale.parquet").write_text("an earlier output")
    write_parquet(frame, str(out), spec, horizon_days=90)
    assert feature_table_horizon(out) == 90
    assert not (out / "stale.parquet").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    read, read_spec = read_feature_table(out)
    assert read_spec == spec
    duck = feature_table(tables, cfg, dates, spec=spec, events=world["source"])
    assert_same_features(duck, read, spec)
    assert np.array_equal(
        _sorted(duck)["label"].to_numpy(), _sorted(read)["label"].to_numpy(), equal_nan=True
    )
    # The DuckDB engine's file carries the same spec.
    path = write_feature_table(duck, tmp_path / "duck.parquet", spec)
    assert read_feature_table(path)[1] == spec


@pytest.fixture(scope="module")
def champion(world, tmp_path_factory):
    """A champion trained (DuckDB engine) on the world, in a private MLflow store."""
    from leadscore.training.run import train_events

    root = tmp_path_factory.mktemp("spark_model")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
    mp.chdir(root)
    cfg = config_from_dict(
        {
            "model": {"num_boost_round": 120, "early_stopping_rounds": 20},
            "training": {"min_positives": 10},
        }
    )
    valid = require_valid(load_data(world["data"]))
    summary = train_events(valid, cfg, None, say=lambda _m: None)
    yield {"root": root, "summary": summary, "cfg": cfg}
    mp.undo()


@pytest.mark.slow
def test_spark_scores_equal_the_duckdb_scores(spark, world, champion):
    """spark_udf gives the in-process probabilities bit for bit; tiers, baseline and
    reasons equal the DuckDB path's; every open lead once."""
    from leadscore.model.registered import load_registered

    root = champion["root"]
    history = ["--history", str(root / "history")]  # an earlier night, for score_change
    earlier = ["score", "--data", str(world["data"]), "--as-of", "2025-09-01", *history]
    assert main([*earlier, "--out", str(root / "earlier.parquet")]) == 0
    common = ["score", "--data", str(world["data"]), "--as-of", "2025-10-01", *history]
    assert main([*common, "--out", str(root / "duck.parquet")]) == 0
    assert main([*common, "--out", str(root / "spark.parquet"), "--engine", "spark"]) == 0
    duck = pd.read_parquet(root / "duck.parquet").sort_values("lead_id").reset_index(drop=True)
    sp = pd.read_parquet(root / "spark.parquet").sort_values("lead_id").reset_index(drop=True)
    assert list(sp.columns) == list(duck.columns)
    assert sp["lead_id"].is_unique and len(sp) == len(duck)
    assert duck["score_change"].notna().any()
    for c in duck.columns:
        if c == "probability":
            # The DuckDB path sums SHAP contributions; MLflow's model predicts directly.
            assert np.allclose(sp[c], duck[c], rtol=0, atol=1e-12)
        elif c == "as_of":
            assert (sp[c] == duck[c]).all()
        elif c == "score_change":
            assert np.array_equal(
                sp[c].to_numpy("float64"), duck[c].to_numpy("float64"), equal_nan=True
            )
        elif c == "tier_since":
            assert sp[c].isna().equals(duck[c].isna()) and (sp[c] == duck[c])[duck[c].notna()].all()
        else:
            assert (sp[c].astype(str).to_numpy() == duck[c].astype(str).to_numpy()).all(), c
    model = load_registered("models:/leadscore@champion")  # what score used
    tables = world["tables"]
    snaps = open_leads(tables.leads, tables.outcomes, [pd.Timestamp("2025-10-01", tz="UTC")])
    feats = build_features(
        tables.leads, world["source"], snaps, model.scorer.spec, stages=tables.stages
    )
    in_process = pd.Series(model.scorer.predict_proba(feats), index=feats["lead_id"].astype(str))
    # Spark's batches of rows differ from one in-process call: the last bit may move.
    np.testing.assert_allclose(
        sp["probability"].to_numpy(), in_process.loc[sp["lead_id"]].to_numpy(), rtol=1e-12, atol=0
    )


@pytest.mark.slow
def test_train_from_a_spark_feature_table(spark, world, champion, capsys):
    root = champion["root"]
    out = root / "features.parquet"
    dates = "2024-09-01,2024-12-01,2025-03-01,2025-06-01,2025-09-01,2025-12-01"
    args = ["features", "--data", str(world["data"]), "--as-of", dates, "--out", str(out)]
    assert main([*args, "--engine", "spark"]) == 0
    capsys.readouterr()
    assert main(["train", "--features", str(out)]) == 0
    said = capsys.readouterr().out
    assert "rows whose horizon has not passed left out" in said  # the 2025-12-01 rows
    assert "registered" in said


def test_logged_models_carry_the_package(tmp_path):
    """code_paths: an executor with MLflow but not leadscore imports the logged copy."""
    from leadscore.model.registered import package_copy

    code = package_copy(tmp_path)
    assert (code / "features" / "engagement.py").exists()
    assert (code / "reporting" / "templates").is_dir()
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import leadscore.model.registered as r; "
        "import leadscore.features.table; print(r.__file__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert Path(done.stdout.strip()).is_relative_to(tmp_path)


def test_a_failed_spark_job_is_one_line(spark, world, tmp_path, capsys):
    out = tmp_path / "features.parquet"
    code = main(
        [
            "features",
            "--engine",
            "spark",
            "--data",
            str(world["data"]),
            "--events",
            str(tmp_path / "no-such-events.parquet"),
            "--as-of",
            "2025-06-01",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("leadscore: error: spark: features for 1,500 leads failed (")
    assert "nothing written" in err[-1] and not out.exists()


def test_a_european_events_csv_reads_the_same_on_both_engines(spark, tmp_path):
    """';'-delimited Windows-1252 with an en dash in a type and a note holding a newline:
    Spark and DuckDB read the same rows and count the same types."""
    from leadscore.data.load import engine_readable
    from leadscore.io.source import EventSource
    from leadscore.io.spark import SparkEvents

    text = (
        "lead_id;occurred_at;event_type;note\n"
        'L1;2024-02-01T10:00:00Z;Web \u2013 Visit;"first line\nsecond line"\n'
        "L1;2024-02-02T10:00:00Z;Email Click;plain\n"
        "L2;not a time;Email Click;x\n"
    )
    path = tmp_path / "events.csv"
    path.write_bytes(text.encode("cp1252"))
    cutoff = pd.Timestamp("2025-01-01", tz="UTC")
    duck = engine_readable(EventSource(str(path)))
    sp = SparkEvents(spark, str(path))
    assert sp.csv_format().encoding == "cp1252" and sp.csv_format().delimiter == ";"
    assert sp.raw().count() == 3
    want = {"web_visit": 1, "email_click": 1}  # the row without a time is not counted
    assert duck.type_counts(cutoff).to_dict() == want
    assert sp.type_counts(cutoff).to_dict() == want
    assert sp.max_time() == duck.max_time()


def test_no_open_leads_give_an_empty_table_not_an_error(spark, world):
    """A date before every lead: no snapshot rows, and no types for Spark to infer."""
    from leadscore.features.spark import spark_features
    from leadscore.io.spark import SparkEvents

    tables, source = world["tables"], world["source"]
    as_of = pd.Timestamp("2025-06-01", tz="UTC")
    spec = spec_for(tables, world["cfg"], as_of, source)
    snaps = open_leads(tables.leads, tables.outcomes, [pd.Timestamp("2000-01-01", tz="UTC")])
    assert snaps.empty
    sp = spark_features(
        spark,
        tables.leads.iloc[:0],
        SparkEvents(spark, source.path),
        snaps,
        spec,
        stages=tables.stages,
    )
    frame = sp.toPandas()
    assert frame.empty and list(frame.columns) == ["lead_id", "as_of", *spec.feature_columns]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["logistic", "naive_bayes", "points"])
def test_every_kind_scores_the_same_on_spark(spark, world, kind, tmp_path, monkeypatch):
    """Each model kind, registered and served by spark_udf, gives the DuckDB path's
    probabilities, tiers and reasons."""
    from leadscore.training.run import train_events

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    cfg = config_from_dict({"model": {"kind": kind}, "training": {"min_positives": 10}})
    summary = train_events(require_valid(load_data(world["data"])), cfg, None, say=lambda _m: None)
    assert summary.result.scorer.kind == kind
    common = ["score", "--data", str(world["data"]), "--as-of", "2025-10-01"]
    assert main([*common, "--out", str(tmp_path / "duck.parquet")]) == 0
    assert main([*common, "--out", str(tmp_path / "spark.parquet"), "--engine", "spark"]) == 0
    duck = pd.read_parquet(tmp_path / "duck.parquet").sort_values("lead_id", ignore_index=True)
    sp = pd.read_parquet(tmp_path / "spark.parquet").sort_values("lead_id", ignore_index=True)
    assert list(sp.columns) == list(duck.columns) and len(sp) == len(duck) > 100
    assert np.allclose(sp["probability"], duck["probability"], rtol=0, atol=1e-12)
    for c in ("lead_id", "score", "tier", "baseline_score", "fit_grade", "top_reasons"):
        assert (sp[c].astype(str).to_numpy() == duck[c].astype(str).to_numpy()).all(), c


@pytest.mark.slow
def test_a_segmented_model_routes_each_row_the_same_on_spark(spark, world, tmp_path, monkeypatch):
    """A registered segmented model (one lead source served by the points sheet as its
    segment's model, the rest by the pooled model, tiers cut within each) gives the DuckDB
    path's probabilities, tiers and reasons on Spark: spark_udf and the reasons route each
    row alike."""
    from mlflow import MlflowClient

    from leadscore import tracking
    from leadscore.model import registered
    from leadscore.model.segmented import SegmentedScorer
    from leadscore.training.run import train_events

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    cfg = config_from_dict({"model": {"kind": "logistic"}, "training": {"min_positives": 10}})
    summary = train_events(require_valid(load_data(world["data"])), cfg, None, say=lambda _m: None)
    result = summary.result
    source = result.scorer.spec.categories["lead_source"][0]
    segmented = SegmentedScorer(
        result.scorer, "lead_source", {source: "own"}, {"own": result.points}, "segment"
    )
    settings = registered.load_registered(summary.model_uri).settings
    example = result.test_sample[result.scorer.spec.feature_columns].head(5)
    with tracking.store_lock(), __import__("mlflow").start_run():
        _, version = registered.log_model(segmented, settings, example, "leadscore")
    MlflowClient().set_registered_model_alias("leadscore", tracking.CHAMPION, version)
    common = ["score", "--data", str(world["data"]), "--as-of", "2025-10-01"]
    assert main([*common, "--out", str(tmp_path / "duck.parquet")]) == 0
    assert main([*common, "--out", str(tmp_path / "spark.parquet"), "--engine", "spark"]) == 0
    duck = pd.read_parquet(tmp_path / "duck.parquet").sort_values("lead_id", ignore_index=True)
    sp = pd.read_parquet(tmp_path / "spark.parquet").sort_values("lead_id", ignore_index=True)
    assert (duck["model_version"] == f"leadscore/{version}").all()
    assert list(sp.columns) == list(duck.columns) and len(sp) == len(duck) > 100
    assert np.allclose(sp["probability"], duck["probability"], rtol=0, atol=1e-12)
    for c in ("lead_id", "score", "tier", "baseline_score", "fit_grade", "top_reasons"):
        assert (sp[c].astype(str).to_numpy() == duck[c].astype(str).to_numpy()).all(), c
    # The segment's leads got the points sheet's probabilities, the others the pooled model's.
    tables = world["tables"]
    snaps = open_leads(tables.leads, tables.outcomes, [pd.Timestamp("2025-10-01", tz="UTC")])
    feats = build_features(
        tables.leads, world["source"], snaps, result.scorer.spec, stages=tables.stages
    )
    feats = feats.set_index(feats["lead_id"].astype(str)).loc[duck["lead_id"]]
    own = (feats["lead_source"].astype(str) == source).to_numpy()
    assert own.any() and (~own).any()
    want = np.where(own, result.points.predict_proba(feats), result.scorer.predict_proba(feats))
    np.testing.assert_allclose(duck["probability"], want, rtol=0, atol=1e-9)
