"""Conversion by score band and by tier on the out-of-time rows, beside the points model's MQL
and SQL.

Every function takes a ``RunTables`` (and the drivers table where it needs it) and returns
a small dataclass of words, numbers already formatted, tables and images; the section's
template only lays it out. Sentences are decided here, so each claim sits beside the
figures that make it true.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore import charts
from leadscore.model.tiers import tier_order
from leadscore.reporting import blocks
from leadscore.reporting.blocks import Image, Table
from leadscore.reporting.both_models import BASELINE_ORDER
from leadscore.reporting.inputs import RunTables
from leadscore.reporting.wording import (
    Rich,
    b,
    chip,
    num,
    plural,
    rate,
    rate_interval,
    rich,
    share,
)


@dataclass
class Conversion:
    outcome: str
    key: Rich | None = None
    chart: Image | None = None
    bands: Table | None = None
    tier_key: Rich | None = None
    tier_chart: Image | None = None
    model_tiers: Table | None = None
    baseline_tiers: Table | None = None


def band_headline(bands: pd.DataFrame) -> Rich:
    """What the band table shows, in words that hold for it: the top band against the
    bottom one, and whether conversion falls at every step down or only overall."""
    top, bottom = bands.iloc[0], bands.iloc[-1]
    rates = bands["conversion_rate"].to_numpy(dtype="float64")
    rises = int((np.diff(rates) > 0).sum())  # steps down the table where conversion goes up
    level = int((np.diff(rates) == 0).sum())  # and where it stays the same (0% and 0%)
    steps = len(rates) - 1
    if rates[0] <= rates[-1]:
        trend = " Conversion does not fall from the top band to the bottom one."
    elif rises == 0 and level == 0:
        trend = " Conversion falls at every step down the table."
    elif rises == 0:
        trend = (
            f" Conversion never rises down the table: it falls at {steps - level} of "
            f"{plural(steps, 'step')} and stays level at {plural(level, 'step')}."
        )
    else:
        trend = (
            f" Conversion falls from the top band to the bottom one, though not at every step "
            f"({rises} of {steps} steps down the table go up; see the intervals)."
        )
    return rich(
        f"Leads in the {top['band']} of scores converted at ",
        b(rate(top["conversion_rate"])),
        f" ({num(top['leads'])} leads), against ",
        b(rate(bottom["conversion_rate"])),
        f" in the bottom band ({bottom['band']}, {num(bottom['leads'])} leads).{trend}",
    )


def _band_part(out: Conversion, bands: pd.DataFrame) -> None:
    shown = bands[(bands["approach"] == "model") & (bands["leads"] > 0)].reset_index(drop=True)
    if not len(shown):
        return
    if "rate_low" not in shown.columns:  # a run that logged fixed score ranges, lowest first
        shown = shown.iloc[::-1].reset_index(drop=True)
    out.key = band_headline(shown)
    # Many bands make a wide chart: it takes the page's width, so its labels keep their size.
    size = "chart" if len(shown) > 8 else "chart w720"
    out.chart = Image(
        charts.png_base64(charts.band_chart(shown)), "Conversion rate by score band", size
    )
    has_interval = "rate_low" in shown.columns
    rows = [
        [
            blocks.text(r.band),
            blocks.text(f"{r.score_low:g}-{r.score_high:g}" if has_interval else ""),
            blocks.text(num(r.leads)),
            blocks.text(num(r.conversions)),
            blocks.text(rate(r.conversion_rate)),
            blocks.text(rate_interval(r.rate_low, r.rate_high) if has_interval else "–"),
            blocks.text(
                share(r.share_of_conversions) if np.isfinite(r.share_of_conversions) else "–"
            ),
        ]
        for r in shown.itertuples()
    ]
    heads = ["Band (best first)", "Scores", "Leads", "Conversions", "Conversion rate",
             "95% interval", "Share of all conversions"]  # fmt: skip
    out.bands = blocks.table(heads, rows, {2, 3, 4, 5, 6})


def _in_order(frame: pd.DataFrame, order: list[str] | tuple[str, ...]) -> pd.DataFrame:
    f = frame.set_index("tier")
    return f.reindex([t for t in order if t in f.index] + [t for t in f.index if t not in order])


def _tier_rows(frame: pd.DataFrame) -> list[list[blocks.Cell]]:
    return [
        [
            blocks.rich_cell(chip(r.tier)),
            blocks.text(num(r.leads)),
            blocks.text(num(r.conversions)),
            blocks.text(rate(r.conversion_rate) if r.leads else "–"),
        ]
        for r in frame.itertuples()
    ]


def _tier_part(out: Conversion, tiers: pd.DataFrame, order: list[str]) -> None:
    mt = _in_order(tiers[tiers["approach"] == "model"], order).reset_index()
    bt = _in_order(tiers[tiers["approach"] == "baseline"], BASELINE_ORDER).reset_index()
    total = float(mt["conversions"].sum()) or 1.0
    if len(mt) and len(bt):
        a, s = mt.iloc[0], bt.iloc[0]
        out.tier_key = rich(
            "Model tier ",
            chip(a["tier"]),
            f" holds {num(a['leads'])} leads, of which ",
            b(rate(a["conversion_rate"])),
            f" converted, {num(a['conversions'])} conversions ({share(a['conversions'] / total)} of all). "
            "The points model's ",
            b(s["tier"]),
            f" holds {num(s['leads'])} leads, of which ",
            b(rate(s["conversion_rate"])),
            f" converted, {num(s['conversions'])} conversions ({share(s['conversions'] / total)} of all).",
        )
        out.tier_chart = Image(
            charts.png_base64(charts.tier_chart(mt, bt)), "Conversion rate by tier", "chart w820"
        )
    heads = ["Tier", "Leads", "Conversions", "Rate"]
    out.model_tiers = blocks.table(heads, _tier_rows(mt), {1, 2, 3})
    out.baseline_tiers = blocks.table(["Status", *heads[1:]], _tier_rows(bt), {1, 2, 3})


def conversion_section(run: RunTables) -> Conversion | None:
    """Held-out leads by score band and by tier; None when the run logged neither table."""
    if run.bands is None and run.tiers is None:
        return None
    out = Conversion(outcome=run.outcome)
    if run.bands is not None:
        _band_part(out, run.bands)
    if run.tiers is not None:
        _tier_part(out, run.tiers, tier_order(run.settings.tiers))
    return out
