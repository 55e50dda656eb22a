"""The review's sections about the model, each a pure function of the training run's tables.

Every function takes a ``RunTables`` (and the drivers table where it needs it) and returns
a small dataclass of words, numbers already formatted, tables and images; the section's
template only lays it out. Sentences are decided here, so each claim sits beside the
figures that make it true.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore import charts
from leadscore.metrics import reliability_table
from leadscore.model.scorer import LeadScorer
from leadscore.model.tiers import tier_order
from leadscore.reporting import blocks
from leadscore.reporting.blocks import Image, Table
from leadscore.reporting.inputs import RunTables
from leadscore.reporting.wording import (
    METRICS,
    Period,
    Rich,
    b,
    chip,
    join_rich,
    num,
    pct,
    period_words,
    plural,
    readable,
    rich,
    split_range,
    tier_ranges,
)
from leadscore.scoring.reasons import feature_groups, global_importance

BASELINE_ORDER = ("SQL", "MQL", "nurture")


# --- drivers ------------------------------------------------------------------------------


def drivers(scorer: LeadScorer, sample: pd.DataFrame | None) -> tuple[pd.DataFrame, str]:
    """Importance per group with share of the total, side and a readable label; and its basis.

    With held-out feature rows: mean |SHAP| per group (``reasons.global_importance``).
    Without them: the booster's total gain, summed per group the same way.
    """
    spec = scorer.spec
    if sample is not None and len(sample):
        imp = global_importance(scorer.contributions(sample), spec)
        basis = "shap"
    else:
        gain = scorer.booster_.feature_importance(importance_type="gain")
        fake = pd.DataFrame([gain], columns=list(spec.feature_columns))
        groups = feature_groups(spec)
        fake = fake[[c for c in fake.columns if c in groups]]
        imp = global_importance(fake, spec)
        basis = "gain"
    total = float(imp["mean_abs_contribution"].sum())
    imp["share"] = imp["mean_abs_contribution"] / total if total > 0 else 0.0
    imp["label"] = [readable(lab) for lab in imp["label"]]
    return imp.reset_index(drop=True), basis


# --- header -------------------------------------------------------------------------------


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
    notes: list[str]


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


def header(run: RunTables, scores: pd.DataFrame | None, imp: pd.DataFrame, basis: str) -> Header:
    tiers = run.settings.tiers
    ranges = tier_ranges(tiers)
    return Header(
        label=run.ref.label,
        outcome=run.outcome,
        tiers=", ".join(f"{t} = {ranges[t]}" for t in tier_order(tiers)),
        facts=_facts(run, scores),
        cards=summary_cards(run, imp, basis),
        notes=run.notes,
    )


# --- what drives the score ----------------------------------------------------------------


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


def _side_split(imp: pd.DataFrame, basis: str) -> SideSplit:
    side = imp.groupby("side")["share"].sum()
    eng, fit = float(side.get("engagement", 0.0)), float(side.get("fit", 0.0))
    whole = "the score" if basis == "shap" else "the model"
    sentence = rich(
        b(pct(eng)),
        f" of {whole} comes from ",
        b("engagement"),
        " (what the lead did: visits, emails, demo requests) and ",
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
    )


# --- conversion by score band and tier ----------------------------------------------------


@dataclass
class Conversion:
    outcome: str
    key: Rich | None = None
    chart: Image | None = None
    bands: Table | None = None
    tier_key: Rich | None = None
    tier_chart: Image | None = None
    model_tiers: Table | None = None
    baseline_tiers: Table | None = None


def band_headline(bands: pd.DataFrame) -> Rich:
    """What the band table shows, in words that hold for it: the top band against the
    bottom one, and whether conversion falls at every step down or only overall."""
    top, bottom = bands.iloc[0], bands.iloc[-1]
    rates = bands["conversion_rate"].to_numpy(dtype="float64")
    rises = int((np.diff(rates) > 0).sum())  # steps down the table where conversion goes up
    steps = len(rates) - 1
    if rates[0] <= rates[-1]:
        trend = " Conversion does not fall from the top band to the bottom one."
    elif rises == 0:
        trend = " Conversion falls at every step down the table."
    else:
        trend = (
            f" Conversion falls from the top band to the bottom one, though not at every step "
            f"({rises} of {steps} steps down the table go up; see the intervals)."
        )
    return rich(
        f"Leads in the {top['band']} of scores converted at ",
        b(pct(top["conversion_rate"], 1)),
        f" ({num(top['leads'])} leads), against ",
        b(pct(bottom["conversion_rate"], 1)),
        f" in the bottom band ({bottom['band']}, {num(bottom['leads'])} leads).{trend}",
    )


def _band_part(out: Conversion, bands: pd.DataFrame) -> None:
    shown = bands[(bands["approach"] == "model") & (bands["leads"] > 0)].reset_index(drop=True)
    if not len(shown):
        return
    if "rate_low" not in shown.columns:  # a run that logged fixed score ranges, lowest first
        shown = shown.iloc[::-1].reset_index(drop=True)
    out.key = band_headline(shown)
    out.chart = Image(
        charts.png_base64(charts.band_chart(shown)), "Conversion rate by score band", "chart w720"
    )
    has_interval = "rate_low" in shown.columns
    rows = [
        [
            blocks.text(r.band),
            blocks.text(f"{r.score_low:g}-{r.score_high:g}" if has_interval else ""),
            blocks.text(num(r.leads)),
            blocks.text(num(r.conversions)),
            blocks.text(pct(r.conversion_rate, 1)),
            blocks.text(f"{pct(r.rate_low, 1)}-{pct(r.rate_high, 1)}" if has_interval else "–"),
            blocks.text(
                pct(r.share_of_conversions, 0) if np.isfinite(r.share_of_conversions) else "–"
            ),
        ]
        for r in shown.itertuples()
    ]
    heads = ["Band (best first)", "Scores", "Leads", "Conversions", "Conversion rate",
             "95% interval", "Share of all conversions"]  # fmt: skip
    out.bands = blocks.table(heads, rows, {2, 3, 4, 5, 6})


def _in_order(frame: pd.DataFrame, order: list[str] | tuple[str, ...]) -> pd.DataFrame:
    f = frame.set_index("tier")
    return f.reindex([t for t in order if t in f.index] + [t for t in f.index if t not in order])


def _tier_rows(frame: pd.DataFrame) -> list[list[blocks.Cell]]:
    return [
        [
            blocks.rich_cell(chip(r.tier)),
            blocks.text(num(r.leads)),
            blocks.text(num(r.conversions)),
            blocks.text(pct(r.conversion_rate, 1) if r.leads else "–"),
        ]
        for r in frame.itertuples()
    ]


def _tier_part(out: Conversion, tiers: pd.DataFrame, order: list[str]) -> None:
    mt = _in_order(tiers[tiers["approach"] == "model"], order).reset_index()
    bt = _in_order(tiers[tiers["approach"] == "baseline"], BASELINE_ORDER).reset_index()
    total = float(mt["conversions"].sum()) or 1.0
    if len(mt) and len(bt):
        a, s = mt.iloc[0], bt.iloc[0]
        out.tier_key = rich(
            "Model tier ",
            chip(a["tier"]),
            f" holds {num(a['leads'])} leads, of which ",
            b(pct(a["conversion_rate"], 1)),
            f" converted, {num(a['conversions'])} conversions ({pct(a['conversions'] / total)} of all). "
            "The points model's ",
            b(s["tier"]),
            f" holds {num(s['leads'])} leads, of which ",
            b(pct(s["conversion_rate"], 1)),
            f" converted, {num(s['conversions'])} conversions ({pct(s['conversions'] / total)} of all).",
        )
        out.tier_chart = Image(
            charts.png_base64(charts.tier_chart(mt, bt)), "Conversion rate by tier", "chart w820"
        )
    heads = ["Tier", "Leads", "Conversions", "Rate"]
    out.model_tiers = blocks.table(heads, _tier_rows(mt), {1, 2, 3})
    out.baseline_tiers = blocks.table(["Status", *heads[1:]], _tier_rows(bt), {1, 2, 3})


def conversion_section(run: RunTables) -> Conversion | None:
    """Held-out leads by score band and by tier; None when the run logged neither table."""
    if run.bands is None and run.tiers is None:
        return None
    out = Conversion(outcome=run.outcome)
    if run.bands is not None:
        _band_part(out, run.bands)
    if run.tiers is not None:
        _tier_part(out, run.tiers, tier_order(run.settings.tiers))
    return out


# --- the model against the points model ---------------------------------------------------


@dataclass
class Versus:
    key: Rich
    metrics: Table
    warning: str | None = None
    capacity_key: Rich | None = None
    capacity: Table | None = None
    lift: Image | None = None


def _clear(row: pd.Series) -> bool:
    lo, hi = row["difference_low"], row["difference_high"]
    return bool(np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0))


def _verdict(row: pd.Series) -> blocks.Cell:
    better, clear = str(row["better"]), _clear(row)
    if better == "model" and clear:
        return blocks.pill("model", "Model better")
    if better == "baseline" and clear:
        return blocks.pill("base", "Points model better")
    if better == "n/a":
        return blocks.pill("tie", "n/a")
    return blocks.pill("tie", "No clear difference")


def _figure(v: float, lo: float, hi: float, fmt) -> blocks.Cell:
    if not np.isfinite(v):
        return blocks.valued("–")
    interval = f"{fmt(lo)} – {fmt(hi)}" if np.isfinite(lo) and np.isfinite(hi) else None
    return blocks.valued(fmt(v), interval)


def _metrics_table(comp: pd.DataFrame) -> Table:
    rows = []
    for m, spec in METRICS.items():
        if m not in comp.index:
            continue
        r = comp.loc[m]
        rows.append(
            [
                blocks.labelled(spec.name, spec.hint),
                _figure(r["model"], r["model_low"], r["model_high"], spec.value),
                _figure(r["baseline"], r["baseline_low"], r["baseline_high"], spec.value),
                _figure(
                    r["difference"], r["difference_low"], r["difference_high"], spec.difference
                ),
                _verdict(r),
            ]
        )
    heads = ["Measure", "Model", "Points model", "Difference", "Verdict"]
    return blocks.table(heads, rows, {1, 2, 3}, "metrics")


def _ranking_sentence(comp: pd.DataFrame) -> Rich:
    out: Rich = []
    if "roc_auc" in comp.index:
        r = comp.loc["roc_auc"]
        vals = f"AUC {r['model']:.2f} vs {r['baseline']:.2f}"
        if r["better"] == "model" and _clear(r):
            out += rich(b("The model ranks leads better"), f" than the points model: {vals}.")
        elif r["better"] == "baseline" and _clear(r):
            out += rich(b("The points model ranks leads better"), f" than the model: {vals}.")
        else:
            out += rich(
                b("The model and the points model rank leads about equally well"),
                f": {vals}; the difference is within the noise of the test data.",
            )
    if "capture_at_10" in comp.index:
        r = comp.loc["capture_at_10"]
        out += rich(
            " " if out else "",
            "The 10% of leads the model scores highest hold ",
            b(pct(r["model"])),
            f" of all conversions; the points model's top 10% hold {pct(r['baseline'])}.",
        )
    return out


def _capacity_sentence(cap: pd.DataFrame, period: Period) -> Rich:
    pick = (
        cap[cap["capacity"] == 100].iloc[0]
        if 100 in cap["capacity"].tolist()
        else cap.iloc[len(cap) // 2]
    )
    n, m, base, best = (
        int(pick[k])
        for k in ("capacity", "model_conversions", "baseline_conversions", "best_possible")
    )
    if m == base:
        found = rich(
            "the model's list and the points model's list both hold ", b(num(m)), " conversions"
        )
    else:
        found = rich(
            "the model's list holds ",
            b(num(m)),
            " conversions and the points model's ",
            b(num(base)),
        )
    out = rich(
        "If your team can work the top ",
        b(num(n)),
        f" leads {period.each}, {period.over} ",
        found,
        f" (at most {num(best)} were possible).",
    )
    gap = cap.loc[cap["extra_conversions"].abs().idxmax()]
    if int(gap["capacity"]) != n and int(gap["extra_conversions"]) != 0:
        more = "more" if gap["extra_conversions"] > 0 else "fewer"
        out += rich(
            f" The biggest gap is at {num(gap['capacity'])} leads {period.each}: the model finds "
            f"{num(abs(gap['extra_conversions']))} {more} ({num(gap['model_conversions'])} vs {num(gap['baseline_conversions'])})."
        )
    return out


def _capacity_table(cap: pd.DataFrame, period: Period) -> Table:
    rows = [
        [
            blocks.text(f"top {num(r.capacity)} {period.each}"),
            blocks.text(num(r.model_conversions)),
            blocks.text(num(r.baseline_conversions)),
            blocks.text(("+" if r.extra_conversions > 0 else "") + num(r.extra_conversions)),
            blocks.text(num(r.best_possible)),
        ]
        for r in cap.itertuples()
    ]
    heads = [
        "Leads worked",
        "Conversions: model",
        "Conversions: points model",
        "Extra with the model",
        "Best possible",
    ]
    return blocks.table(heads, rows, {1, 2, 3, 4})


def _curves(rows: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    y = rows["label"].to_numpy(dtype="float64")
    return y, {
        "model": rows["p_model"].to_numpy(),
        "points baseline": rows["p_baseline"].to_numpy(),
    }


def _lift(run: RunTables) -> Image | None:
    png = run.lift_png
    if png is None and run.predictions is not None:
        png = charts.png_base64(charts.lift_plot(*_curves(run.predictions)))
    return Image(png, "Cumulative gains: model vs points model", "chart w640") if png else None


def versus_section(run: RunTables, period: Period) -> Versus:
    out = Versus(key=_ranking_sentence(run.comparison), metrics=_metrics_table(run.comparison))
    if run.tiers is not None:
        base = run.tiers[(run.tiers["approach"] == "baseline") & (run.tiers["leads"] > 0)]
        if len(base) == 1:
            out.warning = (
                "The points model gave every held-out lead the same status "
                f"({base.iloc[0]['tier']}): its rules found few or none of their columns in this "
                "data. The comparison below is then against an unranked list."
            )
    if run.capacity is not None and len(run.capacity):
        out.capacity_key = _capacity_sentence(run.capacity, period)
        out.capacity = _capacity_table(run.capacity, period)
    out.lift = _lift(run)
    return out


def capacity_period(run: RunTables) -> Period:
    """How the capacity table's periods read for this run ("each month", "over 2 test months")."""
    periods = (
        int(run.capacity["periods"].iloc[0])
        if run.capacity is not None and len(run.capacity)
        else 0
    )
    return period_words(run.mode, run.cadence, periods, run.tags.get("backtest.method", ""))


