"""``leadscore report``: one self-contained HTML page about a registered model, for sales.

The page is built from what the training run logged to MLflow (evaluation tables, plots, a
sample of held-out feature rows) plus, optionally, a scores file written by ``leadscore
score``. Everything is in the one file: inline CSS, charts as base64 PNG, no scripts and no
external assets, so it can be mailed or opened offline.

Sections: what the score means (header), what drives it, conversion by score band and tier,
the model against the points baseline (with confidence intervals and a capacity table),
calibration, and, given a scores file, today's leads by tier with a few examples and how the
model's tiers differ from the points model's MQL/SQL status.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from leadscore import charts, tracking
from leadscore.config import TierConfig
from leadscore.data.io import read_frame, write_atomic
from leadscore.errors import DataError, RegistryError
from leadscore.model import registered
from leadscore.model.settings import ModelSettings
from leadscore.model.tiers import tier_order
from leadscore.scoring.reasons import feature_groups, global_importance
from leadscore.tracking import ModelRef
from leadscore.training.evaluate import reliability_table

#: Columns a scores file must hold for the report (``leadscore.scoring.batch.SCORE_COLUMNS`` subset).
SCORES_REQUIRED = ("lead_id", "score", "tier", "baseline_tier", "top_reasons")
EXAMPLES_PER_TIER = 3
BASELINE_ORDER = ("SQL", "MQL", "nurture")

ARTIFACTS = (
    "evaluation.csv",
    "conversion_by_band.csv",
    "conversion_by_tier.csv",
    "capacity.csv",
    "reliability.csv",
    "importance.csv",
    "slices.csv",
    "test_predictions.parquet",
    "test_features_sample.parquet",
    "config.yaml",
    "notes.json",
    "lift.png",
    "reliability.png",
)

# Readable names for the explicit-attribute groups of ``explain.feature_groups``.
GROUP_LABELS = {
    "overall activity": "overall activity (all events)",
    "lead age": "lead age (days since created)",
    "seniority": "seniority (from job title)",
    "job function": "job function (from job title)",
    "employees": "company size (employees)",
    "revenue": "company annual revenue",
    "email domain": "email type (business, free, ...)",
    "lead source": "lead source",
}


# --- metric wording -----------------------------------------------------------------------


def _f3(v: float) -> str:
    return f"{v:.3f}"


def _f4(v: float) -> str:
    return f"{v:.4f}"


def _pct(v: float, decimals: int = 0) -> str:
    return f"{v * 100:.{decimals}f}%"


def _pp(v: float) -> str:
    return f"{v * 100:.2f} pts"


def _times(v: float) -> str:
    return f"{v:.1f}x"


def _signed(fmt: str, scale: float = 1.0, unit: str = ""):
    return lambda v: f"{v * scale:{fmt}}{unit}"


# metric: (name, what it means, value formatter, difference formatter), in the order shown.
METRICS: dict[str, tuple[str, str, Any, Any]] = {
    "roc_auc": (
        "Ranking quality (AUC)",
        "Chance that a lead which converted is scored above one that did not (0.5 = coin flip, 1 = perfect).",
        _f3,
        _signed("+.3f"),
    ),
    "capture_at_10": (
        "Conversions in the top 10%",
        "Share of all conversions found among the 10% highest-scored leads.",
        _pct,
        _signed("+.0f", 100, " pts"),
    ),
    "lift_at_10": (
        "Lift in the top 10%",
        "How many times the average conversion rate the top 10% convert at.",
        _times,
        _signed("+.1f"),
    ),
    "capture_at_20": (
        "Conversions in the top 20%",
        "Share of all conversions found among the 20% highest-scored leads.",
        _pct,
        _signed("+.0f", 100, " pts"),
    ),
    "lift_at_20": ("Lift in the top 20%", "As above, for the top 20%.", _times, _signed("+.1f")),
    "pr_auc": (
        "Precision at the top (PR AUC)",
        "How clean the top of the list is (average precision); higher is better.",
        _f3,
        _signed("+.3f"),
    ),
    "ece": (
        "Calibration error (ECE)",
        "Average gap between the predicted chance and what happened, in percentage points; lower is better.",
        _pp,
        _signed("+.2f", 100, " pts"),
    ),
    "brier": (
        "Probability error (Brier)",
        "Mean squared error of the predicted chances; lower is better.",
        _f4,
        _signed("+.4f"),
    ),
    "log_loss": (
        "Log loss",
        "Penalises confident wrong predictions; lower is better.",
        _f4,
        _signed("+.4f"),
    ),
}


# --- inputs -------------------------------------------------------------------------------


def read_scores(path: str | Path) -> pd.DataFrame:
    """A scores file from ``leadscore score`` (Parquet or CSV), checked and typed."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"scores file {p}: does not exist")
    if not p.is_file():
        raise DataError(f"scores file {p}: is not a file")
    frame = read_frame(p)
    missing = [c for c in SCORES_REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(
            f"scores file {p}: missing column(s) {', '.join(missing)} ({len(frame)} rows; "
            "write it with leadscore score)"
        )
    out = frame.copy()
    for c in ("score", "probability", "baseline_score"):
        if c in out.columns:
            raw = out[c]
            num = pd.to_numeric(raw, errors="coerce").astype("float64")
            bad = int((num.isna() & raw.notna()).sum())
            if bad:
                raise DataError(f"scores file {p}: column {c} has {bad} non-numeric value(s)")
            out[c] = num
    for c in ("lead_id", "tier", "baseline_tier", "top_reasons", "model_version"):
        if c in out.columns:
            out[c] = out[c].astype("string")
    if "as_of" in out.columns:
        out["as_of"] = pd.to_datetime(out["as_of"], utc=True, errors="coerce")
    return out


def _download(run_id: str, folder: Path) -> dict[str, Path]:
    """The run's report artifacts that exist, downloaded into ``folder``."""
    got = tracking.download_artifacts(run_id, ARTIFACTS, folder)
    if "evaluation.csv" not in got:
        raise RegistryError(
            f"run {run_id}: no evaluation.csv among its artifacts; was it logged by leadscore train?"
        )
    return got


# --- computations -------------------------------------------------------------------------


def _readable(label: str) -> str:
    text = GROUP_LABELS.get(label, label)
    return text[:1].upper() + text[1:]


def drivers(scorer, sample: pd.DataFrame | None) -> tuple[pd.DataFrame, str]:
    """Importance per group with share of the total, side and a readable label; and its basis.

    With held-out feature rows: mean |SHAP| per group (``explain.global_importance``).
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
    imp["label"] = [_readable(lab) for lab in imp["label"]]
    return imp.reset_index(drop=True), basis


@dataclass
class Period:
    """How the capacity table's periods read: "top 100 leads each month, over the 2 test months"."""

    each: str
    over: str


def _period(mode: str, cadence: str | None, periods: int, split_method: str) -> Period:
    n = periods
    if mode == "flat":
        if "stratified" in split_method or "random" in split_method:
            return Period("per half of the test set", "over both halves")
        return Period("each month", f"over the {n} test month{'s' if n != 1 else ''}")
    if cadence in (None, "", "monthly"):
        return Period("each month", f"over the {n} test month{'s' if n != 1 else ''}")
    return Period(
        f"at each {cadence}-day snapshot",
        f"over the {n} test snapshot{'s' if n != 1 else ''}",
    )


def _split_range(text: str | None) -> tuple[str, str, int] | None:
    m = re.match(r"\s*(\S+)\.\.(\S+)\s*\((\d+)\)", text or "")
    return (m.group(1), m.group(2), int(m.group(3))) if m else None


def _img(b64: str, alt: str, cls: str = "chart") -> str:
    return f'<img class="{cls}" alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'


# --- HTML helpers -------------------------------------------------------------------------

e = html.escape


def _num(v: float | int) -> str:
    return f"{int(v):,}"


def _table(
    headers: list[str], rows: list[list[str]], numeric: set[int] | None = None, cls: str = ""
) -> str:
    """Cells are HTML already (escape text before)."""
    numeric = numeric or set()
    head = "".join(
        f'<th class="{"num" if i in numeric else ""}">{h}</th>' for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"num" if i in numeric else ""}">{c}</td>' for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _reasons_html(text: str | None) -> str:
    if text is None or (isinstance(text, float) and math.isnan(text)) or pd.isna(text):
        return ""
    items = []
    for part in str(text).split("; "):
        part = part.strip()
        if not part:
            continue
        sign = part[:2]
        if sign == "+ ":
            items.append(f'<li class="up"><span class="sign">&#9650;</span>{e(part[2:])}</li>')
        elif sign == "- ":
            items.append(f'<li class="down"><span class="sign">&#9660;</span>{e(part[2:])}</li>')
        else:
            items.append(f"<li>{e(part)}</li>")
    return f'<ul class="reasons">{"".join(items)}</ul>'


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _tier_ranges(tiers: TierConfig) -> dict[str, str]:
    cuts = sorted(tiers.cutoffs.items(), key=lambda kv: -kv[1])
    out: dict[str, str] = {}
    upper: float | None = None
    for name, low in cuts:
        out[name] = (
            f"score {low:g} or more" if upper is None else f"score {low:g} to under {upper:g}"
        )
        upper = low
    out[tiers.rest] = f"score below {upper:g}" if upper is not None else "all scores"
    return out


# --- the page -----------------------------------------------------------------------------

CSS = """
:root { --ink:#1d2433; --muted:#5b6472; --line:#e3e7ee; --bg:#f5f7fa; --model:#1f6feb;
  --base:#f08c00; --good:#2b8a3e; --bad:#c92a2a; --fit:#7048e8; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.55 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
main { max-width: 1060px; margin: 0 auto; padding: 28px 28px 60px; }
header.hero { background: linear-gradient(135deg, #102a5c, #1f6feb); color: #fff;
  border-radius: 14px; padding: 28px 32px 24px; margin-bottom: 22px; }
.eyebrow { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; opacity: .8; }
header.hero h1 { margin: 6px 0 10px; font-size: 30px; line-height: 1.2; }
header.hero h1 .ver { font-weight: 400; opacity: .85; font-size: 22px; }
.lede { font-size: 18px; margin: 0 0 6px; max-width: 900px; }
p.tiers { margin: 0 0 18px; opacity: .9; font-size: 14.5px; }
.lede b { background: rgba(255,255,255,.16); padding: 1px 6px; border-radius: 4px; white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 10px 22px;
  margin: 0; font-size: 13.5px; }
dl.facts div { border-top: 1px solid rgba(255,255,255,.25); padding-top: 8px; }
dl.facts dt { opacity: .75; font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
dl.facts dd { margin: 2px 0 0; }
section { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 22px 28px;
  margin: 0 0 20px; }
section h2 { margin: 0 0 4px; font-size: 22px; }
section h3 { margin: 22px 0 8px; font-size: 16px; }
p.sub { color: var(--muted); margin: 0 0 14px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 14px; margin: 0 0 20px; }
.card { background:#fff; border:1px solid var(--line); border-radius: 12px; padding: 16px 18px; }
.card .k { color: var(--muted); font-size: 12.5px; text-transform: uppercase; letter-spacing: .04em; }
.card .v { font-size: 26px; font-weight: 650; margin: 4px 0 2px; line-height: 1.25; }
.card .v .text { font-size: 19px; display: inline-block; line-height: 1.3; }
.card .v small { font-size: 15px; font-weight: 400; color: var(--muted); }
.card .d { font-size: 13.5px; color: var(--muted); }
.key { font-size: 16px; }
.key b { color: var(--ink); }
.callout { border-left: 4px solid var(--model); background: #f0f5ff; padding: 10px 14px; border-radius: 6px; margin: 12px 0; }
.warn { border-left: 4px solid var(--base); background: #fff6e6; padding: 10px 14px; border-radius: 6px; margin: 12px 0; }
.warn ul { margin: 4px 0 0 18px; padding: 0; }
img.chart { display: block; max-width: 100%; height: auto; margin: 10px auto; }
img.chart.w560 { max-width: 560px; }
img.chart.w640 { max-width: 640px; }
img.chart.w720 { max-width: 720px; }
img.chart.w820 { max-width: 820px; }
.bar { background: #e9edf3; border-radius: 4px; height: 10px; min-width: 120px; }
.bar span { display: block; height: 10px; border-radius: 4px; background: var(--model); }
table.narrow { max-width: 760px; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 22px; align-items: start; }
@media (max-width: 860px) { .grid2 { grid-template-columns: 1fr; } }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 8px 0 4px; }
th, td { padding: 7px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
  border-bottom: 2px solid var(--line); }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td .ci { color: var(--muted); font-size: 12px; display: block; }
td .hint { color: var(--muted); font-size: 12.5px; display: block; }
.pill { display: inline-block; padding: 1px 9px; border-radius: 99px; font-size: 12.5px; font-weight: 600; white-space: nowrap; }
.pill.model { background: #e3f0e6; color: var(--good); }
.pill.base { background: #fde8e8; color: var(--bad); }
.pill.tie { background: #eef0f3; color: var(--muted); }
.tier { display:inline-block; min-width: 30px; text-align:center; padding: 1px 8px; border-radius: 6px;
  font-weight: 700; background: #e7efff; color: #143d8c; }
.split { display: flex; height: 30px; border-radius: 8px; overflow: hidden; margin: 8px 0 6px; font-size: 13px; color: #fff; font-weight: 600; }
.split div { display: flex; align-items: center; padding: 0 10px; white-space: nowrap; }
ul.reasons { list-style: none; margin: 0; padding: 0; }
ul.reasons li { margin: 1px 0; }
ul.reasons .sign { display: inline-block; width: 16px; font-size: 11px; }
ul.reasons li.up .sign { color: var(--good); }
ul.reasons li.down .sign { color: var(--bad); }
td.hl { background: #fff3d6; font-weight: 700; }
.tierhead { margin: 16px 0 4px; font-weight: 600; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 26px; text-align: center; }
@media print { body { background: #fff; } section, .card { break-inside: avoid; } }
"""


@dataclass
class Context:
    ref: ModelRef
    settings: ModelSettings
    mode: str
    horizon: int | None
    tiers: TierConfig
    run: Any
    art: dict[str, Path]
    outcome: str  # "becomes a won deal within 90 days" / "converts"

    def csv(self, name: str) -> pd.DataFrame | None:
        p = self.art.get(name)
        return pd.read_csv(p) if p is not None else None

    def notes(self) -> dict:
        """notes.json: {"split": {...}, "notes": [...]} (empty when not logged or unreadable)."""
        p = self.art.get("notes.json")
        try:
            data = json.loads(p.read_text()) if p is not None else {}
        except (OSError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def split_tags(self) -> dict[str, str]:
        """The run's split.* tags, falling back on notes.json for runs logged without them."""
        split = self.notes().get("split") or {}
        return {**{f"split.{k}": str(v) for k, v in split.items()}, **self.run.data.tags}


def _pill(better: str, clear: bool) -> str:
    if better == "model" and clear:
        return '<span class="pill model">Model better</span>'
    if better == "baseline" and clear:
        return '<span class="pill base">Points model better</span>'
    if better == "n/a":
        return '<span class="pill tie">n/a</span>'
    return '<span class="pill tie">No clear difference</span>'


def _clear(row) -> bool:
    lo, hi = row["difference_low"], row["difference_high"]
    return bool(np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0))


def _header(ctx: Context, scores: pd.DataFrame | None, summary_cards: str, notes: list[str]) -> str:
    tags = ctx.split_tags()
    started = datetime.fromtimestamp(ctx.run.info.start_time / 1000, tz=timezone.utc)
    facts = [
        (
            "Model",
            f"{e(ctx.ref.label)}"
            + (f" &middot; {e(', '.join(ctx.ref.aliases))}" if ctx.ref.aliases else ""),
        )
    ]
    facts.append(("Trained", started.strftime("%Y-%m-%d %H:%M UTC")))
    test = _split_range(tags.get("split.test"))
    train = _split_range(tags.get("split.train"))
    slices = ctx.csv("slices.csv")
    test_rows = ""
    if slices is not None and "test" in set(slices["slice"]):
        r = slices.set_index("slice").loc["test"]
        unit = "leads" if ctx.mode == "flat" else "lead-snapshots"
        test_rows = f"{_num(r['rows'])} {unit}, {_num(r['positives'])} conversions"
    if ctx.mode != "flat" and test:
        lo, hi, n = test
        when = lo if lo == hi else f"{lo} to {hi}"
        facts.append(
            (
                "Tested on",
                f"leads open on {n} snapshot date{'s' if n != 1 else ''}, {e(when)}"
                + (f", followed for {ctx.horizon} days" if ctx.horizon else "")
                + (f" ({test_rows})" if test_rows else ""),
            )
        )
    else:
        method = tags.get("split.method") or "held-out rows"
        facts.append(("Tested on", e(method) + (f" ({test_rows})" if test_rows else "")))
    if ctx.mode != "flat" and train:
        lo, hi, n = train
        facts.append(("Learned from", f"{n} snapshots, {e(lo)} to {e(hi)}"))
    if scores is not None:
        when = ""
        if "as_of" in scores.columns and scores["as_of"].notna().any():
            when = f" as of {scores['as_of'].max():%Y-%m-%d}"
        facts.append(("Scores file", f"{_num(len(scores))} leads{e(when)}"))
    facts_html = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)
    ranges = _tier_ranges(ctx.tiers)
    tier_text = ", ".join(f"{e(t)} = {e(ranges[t])}" for t in tier_order(ctx.tiers))
    lede = (
        f"The score is the chance, in percent, that a lead {e(ctx.outcome)}: "
        f'<b>a score of 12 means a 12% chance</b>.</p><p class="tiers">Tiers: {tier_text}.'
    )
    warn = ""
    if notes:
        warn = (
            '<div class="warn"><b>Notes from training</b><ul>'
            + "".join(f"<li>{e(n)}</li>" for n in notes)
            + "</ul></div>"
        )
    return (
        '<header class="hero"><div class="eyebrow">Lead scoring &middot; model report</div>'
        f'<h1>What the lead score tells you <span class="ver">&mdash; {e(ctx.ref.label)}</span></h1>'
        f'<p class="lede">{lede}</p><dl class="facts">{facts_html}</dl></header>'
        f"{summary_cards}{warn}"
    )


