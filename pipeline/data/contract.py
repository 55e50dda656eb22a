"""The data contract: the three tables (and the optional stages and field history tables), their columns and kinds, the event-type vocabulary.

docs/reference.md (*Inputs: the contract*) is its prose form; ``leadscore validate`` checks a data
folder against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

TABLES = ("leads", "events", "outcomes")
# Read and checked when the data folder holds them; a run does without them otherwise.
OPTIONAL_TABLES = ("stages", "field_history")
ALL_TABLES = TABLES + OPTIONAL_TABLES

TIMESTAMP_DTYPE = pd.DatetimeTZDtype(unit="us", tz="UTC")
"""The one timestamp dtype of every clean table."""

# How a yes/no cell may be written (``won``, a flat file's label), compared lower-cased.
TRUE_WORDS = ("true", "t", "yes", "y", "won", "converted", "1", "1.0")
FALSE_WORDS = ("false", "f", "no", "n", "lost", "0", "0.0")

# column -> kind; "id" and "string" are text, "timestamp" ISO 8601 (UTC when no zone).
REQUIRED: dict[str, dict[str, str]] = {
    "leads": {"lead_id": "id", "created_at": "timestamp"},
    "events": {"lead_id": "id", "occurred_at": "timestamp", "event_type": "string"},
    "outcomes": {"lead_id": "id", "closed_at": "timestamp", "won": "bool"},
    # Funnel stages a lead entered (lead, MQL, SQL, opportunity...), one row per entry.
    "stages": {"lead_id": "id", "stage": "string", "entered_at": "timestamp"},
    # Changes to lead fields (Salesforce LeadHistory, HubSpot property history): field
    # ``field`` (a leads column) took ``value`` at ``changed_at``; one row per change.
    "field_history": {
        "lead_id": "id",
        "field": "string",
        "value": "string",
        "changed_at": "timestamp",
    },
}

OPTIONAL: dict[str, dict[str, str]] = {
    "leads": {
        "email": "string",
        "job_title": "string",
        "industry": "string",
        "country": "string",
        "lead_source": "string",
        "employees": "number",
        "annual_revenue": "number",
    },
    "events": {},
    "outcomes": {"amount": "number"},
    "stages": {},
    # The value before the change (LeadHistory's OldValue): what a field held before its first change.
    "field_history": {"old_value": "string"},
}

# The contract's event types; others are allowed and kept (open-ended).
KNOWN_EVENT_TYPES = (
    "email_open",
    "email_click",
    "page_view",
    "pricing_page_view",
    "content_download",
    "webinar_attended",
    "form_submit",
    "demo_request",
    "free_signup",
    "event_attended",
    "social_engagement",
    "unsubscribe",
    "email_bounce",
)


@dataclass(frozen=True)
class Tables:
    """The contract tables, typed: ids as strings, timestamps as UTC datetimes; ``stages``
    and ``field_history`` None when the data folder has none."""

    leads: pd.DataFrame
    events: pd.DataFrame
    outcomes: pd.DataFrame
    stages: pd.DataFrame | None = None
    field_history: pd.DataFrame | None = None

    def as_dict(self) -> dict[str, pd.DataFrame]:
        out = {"leads": self.leads, "events": self.events, "outcomes": self.outcomes}
        if self.stages is not None:
            out["stages"] = self.stages
        if self.field_history is not None:
            out["field_history"] = self.field_history
        return out
