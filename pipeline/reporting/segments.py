"""Which segments have a model of their own (``segments.csv``, logged by ``leadscore train``
with ``segments.column``): a sentence and the table for analysts; None for a run without
segments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.reporting import blocks
from leadscore.reporting.blocks import Table
from leadscore.reporting.wording import plural


@dataclass
class SegmentSection:
    key: str
    table: Table


def _auc(v: object) -> str:
    return f"{float(v):.3f}" if v is not None and np.isfinite(float(v)) else "n/a"


def segment_section(table: pd.DataFrame | None, column: str | None) -> SegmentSection | None:
    """How many segments were judged and kept, then each segment's figures and decision."""
    if table is None or not len(table):
        return None
    kept = table[table["kept"].astype(bool)]
    judged = int(table["judged"].astype(bool).sum())
    names = [str(x) for x in kept["segment"]]
    served = (
        f"{', '.join(names)} {'has a model of its' if len(names) == 1 else 'have models of their'} own"
        if names
        else "the pooled model serves every one"
    )
    key = (
        f"Leads were cut into {plural(len(table), 'segment')} by {column or 'a column'}; "
        f"{judged} had enough conversions to be judged, and {served}. A segment keeps its own "
        "model only when it ranks the segment's out-of-time leads better than every pooled "
        "model kind, beyond chance. Tiers are cut over all leads together."
    )
    has = {c: c in table for c in ("segment_model", "pooled_model", "points_sheet")}
    body = [
        [
            blocks.text(r["segment"]),
            blocks.text(r["values"]),
            blocks.text(f"{int(r['conversions']):,}"),
            *(blocks.text(_auc(r[c]) if has[c] else "n/a") for c in has),
            blocks.text("own model" if bool(r["kept"]) else "pooled model"),
            blocks.text(r["why"]),
        ]
        for _, r in table.iterrows()
    ]
    heads = [
        "Segment",
        "Values",
        "Conversions out of time",
        "Own model",
        "Pooled model",
        "Points sheet",
        "Served by",
        "Why",
    ]
    return SegmentSection(key, blocks.table(heads, body, {2, 3, 4, 5}))
