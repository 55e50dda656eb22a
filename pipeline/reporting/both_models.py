"""What the sections share when they set the model beside the points model: the order of the
points model's statuses, the held-out rows as a label and each approach's chance, and a figure
with its interval as one table cell."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from leadscore.reporting import blocks

# The points model's statuses, best first, as its tiers are listed beside the model's.
BASELINE_ORDER = ("SQL", "MQL", "nurture")


def figure_cell(v: float, lo: float, hi: float, fmt: Callable[[float], str]) -> blocks.Cell:
    """``v`` formatted, with its interval beneath when both ends are known (``–`` without ``v``)."""
    if not np.isfinite(v):
        return blocks.valued("–")
    interval = f"{fmt(lo)} – {fmt(hi)}" if np.isfinite(lo) and np.isfinite(hi) else None
    return blocks.valued(fmt(v), interval)


def held_out_curves(rows: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The held-out rows' labels, and each approach's predicted chance named as the review
    says it."""
    y = rows["label"].to_numpy(dtype="float64")
    return y, {
        "model": rows["p_model"].to_numpy(),
        "points model": rows["p_baseline"].to_numpy(),
    }
