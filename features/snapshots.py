"""Snapshots: which leads are open at a moment, and what happened to them afterwards.

A training row is a pair (lead, as_of). At ``as_of = t`` (see the contract):

- the lead is open: ``created_at <= t`` and no outcome with ``closed_at <= t``;
- its label is 1 when it has a won outcome with ``t < closed_at <= t + horizon``, else 0,
  and missing when ``t + horizon`` reaches past the end of the data (not yet known).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def to_utc(value: str | pd.Timestamp) -> pd.Timestamp:
    """A timestamp in UTC (a date or a timestamp without a zone is taken as UTC)."""
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


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


def first_close(outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per lead: its earliest outcome (``closed_at``, ``won``)."""
    o = outcomes.sort_values(["lead_id", "closed_at"], kind="stable")
    return o.drop_duplicates("lead_id", keep="first")[["lead_id", "closed_at", "won"]]


def open_leads(
    leads: pd.DataFrame, outcomes: pd.DataFrame, as_of: list[pd.Timestamp]
) -> pd.DataFrame:
    """Every (lead_id, as_of) with the lead open at ``as_of``, ordered by as_of then lead_id."""
    closed_at = leads[["lead_id"]].merge(first_close(outcomes), on="lead_id", how="left")[
        "closed_at"
    ]
    created_at = leads["created_at"].reset_index(drop=True)
    ids = leads["lead_id"].reset_index(drop=True)
    parts = []
    # One vectorised mask per snapshot date (a handful), never a loop over leads.
    for t in sorted(to_utc(d) for d in as_of):
        is_open = (created_at <= t) & ~(closed_at <= t).fillna(False).astype(bool)
        part = pd.DataFrame({"lead_id": ids[is_open.to_numpy()].to_numpy(), "as_of": t})
        parts.append(part.sort_values("lead_id", kind="stable"))
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
