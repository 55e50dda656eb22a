"""Feature tables on Apache Spark, for event histories that live in a lakehouse.

The same definitions as on DuckDB: the engagement query (``engagement_sql``) runs unchanged
in Spark SQL over the Spark form of the preparation (``leadscore.features.dialects``), as do
the stage and field history queries, and explicit features are the same pandas functions
run per partition by ``mapInPandas``.
Snapshots (which leads are open at each moment) and labels are decided on the driver from
the leads and outcomes tables, as for DuckDB; only their integer keys travel to the cluster.

Needs the ``spark`` extra (``pip install "leadscore[spark]"``) and a Java runtime.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from leadscore.features.dialects import events_prepared_sql
from leadscore.features.engagement import engagement_sql
from leadscore.features.history import fields_sql, prepare_fields
from leadscore.features.spec import MISSING, FeatureSpec
from leadscore.features.stages import prepare_stages, stage_sql
from leadscore.features.table import explicit_features, explicit_fields, snapshot_keys
from leadscore.io.ids import is_in
from leadscore.io.scratch import is_orphan, scratch_dir
from leadscore.io.spark import SparkEvents, is_uri

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def _explicit_schema(spec: FeatureSpec) -> str:
    cats = set(spec.categorical_features)
    cols = ["lead_id STRING"]
    cols += [f"`{c}` {'STRING' if c in cats else 'FLOAT'}" for c in spec.explicit_columns()]
    return ", ".join(cols)


def explicit_partitions(spec: FeatureSpec, keep: tuple[str, ...] = ()):
    """A ``mapInPandas`` function: lead rows in, ``explicit_features`` out (strings for
    categories, float32 for the rest, as the DuckDB path stores them), then the input's
    ``keep`` columns."""
    cats = set(spec.categorical_features)
    columns = spec.explicit_columns()

    def run(batches):
        for leads in batches:
            out = explicit_features(leads, spec)
            frame = {"lead_id": out["lead_id"].astype("string").astype(object)}
            for c in columns:
                if c in cats:
                    frame[c] = out[c].astype(object).where(out[c].notna(), None)
                else:
                    frame[c] = out[c].to_numpy(dtype="float32", na_value=np.nan)
            for c in keep:
                frame[c] = leads[c].to_numpy()
            yield pd.DataFrame(frame)

    return run


def _fields_then(
    spark: SparkSession,
    snap_rows: DataFrame,
    lead_rows: DataFrame,
    history: pd.DataFrame,
    keys: pd.DataFrame,
    fields: tuple[tuple[str, bool], ...],
    spec: FeatureSpec,
) -> DataFrame:
    """Explicit features of each snapshot whose lead has field history, from the fields as
    they were at its as_of (``leadscore.features.history``): ``snap_key`` and the columns."""
    from pyspark.sql import functions as F

    types = "lead_key BIGINT, ts DOUBLE, seq BIGINT, field BIGINT, value STRING, number DOUBLE"
    spark.createDataFrame(prepare_fields(history, keys, fields), types).createOrReplaceTempView(
        "fields_prepared"
    )
    found = spark.sql(fields_sql(fields))
    code = {name: i for i, (name, _) in enumerate(fields)}
    rows = (
        snap_rows.select("snap_key", "lead_id")
        .join(found, "snap_key")
        .join(lead_rows.alias("l"), "lead_id")
    )
    cols = [F.col("lead_id")]
    for c in lead_rows.columns:
        if c == "lead_id":
            continue
        col = F.col(f"l.`{c}`")
        if c in code:
            i = code[c]
            col = F.when(F.col(f"h{i}") == 1, F.col(f"v{i}")).otherwise(col)
        cols.append(col.alias(c))
    cols.append(F.col("snap_key"))
    return rows.select(*cols).mapInPandas(
        explicit_partitions(spec, ("snap_key",)), _explicit_schema(spec) + ", snap_key BIGINT"
    )


def _leads_frame(spark: SparkSession, leads: pd.DataFrame) -> DataFrame:
    """Lead rows as Spark holds them: attributes only (explicit features do not read the
    creation time), text as text, numbers as doubles, flags as flags."""
    keep = leads.drop(columns=[c for c in leads.columns if c in ("created_at",)])
    data, types = {}, []
    for c in keep.columns:
        col = keep[c]
        if pd.api.types.is_bool_dtype(col):
            data[c], kind = col.astype(object).where(col.notna(), None), "BOOLEAN"
        elif pd.api.types.is_numeric_dtype(col):
            data[c], kind = col.astype("float64"), "DOUBLE"
        else:
            data[c], kind = col.astype("string").astype(object).where(col.notna(), None), "STRING"
        types.append(f"`{c}` {kind}")
    # Types given, not inferred: an empty table or an all-missing column has none to infer.
    return spark.createDataFrame(pd.DataFrame(data), ", ".join(types))


def spark_features(
    spark: SparkSession,
    leads: pd.DataFrame,
    events: SparkEvents,
    snapshots: pd.DataFrame,
    spec: FeatureSpec,
    label: pd.Series | None = None,
    stages: pd.DataFrame | None = None,
    field_history: pd.DataFrame | None = None,
) -> DataFrame:
    """Feature rows for (lead_id, as_of) pairs, built by Spark: ``lead_id``, ``as_of``, then
    ``spec.feature_columns`` (float for numbers, text for categories), then ``label`` when
    given (one per snapshot row). The same values as ``build_features`` (a test compares
    them); row order is the engine's. ``field_history``: lead fields read as they were at
    each as_of, as ``build_features`` reads them.

    It reads top to bottom as the Spark job's steps, which share the session and its frames.
    """
    from pyspark.sql import functions as F

    snap = snapshots[["lead_id", "as_of"]].reset_index(drop=True)
    keys, snap_rel = snapshot_keys(snap, leads)
    keys["lead_id"] = keys["lead_id"].astype(object)
    uniques = keys["lead_id"]
    as_of_ts = snap_rel["as_of_ts"].to_numpy()
    first = ~snap["lead_id"].duplicated().to_numpy()
    rows = {
        **{c: snap_rel[c].to_numpy() for c in snap_rel.columns},
        "lead_id": snap["lead_id"].astype("string").astype(object).to_numpy(),
        "as_of_us": (as_of_ts * 1e6).round().astype("int64"),
    }
    schema = "snap_key BIGINT, lead_key BIGINT, as_of_ts DOUBLE, created_ts DOUBLE, "
    schema += "lead_id STRING, as_of_us BIGINT"
    if label is not None:
        rows["label"] = label.to_numpy(dtype="float64")
        schema += ", label DOUBLE"
    snap_rows = spark.createDataFrame(pd.DataFrame(rows), schema)
    snap_rows.select("snap_key", "lead_key", "as_of_ts", "created_ts").createOrReplaceTempView(
        "snapshots"
    )
    spark.createDataFrame(
        keys, "lead_id STRING, lead_key BIGINT, created_ts DOUBLE"
    ).createOrReplaceTempView("keys_in")
    events.frame().createOrReplaceTempView("leadscore_events")
    spark.sql(events_prepared_sql("leadscore_events", "spark")).createOrReplaceTempView(
        "events_prepared"
    )
    single = bool(first.all()) and snap["as_of"].nunique() == 1
    engaged = spark.sql(engagement_sql(spec, float(as_of_ts[0]) if single else None))

    wanted = leads[is_in(leads["lead_id"], pd.Series(uniques))]
    lead_rows = _leads_frame(spark, wanted)
    explicit = lead_rows.mapInPandas(explicit_partitions(spec), _explicit_schema(spec))
    fields = explicit_fields(wanted, field_history, spec)
    then = (
        _fields_then(spark, snap_rows, lead_rows, field_history, keys, fields, spec)
        if fields
        else None
    )
    explicit_cols = set(spec.explicit_columns())
    engagement = set(spec.engagement_columns())
    out = [
        F.col("s.lead_id").alias("lead_id"),
        F.timestamp_micros(F.col("s.as_of_us")).alias("as_of"),
    ]
    later = spec.account_columns()  # window sums over the finished rows, below
    for c in spec.feature_columns:
        if c in later:
            continue
        if c == "current_stage":
            col = F.coalesce(F.col("g.current_stage"), F.lit(MISSING))
        elif c == "days_in_stage":
            col = F.col("g.days_in_stage").cast("float")
        elif c in engagement:
            col = F.col(f"e.`{c}`").cast("float")
        elif then is not None and c in explicit_cols:
            # A snapshot whose lead has field history reads its own row, the others the lead's.
            col = F.when(F.col("o.snap_key").isNotNull(), F.col(f"o.`{c}`")).otherwise(
                F.col(f"x.`{c}`")
            )
        else:
            col = F.col(f"x.`{c}`")
        out.append(col.alias(c))
    if label is not None:
        out.append(F.col("s.label").alias("label"))
    joined = snap_rows.alias("s").join(
        engaged.alias("e"), F.col("s.snap_key") == F.col("e.snap_key")
    )
    if spec.stages:
        if stages is None:
            raise ValueError("the features use funnel stages: give the stages table")
        spark.createDataFrame(
            prepare_stages(stages, keys), "lead_key BIGINT, ts DOUBLE, stage STRING"
        ).createOrReplaceTempView("stages_prepared")
        staged = spark.sql(stage_sql(spec))
        joined = joined.join(staged.alias("g"), F.col("s.snap_key") == F.col("g.snap_key"), "left")
    joined = joined.join(explicit.alias("x"), F.col("s.lead_id") == F.col("x.lead_id"), "left")
    if then is not None:
        joined = joined.join(then.alias("o"), F.col("s.snap_key") == F.col("o.snap_key"), "left")
    frame = joined.select(*out)
    if spec.account_window:
        frame = _with_accounts(spark, frame, wanted, spec, label is not None)
    return frame


def _with_accounts(
    spark: SparkSession, frame: DataFrame, leads: pd.DataFrame, spec: FeatureSpec, labelled: bool
) -> DataFrame:
    """``leadscore.features.accounts`` as window sums over (account, as_of)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if "account" not in leads.columns:
        raise ValueError("the features use accounts: the leads table has no account column")
    acct = leads["account"].astype("string").str.strip()
    pairs = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].astype("string").astype(object),
            "acct": acct.astype(object).where((acct.notna() & (acct != "")).to_numpy(), None),
        }
    )
    frame = frame.join(
        spark.createDataFrame(pairs, "lead_id STRING, acct STRING"), "lead_id", "left"
    )
    w = spec.account_window
    win = Window.partitionBy("acct", "as_of")
    events = F.col(f"events_{w}d").cast("double")
    active = F.when(events > 0, 1.0).otherwise(0.0)
    has = F.col("acct").isNotNull()
    values = {
        "account_open_leads": F.count(F.lit(1)).over(win).cast("double") - 1.0,
        f"account_events_{w}d": F.sum(events).over(win) - events,
        f"account_active_leads_{w}d": F.sum(active).over(win) - active,
    }
    for name, v in values.items():
        frame = frame.withColumn(name, F.when(has, v).cast("float"))
    keep = ["lead_id", "as_of", *spec.feature_columns] + (["label"] if labelled else [])
    return frame.select(*keep)


