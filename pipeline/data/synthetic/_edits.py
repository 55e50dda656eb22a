"""Sales editing lead fields after a deal closes, as a CRM's field history records it.

Once a deal is decided, sales tidy the record: the lead source is set to the channel that
gets the credit, a job title left blank is filled in from the calls. The export's leads
table then holds the edited values, and the field history holds each edit with the value
it replaced (Salesforce's LeadHistory keeps both). Won deals are tidied more often than
lost ones, so the edited fields tell the outcome: read as exported, they leak it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.features.snapshots import first_close
from leadscore.io.ids import positions

#: The lead source sales give a deal they take the credit for.
SALES_SOURCE = "sales_referral"
# Chance of each edit after a win and after a loss.
SOURCE_EDIT = {True: 0.35, False: 0.05}
TITLE_FILL = {True: 0.7, False: 0.2}
MAX_DELAY_DAYS = 14.0


def edit_fields(tables: dict[str, pd.DataFrame], seed: int = 0) -> dict[str, pd.DataFrame]:
    """``tables`` with the leads' fields as edited after their deals closed and a
    ``field_history`` of those edits (``lead_id``, ``field``, ``value``, ``changed_at``,
    ``old_value``); the input is untouched. Edits land 0-14 days after the close, and only
    before the end of the data (the export's moment). The same tables and seed give the
    same result."""
    rng = np.random.default_rng([seed, 32])
    leads, outcomes = tables["leads"], tables["outcomes"]
    end = max(tables["events"]["occurred_at"].max(), leads["created_at"].max())
    closes = first_close(outcomes)
    at = positions(closes["lead_id"], leads["lead_id"])
    closes = closes[at >= 0]
    at = at[at >= 0]
    won = closes["won"].to_numpy(dtype=bool)
    when = closes["closed_at"].reset_index(drop=True) + pd.to_timedelta(
        rng.uniform(0.0, MAX_DELAY_DAYS, len(closes)), unit="D"
    )
    in_time = (when <= end).to_numpy()
    source = rng.random(len(closes)) < np.where(won, SOURCE_EDIT[True], SOURCE_EDIT[False])
    title_blank = leads["job_title"].isna().to_numpy()[at]
    fill = rng.random(len(closes)) < np.where(won, TITLE_FILL[True], TITLE_FILL[False])
    known_titles = leads["job_title"].dropna().to_numpy(dtype=object)
    new_title = known_titles[rng.integers(0, max(len(known_titles), 1), len(closes))]

    edited = leads.copy()
    parts = []
    for field, mask, value in (
        ("lead_source", source & in_time, np.full(len(closes), SALES_SOURCE, dtype=object)),
        ("job_title", fill & title_blank & in_time & (len(known_titles) > 0), new_title),
    ):
        rows = at[mask]
        old = edited[field].to_numpy(dtype=object, na_value=None)[rows]
        parts.append(
            pd.DataFrame(
                {
                    "lead_id": leads["lead_id"].to_numpy()[rows],
                    "field": field,
                    "value": value[mask],
                    "changed_at": when[mask].to_numpy(),
                    "old_value": old,
                }
            )
        )
        column = edited[field].to_numpy(dtype=object, na_value=None)
        column[rows] = value[mask]
        edited[field] = pd.Series(column, index=edited.index, dtype=leads[field].dtype)
    history = pd.concat(parts, ignore_index=True).sort_values("changed_at", kind="stable")
    history = history.reset_index(drop=True).astype(
        {"lead_id": leads["lead_id"].dtype, "field": "str", "value": "str", "old_value": "str"}
    )
    history["changed_at"] = pd.to_datetime(history["changed_at"], utc=True)
    return {**tables, "leads": edited, "field_history": history}
