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
import numpy as np
import pandas as pd

from leadscore.data.load import Say, count_event_rules_spark, load_without_events
from leadscore.data.views import fields_note
from leadscore.features.spark import spark_features, write_parquet
from leadscore.io.spark import SparkEvents
from leadscore.model.kind import Scorer
from leadscore.model.settings import ModelSettings
from leadscore.scoring.batch import ScoreSummary, open_at, score_frame
from leadscore.scoring.history import carry
from leadscore.scoring.sinks import SCORE_COLUMNS, SEGMENT, place
from leadscore.timestamps import to_utc

# What the partitions compute; rank, tier, score_change and tier_since are set on the whole
# night afterwards, on the driver (see ``placed_on_driver``).
SCORE_SCHEMA = (
    "lead_id STRING, as_of TIMESTAMP, probability DOUBLE, score DOUBLE, margin DOUBLE, "
    "baseline_score DOUBLE, baseline_tier STRING, fit_grade STRING, top_reasons STRING, "
    "model_version STRING, tier_segment STRING"
)
FROM_NIGHT = ("rank", "tier", "score_change", "tier_since")
PREDICTION = "leadscore_prediction"
MODEL_P, MODEL_SCORE = "leadscore_model_probability", "leadscore_model_score"


def reason_partitions(scorer: Scorer, settings: ModelSettings, version: str):
    """A ``mapInPandas`` function: feature rows with the model's prediction in, score rows
    out. Probability and score are the registered model's (``spark_udf``); the raw margin,
    baseline and reasons come from ``score_frame``, as in the DuckDB path."""
    payload = cloudpickle.dumps((scorer, settings))
    columns = [c for c in SCORE_COLUMNS if c not in FROM_NIGHT]
    columns.insert(columns.index("score") + 1, "margin")
    columns.append(SEGMENT)  # null unless tiers are cut per segment

    def run(batches):
        model, cfg = cloudpickle.loads(payload)
        for rows in batches:
            feats = rows.drop(columns=[MODEL_P, MODEL_SCORE])
            feats["as_of"] = pd.to_datetime(feats["as_of"], utc=True)
            out = score_frame(
                feats,
                model,
                cfg.baseline,
                cfg.explain.top_reasons,
                version,
                threads=1,  # Spark runs one task per core already
            )
            out["probability"] = rows[MODEL_P].to_numpy("float64")
            out["score"] = rows[MODEL_SCORE].to_numpy("float64")
            out["baseline_score"] = out["baseline_score"].astype("float64")
            if SEGMENT not in out:
                out[SEGMENT] = None
            yield out[columns]

    return run


def placed_on_driver(spark, scores, tiers, previous: pd.DataFrame | None):
    """``scores`` with the night's ``rank`` and ``tier`` (``batch.place``) and the history's
    ``score_change`` and ``tier_since`` (``history.carry``), in ``SCORE_COLUMNS``.

    Ranks need the whole night, so its keys (lead, probability, margin: about 40 bytes a
    lead, the size of the leads table the driver already holds) are collected, placed by
    the DuckDB path's own functions and joined back on ``lead_id``."""
    from pyspark.sql import functions as F

    keys = scores.select("lead_id", "as_of", "probability", "score", "margin", SEGMENT).toPandas()
    keys["as_of"] = pd.to_datetime(keys["as_of"], utc=True)
    if keys[SEGMENT].isna().all():  # tiers cut over every lead
        keys = keys.drop(columns=SEGMENT)
    night = carry(place(keys, tiers), previous)
    # Times travel as epoch microseconds, and missing values as NaN turned into nulls:
    # PySpark's own conversion of zoned pandas times uses an API pandas deprecates.
    since = night["tier_since"].dt.tz_convert("UTC").dt.tz_localize(None).astype("M8[us]")
    sent = pd.DataFrame(
        {
            "lead_id": night["lead_id"].astype(str).to_numpy(),
            "rank": night["rank"].to_numpy("int64"),
            "tier": night["tier"].astype(str).to_numpy(),
            "change": night["score_change"].to_numpy("float64"),
            "since_us": np.where(since.isna(), np.nan, since.to_numpy("M8[us]").view("int64")),
        }
    )
    placed = spark.createDataFrame(
        sent, "lead_id STRING, rank BIGINT, tier STRING, change DOUBLE, since_us DOUBLE"
    ).select(
        "lead_id",
        "rank",
        "tier",
        F.when(~F.isnan("change"), F.col("change")).alias("score_change"),
        F.when(~F.isnan("since_us"), F.timestamp_micros(F.col("since_us").cast("bigint"))).alias(
            "tier_since"
        ),
    )
    return scores.join(placed, "lead_id", "left").select(*SCORE_COLUMNS)


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
    from pyspark import StorageLevel
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
    note = fields_note(tables)
    if note:
        say(f"  {note}")
    feats = spark_features(
        spark,
        tables.leads,
        events,
        snaps,
        spec,
        stages=tables.stages,
        field_history=tables.field_history,
    )
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
    # Kept once computed: the night's keys are read from it before the file is written.
    scores = scored.mapInPandas(reason_partitions(scorer, settings, version), SCORE_SCHEMA).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    try:
        out_path = write_parquet(placed_on_driver(spark, scores, settings.tiers, previous), out)
    finally:
        scores.unpersist()
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
