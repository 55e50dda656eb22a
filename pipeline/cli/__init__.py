"""The ``leadscore`` command line: ``main`` (argv in, exit status out) and ``run`` (the
console script). ``main.py`` holds the parser; one module per command group holds its
commands (data, train, score, models, report, monitor, handoff; serve to come)."""

from leadscore.cli.main import main, parser, run

__all__ = ["main", "parser", "run"]
