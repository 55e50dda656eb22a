"""Scores and tiers: the calibrated probability on the 0-100 scale sales reads, and its bands."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.config import TierConfig
from leadscore.metrics.bands import cut_scores
from leadscore.words import counted

#: Significant digits a score keeps: a 0.0004% chance reads 0.0004, not 0.0.
SIGNIFICANT = 3


def significant(x: np.ndarray, digits: int = SIGNIFICANT) -> np.ndarray:
    """``x`` rounded to ``digits`` significant digits (0 stays 0)."""
    v = np.asarray(x, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(v)))
    decimals = np.where(np.isfinite(magnitude), digits - 1 - magnitude, 0.0)
    scale = 10.0**decimals
    return np.where(v == 0, 0.0, np.round(v * scale) / scale) + 0.0


def to_score(probability: np.ndarray) -> np.ndarray:
    """0-100: the probability in percent, to three significant digits (a score of 12 means a
    12% chance). The probability column keeps the exact value, and ``ranks`` the order."""
    return significant(np.asarray(probability, dtype="float64") * 100.0)


def _tie_groups(probability: np.ndarray, margin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows best first (by probability, then raw margin) and each row's tie group (0 = the
    best group: rows equal on both)."""
    p = np.asarray(probability, dtype="float64")
    m = np.asarray(margin, dtype="float64")
    order = np.lexsort((-m, -p))
    ps, ms = p[order], m[order]
    new = np.r_[True, (ps[1:] != ps[:-1]) | (ms[1:] != ms[:-1])] if len(p) else np.array([], bool)
    group = np.empty(len(p), dtype=np.int64)
    group[order] = np.cumsum(new) - 1
    return order, group


def ranks(probability: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Each lead's rank, 1 = best: by calibrated probability, and leads of one probability by
    the model's raw margin (calibration maps a range of margins to one probability, so the
    margin orders those leads as the model does). Leads equal on both share the best rank of
    their group (1, 2, 2, 4)."""
    return _ranks(*_tie_groups(probability, margin))


def _ranks(order: np.ndarray, group: np.ndarray) -> np.ndarray:
    first = np.flatnonzero(np.r_[True, np.diff(group[order]) > 0])  # sorted position per group
    return (first[group] + 1).astype(np.int64)


def ranks_and_tiers(
    probability: np.ndarray,
    margin: np.ndarray,
    cfg: TierConfig,
    segment: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One night's ``ranks`` and ``night_tiers`` (as text), from one sort of its leads
    (``segment``: each lead's segment when tiers are cut per segment; ranks stay the
    night's)."""
    order, group = _tie_groups(probability, margin)
    if not cfg.ranked:
        tier = assign_tiers(to_score(np.asarray(probability, "float64")), cfg)
    elif segment is None:
        tier = _cut_groups(group, cfg)
    else:
        tier = night_tiers(probability, margin, cfg, segment=segment)
    return _ranks(order, group), tier.astype(str)


def _cumulative(cfg: TierConfig, leads: int) -> np.ndarray:
    """Each tier's cumulative share of ``leads`` (capacities over the night's count)."""
    if cfg.by == "capacity":
        return np.minimum(1.0, np.cumsum(list(cfg.capacity.values())) / max(leads, 1))
    return np.minimum(1.0, np.cumsum(list(cfg.shares.values())))


def night_tiers(
    probability: np.ndarray,
    margin: np.ndarray,
    cfg: TierConfig,
    night: np.ndarray | None = None,
    segment: np.ndarray | None = None,
) -> np.ndarray:
    """The tier of each lead (``night``: each row's night, for several nights at once;
    ``segment``: each row's segment, when tiers are cut per segment).

    Fixed cut-offs read the score. Shares and capacities are applied to each night's ranks
    (``ranks``), or each night's within each segment: a tier takes the leads down to its
    cumulative share, or capacity, of those leads. Leads tied on probability and margin go
    to one tier together, on the side that leaves the tier closest to its size
    (``metrics.bands.cut_scores``), and the best lead is always in the top tier.
    """
    p = np.asarray(probability, dtype="float64")
    if not cfg.ranked:
        return assign_tiers(to_score(p), cfg)
    m = np.asarray(margin, dtype="float64")
    out = np.full(len(p), cfg.rest, dtype=object)
    codes = np.zeros(len(p), np.int64) if night is None else pd.factorize(np.asarray(night))[0]
    if segment is not None:  # one group per night and segment
        seg = pd.factorize(pd.Series(segment, dtype=object).fillna(""))[0]
        codes = codes * (int(seg.max(initial=0)) + 1) + seg
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        out[rows] = _cut_groups(_tie_groups(p[rows], m[rows])[1], cfg)
    return out


