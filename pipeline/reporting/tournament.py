"""The tournament: each kind of model judged on the same periods, and which one scores.

Reads ``tournament.csv`` (logged by ``leadscore train``) and returns the sentence and the
table the backtest section lays out; None for a run logged without one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.reporting import blocks
from leadscore.reporting.blocks import Table
from leadscore.reporting.wording import METRICS, Rich, b, num, pct, plural, rich

#: How each contestant is called in the review.
NAMES = {
    "lightgbm": "Gradient-boosted trees (LightGBM)",
    "logistic": "Logistic regression",
    "naive_bayes": "Naive Bayes",
    "points": "Points sheet (as a model)",
    "points sheet": "Points sheet",
    "blend of top two": "Blend of the best two (measured only)",
}


@dataclass
class TournamentPart:
    key: Rich
    table: Table


def _name(contestant: str) -> str:
    return NAMES.get(contestant, contestant)


def _behind(row: pd.Series, fmt) -> blocks.Cell:
    if bool(row["winner"]):
        return blocks.text("best")
    if not np.isfinite(row["lead"]):
        return blocks.text("n/a")
    return blocks.valued(fmt(row["lead"]), f"{fmt(row['lead_low'])} to {fmt(row['lead_high'])}")


def tournament_part(board: pd.DataFrame | None) -> TournamentPart | None:
    if board is None or not len(board) or "metric" not in board:
        return None
    metric = str(board["metric"].iloc[0])
    spec = METRICS.get(metric)
    value = spec.value if spec else (lambda v: f"{v:.3f}")
    diff = spec.difference if spec else (lambda v: f"{v:+.3f}")
    name = spec.name if spec else metric
    kinds = board[board["role"] == "kind"]
    best = board[board["winner"].astype(bool)].iloc[0]
    folds = str(board["judged_folds"].iloc[0]).split(",")
    judged = "the latest fold" if len(folds) == 1 else f"the {len(folds)} latest folds"
    sample = f"({num(best['rows_latest'])} leads, {num(best['conversions_latest'])} conversions)"
    measure = f"{name[:1].lower()}{name[1:]} {value(best[f'{metric}_latest'])}"
    if len(kinds) > 1:
        key = rich(
            f"{plural(len(kinds), 'kind')} of model learned from the same rows and were judged "
            f"on {judged} {sample}: ",
            b(_name(str(best["contestant"]))),
            f" ranked best, with {measure}.",
        )
    else:
        key = rich(
            f"One kind of model was trained and judged on {judged} {sample}: ",
            b(_name(str(best["contestant"]))),
            f", with {measure}.",
        )
    rows = [
        [
            blocks.text(_name(str(r["contestant"]))),
            blocks.text(value(r[f"{metric}_latest"])),
            blocks.text(value(r[f"{metric}_all"])),
            blocks.text(pct(r["predicted_latest"], 2)),
            _behind(r, diff),
        ]
        for _, r in board.iterrows()
    ]
    heads = [
        "Kind of model",
        f"{name}, latest folds",
        "All folds",
        f"Predicted (happened {pct(best['realised_latest'], 2)})",
        "Best ahead by (95% interval)",
    ]
    return TournamentPart(key, blocks.table(heads, rows, {1, 2, 3, 4}, "tournament"))
