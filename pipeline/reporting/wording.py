"""Words and numbers as the review prints them: formats, metric names, tier ranges, periods.

Pure functions and no HTML: the templates escape whatever these return. A sentence with
emphasis is *rich text*, a list of ``Segment``s (plain, bold, or a tier chip), so a template
only loops over segments and escapes them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from leadscore.charts import rate_text as rate
from leadscore.config import TierConfig

# --- rich text ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    text: str
    kind: Literal["text", "b", "tier"] = "text"


Rich = list[Segment]


def b(value: object) -> Segment:
    """Bold."""
    return Segment(str(value), "b")


def chip(tier: object) -> Segment:
    """A tier name drawn as a chip."""
    return Segment(str(tier), "tier")


def rich(*parts: str | Segment | Iterable[Segment]) -> Rich:
    """Plain strings, segments and rich texts joined into one rich text."""
    out: Rich = []
    for part in parts:
        if isinstance(part, str):
            out.append(Segment(part))
        elif isinstance(part, Segment):
            out.append(part)
        else:
            out.extend(part)
    return out


def join_rich(items: list[Rich], sep: str = ", ", last: str = " and ") -> Rich:
    """``a, b and c`` over rich texts."""
    out: Rich = []
    for i, item in enumerate(items):
        if i:
            out.append(Segment(last if i == len(items) - 1 else sep))
        out.extend(item)
    return out


def join_words(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def plain(text: Rich) -> str:
    """The words of a rich text, without emphasis (tests and alt texts)."""
    return "".join(s.text for s in text)


# --- numbers ------------------------------------------------------------------------------


def num(v: float | int) -> str:
    return f"{int(v):,}"


def pct(v: float, decimals: int = 0) -> str:
    return f"{v * 100:.{decimals}f}%"


# ``rate``: a conversion rate as the pages and their charts print it (``charts.rate_text``).


def rate_interval(low: float, high: float) -> str:
    """A rate's interval: "7.9%-10.5%"; with no conversion "0%-0.07%", never "0.0%-0.0%"."""
    return f"{rate(low)}-{rate(high)}"


def share(v: float) -> str:
    """A share in whole percent; one that would round to 0% or 100% without being none or
    all reads "under 1%" or "over 99%"."""
    if 0 < v < 0.005:
        return "under 1%"
    return "over 99%" if 0.995 <= v < 1 else pct(v)


def f3(v: float) -> str:
    return f"{v:.3f}"


def f4(v: float) -> str:
    return f"{v:.4f}"


def points(v: float) -> str:
    return f"{v * 100:.2f} pts"


def times(v: float) -> str:
    return f"{v:.1f}x"


