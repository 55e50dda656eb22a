"""Drift of a night against the model's training reference, as plain functions over frames.

Input drift: per feature, the population stability index (PSI) on the bins fixed at
training, the missing rate then and now, and the share of values outside the levels the
model kept (a new lead source lands there). Score drift: the PSI of the model's probability
and the share of leads in each tier, against the same reference. Score drift by slice: each
slice's probabilities (a lead column's value) against the same slice on a baseline of the
caller's choosing (the monitor: the model's earlier nights), on the same PSI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.metrics.slices import OTHER, pool_slices
from leadscore.model.reference import (
    Reference,
    bin_counts,
    numeric_edges,
    numeric_shares,
    psi,
    shares_in,
    with_outside,
)

FEATURE_COLUMNS = [
    "feature",
    "importance_rank",
    "psi",
    "threshold",
    "drifted",
    "missing_reference",
    "missing_now",
    "outside_reference",
    "outside_now",
]


def _outside(bins, shares: np.ndarray) -> float:
    """Share of values outside the kept levels: the ``other`` level plus anything unbinned."""
    if bins.kind != "categorical":
        return float("nan")
    other = shares[bins.levels.index("other")] if "other" in bins.levels else 0.0
    return float(other + max(0.0, 1.0 - shares.sum()))


def feature_drift(reference: Reference, features: pd.DataFrame, floor: float) -> pd.DataFrame:
    """One row per reference feature present in ``features``, largest PSI first; a feature
    has ``drifted`` when its PSI passes ``floor`` and its spread at training."""
    return drift_from_counts(reference, bin_counts(reference, features), floor)


def drift_from_counts(
    reference: Reference, counts: dict[str, np.ndarray], floor: float
) -> pd.DataFrame:
    """``feature_drift`` from a night's rows per bin (``reference.bin_counts``, summed over
    the chunks scoring made), so a scored night needs no second feature build."""
    rank = {name: i + 1 for i, name in enumerate(reference.importance)}
    rows = []
    for bins in reference.features:
        if bins.name not in counts:
            continue
        c = np.asarray(counts[bins.name], dtype="float64")
        now = c[:-1] / max(c.sum(), 1.0)
        ref = np.asarray(bins.shares)
        # Values outside the kept levels form one more bin, so they move the PSI too.
        value = psi(with_outside(ref), with_outside(now))
        rows.append(
            {
                "feature": bins.name,
                "importance_rank": rank.get(bins.name, len(rank) + 1),
                "psi": value,
                "threshold": bins.threshold(floor),
                "drifted": bool(value > bins.threshold(floor)),
                "missing_reference": bins.missing_share,
                "missing_now": float(now[-1]),
                "outside_reference": _outside(bins, ref),
                "outside_now": _outside(bins, now),
            }
        )
    out = pd.DataFrame(rows, columns=FEATURE_COLUMNS)
    return out.sort_values(["psi", "importance_rank"], ascending=[False, True], ignore_index=True)


#: The PSI chart names this many features with the largest PSI on the latest night.
CHART_LARGEST = 5


def chart_features(
    features: pd.DataFrame, top_features: int, largest: int = CHART_LARGEST
) -> pd.DataFrame:
    """The rows of a night's drift table (``FEATURE_COLUMNS``) the PSI chart draws, largest
    PSI first, with ``named``: True for the ``largest`` features by PSI and every drifted
    one (drawn in colour with their own threshold), False for the rest of the
    ``top_features`` most important (drawn in grey, for context).

    By importance alone the largest mover of a night is left out whenever it ranks low."""
    order = features.sort_values(
        ["psi", "importance_rank"], ascending=[False, True], kind="stable", ignore_index=True
    )
    named = (order.index < largest) | order["drifted"].astype(bool)
    drawn = named | (order["importance_rank"] <= top_features)
    return order[drawn].assign(named=named[drawn]).reset_index(drop=True)


def score_psi(reference: Reference, probability: np.ndarray) -> float:
    """PSI of the model's probabilities against the reference's."""
    return psi(reference.probability.shares, shares_in(reference.probability, probability))


def score_threshold(reference: Reference, floor: float) -> float:
    """The probability's PSI above which the night's scores have drifted."""
    return reference.probability.threshold(floor)


def tier_shares(
    reference: Reference, tiers: pd.Series, probability: np.ndarray, order: list[str]
) -> pd.DataFrame:
    """Per tier: leads, share now and at training, and expected conversions (the sum of the
    calibrated probabilities: what the tier should bring before any outcome is known)."""
    t = tiers.astype(str).to_numpy()
    p = np.asarray(probability, dtype="float64")
    names = order + sorted(set(t) - set(order))
    rows = []
    for name in names:
        inside = t == name
        rows.append(
            {
                "tier": name,
                "leads": int(inside.sum()),
                "share": float(inside.mean()) if len(t) else float("nan"),
                "share_reference": float(reference.tiers.get(name, 0.0)),
                "expected": float(p[inside].sum()),
            }
        )
    return pd.DataFrame(rows)


SLICE_COLUMNS = [
    "column",
    "value",
    "values",
    "leads",
    "share",
    "baseline_leads",
    "share_baseline",
    "mean_probability",
    "mean_probability_baseline",
    "mean_shift",
    "psi",
    "threshold",
    "judged",
    "drifted",
]


def _one_slice(now: np.ndarray, before: np.ndarray, min_leads: int, threshold: float) -> dict:
    """One slice's figures: its probabilities tonight (``now``) against its baseline."""
    judged = len(now) >= min_leads and len(before) >= min_leads
    value = float("nan")
    if judged:
        # The slice's own deciles on its baseline, as training fixes the probability's
        # deciles on its rows: on the overall deciles a slice whose scores sit low would
        # fall in one or two bins and hide any move inside them.
        edges = numeric_edges(before)
        value = psi(numeric_shares(before, edges), numeric_shares(now, edges))
    mean_now = float(now.mean()) if len(now) else float("nan")
    mean_before = float(before.mean()) if len(before) else float("nan")
    return {
        "leads": len(now),
        "baseline_leads": len(before),
        "mean_probability": mean_now,
        "mean_probability_baseline": mean_before,
        "mean_shift": mean_now - mean_before,
        "psi": value,
        "threshold": threshold,
        "judged": judged,
        "drifted": bool(judged and value > threshold),
    }


