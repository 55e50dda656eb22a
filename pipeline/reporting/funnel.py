"""The review's funnel section: stage to stage, how many move on, how fast, how many buy.

A pure function of the funnel table logged at training (``leadscore.training.funnel``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.reporting import blocks
from leadscore.reporting.blocks import Table
from leadscore.reporting.wording import Rich, b, num, pct, rich, verb
from leadscore.scoring.reasons import stage_name


@dataclass
class FunnelSection:
    intro: str
    key: Rich
    table: Table


def funnel_section(funnel: pd.DataFrame, outcome: str) -> FunnelSection | None:
    if funnel is None or not len(funnel):
        return None
    # Stages as the reasons name them: "SQL", "MQL", "closed won".
    names = stage_name(funnel["stage"].astype("string")).tolist()
    rows = []
    for name, r in zip(names, funnel.itertuples(), strict=True):
        moved = r.to_next if pd.notna(r.to_next) else None
        rows.append(
            [
                blocks.text(name),
                blocks.text(num(int(r.leads))),
                blocks.text(
                    "–" if moved is None else f"{num(int(moved))} ({pct(float(r.to_next_rate), 1)})"
                ),
                blocks.text(
                    "–"
                    if not np.isfinite(r.median_days_to_next)
                    else f"{r.median_days_to_next:,.0f} days"
                ),
                blocks.text(f"{num(int(r.converted))} ({pct(float(r.conversion_rate), 1)})"),
            ]
        )
    heads = [
        "Stage",
        "Leads that entered it",
        "Moved on to the next",
        "Median time to the next",
        "Converted",
    ]
    first, last = funnel.iloc[0], funnel.iloc[-1]
    key = rich(
        "Of the leads that entered the first stage (",
        b(names[0]),
        f"), {pct(float(first['conversion_rate']), 1)} went on to {verb(outcome)}; of those "
        "that entered the last one (",
        b(names[-1]),
        f"), {pct(float(last['conversion_rate']), 1)}.",
    )
    intro = (
        "From the stages table up to the end of the training data, in the funnel's order "
        "(stages sorted by the median time from a lead's creation to entering them). A lead "
        "may skip a stage; each stage counts the leads that entered it. Converted: a won "
        "outcome after entering the stage. The stage a lead is in at a moment is one of the "
        "model's inputs (a stage entered later is never seen)."
    )
    return FunnelSection(intro, key, blocks.table(heads, rows, {1, 2, 3, 4}))
