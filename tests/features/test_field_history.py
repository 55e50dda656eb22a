"""Lead fields as they were at each moment, from a field history.

Hand-worked: a title changed before ``as_of`` is read, one changed after is not; before
the first change a field is its ``old_value``, else missing; fields without history keep
the leads table's value; changes on one instant: the later row. Then two properties on
random small worlds whose history is a CRM's record of each field's timeline: edits after
``as_of`` change no feature, and each row reads the value its timeline held at its as_of.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.config import load_config
from leadscore.data.contract import Tables
from leadscore.features.history import leads_as_of
from leadscore.features.snapshots import open_leads
from leadscore.features.table import build_features, explicit_features
from leadscore.training.dataset import spec_for

CFG = load_config()
T0 = pd.Timestamp("2024-01-01", tz="UTC")
FEB, APR = pd.Timestamp("2024-02-01", tz="UTC"), pd.Timestamp("2024-04-01", tz="UTC")


def _times(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True)).astype("datetime64[us, UTC]")


def _leads() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": pd.Series(["a", "b", "c"], dtype="str"),
            "created_at": _times("2024-01-01", "2024-01-01", "2024-01-01"),
            # As the export holds them: after the edits below.
            "job_title": pd.Series(["CEO", "Analyst", "VP Sales"], dtype="str"),
            "industry": pd.Series(["software", "retail", "software"], dtype="str"),
            "employees": [5000.0, 20.0, 300.0],
        }
    )


def _history(old: bool) -> pd.DataFrame:
    rows = {
        "lead_id": pd.Series(["a", "a", "c", "c", "c"], dtype="str"),
        "field": pd.Series(
            ["job_title", "job_title", "job_title", "employees", "employees"], dtype="str"
        ),
        "value": pd.Series(["Intern", "CEO", "VP Sales", "100", "300"], dtype="str"),
        # a: recorded from creation (as HubSpot does), then promoted in March;
        # c: title changed in March; employees twice on one instant (the later row wins).
        "changed_at": _times("2024-01-01", "2024-03-01", "2024-03-01", "2024-01-15", "2024-01-15"),
    }
    if old:
        rows["old_value"] = pd.Series([None, "Intern", "Manager", "50", "100"], dtype="str")
    return pd.DataFrame(rows)


def _features(history: pd.DataFrame | None, moments=(FEB, APR)) -> pd.DataFrame:
    leads = _leads()
    tables = Tables(leads, _no_events(), _no_outcomes(), None, history)
    spec = spec_for(tables, CFG, max(moments))
    snaps = open_leads(leads, tables.outcomes, list(moments))
    out = build_features(leads, tables.events, snaps, spec, field_history=history)
    return out.set_index(["lead_id", out["as_of"].dt.strftime("%Y-%m")])


def _no_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": pd.Series([], dtype="str"),
            "occurred_at": pd.Series([], dtype="datetime64[us, UTC]"),
            "event_type": pd.Series([], dtype="str"),
        }
    )


def _no_outcomes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": pd.Series([], dtype="str"),
            "closed_at": pd.Series([], dtype="datetime64[us, UTC]"),
            "won": pd.Series([], dtype="bool"),
        }
    )


def test_a_title_changed_before_as_of_is_read_and_one_changed_after_is_not() -> None:
    f = _features(_history(old=False))
    assert f.loc[("a", "2024-02"), "seniority"] == "individual"  # Intern until March
    assert f.loc[("a", "2024-04"), "seniority"] == "c_level"  # CEO from March
    # c's first recorded title change is in March, with no old value: missing before it.
    assert f.loc[("c", "2024-02"), "seniority"] == "unknown"
    assert f.loc[("c", "2024-02"), "job_title_missing"] == 1.0
    assert f.loc[("c", "2024-04"), "seniority"] == "vp"
    # No history for b: the leads table's value at every moment.
    assert f.loc[("b", "2024-02"), "seniority"] == "individual"
    # Two changes on one instant: the later row of the table.
    assert f.loc[("c", "2024-02"), "employees"] == 300.0
    # Fields without history keep the table's values.
    assert f.loc[("a", "2024-02"), "employees"] == 5000.0
    assert f.loc[("c", "2024-02"), "industry"] == "software"


def test_an_old_value_says_what_a_field_held_before_its_first_change() -> None:
    f = _features(_history(old=True))
    assert f.loc[("c", "2024-02"), "seniority"] == "manager"  # old_value of the March change
    assert f.loc[("c", "2024-02"), "job_title_missing"] == 0.0
    assert f.loc[("a", "2024-02"), "seniority"] == "individual"  # a's first row is at creation


def test_without_a_history_fields_are_read_as_exported() -> None:
    f = _features(None)
    assert f.loc[("a", "2024-02"), "seniority"] == "c_level"
    assert f.loc[("c", "2024-02"), "seniority"] == "vp"


def test_one_moment_reads_the_fields_of_that_moment() -> None:
    both = _features(_history(old=True))
    alone = _features(_history(old=True), moments=(FEB,))
    columns = [c for c in alone.columns if c != "as_of"]
    pd.testing.assert_frame_equal(alone[columns], both.loc[alone.index, columns])


def test_leads_as_of_reads_every_field_at_one_moment() -> None:
    at = leads_as_of(_leads(), _history(old=True), FEB)
    assert at["job_title"].tolist() == ["Intern", "Analyst", "Manager"]
    assert at["employees"].tolist() == [5000.0, 20.0, 300.0]
    pd.testing.assert_frame_equal(leads_as_of(_leads(), None, FEB), _leads())


# ------------------------------------------------------------------ random CRM worlds

TITLES = ["CEO", "Analyst", "VP Sales", "Intern", None, "Marketing Manager"]
INDUSTRIES = ["software", "Retail", None, "health"]
EMPLOYEES = [10.0, 300.0, 5000.0, None]
FIELDS = {"job_title": TITLES, "industry": INDUSTRIES, "employees": EMPLOYEES}


@st.composite
def timelines(draw):
    """Leads, their creation, and each field's timeline: its first value, then edits
    ``(time, value)`` at any moment after creation."""
    n = draw(st.integers(1, 5))
    created = [T0 + pd.Timedelta(hours=draw(st.integers(0, 24 * 120))) for _ in range(n)]
    lines = {}
    for i in range(n):
        for name, values in FIELDS.items():
            first = draw(st.sampled_from(values))
            k = draw(st.integers(0, 3))
            edits = [
                (
                    created[i] + pd.Timedelta(hours=draw(st.integers(0, 24 * 240))),
                    draw(st.sampled_from(values)),
                )
                for _ in range(k)
            ]
            lines[(f"L{i}", name)] = (first, edits)
    return created, lines


def _world(created, lines, old: bool) -> Tables:
    """The export of a CRM that lived ``lines``: each field's last value in the leads table,
    every edit in the history (with the value it replaced when ``old``; without, the value
    set at creation is recorded too, as HubSpot's property history does)."""
    ids = [f"L{i}" for i in range(len(created))]
    columns = {name: [] for name in FIELDS}
    rows = []
    for i, lead in enumerate(ids):
        for name in FIELDS:
            first, edits = lines[(lead, name)]
            value = first
            if edits and not old:
                rows.append((lead, name, first, created[i], None))
            for t, new in sorted(edits, key=lambda e: e[0]):
                rows.append((lead, name, new, t, value))
                value = new
            columns[name].append(value)
    leads = pd.DataFrame(
        {
            "lead_id": pd.Series(ids, dtype="str"),
            "created_at": pd.Series(created).astype("datetime64[us, UTC]"),
            "job_title": pd.Series(columns["job_title"], dtype="str"),
            "industry": pd.Series(columns["industry"], dtype="str"),
            "employees": pd.Series(columns["employees"], dtype="float64"),
        }
    )
    history = pd.DataFrame(rows, columns=["lead_id", "field", "value", "changed_at", "old_value"])
    history = history.assign(
        lead_id=history["lead_id"].astype("str"),
        value=history["value"].map(lambda v: None if v is None else str(v)).astype("str"),
        old_value=history["old_value"].map(lambda v: None if v is None else str(v)),
        changed_at=pd.to_datetime(history["changed_at"], utc=True).astype("datetime64[us, UTC]"),
    )
    if not old:
        history = history.drop(columns="old_value")
    return Tables(leads, _no_events(), _no_outcomes(), None, history)


def _value_at(lines, lead: str, name: str, t: pd.Timestamp):
    first, edits = lines[(lead, name)]
    value = first
    for when, new in sorted(edits, key=lambda e: e[0]):
        if when <= t:
            value = new
    return value


def _features_at(tables: Tables, moments: list[pd.Timestamp]) -> pd.DataFrame:
    spec = spec_for(tables, CFG, max(moments))
    snaps = open_leads(tables.leads, tables.outcomes, moments)
    return build_features(
        tables.leads, tables.events, snaps, spec, field_history=tables.field_history
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), world=timelines(), old=st.booleans(), day=st.integers(1, 200))
def test_edits_after_as_of_change_no_feature(data, world, old, day):
    created, lines = world
    as_of = T0 + pd.Timedelta(days=day)
    before = _features_at(_world(created, lines, old), [as_of])
    later = dict(lines)
    after = st.integers(1, 24 * 300).map(lambda h: as_of + pd.Timedelta(hours=h))
    for key in data.draw(st.lists(st.sampled_from(sorted(lines)), max_size=8)):
        first, edits = later[key]
        value = data.draw(st.sampled_from(FIELDS[key[1]]))
        later[key] = (first, [*edits, (data.draw(after), value)])
    edited = _features_at(_world(created, later, old), [as_of])
    pd.testing.assert_frame_equal(before, edited)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=timelines(), days=st.lists(st.integers(1, 300), min_size=1, max_size=3, unique=True))
