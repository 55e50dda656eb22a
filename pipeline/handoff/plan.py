"""How large a holdout, and how many nights, an experiment needs to detect a relative uplift:
pure functions on a night's scores.

The leads the hand-off would reach (above the bar, best first; with a capacity, as many as
the treated arm fills plus the control arm held back beside them) convert at the mean of
their probabilities without the call; routing is to raise that by ``uplift``. Their
probabilities differ, and a mix of rates varies less than one rate at its mean, so one rate
for all of them asks for slightly more leads than needed. A lead counts once, on the first
night it enters: with a score history, the leads new at the bar per night are counted over
its nights; with one night's file every lead at the bar is taken as new each night, which
overstates the pace when leads stay at the bar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leadscore.handoff.select import above_bar, best_first
from leadscore.metrics.proportions import effect_size, treated_needed

#: The shares the plan lays side by side.
SHARES = (0.05, 0.1, 0.2, 0.3, 0.5)
#: The shares the recommendation picks from: the smallest that finishes in time.
GRID = tuple(np.round(np.arange(0.01, 0.51, 0.01), 2))


@dataclass
class Plan:
    bar: str
    leads_at_bar: int
    #: Leads new at the bar per night, and how that was counted.
    new_per_night: float
    counted_from: str
    capacity: int | None
    uplift: float
    target: float
    alpha: float
    #: One row per share: share, treated and control leads a night, the control's expected
    #: rate, treated and control leads needed, nights, conversions forgone in the control.
    table: pd.DataFrame
    share: float
    #: The share was given (``--holdout``), else picked within ``max_nights``.
    given: bool
    max_nights: int
    notes: list[str] = field(default_factory=list)

    @property
    def chosen(self) -> pd.Series:
        return self.table.loc[np.isclose(self.table["share"], self.share)].iloc[0]

    def lines(self, horizon_days: int) -> list[str]:
        """The answer in a few lines, for a person."""
        c = self.chosen
        rate = c["control_rate"]
        head = (
            f"{self.leads_at_bar:,} leads at the bar ({self.bar}), {self.new_per_night:,.0f} "
            f"new a night ({self.counted_from}), expected conversion {rate:.1%}"
        )
        goal = (
            f"to detect {self.uplift:+.0%} ({rate:.1%} -> {min(rate * (1 + self.uplift), 1):.1%}) "
            f"with power {self.target:.0%} at alpha {self.alpha:g} (two-sided)"
        )
        nights = _nights(c["nights"])
        why = "given" if self.given else f"the smallest that needs at most {self.max_nights} nights"
        out = [
            head,
            goal,
            f"holdout {self.share:.0%} ({why}): {nights}, "
            f"{c['treated_needed']:,.0f} treated and {c['control_needed']:,.0f} control leads; "
            f"the answer {horizon_days} days after the last night",
        ]
        out += [
            f"  holdout {r.share:>4.0%}: {_nights(r.nights):>14}, {r.control_needed:>9,.0f} "
            f"control leads, {r.forgone:,.1f} conversions forgone if the uplift is real"
            for r in self.table[self.table["share"].isin(SHARES)].itertuples()
        ]
        return out + [f"note: {n}" for n in self.notes]


def _nights(n: float) -> str:
    return "never" if not math.isfinite(n) else f"{int(n):,} night{'s' if n != 1 else ''}"


def new_at_bar(nights: list[pd.DataFrame], tiers: list[str] | None, min_score: float | None):
    """Mean leads a night at the bar that were at the bar on no earlier night (over the
    nights after the first), or None with fewer than two nights."""
    if len(nights) < 2:
        return None
    seen: set[str] = set()
    new = []
    for i, night in enumerate(nights):
        bar, _ = above_bar(night, tiers, min_score)
        ids = set(night["lead_id"].astype(str).to_numpy()[bar])
        if i:
            new.append(len(ids - seen))
        seen |= ids
    return float(np.mean(new))


def plan_experiment(
    scores: pd.DataFrame,
    uplift: float,
    target: float = 0.8,
    alpha: float = 0.05,
    *,
    tiers: list[str] | None = None,
    min_score: float | None = None,
    capacity: int | None = None,
    holdout: float | None = None,
    max_nights: int = 28,
    new_per_night: float | None = None,
) -> Plan:
    """The plan for one night's ``scores`` (the bar as ``handoff`` sets it); ``holdout``
    fixes the share, else the smallest of ``GRID`` within ``max_nights`` is picked (0.5 when
    none is). ``new_per_night``: leads new at the bar a night, when known."""
    if uplift <= 0:
        raise ValueError(f"uplift must be above 0, not {uplift}")
    bar, words = above_bar(scores, tiers, min_score)
    order = best_first(scores)
    p = scores["probability"].to_numpy("float64")[order[bar[order]]]  # best first
    n = len(p)
    if not n:
        raise ValueError(f"no lead at the bar ({words}) of {len(scores):,} scored leads")
    fresh = n if new_per_night is None else min(new_per_night, n)
    notes = []
    if new_per_night is None:
        notes.append(
            "every lead at the bar taken as new each night: give a score history to count "
            "only the leads new at the bar"
        )
    shares = np.array(sorted({*GRID, *SHARES, *([holdout] if holdout else [])}), "float64")
    # The leads routing reaches: the bar, or with a capacity the treated arm's fill and the
    # control held back beside it.
    reach = np.full(len(shares), n, "int64")
    if capacity is not None:
        reach = np.minimum(n, np.ceil(capacity / (1 - shares)).astype("int64"))
    rate = np.cumsum(p)[np.maximum(reach, 1) - 1] / np.maximum(reach, 1)
    per_night = fresh * reach / n
    rows = []
    for s, r, q in zip(shares, rate, per_night, strict=True):
        h = float(effect_size(min(r * (1 + uplift), 1.0), r))
        need = treated_needed(h, target, s / (1 - s), alpha) if r > 0 else math.inf
        treated = q * (1 - s)
        nights = math.ceil(need / treated) if math.isfinite(need) and treated > 0 else math.inf
        rows.append(
            {
                "share": float(s),
                "treated_per_night": treated,
                "control_per_night": q * s,
                "control_rate": float(r),
                "treated_needed": need,
                "control_needed": need * s / (1 - s),
                "nights": float(nights),
                "forgone": need * s / (1 - s) * r * uplift,
            }
        )
    table = pd.DataFrame(rows)
    if holdout is not None:
        share = float(holdout)
    else:
        fits = table.loc[table["share"].isin(GRID) & (table["nights"] <= max_nights), "share"]
        share = float(fits.min()) if len(fits) else 0.5
        if not len(fits):
            notes.append(f"no holdout up to 50% reaches the power within {max_nights} nights")
    return Plan(
        bar=words,
        leads_at_bar=n,
        new_per_night=float(fresh),
        counted_from="every lead at the bar" if new_per_night is None else "over the history",
        capacity=capacity,
        uplift=uplift,
        target=target,
        alpha=alpha,
        table=table,
        share=share,
        given=holdout is not None,
        max_nights=max_nights,
        notes=notes,
    )
