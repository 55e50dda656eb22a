"""Reasons: contributions grouped onto things a person knows, the k largest, phrased for sales."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.features.snapshots import open_leads
from leadscore.features.spec import FeatureSpec
from leadscore.features.table import build_features
from leadscore.scoring.reasons import (
    ACTIVITY,
    COLLEAGUES,
    LEAD_AGE,
    STAGE,
    _distinct_rows,
    _largest,
    count_words,
    counted,
    feature_groups,
    phrases,
    top_reasons,
)
from leadscore.training.dataset import spec_for

AS_OF = pd.Timestamp("2024-03-01", tz="UTC")


@pytest.fixture
def lead_a(tiny_tables, cfg):
    """Lead "a" on 2024-03-01: pricing page viewed 2024-01-30 (twice, one a duplicate) and
    2024-02-25, one email open 2024-01-10; VP of Marketing at a 250-person company."""
    spec = spec_for(tiny_tables, cfg, AS_OF)
    snaps = open_leads(tiny_tables.leads, tiny_tables.outcomes, [AS_OF])
    feats = build_features(tiny_tables.leads, tiny_tables.events, snaps, spec)
    return spec, feats[feats["lead_id"] == "a"].reset_index(drop=True)


def contributions_on(spec, feats: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """Hand-made contributions: the named columns get the given value, the rest zero."""
    c = pd.DataFrame(0.0, index=feats.index, columns=[*spec.feature_columns, "bias"])
    for col, w in weights.items():
        c[col] = w
    return c


def test_the_largest_groups_in_order_with_sign_and_value(lead_a):
    spec, feats = lead_a
    c = contributions_on(
        spec,
        feats,
        {
            "pricing_page_view_30d": 0.5,  # one group: the pricing-page columns summed
            "pricing_page_view_total": 0.4,
            "employees": -0.6,
            "seniority": 0.2,
            "lead_source": 0.01,
        },
    )
    (text,) = top_reasons(feats, c, spec, k=3)
    # pricing page 0.9 > employees 0.6 > seniority 0.2 > lead source 0.01 (left out).
    assert text == (
        "+ viewed the pricing page 1 time in the last 7 days; "
        "- company of 200-500 employees; "
        "+ seniority: VP"
    )


def test_event_phrase_names_the_shortest_window_with_activity(lead_a):
    spec, feats = lead_a
    (text,) = top_reasons(
        feats, contributions_on(spec, feats, {"pricing_page_view_7d": 1}), spec, 1
    )
    # 2024-02-25 is 5 days before as_of: inside the 7-day window; the duplicate counts once.
    assert text == "+ viewed the pricing page 1 time in the last 7 days"
    (text,) = top_reasons(feats, contributions_on(spec, feats, {"email_open_total": -1}), spec, 1)
    # 2024-01-10 is 51 days back: outside 7 and 30 days, inside 90.
    assert text == "- opened an email 1 time in the last 90 days"


def test_k_is_configurable_and_groups_sum_their_columns(lead_a):
    spec, feats = lead_a
    # Two pricing-page columns of +0.3 each (0.6 as one group) beat employees at -0.5.
    c = contributions_on(
        spec,
        feats,
        {"pricing_page_view_7d": 0.3, "pricing_page_view_decayed": 0.3, "employees": -0.5},
    )
    (one,) = top_reasons(feats, c, spec, k=1)
    assert one.startswith("+ viewed the pricing page")
    (two,) = top_reasons(feats, c, spec, k=2)
    assert two.count("; ") == 1 and two.split("; ")[1].startswith("- company of")
    groups = feature_groups(spec)
    assert groups["pricing_page_view_7d"] == groups["pricing_page_view_decayed"]


def test_vectorised_over_many_rows(lead_a):
    spec, feats = lead_a
    many = pd.concat([feats] * 500, ignore_index=True)
    rng = np.random.default_rng(0)
    c = pd.DataFrame(
        rng.normal(size=(len(many), len(spec.feature_columns) + 1)),
        columns=[*spec.feature_columns, "bias"],
    )
    reasons = top_reasons(many, c, spec, k=3)
    assert len(reasons) == len(many) and reasons.str.count("; ").eq(2).all()
    # Row by row, the same answer as explaining that row alone.
    for i in (0, 17, 499):
        (alone,) = top_reasons(many.iloc[[i]], c.iloc[[i]], spec, k=3)
        assert reasons.iloc[i] == alone


def test_a_value_that_is_not_a_probability_never_reaches_the_scores():
    import numpy as np
    import pytest

    from leadscore.errors import ModelError
    from leadscore.scoring.batch import check_probabilities

    good = np.array([0.0, 0.25, 1.0])
    assert check_probabilities(good) is good
    for bad in (np.nan, np.inf, -0.1, 1.5):
        with pytest.raises(
            ModelError, match=r"gave 1 of 3 leads a value that is not a probability"
        ):
            check_probabilities(np.array([0.5, bad, 0.2]))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 9),
    st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5]), min_size=54, max_size=54),
    st.integers(1, 9),
)
def test_the_k_largest_are_a_stable_sort_of_every_row(rows, cols, values, k):
    """Ties (frequent here: five values) go to the lower column, as a stable sort does."""
    size = np.array(values[: rows * cols]).reshape(rows, cols)
    k = min(k, cols)
    expected = np.argsort(-size, axis=1, kind="stable")[:, :k]
    assert np.array_equal(_largest(size, k), expected)


def test_distinct_rows_treat_missing_values_as_equal():
    frame = pd.DataFrame(
        {
            "n": [1.0, 1.0, np.nan, np.nan, 2.0],
            "band": pd.Categorical(["a", "a", None, None, "a"]),
        }
    )
    first, inverse = _distinct_rows(frame)
    assert len(first) == 3 and inverse[0] == inverse[1] and inverse[2] == inverse[3]
    assert frame.iloc[first].iloc[inverse].reset_index(drop=True).equals(frame)


def test_counts_agree_with_their_nouns():
    assert count_words(1, "day") == "1 day" and count_words(30, "day") == "30 days"
    n = pd.Series([1.0, 2.0, 0.0, 0.6, np.nan])
    assert list(counted(n, "activity", "activities")) == [
        "1 activity",
        "2 activities",
        "0 activities",
        "1 activity",  # counts are said rounded, and agree with the rounded number
        "? activities",
    ]
    assert counted(pd.Series([20_000.0]), "employee").tolist() == ["20,000 employees"]


def test_every_sentence_with_a_number_agrees_with_it():
    """Two hand-made leads: one with every count at 1, one with every count at 2."""
    spec = FeatureSpec(
        event_types=("demo_request",),
        windows_days=(7, 30),
        half_life_days=7.0,
        negative_event_types=(),
        dedupe_events=True,
        categorical=(),
        numeric=(),
        stages=("lead", "sql"),
        account_window=30,
    )
    features = pd.DataFrame(
        {
            "demo_request_7d": [0.0, 0.0],
            "demo_request_30d": [0.0, 0.0],
            "demo_request_total": [1.0, 2.0],
            "demo_request_days_since": [1.0, 2.0],
            "events_30d": [1.0, 2.0],
            "active_days_30d": [1.0, 2.0],
            "days_since_created": [1.0, 2.0],
            "current_stage": pd.Categorical(["sql", "lead"]),
            "days_in_stage": [1.0, 2.0],
            "account_open_leads": [1.0, 2.0],
            "account_active_leads_30d": [1.0, 2.0],
            "account_events_30d": [1.0, 2.0],
        }
    )
    groups = ("event:demo_request", ACTIVITY, LEAD_AGE, STAGE, COLLEAGUES)
    said = {g: list(phrases(features, g, spec)) for g in groups}
    assert said == {
        "event:demo_request": [
            "requested a demo 1 time, last 1 day ago",
            "requested a demo 2 times, last 2 days ago",
        ],
        ACTIVITY: [
            "1 activity in the last 30 days (1 distinct day)",
            "2 activities in the last 30 days (2 distinct days)",
        ],
        LEAD_AGE: ["lead created 1 day ago", "lead created 2 days ago"],
        STAGE: ["in stage SQL for 1 day", "in stage lead for 2 days"],
        COLLEAGUES: [
            "1 of 1 colleague active in the last 30 days (1 event)",
            "2 of 2 colleagues active in the last 30 days (2 events)",
        ],
    }


def test_flat_reasons_read_the_columns_a_flat_file_has():
    """A flat file has no size or revenue bands: its numbers are what the reasons say."""
    from leadscore.features.flat import fit_flat_spec, flat_features

    table = pd.DataFrame(
        {
            "employees": [456.0, 1.0, None],
            "annual_revenue": [38_985_000.0, None, 2e6],
            "email_domain": ["acme.com", "gmail.com", None],
            "total_visits": [3, 0, 12],
        }
    )
    spec = fit_flat_spec(table, list(table.columns), max_categories=5)
    feats = flat_features(table, spec)
    c = pd.DataFrame(0.0, index=feats.index, columns=[*spec.feature_columns, "bias"])
    c["employees"], c["annual_revenue"], c["email_domain"] = 0.3, -0.2, 0.1
    assert list(top_reasons(feats, c, spec, k=3)) == [
        "+ company size 456 employees; - annual revenue 38,985,000; + email domain: acme.com",
        "+ company size 1 employee; - revenue unknown; + email domain: gmail.com",
        "+ company size unknown; - annual revenue 2,000,000; + no email address",
    ]
    c["total_visits"] = 1.0
    assert top_reasons(feats, c, spec, k=1).tolist() == [
        "+ total visits 3",
        "+ total visits 0",
        "+ total visits 12",
    ]
