"""``leadscore experiment``: the holdout an uplift needs (``plan``), and the uplift routing
realised against its control arm (``report``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from leadscore.cli.options import Sub, add_config, add_data, say
from leadscore.errors import DataError, UsageError


def _planned(args: argparse.Namespace):
    """The config's holdout section with the command line's uplift, power and alpha."""
    from leadscore.config import load_config

    cfg = load_config(args.config)
    h = cfg.handoff.holdout
    uplift = h.uplift if args.uplift is None else args.uplift
    target = h.power if args.power is None else args.power
    alpha = h.alpha if args.alpha is None else args.alpha
    if uplift <= 0:
        raise UsageError(f"--uplift is a relative uplift above 0 (0.2 for +20%), not {uplift}")
    if not 0 < alpha < target < 1:
        raise UsageError(f"--power {target} and --alpha {alpha} must be in (0, 1), alpha < power")
    return cfg, uplift, target, alpha


def cmd_plan(args: argparse.Namespace) -> int:
    from leadscore.handoff import io
    from leadscore.handoff.plan import new_at_bar, plan_experiment
    from leadscore.scoring.history import nightly_files

    cfg, uplift, target, alpha = _planned(args)
    if args.holdout is not None and not 0 < args.holdout < 1:
        raise UsageError(f"--holdout is a share in (0, 1), not {args.holdout}")
    if args.nights < 1:
        raise UsageError(f"--nights must be 1 or more, not {args.nights}")
    tiers = [t.strip() for t in args.tiers.split(",") if t.strip()] if args.tiers else None
    scores, source = io.read_night(args.scores)
    new = None
    if io.is_history(Path(args.scores)):
        import pyarrow.parquet as pq

        cols = ["lead_id", "score", "tier", "probability"]
        nights = [pq.read_table(f, columns=cols).to_pandas() for f in nightly_files(args.scores)]
        new = new_at_bar(nights, tiers, args.min_score)
    try:
        plan = plan_experiment(
            scores,
            uplift,
            target,
            alpha,
            tiers=tiers,
            min_score=args.min_score,
            capacity=args.capacity,
            holdout=args.holdout,
            max_nights=args.nights,
            new_per_night=new,
        )
    except ValueError as err:
        raise DataError(f"scores {source}: {err}") from None
    say(f"scores {source}")
    for line in plan.lines(cfg.training.horizon_days):
        say(line)
    if args.json:
        from leadscore.data.files import write_atomic
        from leadscore.handoff.experiment import records

        text = json.dumps(
            {
                "scores": source,
                "bar": plan.bar,
                "leads_at_bar": plan.leads_at_bar,
                "new_per_night": plan.new_per_night,
                "uplift": uplift,
                "power": target,
                "alpha": alpha,
                "holdout": plan.share,
                "nights": records(plan.chosen.to_frame().T)[0]["nights"],
                "shares": records(plan.table),
                "notes": plan.notes,
            },
            indent=2,
        )
        say(f"plan json -> {write_atomic(Path(args.json), lambda p: p.write_text(text))}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from leadscore.data.load import load_streaming
    from leadscore.data.views import data_end
    from leadscore.handoff import io
    from leadscore.handoff.experiment import experiment_names, measure_experiment
    from leadscore.monitoring.experiment_page import write_experiment

    cfg, uplift, target, alpha = _planned(args)
    name = args.experiment or cfg.handoff.holdout.name
    if not Path(args.history).is_dir():
        raise DataError(f"history: {args.history} does not exist")
    log = io.read_logs(args.history)
    if name not in experiment_names(log):
        found = experiment_names(log)
        raise DataError(
            f"hand-off log {Path(args.history) / io.LOG}: no lead in the control arm of "
            f"experiment {name} ({len(log):,} rows over {log['handed_off_at'].nunique():,} "
            "nights; "
            + (
                f"experiments with one: {', '.join(found)})"
                if found
                else "hand off with --holdout)"
            )
        )
    tables, events, _ = load_streaming(
        args.data,
        cfg.columns.model_dump(),
        say,
        count_events=False,
        csv=cfg.io.csv.model_dump(),
        max_drop_share=cfg.validation.max_drop_share,
    )
    horizon = cfg.training.horizon_days
    result = measure_experiment(
        log, tables.outcomes, data_end(tables, events), horizon, name, uplift, target, alpha
    )
    say(f"experiment {name}: nights {result.first_night:%Y-%m-%d} to {result.last_night:%Y-%m-%d}")
    for line in report_lines(result):
        say(line)
    if args.out:
        say(f"experiment page -> {write_experiment(result, args.out)}")
    if args.json:
        from leadscore.data.files import write_atomic

        text = json.dumps(result.to_dict(), indent=2)
        say(f"experiment json -> {write_atomic(Path(args.json), lambda p: p.write_text(text))}")
    return 0


def report_lines(result) -> list[str]:
    """The report's findings in a few lines."""
    r, p = result.overall.iloc[0], result.power
    out = [
        f"  treated: {int(r['treated_conversions']):,} conversions of "
        f"{int(r['treated_leads']):,} leads ({r['treated_rate']:.2%}); control: "
        f"{int(r['control_conversions']):,} of {int(r['control_leads']):,} "
        f"({r['control_rate']:.2%}), within {result.horizon_days} days of each lead's first night",
        f"  {result.verdict()}",
        f"  power to detect {p.uplift:+.0%}: {p.achieved:.0%} of the planned {p.target:.0%}"
        + (
            f" (needs {p.treated_needed:,.0f} treated and {p.control_needed:,.0f} control leads)"
            if p.treated_needed == p.treated_needed
            else ""
        ),
    ]
    if result.waiting_leads:
        out.append(
            f"  waiting: {result.waiting_leads:,} leads of {result.waiting_nights:,} nights "
            f"within their horizon of the data's end ({result.data_end:%Y-%m-%d})"
        )
    return out + [f"  note: {n}" for n in result.notes]


