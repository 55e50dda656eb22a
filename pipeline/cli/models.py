"""``leadscore models``: the registered versions listed, one promoted, or the champion rolled back."""

from __future__ import annotations

import argparse

from leadscore.cli.options import Sub, add_config, say
from leadscore.errors import UsageError


def cmd_models(args: argparse.Namespace) -> int:
    from leadscore.config import load_config, registered_name
    from leadscore.model import versions

    name = registered_name(load_config(args.config), args.flat)
    if args.action == "list":
        for row in versions.list_versions(name):
            say(row.line())
        return 0
    if args.action == "promote":
        if not args.version:
            raise UsageError("models promote needs a VERSION")
        before, now = versions.promote(name, args.version, args.reason or "promoted by hand")
        was = f"v{before}" if before else "no champion"
        say(f"{name}: champion v{now} (was {was})")
        return 0
    if args.version:
        raise UsageError("models rollback takes no VERSION (it returns to the previous champion)")
    left, back = versions.rollback(name, args.reason or "rolled back by hand")
    say(f"{name}: champion v{back} (rolled back from v{left})")
    return 0


def add_models(sub: Sub) -> None:
    m = sub.add_parser(
        "models",
        help="list the registered versions, promote one, or roll the champion back",
        description="list: every version with its backtest metrics, training window and aliases. "
        "promote VERSION: point the champion alias at it. rollback: point it back at the "
        "version that was champion before the current one. Moves are recorded as tags on the "
        "version (who, when, why); score and report follow the alias.",
    )
    m.add_argument("action", choices=["list", "promote", "rollback"], help="what to do")
    m.add_argument("version", nargs="?", help="promote: the version (e.g. 3 or v3)")
    m.add_argument("--reason", help="why, recorded on the version")
    add_config(m, "YAML config (registered model name)")
    m.add_argument("--flat", action="store_true", help="the flat-mode model's registry entry")
    m.set_defaults(func=cmd_models)
