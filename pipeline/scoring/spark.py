"""Nightly scoring on Apache Spark: features built on the cluster, the registered model
applied by ``mlflow.pyfunc.spark_udf``, reasons phrased per partition by the same code as
``leadscore.scoring.batch``.

Leads and outcomes are read and validated on the driver (they decide who is open, and the
rejects file accounts for every row: ``in = scored + rejected``); the events, the large
table, are read and aggregated by Spark. The scores are a Parquet folder in no particular
row order; the rejects a second one beside it.
"""

from __future__ import annotations

import time
from pathlib import Path

import cloudpickle
import pandas as pd

from leadscore.data.load import Say, count_event_rules_spark, load_without_events
from leadscore.features.spark import spark_features, write_parquet
from leadscore.io.spark import SparkEvents
from leadscore.model.kind import Scorer
from leadscore.model.settings import ModelSettings
from leadscore.model.tiers import assign_tiers
from leadscore.scoring.batch import SCORE_COLUMNS, ScoreSummary, open_at, score_frame
from leadscore.timestamps import to_utc

# What the partitions compute; score_change and tier_since come from a join with the
# previous night afterwards (see ``with_history``).
SCORE_SCHEMA = (
    "lead_id STRING, as_of TIMESTAMP, probability DOUBLE, score DOUBLE, tier STRING, "
    "baseline_score DOUBLE, baseline_tier STRING, fit_grade STRING, top_reasons STRING, "
    "model_version STRING"
)
FROM_HISTORY = ("score_change", "tier_since")
PREDICTION = "leadscore_prediction"
MODEL_P, MODEL_SCORE = "leadscore_model_probability", "leadscore_model_score"


def reason_partitions(scorer: Scorer, settings: ModelSettings, version: str):
    """A ``mapInPandas`` function: feature rows with the model's prediction in, score rows
    out. Probability and score are the registered model's (``spark_udf``); tier, baseline
    and reasons come from ``score_frame``, as in the DuckDB path."""
    payload = cloudpickle.dumps((scorer, settings))
    columns = [c for c in SCORE_COLUMNS if c not in FROM_HISTORY]

    def run(batches):
        model, cfg = cloudpickle.loads(payload)
        for rows in batches:
            feats = rows.drop(columns=[MODEL_P, MODEL_SCORE])
            feats["as_of"] = pd.to_datetime(feats["as_of"], utc=True)
            out = score_frame(
                feats,
                model,
                cfg.baseline,
                cfg.tiers,
                cfg.explain.top_reasons,
                version,
                threads=1,  # Spark runs one task per core already
            )
            out["probability"] = rows[MODEL_P].to_numpy("float64")
            out["score"] = rows[MODEL_SCORE].to_numpy("float64")
            out["tier"] = assign_tiers(out["score"].to_numpy(), cfg.tiers).astype(str)
            out["baseline_score"] = out["baseline_score"].astype("float64")
            yield out[columns]

    return run


def with_history(spark, scores, previous: pd.DataFrame | None):
    """``score_change`` and ``tier_since`` as ``history.carry`` computes them, by a join
    with the previous night; missing without a history (``previous`` None)."""
    from pyspark.sql import functions as F

    if previous is None:
        return scores.select(
            *[
                F.lit(None).cast("double").alias(c)
                if c == "score_change"
                else F.lit(None).cast("timestamp").alias(c)
                if c == "tier_since"
                else F.col(c)
                for c in SCORE_COLUMNS
            ]
        )
    # Times travel as epoch microseconds: PySpark's own conversion of zoned pandas times
    # uses an API pandas deprecates.
    since_us = previous["tier_since"].dt.tz_convert("UTC").dt.tz_localize(None).astype("M8[us]")
    sent = pd.DataFrame(
        {
            "lead_id": previous["lead_id"].astype(str).to_numpy(),
            "p_score": previous["score"].to_numpy("float64"),
            "p_tier": previous["tier"].astype(str).to_numpy(),
            "p_since_us": since_us.astype("int64").to_numpy(),
        }
    )
    prev = spark.createDataFrame(
        sent, "lead_id STRING, p_score DOUBLE, p_tier STRING, p_since_us BIGINT"
    ).withColumn("p_since", F.timestamp_micros("p_since_us"))
    joined = scores.join(prev, "lead_id", "left")
    change = (F.round(F.col("score") - F.col("p_score"), 1) + F.lit(0.0)).alias("score_change")
    since = F.when(F.col("p_tier") == F.col("tier"), F.col("p_since")).otherwise(F.col("as_of"))
    picked = {"score_change": change, "tier_since": since.alias("tier_since")}
    return joined.select(*[picked.get(c, F.col(c)) for c in SCORE_COLUMNS])


