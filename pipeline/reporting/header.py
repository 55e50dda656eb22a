"""The review's header: the facts of the run (what was trained on, when, how it was judged) and
the summary cards that open the page.

Every function takes a ``RunTables`` (and the drivers table where it needs it) and returns
a small dataclass of words, numbers already formatted, tables and images; the section's
template only lays it out. Sentences are decided here, so each claim sits beside the
figures that make it true.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from leadscore.model.tiers import tier_order
from leadscore.reporting.inputs import RunTables
from leadscore.reporting.wording import (
    num,
    pct,
    plural,
    split_range,
    tier_ranges,
)


@dataclass
class Card:
    key: str
    value: str
    versus: str | None = None  # "vs 0.86", drawn small
    words: bool = False  # the value is a phrase, not a figure
    detail: str = ""


@dataclass
class Header:
    label: str
    outcome: str
    tiers: str
    facts: list[tuple[str, str]]
    cards: list[Card]
    champion_note: str | None = None


def _test_rows(run: RunTables) -> str:
    rows, positives = run.tested()
    if not rows:
        return ""
    unit = "leads" if run.mode == "flat" else "lead-snapshots"
    return f"{num(rows)} {unit}, {num(positives)} conversions"


def _facts(run: RunTables, scores: pd.DataFrame | None) -> list[tuple[str, str]]:
    aliases = f" · {', '.join(run.ref.aliases)}" if run.ref.aliases else ""
    what = " (the points sheet: it beat the model in the backtest)" if run.points_champion else ""
    facts = [
        ("Model", run.ref.label + aliases + what),
        ("Trained", f"{run.started:%Y-%m-%d %H:%M UTC}"),
    ]
    rows = _test_rows(run)
    rows = f" ({rows})" if rows else ""
    folds = len(run.folds) if run.folds is not None else 0
    if run.mode != "flat" and folds:
        first = split_range(str(run.folds["test"].iloc[0]))
        last = split_range(str(run.folds["test"].iloc[-1]))
        when = f"{first[0]} to {last[1]}" if first and last else ""
        followed = f", followed for {run.horizon} days" if run.horizon else ""
        facts.append(
            (
                "Tested on",
                f"leads open on {when}, in {plural(folds, 'backtest fold')}, each judged by a "
                f"model trained only on what was known before it{followed}{rows}",
            )
        )
    else:
        facts.append(("Tested on", (run.tags.get("backtest.method") or "held-out rows") + rows))
    window = split_range(run.tags.get("deploy.window"))
    if run.mode != "flat" and window:
        lo, hi, n = window
        facts.append(("Learned from", f"{n} snapshots, {lo} to {hi} (every labelled snapshot)"))
    if scores is not None:
        when = ""
        if "as_of" in scores.columns and scores["as_of"].notna().any():
            when = f" as of {scores['as_of'].max():%Y-%m-%d}"
        facts.append(("Scores file", f"{num(len(scores))} leads{when}"))
    return facts


def summary_cards(run: RunTables, imp: pd.DataFrame, basis: str) -> list[Card]:
    comp, cards = run.comparison, []
    if "roc_auc" in comp.index:
        r = comp.loc["roc_auc"]
        cards.append(
            Card(
                "Ranking quality (AUC)",
                f"{r['model']:.2f}",
                f"vs {r['baseline']:.2f}",
                detail="model vs points model; 1.0 = perfect",
            )
        )
    if "capture_at_10" in comp.index:
        r = comp.loc["capture_at_10"]
        cards.append(
            Card(
                "Conversions in top 10%",
                pct(r["model"]),
                f"vs {pct(r['baseline'])}",
                detail="of all conversions, model vs points model",
            )
        )
    if run.tiers is not None:
        top = tier_order(run.settings.tiers)[0]
        row = run.tiers[(run.tiers["approach"] == "model") & (run.tiers["tier"] == top)]
        if len(row) and row.iloc[0]["leads"]:
            leads = num(row.iloc[0]["leads"])
            cards.append(
                Card(
                    f"Tier {top} conversion",
                    pct(float(row.iloc[0]["conversion_rate"]), 1),
                    detail=f"{leads} held-out leads in tier {top}",
                )
            )
    if len(imp):
        of = "the score's movement" if basis == "shap" else "the model's importance"
        cards.append(
            Card(
                "Top driver",
                imp.iloc[0]["label"],
                words=True,
                detail=f"{pct(imp.iloc[0]['share'])} of {of}",
            )
        )
    return cards


def champion_note(run: RunTables) -> str | None:
    """Which model scores the leads, when it is the points sheet rather than the model."""
    if not run.points_champion:
        return None
    return (
        "The points sheet beat the model on the most recent test periods, so it is the points "
        "sheet that scores your leads: their chances come from its points, their reasons from "
        "its rules."
    )


def header(run: RunTables, scores: pd.DataFrame | None, imp: pd.DataFrame, basis: str) -> Header:
    tiers = run.settings.tiers
    ranges = tier_ranges(tiers)
    return Header(
        label=run.ref.label,
        outcome=run.outcome,
        tiers=", ".join(f"{t} = {ranges[t]}" for t in tier_order(tiers)),
        facts=_facts(run, scores),
        cards=summary_cards(run, imp, basis),
        champion_note=champion_note(run),
    )
