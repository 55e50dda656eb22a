"""The monitor's pages drawn from their templates, with the review's stylesheet inline."""

from __future__ import annotations

from functools import cache
from importlib import resources

import jinja2
from markupsafe import Markup


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("leadscore.monitoring", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render(template: str, page: object) -> str:
    """``template`` drawn for ``page`` (its data, as ``page``)."""
    css = resources.files("leadscore.reporting").joinpath("report.css").read_text("utf-8")
    # The stylesheet is ours, not data: it goes in unescaped (its quotes must stay quotes).
    return _environment().get_template(template).render(page=page, css=Markup(css))
