"""``leadscore score`` (a night of a data folder, or a flat file) and ``leadscore history``."""

from __future__ import annotations

import argparse
from pathlib import Path

from leadscore.cli.options import (
    Sub,
    add_as_of,
    add_config,
    add_data,
    add_engine,
    add_model,
    add_out,
    check_engine,
    dates,
    events_path,
    say,
)
from leadscore.errors import UsageError


def cmd_score(args: argparse.Namespace) -> int:
    from leadscore.config import load_config
    from leadscore.scoring.night import score_flat, score_night

    check_engine(args)
    if args.history and args.flat:
        raise UsageError("--history keeps event-mode nights (--data DIR --as-of DATE)")
    if args.format != "file":
        if args.engine == "spark":
            raise UsageError("--format writes a CRM file from the DuckDB engine's scores only")
        _crm_beside(args)
    cfg = load_config(args.config)
    if args.flat:
        night = score_flat(args.flat, args.out, cfg, args.model, say)
        return _said(args, night.summary, night.model, None)
    if not (args.data and args.as_of):
        raise UsageError("score needs --data DIR --as-of DATE (or --flat FILE)")
    as_of = dates(args.as_of)
    if len(as_of) != 1:
        raise UsageError("score --as-of takes one date")
    if args.engine == "spark":
        return _score_spark(args, cfg, as_of[0])
    night = score_night(
        args.data, as_of[0], args.out, cfg, args.model, history=args.history, say=say
    )
    return _said(args, night.summary, night.model, as_of[0])


def _crm_beside(args: argparse.Namespace) -> None:
    """With a CRM ``--format``, ``--out`` is the CRM's file and the scores go beside it
    (``<out>.scores.parquet``), where the history and the monitor read them."""
    from leadscore.handoff.crm import suffix

    crm_out = Path(args.out)
    if crm_out.suffix.lower() != suffix(args.format):
        raise UsageError(
            f"--format {args.format} writes a {suffix(args.format)} file, not {crm_out}"
        )
    args.crm_out = str(crm_out)
    args.out = str(crm_out.with_name(crm_out.stem + ".scores.parquet"))


def _said(args: argparse.Namespace, summary, model, night) -> int:
    """The night's closing lines, then the night kept in the history (with ``--history``)."""
    from leadscore.scoring.night import keep_night

    engine = " (spark)" if getattr(args, "engine", None) == "spark" else ""
    say(
        f"scores{engine} -> {summary.out}"
        + (f"; rejects -> {summary.rejects}" if summary.rejects else "")
    )
    say(summary.line())
    _say_tiers(summary.out, model.settings)
    if getattr(args, "crm_out", None):
        import pandas as pd

        from leadscore.cli.handoff import write_crm
        from leadscore.handoff.crm import from_scores

        scores = from_scores(pd.read_parquet(summary.out))
        written = write_crm(scores, args.format, args.crm_out, args.config, args.data)
        say(f"{args.format} -> {written}")
    if args.history:
        say(f"history -> {keep_night(args.history, summary, night, model.version)}")
    return 0


def _say_tiers(out, settings) -> None:
    """One line per tier: leads and the conversions their calibrated probabilities add up to."""
    import pandas as pd
    import pyarrow.parquet as pq

    from leadscore.model.tiers import expected_by_tier, tier_order
    from leadscore.reporting.wording import score_ranges, tier_ranges

    path, cols = Path(out), ["tier", "probability", "score"]
    frame = (
        pd.read_csv(path, usecols=cols)
        if path.suffix == ".csv"
        else pq.read_table(path, columns=cols).to_pandas()
    )
    order = tier_order(settings.tiers)
    order += sorted(set(frame["tier"].dropna().unique().astype(str)) - set(order))
    rules = tier_ranges(settings.tiers)
    spans = score_ranges(frame["score"], frame["tier"]) if settings.tiers.ranked else {}
    n = max(len(frame), 1)
    for name, leads, expected in expected_by_tier(frame["tier"], frame["probability"], order):
        about = "; ".join(w for w in (rules.get(name), spans.get(name)) if w)
        say(
            f"  tier {name}: {leads:,} leads ({leads / n:.1%}), "
            f"{expected:,.1f} expected conversions" + (f" ({about})" if about else "")
        )


def _score_spark(args: argparse.Namespace, cfg, as_of) -> int:
    from leadscore.data.engine import spark_errors
    from leadscore.io.spark import spark_session
    from leadscore.scoring.history import previous_night
    from leadscore.scoring.night import find_model, require_mode, warn_age
    from leadscore.scoring.spark import score_spark

    model = find_model(args.model, cfg)
    require_mode(model, flat=False)
    warn_age(model.settings, as_of)
    # The version resolved once: spark_udf must not resolve the alias again (a training run
    # could move it in between, mixing two models in one file).
    uri = model.uri
    pinned = f"models:/{model.version}" if uri.startswith("models:/") and "@" in uri else uri
    with spark_errors(f"scoring at {as_of:%Y-%m-%d}"):
        spark = spark_session(args.spark_master)
        summary = score_spark(
            spark,
            args.data,
            events_path(args),
            model.settings.columns.model_dump(),
            pinned,
            model.scorer,
            model.settings,
            model.version,
            as_of,
            args.out,
            say,
            csv=cfg.io.csv.model_dump(),
            max_drop_share=cfg.validation.max_drop_share,
            previous=previous_night(args.history, as_of) if args.history else None,
        )
    return _said(args, summary, model, as_of)


def cmd_history(args: argparse.Namespace) -> int:
    import pandas as pd

    from leadscore.errors import DataError
    from leadscore.scoring.history import read_history

    rows = read_history(args.history, lead=args.lead)
    if rows.empty:
        raise DataError(f"history: no kept scores for lead {args.lead!r} in {args.history}")
    for r in rows.itertuples():
        say(
            f"{pd.Timestamp(r.as_of):%Y-%m-%d}  score {r.score:5.1f}  tier {r.tier}  "
            f"{r.model_version}  {r.top_reasons}"
        )
    return 0


def add_score(sub: Sub) -> None:
    sc = sub.add_parser(
        "score",
        help="batch prediction for every open lead at a date",
        description="Score every open lead at --as-of with the champion (or --model URI): probability, score, "
        "tier, baseline score and MQL/SQL status, top reasons. Rows that cannot be scored go to a rejects file.",
    )
    add_data(sc, "data folder (event mode)")
    add_as_of(sc, "DATE to score at")
    sc.add_argument("--flat", help="flat mode: a file of new rows shaped like the training file")
    add_model(sc, "MLflow model URI (default: models:/<name>@champion)")
    add_out(sc, "output file (.parquet or .csv; with a CRM --format, the CRM's file)")
    sc.add_argument(
        "--format",
        choices=["file", "hubspot", "salesforce", "dynamics"],
        default="file",
        help="file (default: Parquet or CSV by --out), or a CRM's import shape written to "
        "--out with the scores beside it as <out>.scores.parquet",
    )
    add_config(sc, "YAML config (registered model name, column mapping)")
    sc.add_argument(
        "--history",
        help="keep the scores in this history folder too (a rerun of the night replaces its file)",
    )
    add_engine(sc)
    sc.set_defaults(func=cmd_score)


def add_history(sub: Sub) -> None:
    h = sub.add_parser(
        "history",
        help="a lead's scores over the nights kept with score --history",
        description="Print one lead's kept scores, oldest night first: score, tier, model "
        "version and reasons.",
    )
    h.add_argument("--history", required=True, help="the history folder")
    h.add_argument("--lead", required=True, help="the lead_id")
    h.set_defaults(func=cmd_history)
