"""The backtest: each fold's window, rows and ROC AUC for the model and the points model.

Every function takes a ``RunTables`` (and the drivers table where it needs it) and returns
a small dataclass of words, numbers already formatted, tables and images; the section's
template only lays it out. Sentences are decided here, so each claim sits beside the
figures that make it true.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from leadscore.reporting import blocks
from leadscore.reporting.blocks import Table
from leadscore.reporting.both_models import figure_cell
from leadscore.reporting.inputs import RunTables
from leadscore.reporting.tournament import TournamentPart, tournament_part
from leadscore.reporting.wording import (
    METRICS,
    Rich,
    b,
    num,
    pct,
    plural,
    plurals,
    rich,
    span_words,
)


@dataclass
class BacktestSection:
    how: str
    key: Rich
    folds: Table
    decision: str | None = None
    tournament: TournamentPart | None = None


def _auc_cell(row: pd.Series, side: str) -> blocks.Cell:
    return figure_cell(
        row[f"{side}_roc_auc"],
        row[f"{side}_roc_auc_low"],
        row[f"{side}_roc_auc_high"],
        METRICS["roc_auc"].value,
    )


def backtest_section(run: RunTables) -> BacktestSection | None:
    """Every fold of the backtest: what it was judged on, both approaches, predicted against
    realised; and the champion decision. None for a run logged without folds."""
    f = run.folds
    if f is None or not len(f):
        return None
    ahead = int((f["model_roc_auc"] > f["baseline_roc_auc"]).sum())
    key = rich(
        f"Judged {plural(len(f), 'time')}, each on a period its model had not seen: the model "
        "ranked leads better than the points sheet in ",
        b(f"{ahead} of {len(f)}"),
        f" (ROC AUC {f['model_roc_auc'].min():.2f}-{f['model_roc_auc'].max():.2f} against "
        f"{f['baseline_roc_auc'].min():.2f}-{f['baseline_roc_auc'].max():.2f}).",
    )
    rows = [
        [
            blocks.text(span_words(str(r["test"]))),
            blocks.text(span_words(str(r["train"]))),
            blocks.text(num(r["test_rows"])),
            blocks.text(num(r["test_positives"])),
            _auc_cell(r, "model"),
            _auc_cell(r, "baseline"),
            blocks.text(pct(r["mean_predicted_model"], 2)),
            blocks.text(pct(r["realised"], 2)),
        ]
        for _, r in f.iterrows()
    ]
    heads = [
        "Tested on",
        "Learned from",
        "Rows",
        "Conversions",
        "Model AUC",
        "Points AUC",
        "Predicted",
        "Happened",
    ]
    reason = run.tags.get("champion.reason")
    decision = None
    if reason:
        verdict = "promoted" if run.tags.get("champion.decision") == "promoted" else "not promoted"
        decision = f"Champion decision ({verdict}): {plurals(reason)}."
    how = plurals(run.tags.get("backtest.method", ""))
    return BacktestSection(
        how=how[:1].upper() + how[1:],
        key=key,
        folds=blocks.table(heads, rows, {2, 3, 4, 5, 6, 7}),
        decision=decision,
        tournament=tournament_part(run.tournament),
    )
