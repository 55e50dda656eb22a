"""The review's section on a scores file: today's leads by tier, examples, and where the
model and the points model disagree. A pure function of the scores and the model's tiers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from leadscore.config import TierConfig
from leadscore.model.tiers import tier_order
from leadscore.reporting import blocks
from leadscore.reporting.blocks import Table
from leadscore.reporting.both_models import BASELINE_ORDER
from leadscore.reporting.inputs import RunTables
from leadscore.reporting.wording import (
    Rich,
    b,
    chip,
    join_rich,
    num,
    pct,
    rich,
    score_ranges,
    score_text,
    tier_ranges,
    verb,
)

EXAMPLES_PER_TIER = 3


@dataclass
class Today:
    intro: str
    other_model: str | None = None  # the scores come from another model than the report's
    key: Rich | None = None
    tiers: Table | None = None
    expected_note: str | None = None
    examples: Table | None = None
    examples_title: str = ""
    disagree_key: Rich | None = None
    changed: str | None = None
    cross: Table | None = None


def _all_tiers(scores: pd.DataFrame, tiers: TierConfig) -> tuple[list[str], list[str]]:
    order = tier_order(tiers)
    extra = sorted(set(scores["tier"].dropna()) - set(order))
    return order, order + extra


def _distribution(scores: pd.DataFrame, tiers: TierConfig) -> Table:
    order, every = _all_tiers(scores, tiers)
    n = len(scores)
    # Tiers cut on the night's ranks show the scores they hold tonight.
    ranges = score_ranges(scores["score"], scores["tier"]) if tiers.ranked else tier_ranges(tiers)
    has_p = "probability" in scores.columns
    rows = []
    for t in every:
        part = scores[scores["tier"] == t]
        if not len(part) and t not in order:
            continue
        share = len(part) / n
        rows.append(
            [
                blocks.rich_cell(chip(t)),
                blocks.text(ranges.get(t, "")),
                blocks.text(num(len(part))),
                blocks.text(pct(share, 1)),
                blocks.bar(share),
                blocks.text(score_text(part["score"].mean()) if len(part) else "–"),
                blocks.text(f"{part['probability'].sum():,.1f}" if has_p and len(part) else "–"),
            ]
        )
    heads = ["Tier", "Score range", "Leads", "Share", "", "Average score", "Expected conversions"]
    return blocks.table(heads, rows, {2, 3, 5, 6})


def _key(scores: pd.DataFrame, tiers: TierConfig, outcome: str) -> Rich:
    top, n = tier_order(tiers)[0], len(scores)
    top_n = int((scores["tier"] == top).sum())
    out = rich(b(num(top_n)), f" leads ({pct(top_n / n, 1)}) are in tier ", chip(top))
    if "probability" not in scores.columns:
        return out + rich(".")
    expected_top = float(scores.loc[scores["tier"] == top, "probability"].sum())
    expected_all = float(scores["probability"].sum())
    return out + rich(
        "; the model expects about ",
        b(f"{expected_top:,.0f}"),
        f" of them to {verb(outcome)}, out of about {expected_all:,.0f} across all {num(n)} leads.",
    )


def _examples(scores: pd.DataFrame, tiers: TierConfig) -> Table:
    """The best-ranked leads of each tier (by score and lead id for files without ranks)."""
    _, every = _all_tiers(scores, tiers)
    by_rank = "rank" in scores.columns
    ranked = (
        scores.sort_values(["rank", "lead_id"], kind="stable")
        if by_rank
        else scores.sort_values(["score", "lead_id"], ascending=[False, True], kind="stable")
    )
    n = num(len(scores))
    rows = []
    for t in every:
        for r in ranked[ranked["tier"] == t].head(EXAMPLES_PER_TIER).itertuples():
            rows.append(
                [
                    blocks.rich_cell(chip(t)),
                    blocks.text(r.lead_id),
                    blocks.text(score_text(r.score)),
                    *([blocks.text(f"{num(r.rank)} of {n}")] if by_rank else []),
                    blocks.text(r.baseline_tier),
                    blocks.text(getattr(r, "fit_grade", "–")),  # older scores files lack it
                    blocks.reasons(r.top_reasons),
                ]
            )
    heads = [
        "Tier",
        "Lead",
        "Score",
        *(["Rank tonight"] if by_rank else []),
        "Points model",
        "Fit",
        "Top reasons (▲ raises, ▼ lowers the score)",
    ]
    return blocks.table(heads, rows, {2, 3} if by_rank else {2}, "examples")


def _changed(scores: pd.DataFrame, order: list[str]) -> int | None:
    """Leads whose priority differs: SQL <-> first tier, MQL <-> second, nurture <-> the rest."""
    if len(order) < 3:
        return None
    rank_model = scores["tier"].map({order[0]: 0, order[1]: 1}).fillna(2)
    rank_base = scores["baseline_tier"].map({"SQL": 0, "MQL": 1}).fillna(2)
    return int((rank_model != rank_base).sum())


def _cross(scores: pd.DataFrame, tiers: TierConfig) -> pd.DataFrame | None:
    order, every = _all_tiers(scores, tiers)
    present = set(scores["baseline_tier"].dropna())
    levels = [s for s in BASELINE_ORDER if s in present] + sorted(present - set(BASELINE_ORDER))
    if not levels:
        return None
    cross = pd.crosstab(scores["baseline_tier"], scores["tier"]).reindex(
        index=levels, columns=every, fill_value=0
    )
    return cross.loc[:, (cross.sum(axis=0) > 0) | cross.columns.isin(order)]


def _disagreement(cross: pd.DataFrame, tiers: TierConfig) -> tuple[Rich, set[tuple[str, str]]]:
    """Sentences on qualified leads the model ranks low, and nurtured leads it ranks high."""
    order, ranges, bottom = tier_order(tiers), tier_ranges(tiers), tiers.rest
    facts: list[Rich] = []
    marked: set[tuple[str, str]] = set()
    qualified = [q for q in ("SQL", "MQL") if q in cross.index]
    if qualified and bottom in cross.columns:
        counts = {q: (int(cross.loc[q, bottom]), int(cross.loc[q].sum())) for q in qualified}
        if any(k for k, _ in counts.values()):
            listed = join_rich(
                [rich(b(num(k)), f" of {num(t)} ", b(q)) for q, (k, t) in counts.items()]
            )
            facts.append(
                rich(
                    "Of the leads the points model qualifies, the model ranks ",
                    listed,
                    " in tier ",
                    chip(bottom),
                    f" ({ranges.get(bottom, '')}): check them before calling.",
                )
            )
        else:
            facts.append(
                rich(
                    f"None of the points model's {' or '.join(qualified)} leads is in the model's tier ",
                    chip(bottom),
                    ".",
                )
            )
        marked.update((q, bottom) for q, (k, _) in counts.items() if k)
    if "nurture" in cross.index:
        upper = [c for c in order[: max(1, min(2, len(order) - 1))] if c in cross.columns]
        k = int(cross.loc["nurture", upper].sum()) if upper else 0
        named = join_rich([[chip(c)] for c in upper], sep=" or ", last=" or ")
        facts.append(
            rich(
                f"Of the {num(int(cross.loc['nurture'].sum()))} leads the points model leaves in ",
                b("nurture"),
                ", the model puts ",
                b(num(k)),
                " in tier ",
                named,
                ": leads worth a call that the points model misses.",
            )
        )
        marked.update(("nurture", c) for c in upper if cross.loc["nurture", c])
    return join_rich(facts, sep=" ", last=" "), marked


def _cross_table(cross: pd.DataFrame, marked: set[tuple[str, str]]) -> Table:
    heads = [
        rich("Points model ↓ / Model tier →"),
        *([chip(c)] for c in cross.columns),
        rich("Total"),
    ]
    rows, highlight = [], set()
    for i, base in enumerate(cross.index):
        row = [blocks.rich_cell(b(base))]
        for j, c in enumerate(cross.columns, start=1):
            row.append(blocks.text(num(cross.loc[base, c])))
            if (base, c) in marked:
                highlight.add((i, j))
        row.append(blocks.text(num(cross.loc[base].sum())))
        rows.append(row)
    return blocks.table(heads, rows, set(range(1, len(cross.columns) + 2)), highlight=highlight)


def todays_leads(run: RunTables, scores: pd.DataFrame) -> Today:
    tiers, n = run.settings.tiers, len(scores)
    when = ""
    if "as_of" in scores.columns and scores["as_of"].notna().any():
        when = f" as of {scores['as_of'].max():%Y-%m-%d}"
    versions = (
        sorted(set(scores["model_version"].dropna())) if "model_version" in scores.columns else []
    )
    out = Today(
        intro=f"{num(n)} open leads scored{when}"
        + (f" by {', '.join(versions)}" if versions else "")
        + "."
    )
    this = f"{run.ref.name}/{run.ref.version}"
    if run.ref.version and versions and versions != [this]:
        out.other_model = f"These scores come from {', '.join(versions)}; the rest of this report describes {this}."
    if n == 0:
        return out
    out.key, out.tiers = _key(scores, tiers, run.outcome), _distribution(scores, tiers)
    if "probability" in scores.columns:
        out.expected_note = (
            "Expected conversions: the sum of the leads' predicted chances, i.e. how many "
            f"of them the model expects to {verb(run.outcome)}."
        )
    out.examples_title = (
        f"Example leads: the {EXAMPLES_PER_TIER} best-ranked leads in each tier, and why"
    )
    out.examples = _examples(scores, tiers)
    cross = _cross(scores, tiers)
    if cross is not None:
        out.disagree_key, marked = _disagreement(cross, tiers)
        changed = _changed(scores, tier_order(tiers))
        if changed is not None:
            out.changed = (
                f"{num(changed)} leads ({pct(changed / n, 1)}) get a different priority from the model "
                "than from the points model (SQL matched with the top tier, MQL with the second, "
                "nurture with the rest)."
            )
        out.cross = _cross_table(cross, marked)
    return out
