"""What the leakage guard left out of the model: a plain sentence for sales and the figures
for analysts.

Reads ``leakage.csv`` (logged by ``leadscore train``: one row per feature with its
single-feature ROC AUC, the share of converted leads its near-pure values mark, why it was
flagged (its figures, or its name: a field sales edit after contact) and whether it was
kept); None for a run logged without it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.reporting import blocks
from leadscore.reporting.blocks import Table
from leadscore.reporting.wording import Rich, b, join_rich, pct, plural, rich
from leadscore.training.leakage import EXPORT_TIME_RULE


def _flagged(table: pd.DataFrame | None) -> pd.DataFrame:
    if table is None or not len(table):
        return pd.DataFrame(columns=["feature", "rule", "kept"])
    return table[table["flagged"].astype(bool)]


def left_out_sentence(table: pd.DataFrame | None) -> Rich | None:
    """For the body: the features left out, in one plain sentence per reason (their figures,
    or only their name); None when none was."""
    flagged = _flagged(table)
    left = flagged[~flagged["kept"].astype(bool)]
    by_name = left["rule"].astype(str) == EXPORT_TIME_RULE
    figures = [str(f) for f in left.loc[~by_name, "feature"]]
    named = [str(f) for f in left.loc[by_name, "feature"]]
    if not figures and not named:
        return None
    out: Rich = []
    if figures:
        one = len(figures) == 1
        out += rich(
            "Left out of the score: ",
            join_rich([[b(f)] for f in figures]),
            f". On {'its' if one else 'their'} own {'it' if one else 'each'} picked out the "
            "leads that converted almost perfectly, which usually means "
            f"{'it is' if one else 'they are'} filled in after the sale: a new lead does not "
            f"have {'it' if one else 'them'} yet.",
        )
    if named:
        one = len(named) == 1
        out += rich(
            " Also left out: " if figures else "Left out of the score: ",
            join_rich([[b(f)] for f in named]),
            f". Sales fill {'it' if one else 'them'} in after contacting a lead, and the data "
            f"holds {'its' if one else 'their'} value as of the export, not as it was when the "
            "lead was new.",
        )
    return out


@dataclass
class LeakageSection:
    key: str
    table: Table | None


def _figure(v: object, fmt) -> str:
    return fmt(float(v)) if v is not None and np.isfinite(float(v)) else "n/a"


def leakage_section(table: pd.DataFrame | None, rows: str | None) -> LeakageSection | None:
    """For the appendix: how many features the guard checked, on which rows, and each flagged
    one with its figures, why and what was done."""
    if table is None:
        return None
    flagged = _flagged(table)
    on = f" on {rows}" if rows else ""
    key = f"The leakage guard checked {plural(len(table), 'feature')}{on}: " + (
        f"{len(flagged)} flagged." if len(flagged) else "none flagged."
    )
    if not len(flagged):
        return LeakageSection(key, None)
    body = [
        [
            blocks.text(str(r["feature"])),
            blocks.text(_figure(r["single_auc"], lambda v: f"{v:.3f}")),
            blocks.text(_figure(r["marked_share"], pct)),
            blocks.text(str(r["rule"])),
            blocks.text(
                "kept (training.allow_features)" if bool(r["kept"]) else "left out of the model"
            ),
        ]
        for _, r in flagged.iterrows()
    ]
    heads = ["Feature", "ROC AUC alone", "Converted leads marked", "Why", "Decision"]
    return LeakageSection(key, blocks.table(heads, body, {1, 2}))
