"""``leadscore train``: event mode from a data folder or a feature table, or flat mode."""

from __future__ import annotations

import argparse

from leadscore.cli.options import Sub, add_as_of, add_config, add_data, dates, say
from leadscore.errors import UsageError


def cmd_train(args: argparse.Namespace) -> int:
    from leadscore.config import load_config
    from leadscore.tracking import check_reachable

    check_reachable()  # before hours of work that could not be recorded
    cfg = load_config(args.config)
    if args.features:
        from leadscore.training.run import train_features

        summary = train_features(args.features, cfg, say)
        say(f"run {summary.run_id} -> {summary.model_uri}")
        return 0
    if args.flat:
        from leadscore.training.flat import train_flat

        if not args.label:
            raise UsageError("train --flat needs --label COLUMN")
        summary = train_flat(
            args.flat,
            args.label,
            cfg,
            date_column=args.date_column,
            id_column=args.id_column,
            ordered=args.ordered,
            say=say,
        )
    else:
        from leadscore.data.load import load_streaming
        from leadscore.training.run import train_events

        if not args.data:
            raise UsageError("train needs --data DIR (or --flat FILE --label COLUMN)")
        as_of = dates(args.as_of)[0] if args.as_of else None
        # Events stay in their file: the engine scans them, so memory follows the sample.
        tables, events, _ = load_streaming(
            args.data,
            cfg.columns.model_dump(),
            say,
            csv=cfg.io.csv.model_dump(),
            max_drop_share=cfg.validation.max_drop_share,
        )
        summary = train_events(tables, cfg, as_of, say, events)
    say(f"run {summary.run_id} -> {summary.model_uri}")
    return 0


def add_train(sub: Sub) -> None:
    t = sub.add_parser(
        "train",
        help="fit baseline and model, calibrate, evaluate, log to MLflow, register",
        description="Build the training table; estimate the model against the points baseline with a "
        "rolling backtest (each fold trained only on what was known before its test period); refit the "
        "deployed model on every labelled snapshot and calibrate it on the folds' out-of-time predictions; "
        "log the run to MLflow and register the model (and the points sheet, when it wins). With model.kind "
        "auto every contestant kind runs the same folds and the best on the latest ones is deployed. The "
        "champion alias moves to the candidate unless it is worse, beyond chance, than the champion's recipe "
        "re-run through the same folds.",
    )
    add_data(t, "data folder (event mode)")
    t.add_argument(
        "--features",
        help="event mode from a feature table written by `leadscore features` (either engine)",
    )
    add_config(t)
    add_as_of(t, "act as if today were DATE, using nothing after it")
    t.add_argument(
        "--flat", help="flat mode: a CSV/Parquet file with one row per lead and a label column"
    )
    t.add_argument("--label", help="flat mode: the label column (1/0, true/false, yes/no)")
    t.add_argument(
        "--date-column",
        help="flat mode: split by this date column (out of time) instead of stratified",
    )
    t.add_argument(
        "--id-column", help="flat mode: the id column (default: lead_id or the first column)"
    )
    t.add_argument(
        "--ordered",
        action="store_true",
        help="flat mode: the rows are in time order; backtest by row position (out of time)",
    )
    t.set_defaults(func=cmd_train)
