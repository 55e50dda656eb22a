"""Shared fixtures: tiny hand-made tables whose features can be worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.config import load_config


def utc(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True))


@pytest.fixture
def cfg():
    return load_config()


@pytest.fixture(scope="session")
def region_spec():
    """A flat table's spec: two numbers ``a`` and ``b`` and a categorical ``region`` (amer,
    emea, other, missing), as the segment tests use it."""
    from leadscore.features.flat import flat_spec

    return flat_spec(("a", "b"), ("region",), {"region": ("amer", "emea", "other", "missing")})


@pytest.fixture
def tiny_tables():
    """Three leads over four months; see tests/test_features.py for the worked numbers."""
    from leadscore.data.contract import Tables

    leads = pd.DataFrame(
        {
            "lead_id": pd.Series(["a", "b", "c"], dtype="string"),
            "created_at": utc("2024-01-05", "2024-02-10", "2024-03-01"),
            "email": ["ann@acme.com", "bob@gmail.com", None],
            "job_title": ["VP of Marketing", "Analyst", None],
            "industry": ["Software", " software", None],
            "country": ["US", "Germany", "usa"],
            "lead_source": ["webinar", "organic_search", None],
            "employees": [250.0, None, 5000.0],
            "annual_revenue": [2e7, None, 1e9],
        }
    )
    events = pd.DataFrame(
        {
            "lead_id": pd.Series(["a", "a", "a", "a", "c", "a", "b"], dtype="string"),
            "occurred_at": utc(
                "2024-01-10T09:00",
                "2024-01-30T12:00",
                "2024-01-30T12:00",  # exact duplicate of the row above
                "2024-02-25T08:00",
                "2024-03-02T10:00",
                "2024-03-10T10:00",
                "2024-02-15T10:00",
            ),
            "event_type": [
                "email_open",
                "pricing_page_view",
                "pricing_page_view",
                "pricing_page_view",
                "webinar_attended",
                "email_open",
                "unsubscribe",
            ],
        }
    )
    outcomes = pd.DataFrame(
        {
            "lead_id": pd.Series(["a", "b"], dtype="string"),
            "closed_at": utc("2024-03-15", "2024-02-20"),
            "won": [True, False],
            "amount": [5000.0, None],
        }
    )
    return Tables(leads=leads, events=events, outcomes=outcomes)
