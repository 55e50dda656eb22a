"""Snapshots: which leads are open at a moment, and what happened to them afterwards.

A training row is a pair (lead, as_of). At ``as_of = t`` (see the contract):

- the lead is open: ``created_at <= t`` and no outcome with ``closed_at <= t``;
- its label is 1 when it has a won outcome with ``t < closed_at <= t + horizon``, else 0,
  and missing when ``t + horizon`` reaches past the end of the data (not yet known).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.io.ids import positions
from leadscore.timestamps import to_utc


def snapshot_dates(
    start: str | pd.Timestamp, end: str | pd.Timestamp, cadence: str | int = "monthly"
) -> list[pd.Timestamp]:
    """Snapshot moments in ``(start, end]``: first days of months, or every ``cadence`` days."""
    s, e = to_utc(start), to_utc(end)
    if cadence == "monthly":
        first = (s + pd.offsets.MonthBegin(1)).normalize()
        dates = pd.date_range(first, e, freq="MS", tz="UTC")
    else:
        step = int(cadence)
        if step <= 0:
            raise ValueError("cadence must be 'monthly' or a positive number of days")
        dates = pd.date_range(s.normalize() + pd.Timedelta(days=step), e, freq=f"{step}D", tz="UTC")
    return list(dates)


def anchored_dates(
    start: pd.Timestamp, anchor: pd.Timestamp, cadence: str | int = "monthly"
) -> list[pd.Timestamp]:
    """Snapshot moments in ``(start, anchor]`` counted back from ``anchor`` by the cadence (a
    calendar month, or a number of days), oldest first.

    Training anchors the grid at the latest labelled moment (``as_of - horizon``, at
    midnight), so the newest snapshot, which the deployed model and the last backtest fold
    learn from, is never up to a cadence older than it could be.
    """
    if cadence == "monthly":
        step = pd.DateOffset(months=1)
    else:
        if int(cadence) <= 0:
            raise ValueError("cadence must be 'monthly' or a positive number of days")
        step = pd.Timedelta(days=int(cadence))
    if anchor <= start:
        return []
    # Months differ in length: count whole steps from the anchor, never step from a step.
    if cadence == "monthly":
        months = (anchor.year - start.year) * 12 + anchor.month - start.month + 1
        dates = [anchor - pd.DateOffset(months=k) for k in range(months + 1)]
    else:
        n = int((anchor - start) / step) + 1
        dates = [anchor - k * step for k in range(n + 1)]
    return sorted(d for d in dates if d > start)


def first_close(outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per lead: its earliest outcome (``closed_at``, ``won``; ties: the first in
    the table), leads in order of first appearance."""
    lead, _ = pd.factorize(outcomes["lead_id"].astype("string"))  # hashed, not sorted
    if not len(lead) or np.bincount(lead[lead >= 0], minlength=1).max() <= 1:
        return outcomes[["lead_id", "closed_at", "won"]]  # one outcome per lead already
    times = pd.to_datetime(outcomes["closed_at"], utc=True)
    closed = times.dt.tz_localize(None).to_numpy("datetime64[ns]").view("int64")
    # Missing times sort last, as sort_values puts them.
    closed = np.where(times.isna().to_numpy(), np.iinfo(np.int64).max, closed)
    order = np.lexsort((closed, lead))  # stable: file order breaks ties
    first = order[np.r_[True, lead[order][1:] != lead[order][:-1]]]
    return outcomes.iloc[np.sort(first)][["lead_id", "closed_at", "won"]]


def open_leads(
    leads: pd.DataFrame, outcomes: pd.DataFrame, as_of: list[pd.Timestamp]
) -> pd.DataFrame:
    """Every (lead_id, as_of) with the lead open at ``as_of``, ordered by as_of then lead_id."""
    closes = first_close(outcomes)
    at = positions(leads["lead_id"], closes["lead_id"])
    closed_at = pd.Series(closes["closed_at"].array.take(at, allow_fill=True))
    created_at = leads["created_at"].reset_index(drop=True)
    ids = leads["lead_id"].reset_index(drop=True)
    parts = []
    # One vectorised mask per snapshot date (a handful), never a loop over leads.
    for t in sorted(to_utc(d) for d in as_of):
        is_open = (created_at <= t) & ~(closed_at <= t).fillna(False).astype(bool)
        part = pd.DataFrame({"lead_id": ids[is_open.to_numpy()].array, "as_of": t})
        if not part["lead_id"].is_monotonic_increasing:  # leads often come in id order
            part = part.sort_values("lead_id", kind="stable")
        parts.append(part)
    if not parts:
        return pd.DataFrame(
            {
                "lead_id": pd.Series([], dtype="string"),
                "as_of": pd.Series([], dtype="datetime64[ns, UTC]"),
            }
        )
    out = pd.concat(parts, ignore_index=True)
    out["lead_id"] = out["lead_id"].astype("string")
    return out


def label_snapshots(
    snapshots: pd.DataFrame, outcomes: pd.DataFrame, horizon_days: int, data_end: pd.Timestamp
) -> pd.Series:
    """1.0 if won within ``(as_of, as_of + horizon]``, 0.0 if not, NaN if the horizon is unfinished."""
    closes = first_close(outcomes)
    m = snapshots[["lead_id", "as_of"]].merge(closes, on="lead_id", how="left")
    horizon = pd.Timedelta(days=horizon_days)
    won = (
        m["won"].fillna(False).astype(bool)
        & (m["closed_at"] > m["as_of"]).fillna(False).astype(bool)
        & (m["closed_at"] <= m["as_of"] + horizon).fillna(False).astype(bool)
    )
    label = won.astype("float64")
    label[(m["as_of"] + horizon > to_utc(data_end)).to_numpy()] = np.nan
    label.index = snapshots.index
    return label
