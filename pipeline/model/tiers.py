"""Scores and tiers: the calibrated probability on the 0-100 scale sales reads, and its bands."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.config import TierConfig
from leadscore.metrics.bands import cut_scores


def to_score(probability: np.ndarray) -> np.ndarray:
    """0-100: the probability in percent, one decimal (so a score of 12 means a 12% chance)."""
    return np.round(np.asarray(probability, dtype="float64") * 100.0, 1)


def assign_tiers(score: np.ndarray, cfg: TierConfig) -> np.ndarray:
    """The tier of each score: the highest tier whose minimum is reached, else ``cfg.rest``."""
    out = np.full(len(score), cfg.rest, dtype=object)
    # Worst first, so a better tier overwrites; on equal cut-offs the one listed first wins.
    for tier, minimum in reversed(sorted(cfg.cutoffs.items(), key=lambda kv: -kv[1])):
        out[np.asarray(score) >= minimum] = tier
    return out


def tier_order(cfg: TierConfig) -> list[str]:
    """Tiers from best to worst."""
    return [t for t, _ in sorted(cfg.cutoffs.items(), key=lambda kv: -kv[1])] + [cfg.rest]


def resolve_tiers(cfg: TierConfig, score: np.ndarray, period: np.ndarray) -> TierConfig:
    """``cfg`` with its capacities or shares turned into minimum scores on ``score`` (the
    backtest's out-of-time scores; ``period``: each row's snapshot). Fixed cut-offs come back
    as they are.

    Each tier's cut-off is the score whose share of rows at or above it comes closest to the
    tier's cumulative share (capacities: the capacity over the median number of open leads
    per snapshot), below the better tier's cut-off. Scores tie in steps (isotonic
    calibration), so shares are met as closely as the steps allow; the top tier always
    holds the best-scored rows, so it is never empty on the rows it was cut on.
    """
    if cfg.by == "cutoffs":
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
    got = ", ".join(f"{t} {np.mean(s >= c):.1%}" for t, c in cutoffs.items())
    note = (
        f"{basis}, cut on {len(s):,} out-of-time scores over {periods} snapshot(s) "
        f"(at or above each cut-off: {got})"
    )
    return cfg.model_copy(update={"cutoffs": cutoffs, "cut_from": note})


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