def rejects_uri_for(out: str) -> str:
    """``scores.parquet`` -> ``scores.rejects.parquet`` (a path or a URI)."""
    stem = out.rstrip("/")
    stem = stem[: -len(".parquet")] if stem.endswith(".parquet") else stem
    return f"{stem}.rejects.parquet"


def score_spark(
    spark,
    data_dir: str | Path,
    events_path: str,
    columns: dict[str, dict[str, str]],
    model_uri: str,
    scorer: Scorer,
    settings: ModelSettings,
    version: str,
    as_of: pd.Timestamp,
    out: str,
    say: Say = lambda _m: None,
    csv: dict[str, str] | None = None,
    max_drop_share: float | None = None,
    previous: pd.DataFrame | None = None,
) -> ScoreSummary:
    """Score every open lead at ``as_of`` on Spark into the Parquet folder ``out``
    (``previous``: the history's previous night, as for ``score_tables``).

    The tables are checked first (``max_drop_share`` too, events included), so a broken
    export stops the run before any work is written.

    It reads top to bottom as the Spark job's steps, which share the session and its frames.
    """
    import mlflow
    from pyspark.sql import functions as F

    t0 = time.perf_counter()
    as_of = to_utc(as_of)
    tables, report = load_without_events(data_dir, columns, say, csv, max_drop_share)
    events = SparkEvents(spark, events_path, columns.get("events") or {}, dict(csv or {}))
    lines = count_event_rules_spark(events, tables.leads, max_drop_share)
    for line in lines:
        say(f"  data: {line}")
    snaps = open_at(tables, scorer, as_of)
    spec = scorer.spec
    feats = spark_features(spark, tables.leads, events, snaps, spec, stages=tables.stages)
    predict = mlflow.pyfunc.spark_udf(
        spark, model_uri, result_type="probability DOUBLE, score DOUBLE", env_manager="local"
    )
    cats = set(spec.categorical_features)
    # The signature's types: text for categories, doubles for numbers.
    inputs = [
        (F.col(f"`{c}`") if c in cats else F.col(f"`{c}`").cast("double")).alias(c)
        for c in spec.feature_columns
    ]
    scored = (
        feats.withColumn(PREDICTION, predict(F.struct(*inputs)))
        .withColumn(MODEL_P, F.col(f"{PREDICTION}.probability"))
        .withColumn(MODEL_SCORE, F.col(f"{PREDICTION}.score"))
        .drop(PREDICTION)
    )
    scores = scored.mapInPandas(reason_partitions(scorer, settings, version), SCORE_SCHEMA)
    out_path = write_parquet(with_history(spark, scores, previous), out)
    n_scored = spark.read.parquet(out_path).count()
    rejects = report.rejects
    rejects_path = None
    if len(rejects):
        text = rejects.astype("string").astype(object).where(rejects.notna(), None)
        schema = ", ".join(f"`{c}` STRING" for c in text.columns)  # all-empty columns too
        frame = spark.createDataFrame(text, schema)
        rejects_path = write_parquet(frame.coalesce(1), rejects_uri_for(out))
    return ScoreSummary(
        rows_in=len(snaps) + len(rejects),
        scored=n_scored,
        rejected=len(rejects),
        not_open=len(tables.leads) - len(snaps),
        out=out_path,
        rejects=rejects_path,
        seconds=time.perf_counter() - t0,
        unseen_categories={},
        new_missing={},
        event_lines=lines,
    )
