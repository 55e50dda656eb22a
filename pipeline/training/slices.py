"""Quality by slice in a training run: the backtest's out-of-time rows cut by the lead
columns of ``evaluation.slices``, each slice judged by ``metrics.slices`` (the model beside
the points sheet), flagged slices said in one line each.

A row's slice value is read from the leads table by lead id where there is one (event
mode): the raw value, normalised as the features read it (lower-case, trimmed, country
spellings made one), so every value is kept where a feature column keeps only its most
frequent levels. Without a leads table (flat files, feature tables built elsewhere) it is
the training table's own column. A configured column found in neither is skipped, and the
run says so.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from leadscore.config import Config, TierConfig
from leadscore.features.explicit import categorical_value
from leadscore.features.history import leads_as_of
from leadscore.features.spec import MISSING
from leadscore.io.ids import positions
from leadscore.metrics.slices import OTHER, family_alpha, flagged, judged_count, slice_table

#: MLflow gets per-slice metrics for at most this many judged slices per column (the
#: largest by conversions, and every flagged one); slices.csv holds them all.
LOGGED_SLICES = 10
#: Resamples per slice (as per fold: a slice is judged on a share of the rows).
SLICE_BOOTSTRAP = 100


def _spelled(name: object) -> str:
    return re.sub(r"[\s_-]+", "_", str(name).strip().lower())


def find_column(name: str, columns: pd.Index) -> str | None:
    """``name`` among ``columns``: itself, else the one column spelled the same apart from
    case, spaces, hyphens and underscores (``lead_source`` finds a flat file's "Lead
    Source"); None when there is none, or more than one."""
    if name in columns:
        return name
    same = [c for c in columns if _spelled(c) == _spelled(name)]
    return str(same[0]) if len(same) == 1 else None


def _as_they_were(
    rows: pd.DataFrame, leads: pd.DataFrame, history: pd.DataFrame | None, column: str
) -> pd.Series:
    """Each row's lead's ``column``, as ``history`` says it was at the row's period (the
    table's value without a history); None for a lead the table lacks."""
    at = positions(rows["lead_id"], leads["lead_id"])
    if not len(leads):
        return pd.Series([None] * len(at))
    # As categories: each row a code, not a string of its own (millions of rows, few values).
    raw = leads[column].astype("category").iloc[np.maximum(at, 0)].reset_index(drop=True)
    timed = "period" in rows and pd.api.types.is_datetime64_any_dtype(rows["period"])
    if history is None or not timed or not (history["field"] == column).any():
        return raw.where(at >= 0, None)
    raw = raw.astype("object")
    period = rows["period"].reset_index(drop=True)
    for moment in period.unique():  # the backtest's few snapshot dates
        then = leads_as_of(leads, history, moment)[column]
        mine = (period == moment).to_numpy()
        raw[mine] = then.iloc[np.maximum(at[mine], 0)].to_numpy(dtype=object)
    return raw.where(at >= 0, None)


def slice_values(
    rows: pd.DataFrame,
    table: pd.DataFrame,
    columns: list[str],
    leads: pd.DataFrame | None,
    history: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Each out-of-time row's value (text, ``missing`` where blank) of each of ``columns``
    found in ``leads`` or ``table`` (``find_column``), under the name found, and the columns
    found in neither. ``rows`` holds ``row`` (its position in ``table``), ``lead_id`` and
    ``period``; with ``history`` (``field_history``), a lead's value is the one in force at
    its row's period."""
    found, absent = {}, []
    for col in columns:
        in_leads = None if leads is None else find_column(col, leads.columns)
        in_table = find_column(col, table.columns)
        if in_leads is not None:
            assert leads is not None
            at = positions(rows["lead_id"], leads["lead_id"])
            raw = _as_they_were(rows, leads, history, in_leads)
            value, name = _normalised(raw, in_leads).where(at >= 0, None), in_leads
        elif in_table is not None:
            value = table[in_table].iloc[rows["row"].to_numpy()].astype("string").astype("object")
            value, name = value.reset_index(drop=True), in_table
        else:
            absent.append(col)
            continue
        found[name] = _shared(value.where(value.notna(), MISSING).to_numpy(dtype=object))
    # Object columns of shared strings: as text columns, each read would make a string per row.
    return pd.DataFrame(found, index=rows.index, dtype=object), absent


def _normalised(raw: pd.Series, column: str) -> pd.Series:
    """``categorical_value`` of each row's raw value, normalising each distinct value once
    (out-of-time rows hold millions of rows and a few hundred values)."""
    codes, distinct = pd.factorize(raw.reset_index(drop=True))
    done = categorical_value(pd.Series(distinct, dtype="object"), column).to_numpy(dtype=object)
    # A missing value's code, -1, reads the None put last (also when no value is present).
    return pd.Series(np.append(done, None)[codes], dtype="object")


def _shared(values: np.ndarray) -> np.ndarray:
    """``values`` with every row of a value pointing at one string object: a string object
    per row costs about 50 bytes more each, and a slice column holds one per out-of-time row."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    return np.asarray(distinct, dtype=object)[codes]


def slice_quality(
    rows: pd.DataFrame, values: pd.DataFrame, cfg: Config, tiers: TierConfig | None = None
) -> pd.DataFrame:
    """``metrics.slice_table`` of each column of ``values`` over the scored ``rows`` (label,
    p_model, p_baseline, lead_id, and tier for conversions per tier), stacked with a
    ``column`` first. A lead's snapshots are one group for the chance range; the flags
    share their 5% among every slice judged, of every column (``metrics.slices``)."""
    ev = cfg.evaluation
    y = rows["label"].to_numpy(dtype="float64")
    judged = sum(
        judged_count(y, values[c].to_numpy(), ev.slice_min_conversions) for c in values.columns
    )
    # Each lead as a number: the chance range only groups a lead's rows, and the ids as
    # text would make a string per row for every column.
    groups = pd.factorize(rows["lead_id"], use_na_sentinel=False)[0]
    tier = None
    if "tier" in rows:
        order = (tiers or cfg.tiers).names()
        extra = sorted(set(rows["tier"].astype(str)) - set(order))
        tier = rows["tier"].astype(str).astype(pd.CategoricalDtype([*order, *extra]))
    parts = [
        slice_table(
            y,
            rows["p_model"].to_numpy(),
            rows["p_baseline"].to_numpy(),
            values[col].to_numpy(),
            tier,
            groups=groups,
            min_conversions=ev.slice_min_conversions,
            factor=ev.slice_calibration_factor,
            alpha=family_alpha(judged),
            n_boot=SLICE_BOOTSTRAP,
            seed=cfg.model.seed,
        ).assign(column=col)
        for col in values.columns
    ]
    if not parts:
        return pd.DataFrame(columns=["column", "value"])
    out = pd.concat(parts, ignore_index=True)
    return out[["column", *[c for c in out.columns if c != "column"]]]


def run_slices(
    table: pd.DataFrame,
    rows: pd.DataFrame,
    cfg: Config,
    tiers: TierConfig | None = None,
    leads: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """The run's quality by slice, and its notes (columns skipped)."""
    values, absent = slice_values(rows, table, list(cfg.evaluation.slices), leads, history)
    notes = []
    if absent:
        notes.append(
            f"quality by slice: column(s) not in the data, skipped: {', '.join(absent)} "
            "(evaluation.slices)"
        )
    return slice_quality(rows, values, cfg, tiers), notes


def _flag_words(r: pd.Series) -> str:
    said = []
    if r["loses_to_points"]:
        said.append(
            f"model ROC AUC {r['model_roc_auc']:.3f} vs points {r['baseline_roc_auc']:.3f}, "
            f"difference {r['roc_auc_difference']:+.3f} "
            f"[{r['roc_auc_difference_low']:+.3f}, {r['roc_auc_difference_high']:+.3f}]"
        )
    if r["miscalibrated"]:
        said.append(
            f"{r['expected']:,.0f} conversions predicted, {r['conversions']:,} realised "
            f"({r['realised_over_expected']:.2f}x; chance range "
            f"{r['expected_low']:,.0f}-{r['expected_high']:,.0f})"
        )
    return "; ".join(said)


def slice_lines(slices: pd.DataFrame, cfg: Config) -> list[str]:
    """For ``train``'s output: one summary line, then one line per flagged slice."""
    if not len(slices):
        return []
    judged = slices[slices["judged"].astype(bool)]
    per = ", ".join(f"{c} {n}" for c, n in judged.groupby("column", sort=False).size().items())
    pooled = int(slices.loc[slices["value"] == OTHER, "values"].sum())
    bad = flagged(slices)
    lines = [
        f"  quality by slice: {len(judged)} judged ({per or 'none'}), {len(bad)} flagged; "
        f"{pooled} {'value' if pooled == 1 else 'values'} with fewer than "
        f"{cfg.evaluation.slice_min_conversions} conversions pooled into other (slices.csv)"
    ]
    lines += [
        f"  slice flagged: {r['column']} = {r['value']} ({r['conversions']:,} conversions): "
        f"{_flag_words(r)}"
        for _, r in bad.iterrows()
    ]
    return lines


def _key(value: object) -> str:
    return re.sub(r"[^0-9A-Za-z_-]+", "_", str(value)).strip("_") or "_"


def slice_metrics(slices: pd.DataFrame, limit: int = LOGGED_SLICES) -> dict[str, float]:
    """MLflow metrics ``slice.<column>.<value>.<measure>`` of the judged slices (at most
    ``limit`` per column besides the flagged ones): ``roc_auc``, ``baseline_roc_auc``,
    ``realised_over_expected``, and ``flagged`` (1) on a flagged one; and the counts judged
    and flagged."""
    if not len(slices):
        return {}
    judged = slices[slices["judged"].astype(bool)]
    bad = judged["loses_to_points"].astype(bool) | judged["miscalibrated"].astype(bool)
    rank = judged.groupby("column", sort=False).cumcount()  # largest slices first
    out: dict[str, float] = {
        "slices_judged": float(len(judged)),
        "slices_flagged": float(bad.sum()),
    }
    for _, r in judged[(rank < limit) | bad].iterrows():
        key = f"slice.{_key(r['column'])}.{_key(r['value'])}"
        for measure, column in (
            ("roc_auc", "model_roc_auc"),
            ("baseline_roc_auc", "baseline_roc_auc"),
            ("realised_over_expected", "realised_over_expected"),
        ):
            if math.isfinite(float(r[column])):
                out[f"{key}.{measure}"] = float(r[column])
        if r["loses_to_points"] or r["miscalibrated"]:
            out[f"{key}.flagged"] = 1.0
    return out
