"""What drives the score: the features ranked by their share of the model's weight, split into
who the lead is (fit) and what the lead did (behaviour).

Every function takes a ``RunTables`` (and the drivers table where it needs it) and returns
a small dataclass of words, numbers already formatted, tables and images; the section's
template only lays it out. Sentences are decided here, so each claim sits beside the
figures that make it true.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from leadscore import charts
from leadscore.model.kind import Scorer
from leadscore.reporting.blocks import Image
from leadscore.reporting.inputs import RunTables
from leadscore.reporting.leakage import left_out_sentence
from leadscore.reporting.wording import (
    Rich,
    b,
    join_rich,
    num,
    pct,
    readable,
    rich,
)
from leadscore.scoring.reasons import feature_groups, global_importance


def drivers(scorer: Scorer, sample: pd.DataFrame | None) -> tuple[pd.DataFrame, str]:
    """Importance per group with share of the total, side and a readable label; and its basis.

    With held-out feature rows: mean |SHAP| per group (``reasons.global_importance``).
    Without them: the model's own importance (LightGBM: total gain; other kinds: theirs,
    ``Scorer.importance``), summed per group the same way.
    """
    spec = scorer.spec
    if sample is not None and len(sample):
        imp = global_importance(scorer.contributions(sample), spec)
        basis = "shap"
    else:
        booster = getattr(scorer, "booster_", None)
        if booster is not None:  # by position: LightGBM rewrites some names
            gain = booster.feature_importance(importance_type="gain")
        else:
            own = scorer.importance().set_index("feature")["importance"]
            gain = own.reindex(list(spec.feature_columns), fill_value=0.0).to_numpy()
        fake = pd.DataFrame([gain], columns=list(spec.feature_columns))
        groups = feature_groups(spec)
        fake = fake[[c for c in fake.columns if c in groups]]
        imp = global_importance(fake, spec)
        basis = "gain"
    total = float(imp["mean_abs_contribution"].sum())
    imp["share"] = imp["mean_abs_contribution"] / total if total > 0 else 0.0
    imp["label"] = [readable(lab) for lab in imp["label"]]
    return imp.reset_index(drop=True), basis


@dataclass
class SideSplit:
    """How much of the score comes from engagement and how much from fit."""

    sentence: Rich
    engagement_width: str
    engagement_label: str
    fit_width: str
    fit_label: str
    engagement_color: str = charts.ENGAGEMENT_COLOR
    fit_color: str = charts.FIT_COLOR


@dataclass
class Drivers:
    what: str
    key: Rich
    split: SideSplit | None
    chart: Image
    footnote: str
    left_out: Rich | None = None  # the features the leakage guard left out, in a sentence


def _side_split(imp: pd.DataFrame, basis: str) -> SideSplit:
    side = imp.groupby("side")["share"].sum()
    eng, fit = float(side.get("engagement", 0.0)), float(side.get("fit", 0.0))
    whole = "the score" if basis == "shap" else "the model"
    sentence = rich(
        b(pct(eng)),
        f" of {whole} comes from ",
        b("engagement"),
        " (what the lead did: visits, emails, demo requests, funnel stage) and ",
        b(pct(fit)),
        " from ",
        b("fit"),
        " (who the lead is: seniority, company size, industry, country).",
    )
    # A label only where the bar is wide enough to hold it.
    return SideSplit(
        sentence,
        f"{eng * 100:.1f}%",
        f"Engagement {pct(eng)}" if eng > 0.12 else "",
        f"{fit * 100:.1f}%",
        f"Fit {pct(fit)}" if fit > 0.12 else "",
    )


def drivers_section(run: RunTables, imp: pd.DataFrame, basis: str) -> Drivers:
    flat = run.mode == "flat"
    top3 = [[b(x if flat else x[:1].lower() + x[1:])] for x in imp["label"].head(3)]
    if basis == "shap":
        what = "How much each factor moves a typical lead's score, up or down, as a share of all movement."
        n = len(run.sample) if run.sample is not None else 0
        footnote = (
            f"Measured on {num(n)} held-out leads with SHAP values (the model's own split of "
            "each score into contributions), summed per factor."
        )
    else:
        what = "How much each factor contributed to the model, as a share of the total."
        footnote = (
            "The run logged no held-out feature sample, so this shows how much each factor "
            "improved the model during training (total gain), summed per factor."
        )
    return Drivers(
        what=what,
        key=rich("The three biggest drivers are ", join_rich(top3), "."),
        split=None if flat else _side_split(imp, basis),
        chart=Image(
            charts.png_base64(charts.drivers_chart(imp, basis)),
            "What drives the score",
            "chart w820",
        ),
        footnote=footnote,
        left_out=left_out_sentence(run.leakage),
    )
