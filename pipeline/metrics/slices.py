"""Quality by slice: the model beside the points sheet on each value of a lead column.

Rows are cut by a slice value (a lead source, a country); a value with fewer than
``min_conversions`` conversions joins the pooled ``other`` slice, and the number of values
pooled is kept. Per slice: ROC AUC of both approaches from paired bootstrap resamples
(``bootstrap``; on slices with enough conversions to judge, NaN on the others),
calibration in the large (conversions expected from the predicted probabilities against
those realised) and, given tiers, leads and conversions per tier.

Two flags, on slices with at least ``min_conversions`` conversions only (fewer: too few to
tell), each at a level ``alpha`` the caller sets for all the slices it judges together
(``family_alpha``: 5% shared among them, so that a run of 30 slices where nothing is wrong
flags one by chance about once in 20 runs, not once or twice a run):

* **loses to points**: the interval of the model's ROC AUC less the points sheet's lies
  wholly below zero: the difference ``+- z * sd`` of its paired bootstrap (``z`` the
  two-sided normal quantile of ``alpha``; a normal interval, since so few resamples cannot
  place a percentile at ``alpha / 2``). A point estimate below zero would flag half the
  slices where the two rank equally well.
* **miscalibrated**: realised conversions off the expected by more than ``factor`` either
  way (realised / expected above ``factor`` or below ``1 / factor``) *and* outside the
  range chance alone would give if the probabilities were right (expected ``+- z * sd``,
  the normal approximation to the count). The factor keeps a large slice from being
  flagged for a small miss; the range keeps a small slice from being flagged for noise. Rows independent, ``sd = sqrt(sum p (1 - p))`` (the Poisson-binomial count);
  rows in groups (a lead's snapshots, whose outcome windows overlap), each group's rows
  are taken to convert together, ``sd = sqrt(sum_g (sum_{r in g} sqrt(p_r (1 - p_r)))^2)``,
  the widest the range can be for those probabilities: a slice is not flagged for a lead
  counted in several snapshots.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import norm

from leadscore.metrics.bootstrap import _bootstrap_draws, _interval
from leadscore.metrics.checks import _labels, _labels_of, _scores
from leadscore.metrics.scores import metric_value

#: The pooled slice's name (a real value spelled so joins it).
OTHER = "other"
#: The two-sided 95% normal quantile.
Z95 = 1.959963984540054

SLICE_COLUMNS = [
    "value",
    "values",
    "leads",
    "conversions",
    "realised_rate",
    "judged",
    "model_roc_auc",
    "model_roc_auc_low",
    "model_roc_auc_high",
    "baseline_roc_auc",
    "baseline_roc_auc_low",
    "baseline_roc_auc_high",
    "roc_auc_difference",
    "roc_auc_difference_low",
    "roc_auc_difference_high",
    "model_mean_predicted",
    "baseline_mean_predicted",
    "expected",
    "expected_low",
    "expected_high",
    "realised_over_expected",
    "loses_to_points",
    "miscalibrated",
]


def pool_slices(values: np.ndarray, y: np.ndarray, min_conversions: int) -> tuple[np.ndarray, int]:
    """Each row's slice: its value when the value holds at least ``min_conversions``
    conversions, else ``OTHER``; and how many distinct values make up ``OTHER``."""
    yy = _labels(y)
    v = np.asarray(_labels_of(yy, values, "y"), dtype=object)
    codes, uniques = pd.factorize(v, use_na_sentinel=False)
    conv = np.bincount(codes, weights=yy, minlength=len(uniques))
    pooled = (conv < min_conversions) | (np.asarray(uniques, dtype=object) == OTHER)
    return np.where(pooled[codes], OTHER, v).astype(object), int(pooled.sum())


def judged_count(y: np.ndarray, values: np.ndarray, min_conversions: int) -> int:
    """How many slices of ``values`` (after pooling) hold at least ``min_conversions``
    conversions: the slices ``slice_table`` judges."""
    pooled, _ = pool_slices(values, y, min_conversions)
    yy = _labels(y)
    codes, names = pd.factorize(pooled, use_na_sentinel=False)
    return int((np.bincount(codes, weights=yy, minlength=len(names)) >= min_conversions).sum())


def family_alpha(judged: int, alpha: float = 0.05) -> float:
    """Each slice's level when ``judged`` slices are judged together: ``alpha`` shared
    among them (Bonferroni), so that all of them together err with at most ``alpha``."""
    return alpha / max(int(judged), 1)


def z_of(alpha: float) -> float:
    """The two-sided normal quantile of level ``alpha`` (1.96 at 0.05)."""
    return float(norm.ppf(1 - alpha / 2))


def expected_range(
    p: np.ndarray, groups: np.ndarray | None = None, z: float = Z95
) -> tuple[float, float, float]:
    """Conversions expected from probabilities ``p``, and the range (low, high) chance gives
    around it at ``z`` standard deviations if the probabilities are right; ``groups``: each
    row's group, whose rows are taken to convert together (see the module docstring)."""
    pp = np.asarray(p, dtype="float64")
    expected = float(pp.sum())
    if groups is None:
        variance = float(np.sum(pp * (1 - pp)))
    else:
        codes, _ = pd.factorize(np.asarray(groups), use_na_sentinel=False)
        variance = float(np.sum(np.bincount(codes, weights=np.sqrt(pp * (1 - pp))) ** 2))
    sd = math.sqrt(variance)
    return expected, max(0.0, expected - z * sd), expected + z * sd