# --- the backtest -------------------------------------------------------------------------


@dataclass
class BacktestSection:
    how: str
    key: Rich
    folds: Table
    decision: str | None = None
    points_champion: bool = False


def _auc_cell(row: pd.Series, side: str) -> blocks.Cell:
    return _figure(
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
            blocks.text(r["test"]),
            blocks.text(r["train"]),
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
        decision = f"Champion decision ({verdict}): {reason}."
    return BacktestSection(
        how=run.tags.get("backtest.method", ""),
        key=key,
        folds=blocks.table(heads, rows, {2, 3, 4, 5, 6, 7}),
        decision=decision,
        points_champion=run.points_champion,
    )


# --- calibration --------------------------------------------------------------------------

SAID_EDGES = (0, 1, 3, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100)


def said_vs_happened(rows: pd.DataFrame | None) -> pd.DataFrame | None:
    """Held-out leads by score range: average predicted chance against the share that converted."""
    if rows is None or not {"score", "p_model", "label"} <= set(rows.columns) or not len(rows):
        return None
    edges = np.asarray(SAID_EDGES, dtype="float64")
    score = rows["score"].to_numpy(dtype="float64")
    idx = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, len(edges) - 2)
    frame = pd.DataFrame(
        {
            "bin": idx,
            "p": rows["p_model"].to_numpy(dtype="float64"),
            "y": rows["label"].to_numpy(dtype="float64"),
        }
    )
    g = frame.groupby("bin").agg(
        leads=("y", "size"),
        predicted=("p", "mean"),
        observed=("y", "mean"),
        conversions=("y", "sum"),
    )
    g["band"] = [f"{edges[i]:g}-{edges[i + 1]:g}" for i in g.index]
    return g.reset_index(drop=True)[["band", "leads", "predicted", "observed", "conversions"]]


