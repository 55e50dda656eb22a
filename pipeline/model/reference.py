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
    mean_probability: float | None
    #: The lowest probability of each tier on the latest reference period: where a tier
    #: starts for a lead scored on its own (``leadscore serve``) when no night is kept.
    tier_floors: dict[str, float] = {}
    #: The same per segment, when a segmented model cuts tiers within each segment's leads.
    segment_tier_floors: dict[str, dict[str, float]] = {}
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


def numeric_codes(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Each value's bin on ``edges`` (right-closed); missing values (NaN) in bin
    ``len(edges) + 1``."""
    v = np.asarray(values, dtype="float64")
    codes = np.searchsorted(np.asarray(edges, dtype="float64"), v, side="left")
    codes[np.isnan(v)] = len(edges) + 1  # an infinity is a value: the first or last bin
    return codes


def categorical_codes(values: pd.Series, levels: list[str]) -> np.ndarray:
    """Each value's level; blanks (and ``missing``) in bin ``len(levels)``, values outside
    the levels in ``len(levels) + 1``. Worked out once per distinct value, not per row."""
    s = pd.Series(values)
    if not isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype("category")
    at = {level: i for i, level in enumerate(levels)}
    missing, outside = len(levels), len(levels) + 1
    table = [missing if str(c) == "missing" else at.get(str(c), outside) for c in s.cat.categories]
    # code -1 (a blank) takes the table's last entry: missing.
    return np.asarray([*table, missing])[s.cat.codes.to_numpy()]


def _share(codes: np.ndarray, bins: int) -> np.ndarray:
    return np.bincount(codes, minlength=bins).astype("float64") / max(len(codes), 1)


def numeric_shares(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Shares of ``values`` in the bins of ``edges`` (right-closed), missing last."""
    return _share(numeric_codes(values, edges), len(edges) + 2)


def categorical_shares(values: pd.Series, levels: list[str]) -> np.ndarray:
    """Shares of ``values`` in each level, missing last (values outside the levels count
    nowhere but in the total, so the shares then add up to less than one)."""
    return _share(categorical_codes(values, levels), len(levels) + 2)[:-1]


def codes_of(bins: Bins, values: pd.Series | np.ndarray) -> np.ndarray:
    """Each value's bin; the last bin (``len(bins.shares)``) holds values outside the levels."""
    if bins.kind == "numeric":
        v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy("float64")
        return numeric_codes(v, bins.edges)
    return categorical_codes(pd.Series(values), bins.levels)


def bin_counts(reference: Reference, features: pd.DataFrame) -> dict[str, np.ndarray]:
    """Rows of ``features`` in each bin of every reference column it holds (the last bin:
    outside the levels). Counts of chunks add up to the counts of the whole."""
    return {
        b.name: np.bincount(codes_of(b, features[b.name]), minlength=len(b.shares) + 1)
        for b in reference.features
        if b.name in features
    }


def shares_in(bins: Bins, values: pd.Series | np.ndarray) -> np.ndarray:
    """A column's shares on the reference's bins."""
    return _share(codes_of(bins, values), len(bins.shares) + 1)[:-1]


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
    k = len(bins.shares) + 1
    period, names = pd.factorize(np.asarray(periods))
    counts = np.bincount(period * k + codes_of(bins, values), minlength=len(names) * k)
    counts = counts.reshape(len(names), k).astype("float64")
    rows = counts.sum(axis=1)
    counts = counts[rows >= MIN_PERIOD_ROWS]
    if len(counts) < 2:
        return None
    ref = np.maximum(with_outside(np.asarray(bins.shares)), FLOOR)
    now = np.maximum(counts / counts.sum(axis=1, keepdims=True), FLOOR)
    found = np.sum((now - ref) * np.log(now / ref), axis=1)
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
    segments: np.ndarray | None = None,
) -> Reference:
    """The reference of ``features`` (rows the model scored, ``probability`` its scores and
    ``tiers`` their tiers; ``periods`` each row's training period, for the spreads;
    ``segments`` each row's tier group, when tiers are cut per segment)."""
    bins = [
        column_bins(c, features[c], categories.get(c), periods) for c in columns if c in features
    ]
    p = np.asarray(probability, dtype="float64")
    p_bins = column_bins("probability", pd.Series(p), None, periods)
    tier_text = np.asarray(tiers).astype(str)
    names, counts = np.unique(tier_text, return_counts=True)
    if periods is None or not len(p):
        latest = np.ones(len(p), bool)
    else:
        latest = np.asarray(periods) == pd.Series(np.asarray(periods)).max()
    return Reference(
        rows=len(features),
        features=bins,
        probability=p_bins,
        tiers={str(t): float(n) / max(len(p), 1) for t, n in zip(names, counts, strict=True)},
        mean_probability=float(p.mean()) if len(p) else None,
        tier_floors=tier_floors(p[latest], tier_text[latest]),
        segment_tier_floors={}
        if segments is None
        else {
            str(g): tier_floors(p[latest & (segments == g)], tier_text[latest & (segments == g)])
            for g in np.unique(np.asarray(segments)[latest])
        },
        importance=[c for c in importance if c in set(columns)],
    )


def tier_floors(probability: np.ndarray, tier: np.ndarray) -> dict[str, float]:
    """The lowest probability of each tier among ``tier``'s rows, best tier first."""
    frame = pd.DataFrame({"p": np.asarray(probability, "float64"), "tier": tier})
    floors = frame.groupby("tier", sort=False)["p"].min().sort_values(ascending=False)
    return {str(k): float(v) for k, v in floors.items()}