def miscalibrated(realised: float, expected: float, low: float, high: float, factor: float) -> bool:
    """Realised conversions outside ``[low, high]`` and off ``expected`` by more than
    ``factor`` either way (see the module docstring)."""
    if not expected > 0:
        return realised > 0 and realised > high
    ratio = realised / expected
    return bool((realised < low or realised > high) and (ratio > factor or ratio < 1 / factor))


def _auc(
    y: np.ndarray, pm: np.ndarray, pb: np.ndarray, judged: bool, z: float, n_boot: int, seed: int
) -> dict:
    """Both ROC AUCs with their 95% percentile intervals, and their difference with its
    normal interval at ``z`` (see the module docstring), from one set of paired resamples."""
    names = ("model", "baseline", "difference")
    out = {f"{n}{s}": math.nan for n in names for s in ("", "_low", "_high")}
    if not (judged and 0 < y.sum() < y.size):
        return out
    draws_m, draws_b = (d["roc_auc"] for d in _bootstrap_draws(y, [pm, pb], n_boot, seed))
    out["model"], out["baseline"] = metric_value(y, pm, "roc_auc"), metric_value(y, pb, "roc_auc")
    out["model_low"], out["model_high"] = _interval(draws_m, 0.05)
    out["baseline_low"], out["baseline_high"] = _interval(draws_b, 0.05)
    diff = draws_m - draws_b
    sd = float(np.std(diff[~np.isnan(diff)])) if (~np.isnan(diff)).any() else math.nan
    out["difference"] = out["model"] - out["baseline"]
    out["difference_low"] = out["difference"] - z * sd
    out["difference_high"] = out["difference"] + z * sd
    return out


def _one(
    y: np.ndarray,
    pm: np.ndarray,
    pb: np.ndarray,
    groups: np.ndarray | None,
    judged: bool,
    factor: float,
    z: float,
    n_boot: int,
    seed: int,
) -> dict[str, object]:
    auc = _auc(y, pm, pb, judged, z, n_boot, seed)
    expected, low, high = expected_range(pm, groups, z)
    realised = float(y.sum())
    loses = judged and np.isfinite(auc["difference_high"]) and auc["difference_high"] < 0
    return {
        "leads": int(y.size),
        "conversions": int(realised),
        "realised_rate": realised / y.size,
        "judged": judged,
        **{f"model_roc_auc{s}": auc[f"model{s}"] for s in ("", "_low", "_high")},
        **{f"baseline_roc_auc{s}": auc[f"baseline{s}"] for s in ("", "_low", "_high")},
        **{f"roc_auc_difference{s}": auc[f"difference{s}"] for s in ("", "_low", "_high")},
        "model_mean_predicted": float(pm.mean()),
        "baseline_mean_predicted": float(pb.mean()),
        "expected": expected,
        "expected_low": low,
        "expected_high": high,
        "realised_over_expected": realised / expected if expected > 0 else math.nan,
        "loses_to_points": bool(loses),
        "miscalibrated": judged and miscalibrated(realised, expected, low, high, factor),
    }