SPEC_FOLDER = "_leadscore_spec"  # a leading "_": Spark and Arrow readers skip it as data
HORIZON = "label_horizon_days"  # stored with the spec: the horizon the labels were built with


def _is_local(path: str, spark: Any) -> bool:
    """A path this machine writes: ``file://``, or a plain path with a local master (on a
    cluster a plain path is on the cluster's default file system)."""
    if path.startswith("file://"):
        return True
    return not is_uri(path) and spark.sparkContext.master.startswith("local")


def write_parquet(
    frame: DataFrame, out: str, spec: FeatureSpec | None = None, horizon_days: int | None = None
) -> str:
    """Write a Spark frame as a Parquet folder (with the feature spec beside the data, for
    ``train --features``). A local folder appears whole or not at all: written beside its
    place, then renamed into it. A URI is written by Spark's own commit protocol (it marks
    a finished folder with ``_SUCCESS``)."""
    import json
    import shutil

    def write(target: str) -> None:
        frame.write.mode("overwrite").parquet(target)
        if spec is not None:
            stored = {**spec.to_dict(), **({HORIZON: int(horizon_days)} if horizon_days else {})}
            text = json.dumps(stored, sort_keys=True)
            spark = frame.sparkSession
            spark.createDataFrame([(text,)], "spec STRING").coalesce(1).write.mode(
                "overwrite"
            ).text(f"{target.rstrip('/')}/{SPEC_FOLDER}")

    if not _is_local(out, frame.sparkSession):
        write(out)
        return out
    target = Path(out.removeprefix("file://"))
    target.parent.mkdir(parents=True, exist_ok=True)
    _restore_killed(target)
    tmp = scratch_dir(f".{target.name}.", target.parent)
    try:
        write(str(tmp / "data"))
        old = tmp / "old"
        if target.exists():
            target.rename(old)  # the previous output moves aside only once the new one is whole
        try:
            (tmp / "data").rename(target)
        except OSError:
            if old.exists():
                old.rename(target)
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(target)


def _restore_killed(target: Path) -> None:
    """A run killed between moving the previous output aside and moving its own in left
    the previous one in its scratch folder: put it back before that folder is cleared."""
    if target.exists():
        return
    prefix = f".{target.name}."
    for folder in sorted(target.parent.glob(f"{glob.escape(prefix)}*")):
        if (folder / "old").is_dir() and is_orphan(folder, prefix):
            (folder / "old").rename(target)
            return


def _stored(folder: str) -> dict | None:
    import json

    parts = sorted((Path(folder) / SPEC_FOLDER).glob("part-*"))
    text = "".join(p.read_text() for p in parts).strip()
    return json.loads(text) if text else None


def read_spec(folder: str) -> FeatureSpec | None:
    """The feature spec ``write_parquet`` stored in a local Parquet folder, if any."""
    stored = _stored(folder)
    if stored is None:
        return None
    stored.pop(HORIZON, None)
    return FeatureSpec.from_dict(stored)


def read_horizon(folder: str) -> int | None:
    """The label horizon ``write_parquet`` stored beside the spec, if any."""
    stored = _stored(folder) or {}
    return int(stored[HORIZON]) if HORIZON in stored else None
