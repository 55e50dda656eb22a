"""The funnel from the stages table: how many leads reach each stage, how many move on to
the next, how long they stay, and how many of them convert. A pure function of tables.

Stages come in the spec's order (``leadscore.features.stages.stage_order``). A lead may skip
a stage (an SQL that was never an MQL); each stage counts the leads that entered it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = [
    "stage",
    "leads",
    "to_next",
    "to_next_rate",
    "median_days_to_next",
    "converted",
    "conversion_rate",
]


def funnel_table(
    stages: pd.DataFrame, outcomes: pd.DataFrame, order: tuple[str, ...]
) -> pd.DataFrame:
    """One row per stage of ``order``: ``leads`` that entered it; ``to_next``, those of them
    that also entered the next stage later (or at once), and the rate; the median days from
    entering this stage to entering the next, over those; ``converted``, those of them with
    a won outcome closed after they entered this stage, and the rate."""
    known = stages[stages["stage"].isin(order)]
    # A lead's first entry into each stage.
    first = known.groupby(["lead_id", "stage"], observed=True, sort=False)["entered_at"].min()
    wide = first.unstack("stage")
    won = outcomes.loc[outcomes["won"].astype(bool), ["lead_id", "closed_at"]]
    won_at = pd.Series(won["closed_at"].to_numpy(), index=won["lead_id"].astype(str).to_numpy())
    wide.index = wide.index.astype(str)
    closed = won_at.reindex(wide.index)
    rows = []
    for i, stage in enumerate(order):
        entered = wide[stage] if stage in wide else pd.Series(pd.NaT, index=wide.index)
        here = entered.notna()
        n = int(here.sum())
        if i + 1 < len(order) and order[i + 1] in wide:
            nxt = wide[order[i + 1]]
            moved = here & nxt.notna() & (nxt >= entered)
            days = ((nxt - entered)[moved] / pd.Timedelta(days=1)).to_numpy(dtype="float64")
            to_next, median = int(moved.sum()), float(np.median(days)) if len(days) else np.nan
        else:
            to_next, median = None, np.nan
        converted = int((here & closed.notna() & (closed >= entered)).sum())
        rows.append(
            {
                "stage": stage,
                "leads": n,
                "to_next": to_next,
                "to_next_rate": to_next / n if to_next is not None and n else np.nan,
                "median_days_to_next": median,
                "converted": converted,
                "conversion_rate": converted / n if n else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)