def _cut_groups(group: np.ndarray, cfg: TierConfig) -> np.ndarray:
    """Tiers of one night's leads from their tie groups (0 = best), by shares or capacity."""
    out = np.full(len(group), cfg.rest, dtype=object)
    names = np.array(cfg.names()[:-1], dtype=object)
    key = -group.astype("float64")  # higher is better, one value per tie group
    cuts, _ = cut_scores(key, _cumulative(cfg, len(group)))
    # Tier k holds keys in [cuts[k], cuts[k-1]); a tier whose cut repeats the one before
    # is empty.
    at = np.searchsorted(-cuts, -key, side="left")
    placed = at < len(names)
    out[placed] = names[at[placed]]
    return out


def assign_tiers(score: np.ndarray, cfg: TierConfig) -> np.ndarray:
    """The tier of each score: the highest tier whose minimum is reached, else ``cfg.rest``."""
    out = np.full(len(score), cfg.rest, dtype=object)
    # Worst first, so a better tier overwrites; on equal cut-offs the one listed first wins.
    for tier, minimum in reversed(sorted(cfg.cutoffs.items(), key=lambda kv: -kv[1])):
        out[np.asarray(score) >= minimum] = tier
    return out


def tier_order(cfg: TierConfig) -> list[str]:
    """Tiers from best to worst."""
    return cfg.names()


def resolve_tiers(cfg: TierConfig, score: np.ndarray, period: np.ndarray) -> TierConfig:
    """With ``fixed_at_training``, ``cfg`` with its capacities or shares turned into minimum
    scores on ``score`` (the backtest's out-of-time scores; ``period``: each row's snapshot).
    Fixed cut-offs, and shares or capacities applied each night, come back as they are.

    Each tier's cut-off is the score whose share of rows at or above it comes closest to the
    tier's cumulative share (capacities: the capacity over the median number of open leads
    per snapshot), below the better tier's cut-off. Scores tie in steps (isotonic
    calibration), so shares are met as closely as the steps allow; the top tier always
    holds the best-scored rows, so it is never empty on the rows it was cut on.
    """
    if cfg.by == "cutoffs" or not cfg.fixed_at_training:
        return cfg
    s = np.asarray(score, dtype="float64")
    if len(s) == 0:
        raise ValueError("tiers: no scores to cut the tiers on")
    if cfg.by == "capacity":
        per_period = float(np.median(np.unique(np.asarray(period), return_counts=True)[1]))
        wanted = {t: n / per_period for t, n in cfg.capacity.items()}
        basis = f"capacity over a median {per_period:,.0f} open leads per snapshot"
    else:
        wanted = dict(cfg.shares)
        basis = "shares of the open leads"
    cuts, _ = cut_scores(s, np.minimum(1.0, np.cumsum(list(wanted.values()))))
    cutoffs = dict(zip(wanted, map(float, cuts), strict=True))
    periods = len(np.unique(np.asarray(period)))
    note = (
        f"{basis}, fixed at training on {len(s):,} out-of-time scores over {periods} "
        f"snapshot{'s' if periods != 1 else ''}"
    )
    return cfg.model_copy(update={"cutoffs": cutoffs, "cut_from": note})


def tier_shares(tier: np.ndarray, order: list[str]) -> str:
    """Each tier's share of ``tier``'s rows, best first: "A 5.0%, B 15.0%, C 30.0%, D 50.0%"."""
    t = np.asarray(tier).astype(str)
    return ", ".join(f"{name} {np.mean(t == name):.1%}" for name in order) if len(t) else "none"


def tier_note(
    cfg: TierConfig, tier: np.ndarray, periods: int, in_time: bool = True, unit: str = "snapshot"
) -> str:
    """How the tiers are set, and the shares they held on the backtest's rows (``tier``):
    out-of-time rows over ``periods`` snapshots, or (``in_time`` False) held-out rows over
    ``periods`` of ``unit`` (folds of a file without dates)."""
    rows = "out-of-time" if in_time else "held-out"
    held = f"on the backtest's {len(tier):,} {rows} rows over {counted(periods, unit)}: "
    held += tier_shares(tier, cfg.names())
    if cfg.ranked:
        how = "the best N open leads" if cfg.by == "capacity" else "shares of the open leads"
        return f"{how} of each night, by rank; {held}"
    return f"{cfg.cut_from or 'fixed minimum scores'}; {held}"


def expected_by_tier(
    tier: np.ndarray, probability: np.ndarray, order: list[str]
) -> list[tuple[str, int, float]]:
    """(tier, leads, expected conversions) best tier first: the calibrated probabilities
    summed, what a tier should bring before any outcome is known."""
    # Codes by one hash pass (no Python string per lead), then counts and sums per code.
    codes, names = pd.factorize(pd.Series(tier).astype("str"))
    p = np.asarray(probability, dtype="float64")
    kept = codes >= 0
    leads = np.bincount(codes[kept], minlength=len(names))
    sums = np.bincount(codes[kept], weights=p[kept], minlength=len(names))
    at = {str(name): i for i, name in enumerate(names)}
    return [
        (name, int(leads[at[name]]), float(sums[at[name]])) if name in at else (name, 0, 0.0)
        for name in order
    ]
