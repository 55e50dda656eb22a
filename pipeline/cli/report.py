"""``leadscore report`` (the review for sales) and ``leadscore accounts`` (scores rolled up
to accounts, which the review shows)."""

from __future__ import annotations

import argparse

from leadscore.cli.options import Sub, add_config, add_data, add_model, add_out, say


def cmd_report(args: argparse.Namespace) -> int:
    from leadscore.config import load_config, registered_name
    from leadscore.reporting.render import build_report
    from leadscore.scoring.sinks import model_of_scores

    name = registered_name(load_config(args.config), args.flat)
    # Without --model, a scores file is reviewed with the model that wrote it.
    model = args.model or (model_of_scores(args.scores) if args.scores else None)
    out = build_report(
        model, args.scores, args.out, registered_name=name, accounts_path=args.accounts
    )
    say(f"report -> {out}")
    return 0


def cmd_accounts(args: argparse.Namespace) -> int:
    from leadscore.config import load_config
    from leadscore.data.files import read_lead_column, write_table
    from leadscore.handoff.io import read_night
    from leadscore.scoring.accounts import roll_up

    scores, source = read_night(args.scores)
    mapping = load_config(args.config).columns.leads
    account = read_lead_column(args.data, "account", mapping, scores["lead_id"])
    rollup = roll_up(scores, account)
    say(f"scores {source}")
    say(rollup.line())
    out = write_table(rollup.accounts, args.out)
    say(f"accounts -> {out}")
    return 0


def add_report(sub: Sub) -> None:
    r = sub.add_parser(
        "report",
        help="the one-file HTML review for sales of a registered model",
        description="What drives the score, conversion by score band, model vs points baseline, calibration, "
        "the capacity table and, with --scores, example leads per tier with their reasons.",
    )
    add_model(r, "MLflow model URI (default: the model that wrote --scores, else the champion)")
    r.add_argument("--scores", help="a scores file from `leadscore score`")
    r.add_argument("--accounts", help="an accounts file from `leadscore accounts`")
    add_out(r, "output .html file")
    add_config(r, "YAML config (registered model name)")
    r.add_argument(
        "--flat", action="store_true", help="the champion of the flat-mode registry name"
    )
    r.set_defaults(func=cmd_report)


def add_accounts(sub: Sub) -> None:
    a = sub.add_parser(
        "accounts",
        help="roll a night's scores up to accounts (B2B buying groups)",
        description="One row per account of the leads table's account column (columns.leads."
        "account in the config): open leads, P(at least one converts) = 1 - prod(1 - p) "
        "assuming the leads convert independently, expected conversions, and the best lead "
        "with its reasons. Leads with no account are counted and left out.",
    )
    a.add_argument("--scores", required=True, help="scores file or folder, or a score history")
    add_data(a, "data folder whose leads table names accounts", required=True)
    add_config(a, "YAML config (column mapping of the leads table)")
    add_out(a, "accounts file (.parquet or .csv)")
    a.set_defaults(func=cmd_accounts)
