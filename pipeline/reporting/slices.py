"""Quality by group of leads (``slices.csv``, logged by ``leadscore train``): one sentence
in sales words for the body, beside the pooled comparison, and the table by slice for the
appendix.

A group is one value of a lead column (a lead source, a country); values with too few
conversions to judge share the row "other". A group is flagged when the points model ranks
its leads better beyond the noise, or when the conversions the model predicted for it miss
what happened by more than the configured factor and beyond chance
(``leadscore.metrics.slices``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from leadscore.reporting import blocks
from leadscore.reporting.blocks import Table
from leadscore.reporting.both_models import figure_cell
from leadscore.reporting.wording import METRICS, Rich, b, join_rich, num, plural, rich


@dataclass
class SliceSection:
    key: Rich
    table: Table


def _group(r: pd.Series, sep: str = ": ") -> str:
    column = str(r["column"]).replace("_", " ")
    if r["value"] == "other":
        return f"{column}{sep}other ({plural(int(r['values']), 'value')})"
    return f"{column}{sep}{r['value']}"


def _flags(slices: pd.DataFrame) -> pd.DataFrame:
    return slices[slices["loses_to_points"].astype(bool) | slices["miscalibrated"].astype(bool)]


def _shortfall(r: pd.Series) -> str:
    said = []
    if r["loses_to_points"]:
        said.append("the points model ranks its leads better")
    if r["miscalibrated"]:
        said.append(
            f"{num(r['conversions'])} converted against {num(round(r['expected']))} the model "
            "expected"
        )
    return " and ".join(said)


def groups_sentence(slices: pd.DataFrame | None) -> Rich | None:
    """For the body: the groups of leads where the model falls short, or that none does;
    None for a run logged without slices."""
    if slices is None or not len(slices):
        return None
    judged = slices[slices["judged"].astype(bool)]
    bad = _flags(slices)
    columns = sorted({str(c).replace("_", " ") for c in slices["column"]})
    if not len(bad):
        return rich(
            "By ",
            ", ".join(columns),
            ": in none of the ",
            b(plural(len(judged), "group")),
            " of leads with enough conversions to tell does the points model rank leads "
            "clearly better, or do the predicted chances clearly miss.",
        )
    items = [rich(b(_group(r, " ")), f", where {_shortfall(r)}") for _, r in bad.iterrows()]
    return rich(
        f"In {plural(len(bad), 'group')} of leads the model falls short: ",
        join_rich(items, "; ", "; "),
        ". The appendix shows every group.",
    )


def _tiers(r: pd.Series, tiers: list[str]) -> str:
    return " · ".join(f"{t} {num(r[f'conversions_{t}'])}/{num(r[f'leads_{t}'])}" for t in tiers)


def _verdict(r: pd.Series) -> blocks.Cell:
    if not r["judged"]:
        return blocks.pill("tie", "Too few to judge")
    if r["loses_to_points"] and r["miscalibrated"]:
        return blocks.pill("base", "Points better; miscalibrated")
    if r["loses_to_points"]:
        return blocks.pill("base", "Points model better")
    if r["miscalibrated"]:
        return blocks.pill("base", "Miscalibrated")
    return blocks.pill("model", "No flag")


def slice_section(slices: pd.DataFrame | None, min_conversions: int | None) -> SliceSection | None:
    """The appendix's table by slice; None for a run logged without slices."""
    if slices is None or not len(slices):
        return None
    tiers = [c.removeprefix("conversions_") for c in slices.columns if c.startswith("conversions_")]
    auc = METRICS["roc_auc"].value
    rows = []
    for _, r in slices.iterrows():
        rows.append(
            [
                blocks.text(_group(r)),
                blocks.text(num(r["leads"])),
                blocks.text(num(r["conversions"])),
                blocks.valued(
                    f"{r['expected']:,.0f}",
                    f"{r['expected_low']:,.0f} – {r['expected_high']:,.0f}",
                ),
                figure_cell(
                    r["model_roc_auc"], r["model_roc_auc_low"], r["model_roc_auc_high"], auc
                ),
                figure_cell(
                    r["baseline_roc_auc"],
                    r["baseline_roc_auc_low"],
                    r["baseline_roc_auc_high"],
                    auc,
                ),
                blocks.text(_tiers(r, tiers)),
                _verdict(r),
            ]
        )
    judged = int(slices["judged"].astype(bool).sum())
    least = "enough" if min_conversions is None else f"at least {min_conversions}"
    key = rich(
        "The held-out leads cut by ",
        ", ".join(dict.fromkeys(str(c) for c in slices["column"])),
        ": ",
        b(plural(judged, "group")),
        f" with {least} conversions judged, ",
        b(f"{len(_flags(slices))} flagged"),
        ". A group is flagged when the paired bootstrap interval of the model's ROC AUC less "
        "the points model's lies wholly below zero, or when its realised conversions lie "
        "outside the range chance gives around the expected ones and off them by more than "
        "evaluation.slice_calibration_factor; both at 95% for all the groups judged "
        "together (5% shared among them). Each ROC AUC's own interval is 95%.",
    )
    heads = [
        "Group",
        "Leads",
        "Converted",
        "Expected (chance range)",
        "Model AUC",
        "Points AUC",
        "By tier (converted/leads)",
        "Verdict",
    ]
    return SliceSection(key, blocks.table(heads, rows, {1, 2, 3, 4, 5}, "slices"))
