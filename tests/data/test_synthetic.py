"""The synthetic world generator: schema, invariants, noise, signal, determinism, files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.data.contract import KNOWN_EVENT_TYPES
from leadscore.data.files import read_table, write_tables
from leadscore.data.synthetic.world import generate_world

N = 4000
END = pd.Timestamp("2025-12-31 23:59:59", tz="UTC")


@pytest.fixture(scope="module")
def world() -> dict[str, pd.DataFrame]:
    return generate_world(N, seed=7)


@pytest.fixture(scope="module")
def labelled(world) -> pd.DataFrame:
    """Leads with won / has-demo-or-pricing / has-negative flags."""
    leads, events, outcomes = world["leads"], world["events"], world["outcomes"]
    hot = events.loc[events.event_type.isin(["demo_request", "pricing_page_view"]), "lead_id"]
    negative = events.loc[events.event_type.isin(["unsubscribe", "email_bounce"]), "lead_id"]
    return pd.DataFrame(
        {
            "won": leads.lead_id.isin(outcomes.lead_id[outcomes.won]).to_numpy(),
            "hot": leads.lead_id.isin(hot).to_numpy(),
            "negative": leads.lead_id.isin(negative).to_numpy(),
        }
    )


def test_columns_and_dtypes(world):
    leads, events, outcomes = world["leads"], world["events"], world["outcomes"]
    assert list(leads.columns) == [
        "lead_id",
        "created_at",
        "email",
        "job_title",
        "industry",
        "country",
        "lead_source",
        "employees",
        "annual_revenue",
        "account",
    ]
    assert list(events.columns) == ["lead_id", "occurred_at", "event_type"]
    assert list(outcomes.columns) == ["lead_id", "closed_at", "won", "amount"]
    utc = pd.DatetimeTZDtype("ns", "UTC")
    assert leads.created_at.dtype == utc
    assert events.occurred_at.dtype == utc
    assert outcomes.closed_at.dtype == utc
    for frame, cols in (
        (leads, ["lead_id", "email", "job_title", "industry", "country", "lead_source"]),
        (events, ["lead_id"]),
        (outcomes, ["lead_id"]),
    ):
        for col in cols:
            assert pd.api.types.is_string_dtype(frame[col].dtype), col
    assert leads.employees.dtype == np.float64 and leads.annual_revenue.dtype == np.float64
    assert outcomes.won.dtype == bool and outcomes.amount.dtype == np.float64
    assert set(events.event_type.astype(str).unique()) == set(KNOWN_EVENT_TYPES)
    assert len(leads) == N


def test_lead_ids_unique_and_in_creation_order(world):
    leads = world["leads"]
    assert leads.lead_id.is_unique
    assert leads.lead_id.str.fullmatch(r"L\d{7}").all()
    assert leads.created_at.is_monotonic_increasing
    assert leads.created_at.min() >= pd.Timestamp("2024-01-01", tz="UTC")
    assert leads.created_at.max() <= END
    # volume grows: more leads in the second year than in the first
    assert (leads.created_at.dt.year == 2025).sum() > 1.2 * (leads.created_at.dt.year == 2024).sum()


def test_events_between_creation_and_end(world):
    leads, events = world["leads"], world["events"]
    created = events.lead_id.map(leads.set_index("lead_id").created_at)
    assert created.notna().all()
    assert (events.occurred_at >= created).all()
    assert (events.occurred_at <= END).all()
    assert 30 < len(events) / N < 70  # about 50 events per lead


def test_outcomes_one_per_lead_after_creation(world):
    leads, outcomes = world["leads"], world["outcomes"]
    assert outcomes.lead_id.is_unique
    created = outcomes.lead_id.map(leads.set_index("lead_id").created_at)
    assert created.notna().all()
    assert (outcomes.closed_at > created).all()
    assert (outcomes.closed_at <= END).all()
    won = outcomes[outcomes.won]
    assert won.amount.notna().all() and (won.amount > 0).all()
    assert outcomes.loc[~outcomes.won, "amount"].isna().any()


def test_won_lost_open_rates(world):
    outcomes = world["outcomes"]
    won, lost = outcomes.won.sum() / N, (~outcomes.won).sum() / N
    assert 0.025 <= won <= 0.07, won
    assert 0.04 <= lost <= 0.12, lost
    assert 1 - won - lost > 0.8


def test_same_seed_same_world_other_seed_differs(world):
    again = generate_world(N, seed=7)
    for name in ("leads", "events", "outcomes"):
        pd.testing.assert_frame_equal(world[name], again[name])
    other = generate_world(N, seed=8)
    assert not world["leads"].equals(other["leads"])
    assert len(world["events"]) != len(other["events"]) or not world["events"].equals(
        other["events"]
    )


def test_duplicate_events_present(world):
    share = world["events"].duplicated().mean()
    assert 0.005 < share < 0.02


def test_category_variants_present(world):
    leads = world["leads"]
    industry = leads.industry.dropna()
    software = industry[industry.str.strip().str.lower() == "software"]
    assert {"Software", "SOFTWARE", " software"} <= set(software)
    countries = set(leads.country.dropna())
    assert {"United States", "US", "USA", "usa"} & countries >= {"United States", "US"}
    assert {"United Kingdom", "UK", "GB"} <= countries
    assert 0.01 < leads.industry.isna().mean() < 0.15
    for col in ("job_title", "country", "employees", "annual_revenue", "email"):
        assert 0.005 < leads[col].isna().mean() < 0.2, col


def test_all_seniority_levels_in_titles(world):
    titles = world["leads"].job_title.dropna().str.strip().str.lower()
    patterns = {
        "c_level": r"\bceo\b|chief .* officer|founder",
        "vp": r"\bvp\b|vice president|\bsvp\b",
        "director": r"director|head of",
        "manager": r"manager|team lead",
        "individual": r"engineer|analyst|specialist|representative|intern|consultant",
    }
    for level, pattern in patterns.items():
        assert titles.str.contains(pattern).sum() > 20, level
    assert titles.isin(["-", "n/a", ""]).sum() > 0  # garbage


def test_email_kinds_present(world):
    email = world["leads"].email.dropna().str.lower()
    domain = email.str.extract(r"^[^@\s]+@([a-z0-9.-]+\.[a-z]{2,})$")[0]
    assert domain.isin(["gmail.com", "yahoo.com", "hotmail.com", "outlook.com"]).mean() > 0.05
    assert domain.isin(["mailinator.com", "yopmail.com", "10minutemail.com"]).sum() > 0
    assert domain.isna().sum() > 0  # malformed addresses
    business = domain.dropna()[~domain.dropna().str.contains("gmail|yahoo|hotmail|outlook")]
    assert len(business) > 0.6 * len(email)


def test_engagement_signal(labelled):
    with_hot = labelled.won[labelled.hot].mean()
    without = labelled.won[~labelled.hot].mean()
    assert with_hot > 4 * without


def test_negative_events_lower_conversion(labelled):
    assert labelled.won[labelled.negative].mean() < labelled.won[~labelled.negative].mean()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_write_tables_round_trip(tmp_path, fmt):
    world = generate_world(300, seed=1)
    paths = write_tables(world, tmp_path, fmt=fmt)
    assert {name: p.name for name, p in paths.items()} == {
        name: f"{name}.{fmt}" for name in ("leads", "events", "outcomes", "stages")
    }
    for name, frame in world.items():
        back = read_table(tmp_path, name)
        assert list(back.columns) == list(frame.columns)
        assert len(back) == len(frame)
        for col in frame.columns:
            want, got = frame[col], back[col]
            if isinstance(want.dtype, pd.DatetimeTZDtype):
                if fmt == "csv":
                    assert got.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
                got = pd.to_datetime(got, utc=True).astype(want.dtype)
                pd.testing.assert_series_equal(got, want, check_names=False)
            elif want.dtype.kind in "fb":
                expected = want.astype(str) if fmt == "csv" else want
                got = got.astype(str) if fmt == "csv" else got
                pd.testing.assert_series_equal(got, expected, check_dtype=False, check_names=False)
            else:
                # CSV cannot tell an empty string from a missing value
                present = want.notna() & (want != "") if fmt == "csv" else want.notna()
                want = want.astype(object).where(present, None)
                got = got.astype(object).where(got.notna(), None)
                assert got.tolist() == want.tolist(), (name, col)


def test_bad_arguments():
    with pytest.raises(ValueError):
        generate_world(0)
    with pytest.raises(ValueError):
        generate_world(10, start="2025-01-01", end="2025-01-02")
    with pytest.raises(ValueError):
        write_tables({}, "unused", fmt="xlsx")


def test_field_edits_come_after_the_close_and_the_export_holds_them():
    base = generate_world(3000, seed=1)
    edited = generate_world(3000, seed=1, field_history=True)
    assert "field_history" not in base
    for name in ("events", "outcomes", "stages"):
        pd.testing.assert_frame_equal(edited[name], base[name])
    history = edited["field_history"]
    assert set(history["field"]) == {"lead_source", "job_title"}
    closes = base["outcomes"].set_index("lead_id")
    closed = closes.loc[history["lead_id"], "closed_at"].to_numpy()
    assert (history["changed_at"].to_numpy() >= closed).all()
    end = base["events"]["occurred_at"].max()
    assert (history["changed_at"] <= end).all()
    # The export holds each edited value; the history holds the value it replaced.
    before = base["leads"].set_index("lead_id")
    after = edited["leads"].set_index("lead_id")
    for r in history.itertuples():
        assert after.loc[r.lead_id, r.field] == r.value
        was = before.loc[r.lead_id, r.field]
        assert (pd.isna(was) and pd.isna(r.old_value)) or was == r.old_value
    # Won deals are edited more often than lost ones.
    edited_share = {
        w: np.isin(closes.index[closes["won"] == w], history["lead_id"]).mean()
        for w in (True, False)
    }
    assert edited_share[True] > 2 * edited_share[False] > 0
    assert generate_world(3000, seed=1, field_history=True)["field_history"].equals(history)
