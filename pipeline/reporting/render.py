"""``leadscore report``: one self-contained HTML page about a registered model, for sales.

The page is built from what the training run logged to MLflow (evaluation tables, plots, a
sample of held-out feature rows) plus, optionally, a scores file written by ``leadscore
score``. Everything is in the one file: inline CSS, charts as base64 PNG, no scripts and no
external assets, so it can be mailed or opened offline.

Sections: what the score means (header), what drives it, conversion by score band and tier,
the model against the points baseline (with confidence intervals and a capacity table),
calibration, and, given a scores file, today's leads by tier with a few examples and how the
model's tiers differ from the points model's MQL/SQL status; given an accounts file, the
accounts most likely to bring a conversion. An appendix for analysts closes the page: the
notes from training, the backtest, the tournament and the champion decision, in their
technical terms (``reporting.appendix``). Section data comes from pure functions, one
module per section (``reporting.header``, ``reporting.drivers``, ..., ``reporting.today``); the
Jinja2 templates next to this module lay it out, with autoescaping on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from leadscore import tracking
from leadscore.data.files import write_atomic
from leadscore.model import registered
from leadscore.reporting import calibration, conversion, drivers, header, versus
from leadscore.reporting.accounts import AccountsSection, accounts_section, read_accounts
from leadscore.reporting.appendix import Appendix, appendix_section
from leadscore.reporting.funnel import FunnelSection, funnel_section
from leadscore.reporting.inputs import RunTables, load_run, read_scores
from leadscore.reporting.today import Today, todays_leads


@dataclass
class Page:
    header: header.Header
    drivers: drivers.Drivers
    conversion: conversion.Conversion | None
    versus: versus.Versus
    calibration: calibration.Calibration
    funnel: FunnelSection | None
    today: Today | None
    accounts: AccountsSection | None
    appendix: Appendix | None  # for analysts, after every section for sales
    generated: str
    run_id: str
    uri: str
    store: str


def build_page(
    run: RunTables,
    scores: pd.DataFrame | None,
    generated: datetime,
    accounts: pd.DataFrame | None = None,
) -> Page:
    """Every section's data, from the run's tables and optional scores and accounts files."""
    imp, basis = drivers.drivers(run.model.scorer, run.sample)
    return Page(
        header=header.header(run, scores, imp, basis),
        drivers=drivers.drivers_section(run, imp, basis),
        conversion=conversion.conversion_section(run),
        versus=versus.versus_section(run, versus.capacity_period(run)),
        calibration=calibration.calibration_section(run),
        funnel=funnel_section(run.funnel, run.outcome),
        today=todays_leads(run, scores) if scores is not None else None,
        accounts=accounts_section(accounts) if accounts is not None else None,
        appendix=appendix_section(run),
        generated=f"{generated:%Y-%m-%d %H:%M UTC}",
        run_id=run.ref.run_id,
        uri=run.ref.uri,
        store=tracking.tracking_uri(),
    )


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("leadscore.reporting", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render(page: Page) -> str:
    """The page as HTML."""
    css = resources.files("leadscore.reporting").joinpath("report.css").read_text("utf-8")
    # The stylesheet is ours, not data: it goes in unescaped (its quotes must stay quotes).
    return _environment().get_template("page.html.j2").render(page=page, css=Markup(css))


def build_report(
    model_uri: str | None,
    scores_path: str | None,
    out: str,
    *,
    registered_name: str = "leadscore",
    accounts_path: str | None = None,
) -> Path:
    """Write the HTML report for a registered model (default: the champion) to ``out``.

    ``scores_path`` (optional): a scores file from ``leadscore score`` to add today's leads
    by tier. ``out`` may be a folder (``report.html`` is written into it). Bad input (unknown
    model, missing or malformed scores file) raises a one-line error before anything is
    written. ``accounts_path`` (optional): an accounts file from ``leadscore accounts``.
    Returns the written path.
    """
    scores = read_scores(scores_path) if scores_path else None
    accounts = read_accounts(accounts_path) if accounts_path else None
    uri = tracking.resolve_model_uri(model_uri, registered_name)
    tracking.connect_existing()
    ref = tracking.resolve_model(uri, registered_name)
    run = load_run(ref, registered.load_registered(uri))
    html = render(build_page(run, scores, datetime.now(tz=timezone.utc), accounts))
    target = Path(out)
    if target.is_dir():
        target = target / "report.html"
    return write_atomic(target, lambda p: p.write_text(html, encoding="utf-8"))
