"""Calibration: what the score said against what happened, in words and as a reliability curve.

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
from leadscore.metrics import reliability_table
from leadscore.reporting import blocks
from leadscore.reporting.blocks import Image, Table
from leadscore.reporting.both_models import held_out_curves
from leadscore.reporting.inputs import RunTables
from leadscore.reporting.wording import (
    Rich,
    b,
    num,
    pct,
    rate,
    rich,
)

SAID_EDGES = (0, 1, 3, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100)


def said_vs_happened(rows: pd.DataFrame | None) -> pd.DataFrame | None:
    """Held-out leads by score range: average predicted chance against the share that converted."""
    if rows is None or not {"score", "p_model", "label"} <= set(rows.columns) or not len(rows):
        return None
    edges = np.asarray(SAID_EDGES, dtype="float64")
    score = rows["score"].to_numpy(dtype="float64")
    idx = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, len(edges) - 2)
    frame = pd.DataFrame(
        {
            "bin": idx,
            "p": rows["p_model"].to_numpy(dtype="float64"),
            "y": rows["label"].to_numpy(dtype="float64"),
        }
    )
    g = frame.groupby("bin").agg(
        leads=("y", "size"),
        predicted=("p", "mean"),
        observed=("y", "mean"),
        conversions=("y", "sum"),
    )
    g["band"] = [f"{edges[i]:g}-{edges[i + 1]:g}" for i in g.index]
    return g.reset_index(drop=True)[["band", "leads", "predicted", "observed", "conversions"]]


#: Where the high scores may start: the lowest of these from which the pooled leads' rate is
#: off from the predicted chance is named under the key sentence.
HIGH_FROM = (10, 20, 30, 40, 50)
#: Off means beyond this many standard errors of the predicted rate (99%), by at least this
#: share of it, on at least this many leads.
HIGH_Z, HIGH_GAP, HIGH_LEADS = 2.58, 0.10, 30


def high_scores_gap(said: pd.DataFrame | None) -> Rich | None:
    """Where the high scores promise more (or less) than happened: pooled from the lowest
    edge of ``HIGH_FROM`` whose leads' conversion rate is off from their average predicted
    chance (``HIGH_Z`` standard errors and ``HIGH_GAP`` of it); None when no edge is."""
    if said is None or not len(said):
        return None
    low = said["band"].str.split("-").str[0].astype("float64")
    for edge in HIGH_FROM:
        rows = said[low >= edge]
        n = float(rows["leads"].sum())
        if n < HIGH_LEADS:
            return None
        predicted = float((rows["predicted"] * rows["leads"]).sum() / n)
        observed = float(rows["conversions"].sum() / n)
        se = np.sqrt(predicted * (1 - predicted) / n)
        gap = observed - predicted
        if abs(gap) > HIGH_Z * se and abs(gap) >= HIGH_GAP * predicted:
            fewer = "fewer" if gap < 0 else "more"
            return rich(
                f" From a score of {edge} up, though, {fewer} converted than predicted: ",
                b(pct(predicted, 1)),
                " predicted, ",
                b(pct(observed, 1)),
                f" converted ({num(n)} held-out leads); read those scores as a ranking more "
                "than as an exact chance.",
            )
    return None


@dataclass
class Calibration:
    key: Rich | None = None
    chart: Image | None = None
    said: Table | None = None
    said_note: bool = False  # explain why the table splits differently from the chart


def _base_rate(run: RunTables) -> float | None:
    rows, positives = run.tested()
    return positives / rows if rows else None


def _calibration_sentence(run: RunTables, said: pd.DataFrame | None = None) -> Rich | None:
    """The average error against the base rate; where it reads the score as a chance, the
    high scores that do not hold to it (``high_scores_gap`` of the ``said`` table)."""
    comp = run.comparison
    if "ece" not in comp.index or not np.isfinite(comp.loc["ece", "model"]):
        return None
    ece = float(comp.loc["ece", "model"])
    out = rich(
        "On average the predicted chance is off by ",
        b(f"{ece * 100:.2f} percentage points"),
        " (expected calibration error; the points model, once mapped to probabilities: "
        f"{comp.loc['ece', 'baseline'] * 100:.2f}).",
    )
    base = _base_rate(run)
    if base is not None and base > 0:
        if ece <= 0.25 * base:
            out += rich(
                f" That is small next to the average conversion rate of {pct(base, 1)}: "
                "a score of 12 can be read as a 12% chance."
            )
            out += high_scores_gap(said) or []
        else:
            out += rich(
                f" That is large next to the average conversion rate of {pct(base, 1)}: "
                "use the score to rank leads, and read it as a chance with care."
            )
    return out


def _reliability(run: RunTables) -> Image | None:
    """Drawn from the held-out rows without the histogram of predicted chances (the table
    of score ranges below counts the leads); the chart logged at training otherwise."""
    png = run.reliability_png
    if run.predictions is not None and len(run.predictions):
        y, curves = held_out_curves(run.predictions)
        tables = {k: reliability_table(y, p) for k, p in curves.items()}
        png = charts.png_base64(charts.reliability_plot(tables))
    return Image(png, "Predicted chance against what happened", "chart w560") if png else None


def calibration_section(run: RunTables) -> Calibration:
    said = said_vs_happened(run.predictions)
    out = Calibration(key=_calibration_sentence(run, said), chart=_reliability(run))
    if said is not None and len(said):
        rows = [
            [
                blocks.text(r.band),
                blocks.text(num(r.leads)),
                blocks.text(rate(r.predicted)),
                blocks.text(rate(r.observed)),
                blocks.text(num(r.conversions)),
            ]
            for r in said.itertuples()
        ]
        heads = ["Score", "Leads", "Average predicted chance", "Actually converted", "Conversions"]
        out.said = blocks.table(heads, rows, {1, 2, 3, 4}, "narrow")
        out.said_note = out.chart is not None
    return out