def _codes(values: pd.Series, kept: list[str]) -> np.ndarray:
    """Each row's position in ``kept``, ``len(kept)`` (other) for any other value. Worked
    out once per distinct value, so a history of many nights is compared by integers."""
    cat = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    at = pd.Index(kept, dtype=object).get_indexer(cat.cat.categories.astype(object))
    at = np.append(np.where(at < 0, len(kept), at), len(kept))  # code -1, a blank: other
    return at[cat.cat.codes.to_numpy()]


def slice_drift(
    probability: np.ndarray,
    values: pd.DataFrame,
    baseline_probability: np.ndarray,
    baseline_values: pd.DataFrame,
    min_leads: int,
    threshold: float,
) -> pd.DataFrame:
    """The night's score drift per slice of each column of ``values`` (each row's value, by
    position) against the same slice of a baseline (``baseline_*``, the same columns).

    A value with at least ``min_leads`` rows on the night has a row of its own; the rest
    are pooled into ``other`` (``values`` counts them), and so are the baseline's rows of
    those values and of values absent tonight, so that both sides hold the same values. A
    slice is judged when it has ``min_leads`` rows on both sides: the PSI of its
    probabilities on the deciles of its baseline (``psi``), ``drifted`` above
    ``threshold``. Besides: its share of the rows and its mean probability on both sides,
    and the shift of that mean. Columns ``SLICE_COLUMNS``; per column the largest slice
    first, ``other`` last."""
    p = np.asarray(probability, dtype="float64")
    b = np.asarray(baseline_probability, dtype="float64")
    rows = []
    for col in values.columns:
        # Counted in rows, not conversions: every row is a "conversion" here.
        pooled, n_pooled = pool_slices(values[col].to_numpy(object), np.ones(len(p)), min_leads)
        kept = sorted(set(pooled) - {OTHER})
        names = [*kept, OTHER]
        now_code = _codes(pd.Series(pooled), kept)
        before_code = _codes(baseline_values[col], kept)
        counts = np.bincount(now_code, minlength=len(names))
        order = sorted(range(len(names)), key=lambda k: (names[k] == OTHER, -counts[k], names[k]))
        for k in (k for k in order if counts[k]):
            figures = _one_slice(p[now_code == k], b[before_code == k], min_leads, threshold)
            rows.append(
                {
                    "column": col,
                    "value": names[k],
                    "values": n_pooled if names[k] == OTHER else 1,
                    **figures,
                    "share": figures["leads"] / max(len(p), 1),
                    "share_baseline": figures["baseline_leads"] / max(len(b), 1),
                }
            )
    return pd.DataFrame(rows, columns=SLICE_COLUMNS)