def _planning(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--uplift",
        type=float,
        help="relative uplift of conversion to detect, 0.2 for +20%% (default: "
        "handoff.holdout.uplift, 0.2)",
    )
    p.add_argument(
        "--power", type=float, help="power to detect it (default: handoff.holdout.power, 0.8)"
    )
    p.add_argument(
        "--alpha",
        type=float,
        help="level of the two-sided test (default: handoff.holdout.alpha, 0.05)",
    )
    add_config(p, "YAML config (handoff.holdout, training.horizon_days, column mapping)")
    p.add_argument("--json", help="also write every figure to this JSON file")


def add_experiment(sub: Sub) -> None:
    e = sub.add_parser(
        "experiment",
        help="plan a holdout for a target uplift; report the uplift routing realised",
        description="plan: the holdout share and nights a relative uplift needs, from the "
        "expected conversions of the leads at the hand-off's bar. report: for the nights "
        "whose horizon has passed, conversions of the routed (treated) leads against the "
        "held-back (control) ones, the relative uplift with its 95%% interval, by tier and by "
        "night, and the power reached.",
    )
    actions = e.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser(
        "plan",
        help="the holdout share and nights needed to detect a relative uplift",
        description="From a night's scores (or a score history: its latest night, and the "
        "leads new at the bar per night over its nights), the holdout share and the number "
        "of nights of hand-offs needed to detect --uplift with --power at --alpha; without "
        "--holdout, the smallest share that needs at most --nights nights.",
    )
    p.add_argument("--scores", required=True, help="scores file or folder, or a score history")
    p.add_argument("--tiers", help="tiers handed off, comma separated (default: the best tier)")
    p.add_argument("--min-score", type=float, help="hand off scores at or above this instead")
    p.add_argument("--capacity", type=int, help="most leads handed off a night")
    p.add_argument("--holdout", type=float, help="plan this share (default: the smallest in time)")
    p.add_argument(
        "--nights", type=int, default=28, help="most nights the experiment may take (default 28)"
    )
    _planning(p)
    p.set_defaults(func=cmd_plan)
    r = actions.add_parser(
        "report",
        help="treated against control: the realised uplift with its interval, as HTML and JSON",
        description="Read the hand-off log of a score history and the outcomes of a data "
        "folder; for each lead of the experiment, its first night and whether it converted "
        "within training.horizon_days after it, once that horizon has passed by the data's end.",
    )
    r.add_argument("--history", required=True, help="score history folder with its hand-off log")
    add_data(r, "the data folder whose outcomes tell who converted", required=True)
    r.add_argument("--experiment", help="its name (default: handoff.holdout.name)")
    r.add_argument("--out", help="write the report page (.html)")
    _planning(r)
    r.set_defaults(func=cmd_report)