def signed(fmt: str, scale: float = 1.0, unit: str = "") -> Callable[[float], str]:
    """A difference in ``fmt``; one that is not zero but rounds to zero keeps its first
    significant digit ("-0.0003", not "-0.000"), and zero has no sign."""

    def text(v: float) -> str:
        x = float(v) * scale
        out = f"{x:{fmt}}"
        if x == 0:
            out = f"{0.0:{fmt}}".replace("-", "+")
        elif math.isfinite(x) and float(out) == 0:
            digits = -math.floor(math.log10(abs(x)))
            out = f"{x:{'+' if fmt.startswith('+') else ''}.{digits}f}"
        return out + unit

    return text


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``1 month``, ``2 months``."""
    return f"{n} {noun if n == 1 else (many or noun + 's')}"


# "4 fold(s)", "1,200 row(s)": how training's notes and tags count things.
_COUNTED = re.compile(r"\b(\d[\d,]*) ([A-Za-z][\w-]*)\(s\)")


def plurals(text: str) -> str:
    """Text written elsewhere with ``N noun(s)`` (training's notes and tags), each count
    agreeing with its noun: "4 fold(s) of 1 snapshot(s)" -> "4 folds of 1 snapshot"."""

    def agree(m: re.Match[str]) -> str:
        one = int(m.group(1).replace(",", "")) == 1
        return f"{m.group(1)} {m.group(2)}{'' if one else 's'}"

    return _COUNTED.sub(agree, text)


@dataclass(frozen=True)
class Metric:
    name: str
    hint: str
    value: Callable[[float], str]
    difference: Callable[[float], str]


# In the order the comparison table shows them.
METRICS: dict[str, Metric] = {
    "roc_auc": Metric(
        "Ranking quality (AUC)",
        "Chance that a lead which converted is scored above one that did not (0.5 = coin flip, 1 = perfect).",
        f3,
        signed("+.3f"),
    ),
    "capture_at_10": Metric(
        "Conversions in the top 10%",
        "Share of all conversions found among the 10% highest-scored leads.",
        pct,
        signed("+.0f", 100, " pts"),
    ),
    "lift_at_10": Metric(
        "Lift in the top 10%",
        "How many times the average conversion rate the top 10% convert at.",
        times,
        signed("+.1f"),
    ),
    "capture_at_20": Metric(
        "Conversions in the top 20%",
        "Share of all conversions found among the 20% highest-scored leads.",
        pct,
        signed("+.0f", 100, " pts"),
    ),
    "lift_at_20": Metric(
        "Lift in the top 20%", "As above, for the top 20%.", times, signed("+.1f")
    ),
    "pr_auc": Metric(
        "Precision at the top (PR AUC)",
        "How clean the top of the list is (average precision); higher is better.",
        f3,
        signed("+.3f"),
    ),
    "ece": Metric(
        "Calibration error (ECE)",
        "Average gap between the predicted chance and what happened, in percentage points; lower is better.",
        points,
        signed("+.2f", 100, " pts"),
    ),
    "brier": Metric(
        "Probability error (Brier)",
        "Mean squared error of the predicted chances; lower is better.",
        f4,
        signed("+.4f"),
    ),
    "log_loss": Metric(
        "Log loss", "Penalises confident wrong predictions; lower is better.", f4, signed("+.4f")
    ),
}


# --- names --------------------------------------------------------------------------------

# Readable names for the explicit-attribute groups of ``scoring.reasons.feature_groups``.
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


def readable(label: str) -> str:
    text = GROUP_LABELS.get(label, label)
    return text[:1].upper() + text[1:]


def verb(outcome: str) -> str:
    """'becomes a won deal within 90 days' -> 'become a won deal within 90 days'."""
    return re.sub(r"^becomes\b", "become", re.sub(r"^converts\b", "convert", outcome))


def tier_ranges(tiers: TierConfig) -> dict[str, str]:
    """What each tier holds, in words, best tier first: a share or a number of each night's
    leads (tiers cut on the night's ranks), or a score range (fixed cut-offs)."""
    if tiers.ranked:
        return _rank_words(tiers)
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


def _rank_words(tiers: TierConfig) -> dict[str, str]:
    out: dict[str, str] = {}
    if tiers.by == "capacity":
        for i, (name, n) in enumerate(tiers.capacity.items()):
            out[name] = f"the best {n:,} leads of each night" if i == 0 else f"the next {n:,}"
    else:
        for i, (name, share) in enumerate(tiers.shares.items()):
            words = f"{share * 100:.4g}%"
            out[name] = f"the top {words} of each night's leads" if i == 0 else f"the next {words}"
    out[tiers.rest] = "the rest"
    return out


def score_text(v: float) -> str:
    """A score as it is kept: three significant digits (0.0123, 3.41, 71)."""
    return f"{float(v):.3g}"


def score_ranges(score: pd.Series, tier: pd.Series) -> dict[str, str]:
    """Each tier's scores on one night, in words: "score 3.41 to 89.7"."""
    frame = pd.DataFrame({"score": score, "tier": tier})
    spans = frame.groupby("tier", observed=True)["score"].agg(["min", "max"])
    return {
        str(name): f"score {score_text(lo)}"
        if lo == hi
        else f"score {score_text(lo)} to {score_text(hi)}"
        for name, (lo, hi) in spans.iterrows()
    }


@dataclass(frozen=True)
class Period:
    """How the capacity table's periods read: "top 100 leads each month, over the 2 test months"."""

    each: str
    over: str


def period_words(mode: str, cadence: str | None, periods: int, split_method: str) -> Period:
    if mode == "flat":
        return Period("in each fold", f"over the {plural(periods, 'backtest fold')}")
    if cadence in (None, "", "monthly"):
        return Period("each month", f"over the {plural(periods, 'test month')}")
    return Period(f"at each {cadence}-day snapshot", f"over the {plural(periods, 'test snapshot')}")


def split_range(text: str | None) -> tuple[str, str, int] | None:
    """``2025-09-01..2025-10-01 (2)`` -> (first, last, count), as the plan writes spans; a
    single date (``2025-09-01 (1)``) is its own first and last."""
    m = re.match(r"\s*(\S+?)(?:\.\.(\S+))?\s*\((\d+)\)", text or "")
    return (m.group(1), m.group(2) or m.group(1), int(m.group(3))) if m else None


def span_words(text: str, noun: str = "snapshot") -> str:
    """A span as the plan writes it, in words: ``2024-01-02..2025-04-02 (16)`` ->
    "2024-01-02 to 2025-04-02 (16 snapshots)", ``2025-07-02 (1)`` -> "2025-07-02"; text
    of another shape ("rows 1,601-2,000", a flat fold) as it is."""
    span = split_range(text)
    if span is None:
        return str(text)
    first, last, count = span
    if first == last and count == 1:
        return first
    dates = first if first == last else f"{first} to {last}"
    return f"{dates} ({plural(count, noun)})"
