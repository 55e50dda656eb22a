"""The model against the points model on the same out-of-time rows: the metrics with their
intervals, ranking in words, the capacity table (what a team calling the top N gets) and the
lift curve.

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
from leadscore.reporting import blocks
from leadscore.reporting.blocks import Image, Table
from leadscore.reporting.both_models import figure_cell, held_out_curves
from leadscore.reporting.inputs import RunTables
from leadscore.reporting.slices import groups_sentence
from leadscore.reporting.wording import (
    METRICS,
    Period,
    Rich,
    b,
    num,
    pct,
    period_words,
    rich,
)


@dataclass
class Versus:
    key: Rich
    metrics: Table
    warning: str | None = None
    capacity_key: Rich | None = None
    capacity: Table | None = None
    lift: Image | None = None
    groups: Rich | None = None  # by group of leads (``reporting.slices``)


def _clear(row: pd.Series) -> bool:
    lo, hi = row["difference_low"], row["difference_high"]
    return bool(np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0))


def _verdict(row: pd.Series) -> blocks.Cell:
    better, clear = str(row["better"]), _clear(row)
    if better == "model" and clear:
        return blocks.pill("model", "Model better")
    if better == "baseline" and clear:
        return blocks.pill("base", "Points model better")
    if better == "n/a":
        return blocks.pill("tie", "n/a")
    return blocks.pill("tie", "No clear difference")


def _metrics_table(comp: pd.DataFrame) -> Table:
    rows = []
    for m, spec in METRICS.items():
        if m not in comp.index:
            continue
        r = comp.loc[m]
        rows.append(
            [
                blocks.labelled(spec.name, spec.hint),
                figure_cell(r["model"], r["model_low"], r["model_high"], spec.value),
                figure_cell(r["baseline"], r["baseline_low"], r["baseline_high"], spec.value),
                figure_cell(
                    r["difference"], r["difference_low"], r["difference_high"], spec.difference
                ),
                _verdict(r),
            ]
        )
    heads = ["Measure", "Model", "Points model", "Difference", "Verdict"]
    return blocks.table(heads, rows, {1, 2, 3}, "metrics")


def _ranking_sentence(comp: pd.DataFrame) -> Rich:
    out: Rich = []
    if "roc_auc" in comp.index:
        r = comp.loc["roc_auc"]
        vals = f"AUC {r['model']:.2f} vs {r['baseline']:.2f}"
        if r["better"] == "model" and _clear(r):
            out += rich(b("The model ranks leads better"), f" than the points model: {vals}.")
        elif r["better"] == "baseline" and _clear(r):
            out += rich(b("The points model ranks leads better"), f" than the model: {vals}.")
        else:
            out += rich(
                b("The model and the points model rank leads about equally well"),
                f": {vals}; the difference is within the noise of the test data.",
            )
    if "capture_at_10" in comp.index:
        r = comp.loc["capture_at_10"]
        out += rich(
            " " if out else "",
            "The 10% of leads the model scores highest hold ",
            b(pct(r["model"])),
            f" of all conversions; the points model's top 10% hold {pct(r['baseline'])}.",
        )
    return out


def _capacity_sentence(cap: pd.DataFrame, period: Period) -> Rich:
    pick = (
        cap[cap["capacity"] == 100].iloc[0]
        if 100 in cap["capacity"].tolist()
        else cap.iloc[len(cap) // 2]
    )
    n, m, base, best = (
        int(pick[k])
        for k in ("capacity", "model_conversions", "baseline_conversions", "best_possible")
    )
    if m == base:
        found = rich(
            "the model's list and the points model's list both hold ", b(num(m)), " conversions"
        )
    else:
        found = rich(
            "the model's list holds ",
            b(num(m)),
            " conversions and the points model's ",
            b(num(base)),
        )
    out = rich(
        "If your team can work the top ",
        b(num(n)),
        f" leads {period.each}, {period.over} ",
        found,
        f" (at most {num(best)} were possible).",
    )
    gap = cap.loc[cap["extra_conversions"].abs().idxmax()]
    if int(gap["capacity"]) != n and int(gap["extra_conversions"]) != 0:
        more = "more" if gap["extra_conversions"] > 0 else "fewer"
        out += rich(
            f" The biggest gap is at {num(gap['capacity'])} leads {period.each}: the model finds "
            f"{num(abs(gap['extra_conversions']))} {more} ({num(gap['model_conversions'])} vs {num(gap['baseline_conversions'])})."
        )
    return out


def _capacity_table(cap: pd.DataFrame, period: Period) -> Table:
    rows = [
        [
            blocks.text(f"top {num(r.capacity)} {period.each}"),
            blocks.text(num(r.model_conversions)),
            blocks.text(num(r.baseline_conversions)),
            blocks.text(("+" if r.extra_conversions > 0 else "") + num(r.extra_conversions)),
            blocks.text(num(r.best_possible)),
        ]
        for r in cap.itertuples()
    ]
    heads = [
        "Leads worked",
        "Conversions: model",
        "Conversions: points model",
        "Extra with the model",
        "Best possible",
    ]
    return blocks.table(heads, rows, {1, 2, 3, 4})


def _lift(run: RunTables) -> Image | None:
    """Drawn from the held-out rows, named and coloured as the review names the two sides;
    the chart logged at training otherwise."""
    png = run.lift_png
    if run.predictions is not None and len(run.predictions):
        png = charts.png_base64(charts.lift_plot(*held_out_curves(run.predictions)))
    return Image(png, "Cumulative gains: model vs points model", "chart w640") if png else None


def versus_section(run: RunTables, period: Period) -> Versus:
    out = Versus(key=_ranking_sentence(run.comparison), metrics=_metrics_table(run.comparison))
    out.groups = groups_sentence(run.slices)
    if run.tiers is not None:
        base = run.tiers[(run.tiers["approach"] == "baseline") & (run.tiers["leads"] > 0)]
        if len(base) == 1:
            out.warning = (
                "The points model gave every held-out lead the same status "
                f"({base.iloc[0]['tier']}): its rules found few or none of their columns in this "
                "data. The comparison below is then against an unranked list."
            )
    if run.capacity is not None and len(run.capacity):
        out.capacity_key = _capacity_sentence(run.capacity, period)
        out.capacity = _capacity_table(run.capacity, period)
    out.lift = _lift(run)
    return out


def capacity_period(run: RunTables) -> Period:
    """How the capacity table's periods read for this run ("each month", "over 2 test months")."""
    periods = (
        int(run.capacity["periods"].iloc[0])
        if run.capacity is not None and len(run.capacity)
        else 0
    )
    return period_words(run.mode, run.cadence, periods, run.tags.get("backtest.method", ""))
