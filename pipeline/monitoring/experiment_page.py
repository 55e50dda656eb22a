"""The experiment as HTML: its own page (``experiment report --out``) and the section the
monitor shows when the hand-off log holds a control arm. Figures are formatted here and
laid out by ``templates/experiment.html.j2`` and ``templates/experiment_section.html.j2``
(autoescaped), in the review's style."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from leadscore.data.files import write_atomic
from leadscore.handoff.experiment import Experiment, signed
from leadscore.monitoring.html import render
from leadscore.reporting.wording import plural, rate

Rows = list[list[str]]

METHOD = (
    "A lead counts once, in its arm, from the first night it entered the experiment; it "
    "converted when a won deal closed within the horizon after that night. The uplift is the "
    "treated conversion rate over the control's, less one; its 95% interval combines the "
    "Wilson interval of each arm (MOVER-R). The difference in rates has Newcombe's interval."
)


@dataclass
class ExperimentView:
    name: str
    verdict: str
    covers_zero: bool
    #: (what, value, detail) for the cards.
    cards: list[tuple[str, str, str]]
    difference: str
    power: str
    tiers: Rows
    nights: Rows
    method: str
    notes: list[str]


@dataclass
class ExperimentPage:
    title: str
    headline: str
    facts: list[tuple[str, str]]
    view: ExperimentView
    generated: str


def _interval(low: float, high: float) -> str:
    return f"{signed(low)} to {signed(high)}"


def _rows(frame: pd.DataFrame, key: str, fmt) -> Rows:
    return [
        [
            fmt(getattr(r, key)),
            f"{r.treated_leads:,}",
            f"{r.treated_conversions:,} ({rate(r.treated_rate)})",
            f"{r.control_leads:,}",
            f"{r.control_conversions:,} ({rate(r.control_rate)})",
            signed(r.uplift),
            _interval(r.uplift_low, r.uplift_high),
        ]
        for r in frame.itertuples()
    ]


def _power_text(x: Experiment) -> str:
    p = x.power
    if not math.isfinite(p.achieved):
        return "Power not known yet: no control lead has a known outcome."
    text = (
        f"Power to detect {p.uplift:+.0%} (a control rate of {rate(p.control_rate)} raised to "
        f"{rate(p.control_rate * (1 + p.uplift))}) at level {p.alpha:g}: {p.achieved:.0%}, "
        f"planned {p.target:.0%}."
    )
    if not math.isfinite(p.treated_needed):
        return text
    if p.achieved >= p.target:
        return text + " The experiment has reached its planned power."
    more = (
        f" The planned power needs about {p.treated_needed:,.0f} treated and "
        f"{p.control_needed:,.0f} control leads with known outcomes; {p.treated:,} treated "
        "leads have one"
        + (f" and {p.treated_waiting:,} more are waiting" if p.treated_waiting else "")
    )
    if p.nights_more > 0 and math.isfinite(p.nights_more):
        more += (
            f"; at {p.pace:,.0f} treated leads a night, about "
            f"{plural(int(p.nights_more), 'more night')} of hand-offs"
        )
    return text + more + "."


def experiment_view(x: Experiment) -> ExperimentView:
    """Every figure of the experiment's section, formatted."""
    r = x.overall.iloc[0]
    return ExperimentView(
        name=x.name,
        verdict=x.verdict(),
        covers_zero=x.covers_zero,
        cards=[
            (
                "Treated (routed)",
                rate(r["treated_rate"]),
                f"{int(r['treated_conversions']):,} of {int(r['treated_leads']):,} leads converted",
            ),
            (
                "Control (held back)",
                rate(r["control_rate"]),
                f"{int(r['control_conversions']):,} of {int(r['control_leads']):,} leads converted",
            ),
            (
                "Uplift",
                signed(r["uplift"]),
                f"95% interval {_interval(r['uplift_low'], r['uplift_high'])}",
            ),
            (
                "Power",
                "–" if not math.isfinite(x.power.achieved) else f"{x.power.achieved:.0%}",
                f"to detect {x.power.uplift:+.0%}; planned {x.power.target:.0%}",
            ),
        ],
        difference=(
            f"Difference in conversion rate: {r['difference'] * 100:+.2f} points "
            f"(95% interval {r['difference_low'] * 100:+.2f} to "
            f"{r['difference_high'] * 100:+.2f})."
            if math.isfinite(float(r["difference"]))
            else ""
        ),
        power=_power_text(x),
        tiers=_rows(x.tiers, "tier", str),
        nights=_rows(x.nights, "as_of", lambda d: f"{pd.Timestamp(d):%Y-%m-%d}"),
        method=METHOD,
        notes=x.notes,
    )


def render_experiment(page: ExperimentPage) -> str:
    return render("experiment.html.j2", page)


def build_experiment_page(x: Experiment, generated: datetime) -> ExperimentPage:
    r = x.overall.iloc[0]
    if not x.counted:
        headline = "No outcome known yet"
    elif x.covers_zero:
        headline = "Not yet told apart from no effect"
    else:
        headline = f"Routing {'raised' if r['uplift'] > 0 else 'lowered'} conversion"
    return ExperimentPage(
        title=f"Experiment: {x.name}",
        headline=headline,
        facts=[
            ("Experiment", x.name),
            ("Nights", f"{x.first_night:%Y-%m-%d} to {x.last_night:%Y-%m-%d}"),
            ("Horizon", f"{x.horizon_days} days"),
            ("Data ends", f"{x.data_end:%Y-%m-%d}"),
            ("Leads counted", f"{x.counted:,}"),
            ("Leads waiting", f"{x.waiting_leads:,}"),
        ],
        view=experiment_view(x),
        generated=f"{generated:%Y-%m-%d %H:%M UTC}",
    )


def write_experiment(x: Experiment, out: str | Path) -> Path:
    """The page, written atomically to ``out`` (a folder gets ``experiment.html``)."""
    html = render_experiment(build_experiment_page(x, datetime.now(tz=timezone.utc)))
    target = Path(out)
    if target.is_dir():
        target = target / "experiment.html"
    return write_atomic(target, lambda p: p.write_text(html, encoding="utf-8"))