@dataclass
class Calibration:
    key: Rich | None = None
    chart: Image | None = None
    said: Table | None = None
    said_note: bool = False  # explain why the table splits differently from the chart


def _base_rate(run: RunTables) -> float | None:
    rows, positives = run.tested()
    return positives / rows if rows else None


def _calibration_sentence(run: RunTables) -> Rich | None:
    comp = run.comparison
    if "ece" not in comp.index or not np.isfinite(comp.loc["ece", "model"]):
        return None
    ece = float(comp.loc["ece", "model"])
    out = rich(
        "On average the predicted chance is off by ",
        b(f"{ece * 100:.2f} percentage points"),
        " (expected calibration error; the points model, once mapped to probabilities: "
        f"{comp.loc['ece', 'baseline'] * 100:.2f}).",
    )
    rate = _base_rate(run)
    if rate is not None and rate > 0:
        if ece <= 0.25 * rate:
            out += rich(
                f" That is small next to the average conversion rate of {pct(rate, 1)}: "
                "a score of 12 can be read as a 12% chance."
            )
        else:
            out += rich(
                f" That is large next to the average conversion rate of {pct(rate, 1)}: "
                "use the score to rank leads, and read it as a chance with care."
            )
    return out


def _reliability(run: RunTables) -> Image | None:
    png = run.reliability_png
    if png is None and run.predictions is not None:
        y, curves = _curves(run.predictions)
        tables = {k: reliability_table(y, p) for k, p in curves.items()}
        png = charts.png_base64(charts.reliability_plot(tables, curves))
    return Image(png, "Predicted chance against what happened", "chart w560") if png else None


def calibration_section(run: RunTables) -> Calibration:
    out = Calibration(key=_calibration_sentence(run), chart=_reliability(run))
    said = said_vs_happened(run.predictions)
    if said is not None and len(said):
        rows = [
            [
                blocks.text(r.band),
                blocks.text(num(r.leads)),
                blocks.text(pct(r.predicted, 1)),
                blocks.text(pct(r.observed, 1)),
                blocks.text(num(r.conversions)),
            ]
            for r in said.itertuples()
        ]
        heads = ["Score", "Leads", "Average predicted chance", "Actually converted", "Conversions"]
        out.said = blocks.table(heads, rows, {1, 2, 3, 4}, "narrow")
        out.said_note = out.chart is not None
    return out