def test_each_row_reads_its_timeline_at_its_as_of(world, days):
    created, lines = world
    moments = [T0 + pd.Timedelta(days=d) for d in sorted(days)]
    tables = _world(created, lines, old=True)
    table = _features_at(tables, moments)
    # The spec keeps the columns and levels with values at its cutoff (the last moment).
    levels = spec_for(tables, CFG, max(moments)).categories.get("industry", ())
    for r in table.itertuples():
        if "employees" in table:
            employees = _value_at(lines, r.lead_id, "employees", r.as_of)
            expected = np.float32(np.nan if employees is None else employees)
            np.testing.assert_equal(r.employees, expected)
        title = _value_at(lines, r.lead_id, "job_title", r.as_of)
        assert r.job_title_missing == float(title is None)
        if "industry" in table:
            industry = _value_at(lines, r.lead_id, "industry", r.as_of)
            known = "missing" if industry is None else industry.lower()
            assert r.industry == (known if known in levels else "other")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=timelines(), old=st.booleans(), day=st.integers(1, 300), step=st.integers(1, 3))
def test_explicit_features_given_beforehand_build_the_same_table(world, old, day, step):
    # A server builds the explicit features of its whole folder once and scores a few of its
    # leads at a time: the table must be the one built from scratch, field history included.
    created, lines = world
    tables = _world(created, lines, old)
    as_of = T0 + pd.Timedelta(days=day)
    spec = spec_for(tables, CFG, as_of)
    snaps = open_leads(tables.leads, tables.outcomes, [as_of]).iloc[::step]
    history = tables.field_history
    plain = build_features(tables.leads, tables.events, snaps, spec, field_history=history)
    known = explicit_features(tables.leads, spec)
    given = build_features(
        tables.leads, tables.events, snaps, spec, field_history=history, explicit=known
    )
    pd.testing.assert_frame_equal(plain, given)