def slice_table(
    y: np.ndarray,
    p_model: np.ndarray,
    p_baseline: np.ndarray,
    values: np.ndarray | pd.Series,
    tier: pd.Series | None = None,
    *,
    groups: np.ndarray | pd.Series | None = None,
    min_conversions: int = 20,
    factor: float = 1.5,
    alpha: float = 0.05,
    n_boot: int = 100,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per slice of ``values`` (``SLICE_COLUMNS``, then ``leads_<tier>`` and
    ``conversions_<tier>`` per tier when ``tier`` is given, in its category order if it has
    one): the largest slices by conversions first, ``OTHER`` last.

    ``values``: each row's slice value (text; the caller names missing ones). ``p_model``,
    ``p_baseline``: probabilities (the baseline's only ranked, but its mean is read as a
    probability). ``groups``: each row's group (a lead id) for the chance range, when a
    group has several rows. ``alpha``: the level of the chance range and of the difference's
    interval, which the flags read (``family_alpha``); each ROC AUC's own interval is 95%.
    The ``values`` column counts the distinct values in the slice (1, or those pooled into
    ``OTHER``). Each slice's bootstrap uses ``seed``, so a slice's figures do not depend on
    the others.
    """
    yy = _labels(y).astype("float64")
    pm = _scores(p_model, yy.size, "p_model")
    pb = _scores(p_baseline, yy.size, "p_baseline")
    pooled, n_pooled = pool_slices(np.asarray(values, dtype=object), yy, min_conversions)
    grouped = None if groups is None else _labels_of(yy, groups, "y")
    codes, names = pd.factorize(pooled, use_na_sentinel=False)
    conv = np.bincount(codes, weights=yy, minlength=len(names))
    order = sorted(range(len(names)), key=lambda k: (names[k] == OTHER, -conv[k], str(names[k])))
    rows = []
    for k in order:
        inside = codes == k
        rows.append(
            {
                "value": str(names[k]),
                "values": n_pooled if names[k] == OTHER else 1,
                **_one(
                    yy[inside],
                    pm[inside],
                    pb[inside],
                    None if grouped is None else grouped[inside],
                    bool(conv[k] >= min_conversions),
                    factor,
                    z_of(alpha),
                    n_boot,
                    seed,
                ),
            }
        )
    out = pd.DataFrame(rows, columns=SLICE_COLUMNS)
    if tier is not None:
        out = pd.concat([out, _tiers(yy, pooled, tier, out["value"])], axis=1)
    return out


def _tiers(y: np.ndarray, pooled: np.ndarray, tier: pd.Series, order: pd.Series) -> pd.DataFrame:
    """Leads and conversions per slice (rows in ``order``) and tier (columns)."""
    t = pd.Series(_labels_of(y, tier, "y"))
    if isinstance(tier, pd.Series) and isinstance(tier.dtype, pd.CategoricalDtype):
        t = t.astype(tier.dtype)
    frame = pd.DataFrame({"slice": pooled, "tier": t, "y": y})
    table = frame.pivot_table(
        index="slice", columns="tier", values="y", aggfunc=["size", "sum"], observed=False
    ).reindex(order.to_numpy())
    out = {}
    for name in table["size"].columns:
        out[f"leads_{name}"] = table[("size", name)].fillna(0).astype("int64").to_numpy()
        out[f"conversions_{name}"] = table[("sum", name)].fillna(0).astype("int64").to_numpy()
    return pd.DataFrame(out)


def flagged(table: pd.DataFrame) -> pd.DataFrame:
    """The slices with a flag."""
    return table[table["loses_to_points"].astype(bool) | table["miscalibrated"].astype(bool)]