def _drivers_section(ctx: Context, scorer, n_sample: int, imp: pd.DataFrame, basis: str) -> str:
    flat = ctx.mode == "flat"
    top3 = [f"<b>{e(x if flat else x[:1].lower() + x[1:])}</b>" for x in imp["label"].head(3)]
    what = (
        "How much each factor moves a typical lead's score, up or down, as a share of all movement."
        if basis == "shap"
        else "How much each factor contributed to the model, as a share of the total."
    )
    parts = [
        '<section id="drivers"><h2>What drives the score</h2>',
        f'<p class="sub">{e(what)}</p>',
        f'<p class="key">The three biggest drivers are {_join(top3)}.</p>',
    ]
    if ctx.mode != "flat":
        side = imp.groupby("side")["share"].sum()
        eng, fit = float(side.get("engagement", 0.0)), float(side.get("fit", 0.0))
        parts.append(
            f"<p><b>{_pct(eng)}</b> of {'the score' if basis == 'shap' else 'the model'} comes from <b>engagement</b> (what the lead did: visits, "
            f"emails, demo requests) and <b>{_pct(fit)}</b> from <b>fit</b> (who the lead is: seniority, "
            "company size, industry, country).</p>"
            '<div class="split">'
            f'<div style="width:{eng * 100:.1f}%;background:{charts.ENGAGEMENT_COLOR}">{"Engagement " + _pct(eng) if eng > 0.12 else ""}</div>'
            f'<div style="width:{fit * 100:.1f}%;background:{charts.FIT_COLOR}">{"Fit " + _pct(fit) if fit > 0.12 else ""}</div>'
            "</div>"
        )
    parts.append(
        _img(
            charts.png_base64(charts.drivers_chart(imp, basis)),
            "What drives the score",
            "chart w820",
        )
    )
    if basis == "shap":
        parts.append(
            f'<p class="sub">Measured on {_num(n_sample)} held-out leads with SHAP values (the model\'s own split of '
            "each score into contributions), summed per factor.</p>"
        )
    else:
        parts.append(
            '<p class="sub">The run logged no held-out feature sample, so this shows how much each factor '
            "improved the model during training (total gain), summed per factor.</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def _conversion_section(ctx: Context) -> str:
    bands = ctx.csv("conversion_by_band.csv")
    tiers = ctx.csv("conversion_by_tier.csv")
    if bands is None and tiers is None:
        return ""
    parts = [
        '<section id="conversion"><h2>Conversion rises with the score</h2>',
        f'<p class="sub">Held-out leads grouped by the score the model gave them, and what share of them {e(ctx.outcome)}.</p>',
    ]
    if bands is not None:
        mb = bands[bands["approach"] == "model"].reset_index(drop=True)
        nonempty = np.flatnonzero(mb["leads"].to_numpy() > 0)
        if nonempty.size:
            shown = mb.iloc[: nonempty[-1] + 1]
            lowest, highest = shown.iloc[0], shown.iloc[-1]
            filled = shown[shown["leads"] > 0]
            best = filled.iloc[-1]
            sentence = (
                f"Leads scored {e(str(best['band']))} converted at <b>{_pct(best['conversion_rate'], 1)}</b>"
                f" ({_num(best['leads'])} leads), against <b>{_pct(lowest['conversion_rate'], 1)}</b> for leads scored "
                f"{e(str(lowest['band']))} ({_num(lowest['leads'])} leads)."
            )
            if len(shown) < len(mb):
                sentence += (
                    f" No held-out lead scored above {e(str(highest['band']).split('-')[-1])}."
                )
            parts.append(f'<p class="key">{sentence}</p>')
            parts.append(
                _img(
                    charts.png_base64(charts.band_chart(shown)),
                    "Conversion rate by score band",
                    "chart w720",
                )
            )
            rows = [
                [
                    e(str(r.band)),
                    _num(r.leads),
                    _num(r.conversions),
                    _pct(r.conversion_rate, 1) if r.leads else "&ndash;",
                    _pct(r.share_of_conversions, 0)
                    if np.isfinite(r.share_of_conversions)
                    else "&ndash;",
                ]
                for r in shown.itertuples()
            ]
            parts.append(
                _table(
                    [
                        "Score band",
                        "Leads",
                        "Conversions",
                        "Conversion rate",
                        "Share of all conversions",
                    ],
                    rows,
                    {1, 2, 3, 4},
                )
            )
    if tiers is not None:
        order = tier_order(ctx.tiers)
        mt = tiers[tiers["approach"] == "model"].set_index("tier")
        mt = mt.reindex(
            [t for t in order if t in mt.index] + [t for t in mt.index if t not in order]
        )
        bt = tiers[tiers["approach"] == "baseline"].set_index("tier")
        bt = bt.reindex(
            [t for t in BASELINE_ORDER if t in bt.index]
            + [t for t in bt.index if t not in BASELINE_ORDER]
        )
        mt, bt = mt.reset_index(), bt.reset_index()
        total = float(mt["conversions"].sum()) or 1.0
        parts.append("<h3>By tier: the model's tiers against the points model's MQL / SQL</h3>")
        if len(mt) and len(bt):
            a, s = mt.iloc[0], bt.iloc[0]
            parts.append(
                f'<p class="key">Model tier <span class="tier">{e(str(a["tier"]))}</span> holds {_num(a["leads"])} leads, '
                f"of which <b>{_pct(a['conversion_rate'], 1)}</b> converted, {_num(a['conversions'])} conversions "
                f"({_pct(a['conversions'] / total)} of all). The points model's <b>{e(str(s['tier']))}</b> holds "
                f"{_num(s['leads'])} leads, of which <b>{_pct(s['conversion_rate'], 1)}</b> converted, "
                f"{_num(s['conversions'])} conversions ({_pct(s['conversions'] / total)} of all).</p>"
            )
            parts.append(
                _img(
                    charts.png_base64(charts.tier_chart(mt, bt)),
                    "Conversion rate by tier",
                    "chart w820",
                )
            )

        def tier_rows(frame: pd.DataFrame) -> list[list[str]]:
            return [
                [
                    f'<span class="tier">{e(str(r.tier))}</span>',
                    _num(r.leads),
                    _num(r.conversions),
                    _pct(r.conversion_rate, 1) if r.leads else "&ndash;",
                ]
                for r in frame.itertuples()
            ]

        heads = ["Tier", "Leads", "Conversions", "Rate"]
        parts.append(
            '<div class="grid2"><div><div class="tierhead">Model tiers</div>'
            + _table(heads, tier_rows(mt), {1, 2, 3})
            + '</div><div><div class="tierhead">Points model status</div>'
            + _table(["Status", *heads[1:]], tier_rows(bt), {1, 2, 3})
            + "</div></div>"
        )
    parts.append("</section>")
    return "".join(parts)


def _versus_section(ctx: Context, comp: pd.DataFrame, period: Period) -> str:
    parts = [
        '<section id="versus"><h2>Model vs the points model</h2>',
        '<p class="sub">Both scored the same held-out leads. Ranges are 95% bootstrap intervals: '
        "a difference whose range does not cross zero is not luck of the sample.</p>",
    ]
    tiers = ctx.csv("conversion_by_tier.csv")
    if tiers is not None:
        base = tiers[(tiers["approach"] == "baseline") & (tiers["leads"] > 0)]
        if len(base) == 1:
            parts.append(
                '<div class="warn">The points model gave every held-out lead the same status '
                f"({e(str(base.iloc[0]['tier']))}): its rules found few or none of their columns in this "
                "data. The comparison below is then against an unranked list.</div>"
            )
    sentences = []
    if "roc_auc" in comp.index:
        r = comp.loc["roc_auc"]
        clear = _clear(r)
        vals = f"AUC {r['model']:.2f} vs {r['baseline']:.2f}"
        if r["better"] == "model" and clear:
            sentences.append(f"<b>The model ranks leads better</b> than the points model: {vals}.")
        elif r["better"] == "baseline" and clear:
            sentences.append(f"<b>The points model ranks leads better</b> than the model: {vals}.")
        else:
            sentences.append(
                f"<b>The model and the points model rank leads about equally well</b>: {vals}; the difference is within the noise of the test data."
            )
    if "capture_at_10" in comp.index:
        r = comp.loc["capture_at_10"]
        sentences.append(
            f"The 10% of leads the model scores highest hold <b>{_pct(r['model'])}</b> of all conversions; "
            f"the points model's top 10% hold {_pct(r['baseline'])}."
        )
    parts.append(f'<p class="key">{" ".join(sentences)}</p>')
    rows = []
    for m, (name, hint, fmt, diff_fmt) in METRICS.items():
        if m not in comp.index:
            continue
        r = comp.loc[m]

        def cell(v, lo, hi, fmt=fmt):
            if not np.isfinite(v):
                return "&ndash;"
            ci = (
                f'<span class="ci">{fmt(lo)} &ndash; {fmt(hi)}</span>'
                if np.isfinite(lo) and np.isfinite(hi)
                else ""
            )
            return f"{fmt(v)}{ci}"

        rows.append(
            [
                f'<b>{e(name)}</b><span class="hint">{e(hint)}</span>',
                cell(r["model"], r["model_low"], r["model_high"]),
                cell(r["baseline"], r["baseline_low"], r["baseline_high"]),
                cell(r["difference"], r["difference_low"], r["difference_high"], diff_fmt),
                _pill(str(r["better"]), _clear(r)),
            ]
        )
    parts.append(
        _table(
            ["Measure", "Model", "Points model", "Difference", "Verdict"],
            rows,
            {1, 2, 3},
            "metrics",
        )
    )

    cap = ctx.csv("capacity.csv")
    if cap is not None and len(cap):
        caps = cap["capacity"].tolist()
        pick = cap[cap["capacity"] == 100].iloc[0] if 100 in caps else cap.iloc[len(cap) // 2]
        n = int(pick["capacity"])
        m, b, best = (
            int(pick["model_conversions"]),
            int(pick["baseline_conversions"]),
            int(pick["best_possible"]),
        )
        if m == b:
            found = f"the model's list and the points model's list both hold <b>{_num(m)}</b> conversions"
        else:
            found = f"the model's list holds <b>{_num(m)}</b> conversions and the points model's <b>{_num(b)}</b>"
        text = (
            f"If your team can work the top <b>{_num(n)}</b> leads {period.each}, {period.over} {found} "
            f"(at most {_num(best)} were possible)."
        )
        gap = cap.loc[cap["extra_conversions"].abs().idxmax()]
        if int(gap["capacity"]) != n and int(gap["extra_conversions"]) != 0:
            more = "more" if gap["extra_conversions"] > 0 else "fewer"
            text += (
                f" The biggest gap is at {_num(gap['capacity'])} leads {period.each}: the model finds "
                f"{_num(abs(gap['extra_conversions']))} {more} ({_num(gap['model_conversions'])} vs {_num(gap['baseline_conversions'])})."
            )
        parts.append(f'<h3>What it means for your team\'s capacity</h3><p class="key">{text}</p>')
        rows = [
            [
                f"top {_num(r.capacity)} {period.each}",
                _num(r.model_conversions),
                _num(r.baseline_conversions),
                ("+" if r.extra_conversions > 0 else "") + _num(r.extra_conversions),
                _num(r.best_possible),
            ]
            for r in cap.itertuples()
        ]
        parts.append(
            _table(
                [
                    "Leads worked",
                    "Conversions: model",
                    "Conversions: points model",
                    "Extra with the model",
                    "Best possible",
                ],
                rows,
                {1, 2, 3, 4},
            )
        )
    lift = _lift_png(ctx)
    if lift:
        parts.append("<h3>Calling the top-scored leads first</h3>")
        parts.append(
            '<p class="sub">Each line shows the share of all conversions reached after contacting a share of '
            "the leads, highest score first. Higher and further left is better.</p>"
        )
        parts.append(_img(lift, "Cumulative gains: model vs points model", "chart w640"))
    parts.append("</section>")
    return "".join(parts)


def _predictions(ctx: Context) -> pd.DataFrame | None:
    p = ctx.art.get("test_predictions.parquet")
    return pd.read_parquet(p) if p is not None else None


def _curves(rows: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    y = rows["label"].to_numpy(dtype="float64")
    return y, {
        "model": rows["p_model"].to_numpy(),
        "points baseline": rows["p_baseline"].to_numpy(),
    }


def _lift_png(ctx: Context) -> str | None:
    if "lift.png" in ctx.art:
        return base64.b64encode(ctx.art["lift.png"].read_bytes()).decode("ascii")
    rows = _predictions(ctx)
    if rows is None:
        return None
    return charts.png_base64(charts.lift_plot(*_curves(rows)))


def _reliability_png(ctx: Context) -> str | None:
    if "reliability.png" in ctx.art:
        return base64.b64encode(ctx.art["reliability.png"].read_bytes()).decode("ascii")
    rows = _predictions(ctx)
    if rows is None:
        return None
    y, curves = _curves(rows)
    tables = {k: reliability_table(y, p) for k, p in curves.items()}
    return charts.png_base64(charts.reliability_plot(tables, curves))


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


def _calibration_section(ctx: Context, comp: pd.DataFrame) -> str:
    parts = [
        '<section id="calibration"><h2>Can the score be read as a chance?</h2>',
        '<p class="sub">Leads are grouped by predicted chance; each dot compares the average prediction with the '
        "share that actually converted. Dots on the dashed line mean the score can be taken at face value.</p>",
    ]
    slices = ctx.csv("slices.csv")
    base_rate = None
    if slices is not None and "test" in set(slices["slice"]):
        r = slices.set_index("slice").loc["test"]
        base_rate = float(r["positives"]) / float(r["rows"]) if r["rows"] else None
    if "ece" in comp.index and np.isfinite(comp.loc["ece", "model"]):
        ece = float(comp.loc["ece", "model"])
        text = (
            f"On average the predicted chance is off by <b>{ece * 100:.2f} percentage points</b> "
            f"(expected calibration error; the points model, once mapped to probabilities: {comp.loc['ece', 'baseline'] * 100:.2f})."
        )
        if base_rate is not None and base_rate > 0:
            if ece <= 0.25 * base_rate:
                text += (
                    f" That is small next to the average conversion rate of {_pct(base_rate, 1)}: "
                    "a score of 12 can be read as a 12% chance."
                )
            else:
                text += (
                    f" That is large next to the average conversion rate of {_pct(base_rate, 1)}: "
                    "use the score to rank leads, and read it as a chance with care."
                )
        parts.append(f'<p class="key">{text}</p>')
    png = _reliability_png(ctx)
    if png:
        parts.append(_img(png, "Predicted chance against what happened", "chart w560"))
    said = said_vs_happened(_predictions(ctx))
    if said is not None and len(said):
        parts.append("<h3>What the model said, and what happened</h3>")
        if png:
            parts.append(
                '<p class="sub">The chart uses ten groups of equal size, so the few high scores share one dot; '
                "here the held-out leads are split by score instead.</p>"
            )
        rows = [
            [
                e(r.band),
                _num(r.leads),
                _pct(r.predicted, 1),
                _pct(r.observed, 1),
                _num(r.conversions),
            ]
            for r in said.itertuples()
        ]
        parts.append(
            _table(
                ["Score", "Leads", "Average predicted chance", "Actually converted", "Conversions"],
                rows,
                {1, 2, 3, 4},
                "narrow",
            )
        )
    parts.append("</section>")
    return "".join(parts)


def _scores_section(ctx: Context, scores: pd.DataFrame) -> str:
    order = tier_order(ctx.tiers)
    extra = sorted(set(scores["tier"].dropna()) - set(order))
    tiers_all = order + extra
    n = len(scores)
    ranges = _tier_ranges(ctx.tiers)
    parts = [
        '<section id="scores"><h2>Today\'s leads by tier</h2>',
    ]
    when = ""
    if "as_of" in scores.columns and scores["as_of"].notna().any():
        when = f" as of {scores['as_of'].max():%Y-%m-%d}"
    versions = (
        sorted(set(scores["model_version"].dropna())) if "model_version" in scores.columns else []
    )
    by = f" by {e(', '.join(versions))}" if versions else ""
    parts.append(f'<p class="sub">{_num(n)} open leads scored{e(when)}{by}.</p>')
    if ctx.ref.version and versions and versions != [f"{ctx.ref.name}/{ctx.ref.version}"]:
        parts.append(
            f'<div class="warn">These scores come from {e(", ".join(versions))}; the rest of this report '
            f"describes {e(ctx.ref.name)}/{e(ctx.ref.version)}.</div>"
        )
    if n == 0:
        parts.append("<p>The scores file holds no leads.</p></section>")
        return "".join(parts)

    rows_dist = []
    has_p = "probability" in scores.columns
    for t in tiers_all:
        part = scores[scores["tier"] == t]
        if not len(part) and t in extra:
            continue
        share = len(part) / n
        rows_dist.append(
            [
                f'<span class="tier">{e(t)}</span>',
                e(ranges.get(t, "")),
                _num(len(part)),
                _pct(share, 1),
                f'<div class="bar"><span style="width:{max(share * 100, 0.4):.1f}%"></span></div>',
                f"{part['score'].mean():.1f}" if len(part) else "&ndash;",
                f"{part['probability'].sum():,.1f}" if has_p and len(part) else "&ndash;",
            ]
        )
    top = order[0]
    top_n = int((scores["tier"] == top).sum())
    sentence = f'<b>{_num(top_n)}</b> leads ({_pct(top_n / n, 1)}) are in tier <span class="tier">{e(top)}</span>'
    if has_p:
        exp_top = float(scores.loc[scores["tier"] == top, "probability"].sum())
        exp_all = float(scores["probability"].sum())
        sentence += (
            f"; the model expects about <b>{exp_top:,.0f}</b> of them to {e(_verb(ctx.outcome))}, "
            f"out of about {exp_all:,.0f} across all {_num(n)} leads."
        )
    else:
        sentence += "."
    parts.append(f'<p class="key">{sentence}</p>')
    parts.append(
        _table(
            ["Tier", "Score range", "Leads", "Share", "", "Average score", "Expected conversions"],
            rows_dist,
            {2, 3, 5, 6},
        )
    )
    if has_p:
        parts.append(
            '<p class="sub">Expected conversions: the sum of the leads\' predicted chances, i.e. how many '
            f"of them the model expects to {e(_verb(ctx.outcome))}.</p>"
        )

    # Examples: the highest scores of each tier, ties broken by lead id (deterministic).
    parts.append(
        f"<h3>Example leads: the {EXAMPLES_PER_TIER} highest scores in each tier, and why</h3>"
    )
    ex_rows = []
    ranked = scores.sort_values(["score", "lead_id"], ascending=[False, True], kind="stable")
    for t in tiers_all:
        part = ranked[ranked["tier"] == t].head(EXAMPLES_PER_TIER)
        for r in part.itertuples():
            ex_rows.append(
                [
                    f'<span class="tier">{e(t)}</span>',
                    e(str(r.lead_id)),
                    f"{r.score:.1f}",
                    e(str(r.baseline_tier)),
                    _reasons_html(r.top_reasons),
                ]
            )
    parts.append(
        _table(
            [
                "Tier",
                "Lead",
                "Score",
                "Points model",
                "Top reasons (&#9650; raises, &#9660; lowers the score)",
            ],
            ex_rows,
            {2},
            "examples",
        )
    )

    # Tier changes against the points model's MQL / SQL status.
    base_levels = [b for b in BASELINE_ORDER if b in set(scores["baseline_tier"].dropna())]
    base_levels += sorted(set(scores["baseline_tier"].dropna()) - set(BASELINE_ORDER))
    if base_levels:
        cross = pd.crosstab(scores["baseline_tier"], scores["tier"]).reindex(
            index=base_levels, columns=tiers_all, fill_value=0
        )
        cross = cross.loc[:, (cross.sum(axis=0) > 0) | cross.columns.isin(order)]
        bottom = ctx.tiers.rest
        upper = order[: max(1, min(2, len(order) - 1))]
        facts = []
        highlight: set[tuple[str, str]] = set()
        qualified = [q for q in ("SQL", "MQL") if q in cross.index]
        if qualified and bottom in cross.columns:
            counts = {q: (int(cross.loc[q, bottom]), int(cross.loc[q].sum())) for q in qualified}
            chip = f'<span class="tier">{e(bottom)}</span>'
            if any(k for k, _ in counts.values()):
                listed = _join(
                    [
                        f"<b>{_num(k)}</b> of {_num(tot)} <b>{q}</b>"
                        for q, (k, tot) in counts.items()
                    ]
                )
                facts.append(
                    f"Of the leads the points model qualifies, the model ranks {listed} in tier {chip} "
                    f"({e(ranges.get(bottom, ''))}): check them before calling."
                )
            else:
                facts.append(
                    f"None of the points model's {' or '.join(qualified)} leads is in the model's tier {chip}."
                )
            highlight.update((q, bottom) for q, (k, _) in counts.items() if k)
        low_base = [b for b in ("nurture",) if b in cross.index]
        if low_base:
            cols = [c for c in upper if c in cross.columns]
            k = int(cross.loc["nurture", cols].sum()) if cols else 0
            tot = int(cross.loc["nurture"].sum())
            named = " or ".join(f'<span class="tier">{e(c)}</span>' for c in cols)
            facts.append(
                f"Of the {_num(tot)} leads the points model leaves in <b>nurture</b>, the model puts <b>{_num(k)}</b> in "
                f"tier {named}: leads worth a call that the points model misses."
            )
            highlight.update(("nurture", c) for c in cols if cross.loc["nurture", c])
        changed = _changed(scores, order)
        parts.append("<h3>Where the model and the points model disagree</h3>")
        if facts:
            parts.append('<p class="key">' + " ".join(facts) + "</p>")
        if changed is not None:
            parts.append(
                f'<p class="sub">{_num(changed)} leads ({_pct(changed / n, 1)}) get a different priority '
                "from the model than from the points model (SQL matched with the top tier, MQL with the second, "
                "nurture with the rest).</p>"
            )
        head = (
            ["Points model \u2193 / Model tier \u2192"]
            + [f'<span class="tier">{e(str(c))}</span>' for c in cross.columns]
            + ["Total"]
        )
        rows = []
        for b in cross.index:
            cells = [f"<b>{e(str(b))}</b>"]
            for c in cross.columns:
                v = _num(cross.loc[b, c])
                cells.append(f'<td class="num hl">{v}</td>' if (b, c) in highlight else v)
            cells.append(_num(cross.loc[b].sum()))
            rows.append(cells)
        parts.append(_cross_table(head, rows))
    parts.append("</section>")
    return "".join(parts)


def _cross_table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f'<th class="{"num" if i else ""}">{h}</th>' for i, h in enumerate(headers))
    body = ""
    for r in rows:
        cells = ""
        for i, c in enumerate(r):
            cells += c if c.startswith("<td") else f'<td class="{"num" if i else ""}">{c}</td>'
        body += f"<tr>{cells}</tr>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _changed(scores: pd.DataFrame, order: list[str]) -> int | None:
    """Leads whose priority differs: SQL <-> first tier, MQL <-> second, nurture <-> the rest."""
    if len(order) < 3:
        return None
    rank_model = scores["tier"].map({order[0]: 0, order[1]: 1}).fillna(2)
    rank_base = scores["baseline_tier"].map({"SQL": 0, "MQL": 1}).fillna(2)
    return int((rank_model != rank_base).sum())


def _verb(outcome: str) -> str:
    """'becomes a won deal within 90 days' -> 'become a won deal within 90 days'."""
    return re.sub(r"^becomes\b", "become", re.sub(r"^converts\b", "convert", outcome))


def _summary_cards(ctx: Context, comp: pd.DataFrame, imp: pd.DataFrame, basis: str) -> str:
    cards = []
    if "roc_auc" in comp.index:
        r = comp.loc["roc_auc"]
        cards.append(
            (
                "Ranking quality (AUC)",
                f"{r['model']:.2f} <small>vs {r['baseline']:.2f}</small>",
                "model vs points model; 1.0 = perfect",
            )
        )
    if "capture_at_10" in comp.index:
        r = comp.loc["capture_at_10"]
        cards.append(
            (
                "Conversions in top 10%",
                f"{_pct(r['model'])} <small>vs {_pct(r['baseline'])}</small>",
                "of all conversions, model vs points model",
            )
        )
    tiers = ctx.csv("conversion_by_tier.csv")
    if tiers is not None:
        top = tier_order(ctx.tiers)[0]
        row = tiers[(tiers["approach"] == "model") & (tiers["tier"] == top)]
        if len(row) and row.iloc[0]["leads"]:
            cards.append(
                (
                    f"Tier {top} conversion",
                    _pct(float(row.iloc[0]["conversion_rate"]), 1),
                    f"{_num(row.iloc[0]['leads'])} held-out leads in tier {top}",
                )
            )
    if len(imp):
        cards.append(
            (
                "Top driver",
                f'<span class="text">{e(imp.iloc[0]["label"])}</span>',
                f"{_pct(imp.iloc[0]['share'])} of "
                + ("the score's movement" if basis == "shap" else "the model's importance"),
            )
        )
    inner = "".join(
        f'<div class="card"><div class="k">{e(k)}</div><div class="v">{v}</div><div class="d">{e(d)}</div></div>'
        for k, v, d in cards
    )
    return f'<div class="cards">{inner}</div>'


def render(ctx: Context, scorer, scores: pd.DataFrame | None) -> str:
    comp = ctx.csv("evaluation.csv").set_index("metric")
    sample = None
    if "test_features_sample.parquet" in ctx.art:
        sample = pd.read_parquet(ctx.art["test_features_sample.parquet"])
    imp, basis = drivers(scorer, sample)
    notes_raw = ctx.notes().get("notes") or []
    # Calibration-method notes are for data scientists; keep the ones about data and reliability.
    notes = [
        n for n in notes_raw if not str(n).startswith(("calibration:", "placeholder:", "constant:"))
    ]
    cadence = ctx.run.data.params.get("cadence")
    if cadence is None and "config.yaml" in ctx.art:
        cadence = str(
            (yaml.safe_load(ctx.art["config.yaml"].read_text()) or {})
            .get("training", {})
            .get("cadence", "")
        )
    cap = ctx.csv("capacity.csv")
    periods = int(cap["periods"].iloc[0]) if cap is not None and len(cap) else 0
    period = _period(ctx.mode, cadence, periods, ctx.split_tags().get("split.method", ""))

    body = [
        _header(ctx, scores, _summary_cards(ctx, comp, imp, basis), notes),
        _drivers_section(ctx, scorer, len(sample) if sample is not None else 0, imp, basis),
        _conversion_section(ctx),
        _versus_section(ctx, comp, period),
        _calibration_section(ctx, comp),
    ]
    if scores is not None:
        body.append(_scores_section(ctx, scores))
    generated = datetime.now(tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body.append(
        f"<footer>Generated by leadscore on {generated} from MLflow run {e(ctx.ref.run_id)} "
        f"({e(ctx.ref.uri)}, store {e(tracking.tracking_uri())}).</footer>"
    )
    title = f"Lead score report: {ctx.ref.label}"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{CSS}</style></head><body><main>"
        + "".join(body)
        + "</main></body></html>\n"
    )


def build_report(
    model_uri: str | None,
    scores_path: str | None,
    out: str,
    *,
    registered_name: str = "leadscore",
) -> Path:
    """Write the HTML report for a registered model (default: the champion) to ``out``.

    ``scores_path`` (optional): a scores file from ``leadscore score`` to add today's leads
    by tier. ``out`` may be a folder (``report.html`` is written into it). Bad input (unknown model, missing or malformed scores file) raises
    :class:`DataError` before anything is written. Returns the written path.
    """
    scores = read_scores(scores_path) if scores_path else None
    uri = tracking.resolve_model_uri(model_uri, registered_name)
    tracking.connect_existing()
    ref = tracking.resolve_model(uri, registered_name)
    model = registered.load_registered(uri)
    settings = model.settings
    mode = settings.mode
    # Flat-mode models learn "converted" from a label column: there is no horizon to speak of.
    horizon = None if mode == "flat" else settings.horizon_days
    run = tracking.get_run(ref)
    tiers = settings.tiers
    with tempfile.TemporaryDirectory(prefix="leadscore-report-") as tmp:
        art = _download(ref.run_id, Path(tmp))
        ctx = Context(ref, settings, mode, horizon, tiers, run, art, settings.outcome)
        page = render(ctx, model.scorer, scores)
    target = Path(out)
    if target.is_dir():
        target = target / "report.html"
    return write_atomic(target, lambda p: p.write_text(page, encoding="utf-8"))
