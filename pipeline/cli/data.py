"""Commands on data folders: ``generate``, ``validate``, ``import`` and ``features``.

Each command imports its stage when it runs, so ``leadscore --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from leadscore.cli.options import (
    Sub,
    add_as_of,
    add_config,
    add_data,
    add_engine,
    add_out,
    check_engine,
    dates,
    events_path,
    say,
)
from leadscore.errors import UsageError
from leadscore.words import counted

#: ``--segment-signal``'s choices (``leadscore.data.synthetic.segments.SEGMENTS``), spelled
#: here so ``leadscore --help`` does not import the generator.
SEGMENT_NAMES = ("americas", "europe")


def cmd_generate(args: argparse.Namespace) -> int:
    from leadscore.data.files import write_tables
    from leadscore.data.synthetic.shape import OTHER_CRM, Shape, reshape
    from leadscore.data.synthetic.world import generate_world

    t0 = time.perf_counter()
    try:
        tables = generate_world(
            args.leads,
            seed=args.seed,
            start=args.start,
            end=args.end,
            drift=args.drift,
            interaction=args.interaction,
            field_history=args.field_history,
            segment_signal=args.segment_signal,
            segment_strength=args.segment_strength,
        )
    except ValueError as e:
        raise UsageError(f"generate: {e}") from None
    base = OTHER_CRM if args.shape == "other-crm" else Shape()
    given = {
        k: v
        for k, v in {
            "extra_types": args.extra_event_types,
            "extra_share": args.extra_event_share,
            "variant_share": args.variant_share,
            "early_share": args.early_event_share,
            "closed_share": args.closed_share,
        }.items()
        if v is not None
    }
    try:
        shape = Shape(**{**vars(base), **given})
    except ValueError as e:
        raise UsageError(f"generate: {e}") from None
    if shape != Shape():
        if shape.extra_types and "extra_share" not in given and not shape.extra_share:
            shape = Shape(**{**vars(shape), "extra_share": 0.1})
        tables = reshape(tables, shape, seed=args.seed)
    paths = write_tables(tables, args.out, fmt=args.format)
    sizes = ", ".join(f"{name} {len(frame):,}" for name, frame in tables.items())
    say(f"generated {sizes} rows in {time.perf_counter() - t0:.1f}s -> {Path(args.out)}")
    for p in paths.values():
        say(f"  {p}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from leadscore.config import load_config
    from leadscore.data.load import check_folder, require_drops_within

    cfg = load_config(args.config)
    report = check_folder(args.data, cfg)
    say(report.summary())
    if report.fatal:
        print(f"leadscore: error: {report.fatal[0].line()}", file=sys.stderr)
        return 2
    require_drops_within(report, cfg)
    say(
        "valid: the data folder meets the contract"
        + (" (with the drops listed above)" if report.problems else "")
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from leadscore.data.importer import run_import, write_import

    result = run_import(args.config, args.source)
    for line in result.report.text():
        say(f"  {line}")
    paths = write_import(result.tables, args.out, args.format, result.report)
    say(f"{result.summary()} -> {Path(args.out)}")
    for p in paths.values():
        say(f"  {p}")
    return 0


def cmd_features(args: argparse.Namespace) -> int:
    from leadscore.config import load_config
    from leadscore.data.files import write_feature_table
    from leadscore.data.load import load_streaming
    from leadscore.training.dataset import feature_table, spec_for

    check_engine(args)
    moments = dates(args.as_of)
    cfg = load_config(args.config)
    t0 = time.perf_counter()
    if args.engine == "spark":
        return _features_spark(args, cfg, moments, t0)
    # Events stay in their file: the engine scans them, so memory does not grow with history.
    tables, events, _ = load_streaming(
        args.data,
        cfg.columns.model_dump(),
        say,
        csv=cfg.io.csv.model_dump(),
        max_drop_share=cfg.validation.max_drop_share,
    )
    spec = spec_for(tables, cfg, max(moments), events)
    table = feature_table(tables, cfg, moments, spec=spec, events=events)
    out = write_feature_table(table, args.out, spec, cfg.training.horizon_days)
    labelled = int(table["label"].notna().sum())
    say(
        f"features: {len(table):,} rows (open leads x {counted(len(moments), 'date')}), "
        f"{len(table.columns) - 3} feature columns, {labelled:,} labelled "
        f"({int(table['label'].sum()):,} positive) in {time.perf_counter() - t0:.1f}s -> {out}"
    )
    return 0


def _features_spark(args: argparse.Namespace, cfg, moments: list, t0: float) -> int:
    from leadscore.data.engine import spark_errors
    from leadscore.data.load import count_event_rules_spark, load_without_events
    from leadscore.features.spark import write_parquet
    from leadscore.io.spark import SparkEvents, spark_session
    from leadscore.training.dataset import spark_feature_table

    columns = cfg.columns.model_dump()
    share = cfg.validation.max_drop_share
    csv = cfg.io.csv.model_dump()
    tables, _ = load_without_events(args.data, columns, say, csv, share)
    with spark_errors(f"features for {len(tables.leads):,} leads"):
        spark = spark_session(args.spark_master)
        events = SparkEvents(spark, events_path(args), columns.get("events") or {}, csv)
        for line in count_event_rules_spark(events, tables.leads, share):
            say(f"  data: {line}")
        frame, spec = spark_feature_table(tables, cfg, moments, events)
        out = write_parquet(frame, args.out, spec, cfg.training.horizon_days)
        rows, labelled, positive = (
            spark.read.parquet(out)
            .selectExpr("COUNT(*)", "COUNT(label)", "COALESCE(SUM(label), 0)")
            .first()
        )
    say(
        f"features (spark): {rows:,} rows (open leads x {counted(len(moments), 'date')}), "
        f"{len(spec.feature_columns)} feature columns, {labelled:,} labelled "
        f"({int(positive):,} positive) in {time.perf_counter() - t0:.1f}s -> {out}"
    )
    return 0


# --- arguments --------------------------------------------------------------------------


def add_generate(sub: Sub) -> None:
    g = sub.add_parser(
        "generate",
        help="write a realistic synthetic data folder",
        description="Write a synthetic B2B world: leads, events, outcomes.",
    )
    add_out(g, "folder to write leads/events/outcomes into")
    g.add_argument("--leads", type=int, default=20_000, help="number of leads (default 20000)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument(
        "--format", choices=["parquet", "csv"], default="parquet", help="file format (parquet)"
    )
    g.add_argument("--start", default="2024-01-01", help="first lead created (default 2024-01-01)")
    g.add_argument("--end", default="2025-12-31", help="end of the history (default 2025-12-31)")
    g.add_argument(
        "--shape",
        choices=["default", "other-crm"],
        default="default",
        help="other-crm: 5 event types outside the contract (15%% more events), 20%% of types "
        "spelled another way, 2%% of events before their lead's creation, 44%% of leads closed",
    )
    g.add_argument("--extra-event-types", type=int, help="event types outside the contract (0-8)")
    g.add_argument("--extra-event-share", type=float, help="their events, as a share (0.1)")
    g.add_argument("--variant-share", type=float, help="share of event types spelled otherwise")
    g.add_argument("--early-event-share", type=float, help="share of events before creation")
    g.add_argument("--closed-share", type=float, help="share of leads closed by the end")
    g.add_argument(
        "--drift",
        type=float,
        default=0.0,
        help="0-2: the win rate climbs across the history and company revenue grows beyond "
        "its earlier range, the odds of a win rising with it (default 0)",
    )
    g.add_argument(
        "--interaction",
        type=float,
        default=0.0,
        help="0-2: an exclusive-or effect of industry and lead source on winning (default 0)",
    )
    g.add_argument(
        "--field-history",
        action="store_true",
        help="sales edit lead source and blank job titles after deals close (won ones more "
        "often): the leads table holds the edited values, field_history the edits",
    )
    g.add_argument(
        "--segment-signal",
        metavar="SEGMENT",
        choices=sorted(SEGMENT_NAMES),
        help="plant a segment of leads, by country, where buyers read the pricing pages and "
        "researchers do not, while for every other lead price-shoppers read them and buyers "
        "do not (page views and pricing-page views change type; leads, closes and wins stay "
        "the seed's): americas (US, Canada, Brazil, Mexico: about half the leads) or europe "
        "(UK, Germany, France, Netherlands, Spain, Poland, Russia: about 30%%) (default: none)",
    )
    g.add_argument(
        "--segment-strength",
        type=float,
        default=1.0,
        help="0-2: each such view changes type with probability K/2 (default 1: half of "
        "them; 0 leaves the seed's world)",
    )
    g.set_defaults(func=cmd_generate)


def add_validate(sub: Sub) -> None:
    v = sub.add_parser(
        "validate",
        help="check a data folder against the contract",
        description="Check a data folder; every problem named with table, column and row count.",
    )
    add_data(v, "folder with leads, events, outcomes (.parquet or .csv)", required=True)
    add_config(v, "YAML config (column mapping, CSV options, drop limit)")
    v.set_defaults(func=cmd_validate)


def add_import(sub: Sub) -> None:
    p = sub.add_parser(
        "import",
        help="turn a CRM export into a contract data folder, by config",
        description="Read a CRM export (several CSV/Parquet files), join, normalise values, map the "
        "status to outcomes and write leads, events and outcomes that meet the contract. Every rule "
        "reports how many values or rows it touched.",
    )
    p.add_argument("--config", required=True, help="YAML import config (an import: section)")
    p.add_argument("--source", required=True, help="folder holding the export's files")
    add_out(p, "data folder to write leads/events/outcomes into")
    p.add_argument(
        "--format", choices=["parquet", "csv"], default="parquet", help="file format (parquet)"
    )
    p.set_defaults(func=cmd_import)


def add_features(sub: Sub) -> None:
    f = sub.add_parser(
        "features",
        help="write the feature table for given dates",
        description="One row per open lead and date, with lead_id, as_of and label where the horizon has passed.",
    )
    add_data(f, required=True)
    add_as_of(f, "DATE[,DATE...]: the moments to build rows at", required=True)
    add_out(f, "output Parquet file (a Parquet folder with --engine spark)")
    add_config(f)
    add_engine(f)
    f.set_defaults(func=cmd_features)
