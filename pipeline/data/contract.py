"""The data contract (../CONTRACT.md in the design docs): tables, columns, kinds."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

TABLES = ("leads", "events", "outcomes")

# column -> kind; "id" and "string" are text, "timestamp" ISO 8601 (UTC when no zone).
REQUIRED: dict[str, dict[str, str]] = {
    "leads": {"lead_id": "id", "created_at": "timestamp"},
    "events": {"lead_id": "id", "occurred_at": "timestamp", "event_type": "string"},
    "outcomes": {"lead_id": "id", "closed_at": "timestamp", "won": "bool"},
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
    """The three contract tables, typed: ids as strings, timestamps as UTC datetimes."""

    leads: pd.DataFrame
    events: pd.DataFrame
    outcomes: pd.DataFrame

    def as_dict(self) -> dict[str, pd.DataFrame]:
        return {"leads": self.leads, "events": self.events, "outcomes": self.outcomes}
