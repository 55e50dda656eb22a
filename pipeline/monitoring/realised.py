"""Realised performance of past nights, once their horizon has passed: what the calibrated
probabilities promised against what happened, the model's ranking against the points
model's on the same leads, and conversion by tier and by slice (a lead column's values). Plain functions over scored rows with a
``label`` (1 won within the horizon, 0 not, missing while the horizon is unfinished).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadscore.metrics.slices import family_alpha, judged_count, slice_table

NIGHT_COLUMNS = [
    "as_of",
    "leads",
    "expected",
    "realised",
    "ratio",
    "mean_predicted",
    "realised_rate",
    "roc_auc_model",
    "roc_auc_points",
]


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, score))


def expected_auc(probability: np.ndarray, score: np.ndarray) -> float:
    """The ROC AUC the night's scores should reach if its calibrated probabilities are
    right, before any outcome is known (NannyML's confidence-based estimate, CBPE): every
    pair of leads weighted by the chance that the first converts and the second does not,
    ties counted half. Equals the realised ROC AUC in expectation when the probabilities
    are calibrated."""
    p = np.asarray(probability, dtype="float64")
    if len(p) < 2:
        return float("nan")
    _, group = np.unique(np.asarray(score, dtype="float64"), return_inverse=True)
    pos = np.bincount(group, weights=p)
    neg = np.bincount(group, weights=1 - p)
    below = np.cumsum(neg) - neg  # non-converting mass of lower scores
    own = np.bincount(group, weights=p * (1 - p))  # a lead is never paired with itself
    won = np.sum(pos * below) + 0.5 * np.sum(pos * neg - own)
    pairs = p.sum() * (1 - p).sum() - np.sum(p * (1 - p))
    return float(won / pairs) if pairs > 0 else float("nan")


def realised_night(rows: pd.DataFrame) -> dict[str, float]:
    """One night's figures from its scored rows with a known label.

    ``ratio`` is calibration in the large: realised over expected conversions (1.0 when the
    probabilities came true on average; 2.0 when twice as many converted as promised).
    """
    y = rows["label"].to_numpy("float64")
    p = rows["probability"].to_numpy("float64")
    expected, realised = float(p.sum()), float(y.sum())
    return {
        "leads": len(rows),
        "expected": expected,
        "realised": realised,
        "ratio": realised / expected if expected > 0 else float("nan"),
        "mean_predicted": float(p.mean()) if len(p) else float("nan"),
        "realised_rate": float(y.mean()) if len(y) else float("nan"),
        "roc_auc_model": _auc(y, rows["score"].to_numpy("float64")),
        "roc_auc_points": _auc(y, rows["baseline_score"].to_numpy("float64"))
        if "baseline_score" in rows
        else float("nan"),
    }


def realised_by_night(scored: pd.DataFrame) -> pd.DataFrame:
    """One row per night whose every lead has a known label (the horizon has passed)."""
    rows = []
    for as_of, night in scored.groupby("as_of", sort=True):
        if night["label"].isna().any() or not len(night):
            continue
        rows.append({"as_of": as_of, **realised_night(night)})
    return pd.DataFrame(rows, columns=NIGHT_COLUMNS)


def realised_by_tier(night: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """A night's leads, expected and realised conversions per tier, best tier first."""
    t = night["tier"].astype(str)
    names = order + sorted(set(t) - set(order))
    rows = []
    for name in names:
        inside = night[t == name]
        y = inside["label"].to_numpy("float64")
        p = inside["probability"].to_numpy("float64")
        rows.append(
            {
                "tier": name,
                "leads": len(inside),
                "expected": float(p.sum()),
                "realised": float(y.sum()),
                "realised_rate": float(y.mean()) if len(y) else float("nan"),
            }
        )
    return pd.DataFrame(rows)


SLICE_COLUMNS = [
    "column",
    "value",
    "values",
    "leads",
    "expected",
    "expected_low",
    "expected_high",
    "realised",
    "ratio",
    "roc_auc_model",
    "roc_auc_model_low",
    "roc_auc_model_high",
    "roc_auc_points",
    "roc_auc_points_low",
    "roc_auc_points_high",
    "roc_auc_difference_low",
    "roc_auc_difference_high",
    "judged",
    "loses_to_points",
    "miscalibrated",
]
#: Resamples per slice for the ROC AUC intervals of a night.
SLICE_BOOTSTRAP = 200


def realised_by_slice(
    night: pd.DataFrame, values: pd.DataFrame, min_conversions: int, factor: float, seed: int = 0
) -> pd.DataFrame:
    """A night's realised performance per slice of each column of ``values`` (each row's
    value, by position), as training judges its slices (``metrics.slice_table``, the flags'
    5% shared among every slice judged): expected conversions and the range chance gives,
    realised ones, and the ROC AUC of the model's probability and of the points score with
    paired intervals where the slice has at least ``min_conversions`` conversions. Columns
    ``SLICE_COLUMNS``."""
    y = night["label"].to_numpy("float64")
    p = night["probability"].to_numpy("float64")
    has_points = "baseline_score" in night
    # The points score is only ranked here: 0-100 read as 0-1 keeps its order.
    points = night["baseline_score"].to_numpy("float64") / 100 if has_points else p
    judged = sum(judged_count(y, values[c].to_numpy(), min_conversions) for c in values.columns)
    parts = []
    for col in values.columns:
        t = slice_table(
            y, p, points, values[col].to_numpy(), min_conversions=min_conversions,
            factor=factor, alpha=family_alpha(judged), n_boot=SLICE_BOOTSTRAP, seed=seed,
        )  # fmt: skip
        parts.append(t.assign(column=col))
    if not parts:
        return pd.DataFrame(columns=SLICE_COLUMNS)
    out = pd.concat(parts, ignore_index=True).rename(
        columns={
            "conversions": "realised",
            "realised_over_expected": "ratio",
            **{f"model_roc_auc{s}": f"roc_auc_model{s}" for s in ("", "_low", "_high")},
            **{f"baseline_roc_auc{s}": f"roc_auc_points{s}" for s in ("", "_low", "_high")},
        }
    )
    if not has_points:
        points_columns = [c for c in out if "points" in c or "difference" in c]
        out[points_columns] = np.nan
        out["loses_to_points"] = False
    return out[SLICE_COLUMNS]
