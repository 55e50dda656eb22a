"""Funnel stages as point-in-time features: the stage a lead is in at a moment, and since when.

A ``stages`` table holds one row per stage entry (``lead_id``, ``stage``, ``entered_at``).
At ``as_of`` a lead's current stage is the one it entered last at or before ``as_of``
(entries on the same instant: the later stage in the funnel's order); an entry after
``as_of`` is invisible. ``days_in_stage`` is the time since that entry.

Like the engagement query, ``stage_sql`` is plain SQL over two relations, run unchanged by
DuckDB here and by Spark on a cluster:

- ``snapshots(snap_key, lead_key, as_of_ts, created_ts)`` (see ``leadscore.features.table``);
- ``stages_prepared(lead_key, ts, stage)``: entries with ``ts`` in epoch seconds and
  ``stage`` in its one spelling (``event_key``).

The funnel's order is fitted with the spec, on entries known at the cutoff: the config's
``features.stage_order`` first, then the other stages by how many stages they come before
(see ``stage_order``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.features.engagement import DAY, _literal
from leadscore.features.prepared import epoch_seconds
from leadscore.features.spec import MISSING, OTHER, FeatureSpec
from leadscore.io.ids import positions

STAGE_COLUMNS = ("current_stage", "days_in_stage")


def stage_order(
    stages: pd.DataFrame, leads: pd.DataFrame, cutoff: pd.Timestamp, given: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The stages entered by ``cutoff``, in funnel order: ``given`` first (the config's, in
    its order), then the others by how many other stages they precede: stage a precedes b
    when, of the leads that entered both, more entered a first. Ties by the median days
    from creation to entry, then by name."""
    known = stages[stages["entered_at"] <= cutoff]
    if not len(known):
        return ()
    first = known.groupby(["lead_id", "stage"], observed=True, sort=False)["entered_at"].min()
    wide = first.unstack("stage")
    names = [str(c) for c in wide.columns if str(c) not in (OTHER, MISSING)]
    # Seconds since the epoch, NaN where a lead never entered the stage.
    t = np.stack([epoch_seconds_or_nan(wide[c]) for c in names], axis=1)
    both = ~np.isnan(t)[:, :, None] & ~np.isnan(t)[:, None, :]
    ahead = ((t[:, :, None] < t[:, None, :]) & both).sum(axis=0)  # [a, b]: a first
    wins = (ahead > ahead.T).sum(axis=1)
    created = pd.Series(
        epoch_seconds_or_nan(leads["created_at"]), index=leads["lead_id"].astype(str).to_numpy()
    )
    start = created.reindex(wide.index.astype(str)).to_numpy()
    with np.errstate(all="ignore"):
        median = [float(np.nanmedian(t[:, j] - start)) / 86400.0 for j in range(len(names))]
    ranked = [n for _, _, n in sorted(zip(-wins, median, names, strict=True))]
    first_given = [g for g in given if g in names]
    return tuple(first_given + [n for n in ranked if n not in first_given])


def epoch_seconds_or_nan(times: pd.Series) -> np.ndarray:
    """Zoned times as epoch seconds, NaN where missing."""
    return np.where(
        times.notna(), (times - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1), np.nan
    )


def prepare_stages(stages: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """``stages_prepared`` for the leads of ``keys`` (``lead_id``, ``lead_key``)."""
    at = positions(stages["lead_id"], keys["lead_id"])
    mine = at >= 0
    return pd.DataFrame(
        {
            "lead_key": keys["lead_key"].to_numpy()[at[mine]].astype("int64"),
            "ts": epoch_seconds(stages["entered_at"][mine]),
            "stage": stages["stage"][mine].astype(str).to_numpy(),
        }
    )


def stage_sql(spec: FeatureSpec) -> str:
    """One row per snapshot that has a stage by then: ``snap_key``, ``current_stage`` (its
    name, or ``other`` for a stage the spec does not know), ``days_in_stage``."""
    if spec.stages:
        whens = " ".join(f"WHEN {_literal(s)} THEN {i}" for i, s in enumerate(spec.stages))
        rank = f"CASE g.stage {whens} ELSE -1 END"
        listed = ", ".join(map(_literal, spec.stages))
        name = f"CASE WHEN stage IN ({listed}) THEN stage ELSE {_literal(OTHER)} END"
    else:
        rank, name = "-1", _literal(OTHER)
    return f"""
WITH j AS (
    SELECT s.snap_key, g.stage, (s.as_of_ts - g.ts) / {DAY} AS age,
        ROW_NUMBER() OVER (
            PARTITION BY s.snap_key ORDER BY g.ts DESC, {rank} DESC, g.stage DESC
        ) AS rn
    FROM snapshots s JOIN stages_prepared g ON g.lead_key = s.lead_key AND g.ts <= s.as_of_ts
)
SELECT snap_key, {name} AS current_stage, CAST(age AS DOUBLE) AS days_in_stage
FROM j WHERE rn = 1
"""
