"""What the model saw at training, kept with it so later nights can be compared: the
``Reference``.

Each feature's distribution is stored on bins fixed at training (deciles of a numeric
column, the kept levels of a categorical one, and a bin for missing values), with the share
of reference rows in each; so is the distribution of the model's own probability and the
share of each tier. A night is then binned on the very same edges and compared by the
population stability index (``psi``), as Evidently and NannyML do for tabular drift.

Some columns move from one night to the next with no change in the world (a "days since the
last email" follows the weekday of the night when mail goes out on Tuesdays). So, as NannyML
sets its thresholds on reference chunks, each column also keeps ``spread``: the mean plus
three standard deviations of its PSI between each training period and all of them, the
shift it shows with nothing changed. A night drifts on a column when its PSI passes both the
configured threshold and that spread.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

#: Shares are floored here before the logarithm of the PSI: an empty bin on one side would
#: otherwise make the index infinite.
FLOOR = 1e-4
DECILES = 10


class Bins(BaseModel):
    """One column's bins and the share of reference rows in each (the last is missing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Literal["numeric", "categorical"]
    #: numeric: inner edges; bin i holds (edges[i-1], edges[i]], the first and last are open.
    edges: list[float] = []
    #: categorical: the levels, each a bin (values outside them fall in ``other`` if kept).
    levels: list[str] = []
    shares: list[float]
    #: Mean + 3 sd of the PSI of each training period against all of them (None: one period).
    spread: float | None = None

    def threshold(self, floor: float) -> float:
        """The PSI above which a night has drifted on this column: ``floor`` or the spread."""
        return max(floor, self.spread) if self.spread is not None else floor

    @property
    def missing_share(self) -> float:
        return self.shares[-1]


class Reference(BaseModel):
    """The training reference: every feature's bins, the probability's bins, tier shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rows: int
    features: list[Bins]
    probability: Bins
    tiers: dict[str, float]
    mean_probability: float
    #: Features by importance (total gain), most important first.
    importance: list[str]

    def bins(self, name: str) -> Bins | None:
        return next((b for b in self.features if b.name == name), None)


def numeric_edges(values: np.ndarray, n: int = DECILES) -> list[float]:
    """Inner edges at the quantiles of the present values; ties collapse (a count that is
    mostly zero has few bins), so every bin holds some reference rows."""
    v = values[np.isfinite(values)]
    if not len(v):
        return []
    q = np.quantile(v, np.linspace(0, 1, n + 1)[1:-1], method="lower")
    edges = np.unique(q)
    return [float(e) for e in edges if e < v.max()]


def numeric_shares(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Shares of ``values`` in the bins of ``edges`` (right-closed), missing last."""
    v = np.asarray(values, dtype="float64")
    present = np.isfinite(v)
    counts = np.bincount(
        np.searchsorted(np.asarray(edges), v[present], side="left"), minlength=len(edges) + 1
    ).astype("float64")
    counts = np.append(counts, float((~present).sum()))
    return counts / max(len(v), 1)


def categorical_shares(values: pd.Series, levels: list[str]) -> np.ndarray:
    """Shares of ``values`` in each level, missing last (values outside the levels count
    nowhere but in the total, so the shares then add up to less than one)."""
    v = values.astype("object")
    present = v.notna() & (v.astype(str) != "missing")
    text = v[present].astype(str)
    counts = text.value_counts()
    out = np.array([float(counts.get(level, 0)) for level in levels] + [float((~present).sum())])
    return out / max(len(values), 1)


def shares_in(bins: Bins, values: pd.Series | np.ndarray) -> np.ndarray:
    """A column's shares on the reference's bins."""
    if bins.kind == "numeric":
        return numeric_shares(
            pd.to_numeric(pd.Series(values), errors="coerce").to_numpy("float64"), bins.edges
        )
    return categorical_shares(pd.Series(values), bins.levels)


def psi(reference: np.ndarray | list[float], current: np.ndarray | list[float]) -> float:
    """Population stability index: sum over bins of (current - reference) * ln(current /
    reference), shares floored at ``FLOOR``. Under 0.1 is stable by the usual reading, 0.1
    to 0.25 a moderate shift, above 0.25 a large one."""
    r = np.maximum(np.asarray(reference, dtype="float64"), FLOOR)
    c = np.maximum(np.asarray(current, dtype="float64"), FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


#: Training periods with fewer rows than this do not count towards a column's spread.
MIN_PERIOD_ROWS = 50


def with_outside(shares: np.ndarray) -> np.ndarray:
    """Shares with one more bin for values outside the kept levels (what they miss of 1)."""
    return np.append(shares, max(0.0, 1.0 - float(np.sum(shares))))


def spread(bins: Bins, values: pd.Series, periods: np.ndarray | None) -> float | None:
    """Mean + 3 sd of the PSI of each period's ``values`` against ``bins`` (all periods)."""
    if periods is None:
        return None
    ref = with_outside(np.asarray(bins.shares))
    found = []
    for period in np.unique(periods):
        inside = periods == period
        if inside.sum() >= MIN_PERIOD_ROWS:
            found.append(psi(ref, with_outside(shares_in(bins, values[inside]))))
    if len(found) < 2:
        return None
    return float(np.mean(found) + 3 * np.std(found))


def column_bins(
    name: str,
    values: pd.Series,
    levels: tuple[str, ...] | None,
    periods: np.ndarray | None = None,
) -> Bins:
    """Bins for one column: its kept levels when categorical, deciles otherwise; with
    ``periods`` (each row's training period), the column's spread between them."""
    if levels is not None:
        lv = [lvl for lvl in levels if lvl != "missing"]
        bins = Bins(
            name=name, kind="categorical", levels=lv, shares=list(categorical_shares(values, lv))
        )
    else:
        v = pd.to_numeric(values, errors="coerce").to_numpy("float64")
        edges = numeric_edges(v)
        bins = Bins(name=name, kind="numeric", edges=edges, shares=list(numeric_shares(v, edges)))
    return bins.model_copy(update={"spread": spread(bins, values.reset_index(drop=True), periods)})


def build_reference(
    features: pd.DataFrame,
    categories: dict[str, tuple[str, ...]],
    columns: list[str],
    probability: np.ndarray,
    tiers: np.ndarray,
    importance: list[str],
    periods: np.ndarray | None = None,
) -> Reference:
    """The reference of ``features`` (rows the model scored, ``probability`` its scores and
    ``tiers`` their tiers; ``periods`` each row's training period, for the spreads)."""
    bins = [
        column_bins(c, features[c], categories.get(c), periods) for c in columns if c in features
    ]
    p = np.asarray(probability, dtype="float64")
    p_bins = column_bins("probability", pd.Series(p), None, periods)
    names, counts = np.unique(np.asarray(tiers).astype(str), return_counts=True)
    return Reference(
        rows=len(features),
        features=bins,
        probability=p_bins,
        tiers={str(t): float(n) / max(len(p), 1) for t, n in zip(names, counts, strict=True)},
        mean_probability=float(p.mean()) if len(p) else float("nan"),
        importance=[c for c in importance if c in set(columns)],
    )
