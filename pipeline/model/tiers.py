"""Scores and tiers: the calibrated probability on the 0-100 scale sales reads, and its bands."""

from __future__ import annotations

import numpy as np

from leadscore.config import TierConfig


def to_score(probability: np.ndarray) -> np.ndarray:
    """0-100: the probability in percent, one decimal (so a score of 12 means a 12% chance)."""
    return np.round(np.asarray(probability, dtype="float64") * 100.0, 1)


def assign_tiers(score: np.ndarray, cfg: TierConfig) -> np.ndarray:
    """The tier of each score: the highest tier whose minimum is reached, else ``cfg.rest``."""
    out = np.full(len(score), cfg.rest, dtype=object)
    for tier, minimum in sorted(cfg.cutoffs.items(), key=lambda kv: kv[1]):
        out[np.asarray(score) >= minimum] = tier
    return out


def tier_order(cfg: TierConfig) -> list[str]:
    """Tiers from best to worst."""
    return [t for t, _ in sorted(cfg.cutoffs.items(), key=lambda kv: -kv[1])] + [cfg.rest]
