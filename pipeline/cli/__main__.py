"""``python -m leadscore.cli``: the same process as the ``leadscore`` command."""

from leadscore.cli.main import run

run()
