"""``leadscore serve``: one lead scored the moment it acts, over HTTP, with the nightly
batch's features, score and reasons (``leadscore.serving``)."""

from __future__ import annotations

import argparse
import ipaddress
import os
from pathlib import Path

from leadscore.cli.options import Sub, add_config, add_data, add_model, say
from leadscore.errors import UsageError

LOOPBACK = ("localhost",)


def _loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_for(host: str, token_env: str | None) -> str | None:
    """The bearer token requests must carry: required before binding anything but loopback."""
    token = os.environ.get(token_env) if token_env else None
    if token_env and not token:
        raise UsageError(f"--token-env {token_env}: that environment variable is not set")
    if not _loopback(host) and token is None:
        raise UsageError(
            f"--host {host} is reachable from other machines: set a bearer token with "
            "--token-env NAME (the name of an environment variable holding it)"
        )
    return token


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from leadscore.config import load_config, registered_name
    from leadscore.data.load import load_data
    from leadscore.data.validate import require_valid
    from leadscore.scoring.night import find_model, require_mode
    from leadscore.scoring.online import Folder
    from leadscore.serving.app import Service, create_app
    from leadscore.serving.notify import Notifier

    token = token_for(args.host, args.token_env)
    if args.max_body_bytes < 1:
        raise UsageError(f"--max-body-bytes must be positive, not {args.max_body_bytes}")
    cfg = load_config(args.config)
    model = find_model(args.model, cfg)
    require_mode(model, flat=False)
    columns = model.settings.columns.model_dump()
    folder = None
    if args.data:
        tables = require_valid(load_data(args.data, columns, cfg.io.csv.model_dump()))
        folder = Folder(tables)
        changes = (
            f", {len(folder.field_history):,} field changes"
            if folder.field_history is not None
            else ""
        )
        say(f"data: {len(folder.leads):,} leads and {len(folder.events):,} events{changes} indexed")
    history = Path(args.history) if args.history else None
    notifier = None
    if args.notify:
        state = history / "notified.json" if history else None
        notifier = Notifier(args.notify, state, args.recent_days)
    service = Service(
        model=model,
        uri=model.uri,
        name=registered_name(cfg),
        folder=folder,
        columns=columns,
        history=history,
        notifier=notifier,
    )
    say(f"model {model.version}; tiers start where they did on {service.floors_from}")
    say(f"serving on http://{args.host}:{args.port} (POST /score, GET /health)")
    app = create_app(service, token, args.max_body_bytes)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        if notifier is not None:
            notifier.close()
    return 0


def add_serve(sub: Sub) -> None:
    s = sub.add_parser(
        "serve",
        help="score one lead at a time over HTTP, as the nightly batch does",
        description=(
            "GET /health; POST /score with {as_of?, leads: [{lead_id, fields..., events: "
            "[{occurred_at, event_type}], stages: [{stage, entered_at}]}]} answers "
            "{scores: [...]} with the batch's columns. With --data, a lead sent by id alone "
            "takes its fields and history from the folder."
        ),
    )
    add_model(s)
    add_data(s, help="data folder whose leads can be sent by id (indexed once at start)")
    add_config(s)
    s.add_argument(
        "--history", help="score history: the latest night's tiers and where tiers start"
    )
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--notify", help="URL to POST to when a lead crosses into the top tier")
    s.add_argument(
        "--recent-days",
        type=int,
        default=7,
        help="notify a lead at most once in this many days (default 7)",
    )
    s.add_argument(
        "--token-env",
        help="environment variable holding a bearer token every request must carry "
        "(required to bind an address other than loopback)",
    )
    s.add_argument(
        "--max-body-bytes",
        type=int,
        default=1_000_000,
        help="largest request body accepted (default 1,000,000)",
    )
    s.set_defaults(func=cmd_serve)
