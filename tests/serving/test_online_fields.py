"""Online requests carry the data folder's field history: a lead sent by id takes its
changes with its row; a field a request sends is the value in force, so that field's
history is left out; the other fields keep theirs."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.config import load_config
from leadscore.data.contract import Tables
from leadscore.features.table import explicit_features
from leadscore.scoring.online import Folder, RequestError, parse_request, request_tables
from leadscore.training.dataset import spec_for


def t(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True)).astype("datetime64[us, UTC]")


def _tables() -> Tables:
    leads = pd.DataFrame(
        {
            "lead_id": pd.Series(["a", "b"], dtype="str"),
            "created_at": t("2025-01-01", "2025-01-02"),
            "job_title": pd.Series(["CEO", "Analyst"], dtype="str"),
            "industry": pd.Series(["retail", "software"], dtype="str"),
        }
    )
    events = pd.DataFrame(
        {
            "lead_id": pd.Series([], dtype="str"),
            "occurred_at": pd.Series([], dtype="datetime64[us, UTC]"),
            "event_type": pd.Series([], dtype="str"),
        }
    )
    outcomes = pd.DataFrame(
        {
            "lead_id": pd.Series([], dtype="str"),
            "closed_at": pd.Series([], dtype="datetime64[us, UTC]"),
            "won": pd.Series([], dtype="bool"),
        }
    )
    history = pd.DataFrame(
        {
            "lead_id": pd.Series(["b", "a", "a"], dtype="str"),
            "field": pd.Series(["job_title", "job_title", "industry"], dtype="str"),
            "value": pd.Series(["Analyst", "CEO", "retail"], dtype="str"),
            "changed_at": t("2025-02-01", "2025-03-01", "2025-03-01"),
        }
    )
    return Tables(leads, events, outcomes, None, history)


def _request(leads: list[dict]):
    return parse_request({"as_of": "2025-04-01T00:00:00Z", "leads": leads}, pd.Timestamp.now("UTC"))


def test_a_lead_by_id_takes_its_field_history_from_the_folder() -> None:
    folder = Folder(_tables())
    tables, ids = request_tables(_request([{"lead_id": "a"}]), {}, folder, False)
    assert ids == ["a"]
    history = tables.field_history
    assert sorted(history["field"]) == ["industry", "job_title"]
    assert set(history["lead_id"]) == {"a"}


def test_a_field_sent_replaces_that_fields_history_only() -> None:
    folder = Folder(_tables())
    request = _request([{"lead_id": "a", "job_title": "Intern"}, {"lead_id": "b"}])
    tables, _ = request_tables(request, {}, folder, False)
    kept = tables.field_history.sort_values(["lead_id", "field"])
    assert list(zip(kept["lead_id"], kept["field"], strict=True)) == [
        ("a", "industry"),
        ("b", "job_title"),
    ]
    assert tables.leads.set_index("lead_id").loc["a", "job_title"] == "Intern"


def test_a_folder_without_history_sends_none() -> None:
    t = _tables()
    folder = Folder(Tables(t.leads, t.events, t.outcomes))
    tables, _ = request_tables(_request([{"lead_id": "a", "job_title": "x"}]), {}, folder, False)
    assert tables.field_history is None


def test_a_request_sending_field_history_is_refused_in_one_line() -> None:
    lead = {"lead_id": "a", "field_history": [{"field": "job_title", "value": "CEO"}]}
    with pytest.raises(RequestError, match=r"^leads\[0\]\.field_history: a request cannot"):
        _request([lead])


def test_a_folder_builds_explicit_features_once_per_spec() -> None:
    tables = _tables()
    folder = Folder(tables)
    as_of = pd.Timestamp("2025-04-01", tz="UTC")
    spec = spec_for(tables, load_config(), as_of)
    got = folder.explicit([1, 0], spec)
    want = explicit_features(tables.leads.iloc[[1, 0]], spec)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    assert folder.explicit([0], spec) is not None and folder._explicit[0] is spec
    other = spec_for(tables, load_config(), pd.Timestamp("2025-01-01T12:00", tz="UTC"))
    folder.explicit([0], other)  # another model's spec: its own table
    assert folder._explicit[0] is other
