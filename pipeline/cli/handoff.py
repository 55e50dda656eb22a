"""``leadscore handoff``: the leads to contact now, within capacity, routed to owners."""

from __future__ import annotations

import argparse
from pathlib import Path

from leadscore.cli.options import Sub, add_config, add_data, add_out, say
from leadscore.errors import UsageError


def cmd_handoff(args: argparse.Namespace) -> int:
    from leadscore.config import load_config
    from leadscore.data.files import read_lead_column
    from leadscore.handoff import io
    from leadscore.handoff.owners import load_owners
    from leadscore.handoff.select import route

    if args.capacity is None and not args.owners:
        raise UsageError("handoff needs --capacity N, --owners FILE, or both")
    if args.capacity is not None and args.capacity < 0:
        raise UsageError(f"--capacity must be 0 or more, not {args.capacity}")
    if args.tiers and args.min_score is not None:
        raise UsageError("give --tiers or --min-score, not both")
    owners = load_owners(args.owners) if args.owners else None
    scores, source = io.read_night(args.scores)
    night = io.night_of(scores)
    territory = None
    if owners is not None and owners.territory_by:
        if not args.data:
            raise UsageError(
                f"the owners are split by {owners.territory_by}: give --data DIR so each "
                f"lead's {owners.territory_by} can be read from its leads table"
            )
        mapping = load_config(args.config).columns.leads
        territory = read_lead_column(args.data, owners.territory_by, mapping, scores["lead_id"])
    history = args.history or (args.scores if io.is_history(Path(args.scores)) else None)
    recent = io.recent_handoffs(history, night, args.recent_days) if history else set()
    tiers = [t.strip() for t in args.tiers.split(",") if t.strip()] if args.tiers else None
    holdout_cfg = load_config(args.config).handoff.holdout
    holdout = holdout_cfg.share if args.holdout is None else args.holdout
    experiment = args.experiment or holdout_cfg.name
    if not 0 <= holdout < 1:
        raise UsageError(f"--holdout is a share in [0, 1), not {holdout}")
    result = route(
        scores,
        args.capacity,
        owners,
        territory,
        recent,
        tiers,
        args.min_score,
        holdout,
        experiment,
    )
    say(f"scores {source}, night {night:%Y-%m-%d}")
    written = _write(result.rows, args, scores)
    if args.excluded:
        from leadscore.data.files import write_table

        left = result.decisions[result.decisions["outcome"] != "handed off"]
        say(f"excluded -> {write_table(left, args.excluded)}")
    if history:
        named = experiment if holdout > 0 else None
        say(f"hand-off log -> {io.write_log(history, night, result.rows, result.control, named)}")
    else:
        say("no --history: nothing excluded as handed off recently, and this list is not logged")
    for line in result.lines(args.recent_days):
        say(line)
    say(f"hand-off list -> {written}")
    return 0


def _write(rows, args: argparse.Namespace, scores) -> Path:
    """The list in ``--format``: the plain CSV, or a CRM's own import shape."""
    from leadscore.handoff import io

    if args.format == "csv":
        return io.write_list(rows, args.out)
    return write_crm(rows, args.format, args.out, args.config, args.data)


def write_crm(rows, fmt: str, out: str, config: str | None, data: str | None) -> Path:
    """``rows`` written to ``out`` in a CRM's import shape (``leadscore.handoff.crm``)."""
    from leadscore.config import load_config
    from leadscore.handoff import crm
    from leadscore.model.tiers import tier_order

    if Path(out).suffix.lower() != crm.suffix(fmt):
        raise UsageError(f"--format {fmt} writes a {crm.suffix(fmt)} file, not {out}")
    cfg = load_config(config)
    emails = None
    if fmt == "hubspot" and cfg.crm.hubspot_key == "Email":
        if not data:
            raise UsageError("crm.hubspot_key Email: give --data DIR to read each lead's email")
        from leadscore.data.files import read_lead_column

        emails = read_lead_column(data, "email", cfg.columns.leads, rows["lead_id"])
    shaped = crm.shape(rows, fmt, cfg.crm, tier_order(cfg.tiers), emails)
    say(f"{fmt}: {shaped.line()}")
    return crm.write_shaped(shaped, fmt, out)


def add_handoff(sub: Sub) -> None:
    h = sub.add_parser(
        "handoff",
        help="the leads to contact now, within capacity, routed to owners, as a CRM-import CSV",
        description="Take the best leads of a night's scores (a scores file or a score history's "
        "latest night) above the bar (the night's best tier, unless --tiers or --min-score), "
        "leave out those handed off in the last --recent-days, and route them round-robin to "
        "the owners of their territory within capacity. Every scored lead is counted: handed "
        "off, below the bar, handed off recently, no owner for its territory, or over capacity.",
    )
    h.add_argument("--scores", required=True, help="scores file or folder, or a score history")
    h.add_argument("--capacity", type=int, help="most leads to hand off in this run")
    h.add_argument(
        "--owners",
        help="YAML or CSV of owners: name, capacity, and territories by country or industry",
    )
    add_out(h, "the hand-off list (.csv; .jsonl with --format dynamics)")
    add_data(h, "data folder whose leads table gives each lead's territory")
    add_config(h, "YAML config (column mapping of the leads table)")
    h.add_argument("--tiers", help="tiers handed off, comma separated (default: the best tier)")
    h.add_argument("--min-score", type=float, help="hand off scores at or above this instead")
    h.add_argument(
        "--history",
        help="score history folder whose hand-off log is read and added to (default: --scores "
        "when it is a history)",
    )
    h.add_argument(
        "--recent-days",
        type=int,
        default=7,
        help="leave out leads handed off in this many days before the night (default 7; 0: none)",
    )
    h.add_argument(
        "--holdout",
        type=float,
        help="share of the leads that would be handed off held back as a control arm, "
        "stable per lead and --experiment (default: handoff.holdout.share, 0)",
    )
    h.add_argument(
        "--experiment",
        help="the experiment's name: its arms are drawn from it (default: "
        "handoff.holdout.name, leadscore)",
    )
    h.add_argument(
        "--format",
        choices=["csv", "hubspot", "salesforce", "dynamics"],
        default="csv",
        help="csv (default), or a CRM's import shape: a HubSpot contacts CSV, a Salesforce "
        "Data Loader CSV, Dynamics 365 msdyn_predictivescore JSON lines (.jsonl); names "
        "from the config's crm: section",
    )
    h.add_argument("--excluded", help="also write every lead left out, with why (.csv/.parquet)")
    h.set_defaults(func=cmd_handoff)
