"""Feature builders: exact values at exact moments, worked out by hand (see conftest.tiny_tables)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from leadscore.features.snapshots import label_snapshots, open_leads, snapshot_dates
from leadscore.features.spec import discover_event_types, slug
from leadscore.features.table import build_features, build_table, engagement_features
from leadscore.training.dataset import spec_for

FEB, MAR, APR = (pd.Timestamp(d, tz="UTC") for d in ("2024-02-01", "2024-03-01", "2024-04-01"))


@pytest.fixture
def spec(tiny_tables, cfg):
    return spec_for(tiny_tables, cfg, APR)


def row(table: pd.DataFrame, lead: str, t: pd.Timestamp) -> pd.Series:
    hit = table[(table["lead_id"] == lead) & (table["as_of"] == t)]
    assert len(hit) == 1, f"expected one row for {lead} at {t}, got {len(hit)}"
    return hit.iloc[0]


def test_monthly_snapshot_dates_are_first_days_after_start():
    assert snapshot_dates("2024-01-05", "2024-04-01") == [FEB, MAR, APR]
    assert snapshot_dates("2024-01-01", "2024-01-31", 10) == [
        pd.Timestamp(d, tz="UTC") for d in ("2024-01-11", "2024-01-21", "2024-01-31")
    ]


def test_open_leads_exclude_not_yet_created_and_already_closed(tiny_tables):
    snaps = open_leads(tiny_tables.leads, tiny_tables.outcomes, [FEB, MAR, APR])
    got = {(r.lead_id, r.as_of) for r in snaps.itertuples()}
    # a: created Jan 5, won Mar 15 -> open at Feb and Mar, closed by Apr.
    # b: created Feb 10, lost Feb 20 -> never open on a snapshot date.
    # c: created Mar 1 (midnight, so open at Mar 1 itself) and never closed.
    assert got == {("a", FEB), ("a", MAR), ("c", MAR), ("c", APR)}


def test_labels_are_won_within_horizon_and_unknown_past_data_end(tiny_tables):
    snaps = open_leads(tiny_tables.leads, tiny_tables.outcomes, [FEB, MAR, APR])
    labels = label_snapshots(snaps, tiny_tables.outcomes, 30, pd.Timestamp("2024-04-20", tz="UTC"))
    got = dict(zip(zip(snaps["lead_id"], snaps["as_of"], strict=True), labels, strict=True))
    assert got[("a", FEB)] == 0.0  # Mar 15 is 43 days after Feb 1: outside a 30-day horizon
    assert got[("a", MAR)] == 1.0  # 14 days after Mar 1: won within the horizon
    assert got[("c", MAR)] == 0.0
    assert math.isnan(got[("c", APR)])  # Apr 1 + 30 days is past the data's end: not a negative


def test_lost_deal_is_never_a_positive(tiny_tables):
    snaps = pd.DataFrame({"lead_id": ["b"], "as_of": [pd.Timestamp("2024-02-11", tz="UTC")]})
    labels = label_snapshots(snaps, tiny_tables.outcomes, 90, pd.Timestamp("2025-01-01", tz="UTC"))
    assert labels.tolist() == [0.0]


def test_engagement_counts_recency_decay_by_hand(tiny_tables, spec):
    table = build_table(
        tiny_tables.leads,
        tiny_tables.events,
        tiny_tables.outcomes,
        [FEB, MAR],
        spec,
        30,
        pd.Timestamp("2024-06-01", tz="UTC"),
    )
    a_feb = row(table, "a", FEB)
    # Before Feb 1, a has: email_open Jan 10 09:00, pricing_page_view Jan 30 12:00 (twice: deduped).
    assert a_feb["pricing_page_view_7d"] == 1
    assert a_feb["pricing_page_view_total"] == 1
    assert a_feb["email_open_7d"] == 0
    assert a_feb["email_open_30d"] == 1
    assert a_feb["events_total"] == 2
    assert a_feb["pricing_page_view_days_since"] == pytest.approx(1.5)
    assert a_feb["email_open_days_since"] == pytest.approx(21.625)
    assert a_feb["days_since_last_event"] == pytest.approx(1.5)
    half_life = spec.half_life_days
    expected = 2 ** (-1.5 / half_life) + 2 ** (-21.625 / half_life)
    assert a_feb["engagement_decayed"] == pytest.approx(expected, rel=1e-5)
    assert a_feb["active_days_30d"] == 2
    assert a_feb["days_since_created"] == pytest.approx(27.0)
    # Trend: 2 events in 30 days against 0 in the 60 before, with one pseudo-event spread
    # over 90 days: ((2 + 1/3) / 30) / ((0 + 2/3) / 60) = 7.
    assert a_feb["activity_trend"] == pytest.approx(7.0)

    a_mar = row(table, "a", MAR)
    assert a_mar["pricing_page_view_7d"] == 1  # Feb 25 08:00
    assert a_mar["pricing_page_view_30d"] == 1  # Jan 30 12:00 is 30.5 days back: outside
    assert a_mar["pricing_page_view_90d"] == 2
    assert a_mar["email_open_30d"] == 0  # the Mar 10 open is after Mar 1: invisible
    assert a_mar["email_open_total"] == 1

    c_mar = row(table, "c", MAR)
    assert c_mar["events_total"] == 0
    assert math.isnan(c_mar["days_since_last_event"])
    assert c_mar["engagement_decayed"] == 0
    assert c_mar["activity_trend"] == pytest.approx(1.0)


def test_explicit_features_normalise_messy_values(tiny_tables, spec):
    snaps = open_leads(tiny_tables.leads, tiny_tables.outcomes, [MAR])
    table = build_features(tiny_tables.leads, tiny_tables.events, snaps, spec)
    a, c = row(table, "a", MAR), row(table, "c", MAR)
    assert a["seniority"] == "vp"
    assert a["job_function"] == "marketing"
    assert a["email_domain"] == "business"
    assert a["industry"] == "software"  # "Software" and " software" are one value
    assert a["country"] == "united states" and c["country"] == "united states"  # US / usa
    assert a["employees_band"] == "200-500"
    assert c["seniority"] == "unknown" and c["job_title_missing"] == 1.0
    assert c["email_domain"] == "missing"
    assert c["industry"] == "missing" and c["industry_missing"] == 1.0


def test_unknown_event_types_are_pooled_as_other_not_dropped(tiny_tables, cfg):
    events = tiny_tables.events.copy()
    events.loc[len(events)] = ["a", pd.Timestamp("2024-02-20", tz="UTC"), "Chat_Started"]
    spec = spec_for(tiny_tables, cfg, APR)  # fitted without chat_started
    snaps = open_leads(tiny_tables.leads, tiny_tables.outcomes, [MAR])
    table = build_features(tiny_tables.leads, events, snaps, spec)
    assert row(table, "a", MAR)["other_total"] == 1
    assert row(table, "a", MAR)["events_total"] == 4


def test_event_types_are_discovered_by_frequency_with_rest_pooled():
    types = pd.Series(["page_view"] * 5 + ["Email_Open"] * 3 + ["email_open"] + ["rare"])
    assert discover_event_types(types, 2) == ("email_open", "page_view")
    assert discover_event_types(types, 2, always=("unsubscribe",)) == (
        "email_open",
        "page_view",
        "unsubscribe",
    )


def test_explicit_event_type_list_from_config(tiny_tables, cfg):
    custom = cfg.model_copy(
        update={"features": cfg.features.model_copy(update={"event_types": ["Demo_Request"]})}
    )
    spec = spec_for(tiny_tables, custom, APR)
    assert spec.event_types == ("demo_request", "email_bounce", "unsubscribe")


def test_categories_unseen_at_fit_become_other(tiny_tables, spec):
    leads = tiny_tables.leads.copy()
    leads.loc[0, "industry"] = "Aerospace"
    snaps = open_leads(leads, tiny_tables.outcomes, [MAR])
    table = build_features(leads, tiny_tables.events, snaps, spec)
    assert row(table, "a", MAR)["industry"] == "other"


def test_feature_columns_follow_the_spec_order_and_types(tiny_tables, spec):
    snaps = open_leads(tiny_tables.leads, tiny_tables.outcomes, [MAR])
    table = build_features(tiny_tables.leads, tiny_tables.events, snaps, spec)
    assert list(table.columns) == ["lead_id", "as_of", *spec.feature_columns]
    for c in spec.feature_columns:
        expected = "category" if c in spec.categories else "float32"
        assert str(table[c].dtype) == expected, c


def test_slug_makes_column_safe_names():
    assert slug(" Pricing Page-View ") == "pricing_page_view"


@pytest.mark.parametrize("dates", [["2024-02-16"], ["2024-02-16", "2024-03-01"]])
def test_events_before_the_lead_was_created_are_not_counted(tiny_tables, cfg, dates):
    """An event dated before its lead's creation is a bad row: skipped by the query itself,
    whether one moment is asked for (the nightly query) or several (the general one)."""
    early = pd.DataFrame(
        {
            "lead_id": pd.Series(["b"], dtype="string"),
            "occurred_at": pd.to_datetime(["2024-02-01T09:00"], utc=True),
            "event_type": ["email_open"],
        }
    )
    events = pd.concat([tiny_tables.events, early], ignore_index=True)
    as_of = [pd.Timestamp(d, tz="UTC") for d in dates]
    spec = spec_for(tiny_tables, cfg, as_of[0])
    snaps = open_leads(tiny_tables.leads, tiny_tables.outcomes, as_of)
    feats = build_features(tiny_tables.leads, events, snaps, spec)
    b = feats[(feats["lead_id"] == "b") & (feats["as_of"] == as_of[0])].iloc[0]
    assert b["events_total"] == 1  # the unsubscribe of 2024-02-15 only
    assert b["email_open_total"] == 0


def test_decayed_sums_do_not_depend_on_event_order(spec):
    """Decay weights are summed exactly (whole multiples of 2^-24), so the engine's order of
    addition, which varies with its threads, cannot change a bit: reruns are identical."""
    rng = np.random.default_rng(7)
    n = 400
    leads = pd.DataFrame(
        {"lead_id": ["x", "y"], "created_at": pd.Timestamp("2023-01-01", tz="UTC")}
    )
    events = pd.DataFrame(
        {
            "lead_id": rng.choice(["x", "y"], n),
            "occurred_at": APR - pd.to_timedelta(rng.uniform(0, 300, n), unit="D"),
            "event_type": rng.choice(["email_open", "page_view", "pricing_page_view"], n),
        }
    )
    snaps = pd.DataFrame({"lead_id": ["x", "y"], "as_of": [APR, APR]})
    decayed = [c for c in spec.feature_columns if c.endswith("decayed")]
    forward = (
        engagement_features(snaps, leads, events, spec).set_index("lead_id")[decayed].sort_index()
    )
    backward = (
        engagement_features(snaps, leads, events.sample(frac=1, random_state=1), spec)
        .set_index("lead_id")[decayed]
        .sort_index()
    )
    assert (forward["engagement_decayed"] > 0).all()
    pd.testing.assert_frame_equal(forward, backward, check_exact=True)


def test_email_domain_classes():
    """The address's domain class, after trimming and lower-casing; malformed is 'invalid'."""
    from leadscore.features.explicit import email_domain_class

    emails = pd.Series(
        [
            "ana@gmail.com",
            " CEO@Acme.io ",
            "x@mailinator.com",
            "no-at-sign",
            "a b@acme.io",
            "a@acme",
            "a@@acme.io",
            "",
            None,
        ]
    )
    assert email_domain_class(emails).tolist() == [
        "free",
        "business",
        "disposable",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "missing",
        "missing",
    ]
    assert email_domain_class(pd.Series([], dtype=object)).tolist() == []


def test_email_domain_lists_extend_or_replace_the_built_in_ones():
    import dataclasses

    from leadscore.config import ConfigError, config_from_dict
    from leadscore.features.explicit import domain_lists, email_domain_class
    from leadscore.features.spec import FeatureSpec
    from leadscore.features.table import explicit_features

    cfg = config_from_dict(
        {"features": {"email_domains": {"free": [" @Acme-Mail.com "], "disposable": ["tmp.io"]}}}
    ).features.email_domains
    free, disposable = domain_lists(cfg.free, cfg.disposable, cfg.replace)
    assert {"acme-mail.com", "gmail.com"} <= set(free) and {"tmp.io", "yopmail.com"} <= set(
        disposable
    )
    only, none = domain_lists(["acme-mail.com"], [], replace=True)
    assert only == ("acme-mail.com",) and none == ()
    emails = pd.Series(["a@acme-mail.com", "b@gmail.com", "c@tmp.io", "d@yopmail.com"])
    assert email_domain_class(emails, only, none).tolist() == [
        "free",
        "business",
        "business",
        "business",
    ]
    with pytest.raises(ConfigError, match="features.email_domains.free"):
        config_from_dict({"features": {"email_domains": {"free": ["someone@gmail.com"]}}})
    # The lists travel with the spec (scoring reads them as training did); a spec saved
    # without them reads the built-in lists.
    spec = FeatureSpec(
        (), (30,), 14.0, (), True, (), (), free_domains=only, disposable_domains=none
    )
    back = FeatureSpec.from_dict(spec.to_dict())
    assert back == spec
    leads = pd.DataFrame({"lead_id": ["1", "2"], "email": ["a@acme-mail.com", "b@gmail.com"]})
    assert explicit_features(leads, back)["email_domain"].tolist() == ["free", "business"]
    legacy = {k: v for k, v in spec.to_dict().items() if "domains" not in k}
    built_in = FeatureSpec.from_dict(legacy)
    assert explicit_features(leads, built_in)["email_domain"].tolist() == ["business", "free"]
    assert dataclasses.replace(built_in, free_domains=None) == built_in


def test_snapshots_of_leads_missing_from_the_leads_table_get_empty_fit_features(tiny_tables, spec):
    """Rows stay one per snapshot, in order; a lead with no leads row has no fit values."""
    snaps = pd.DataFrame({"lead_id": ["zz", "a", "zz"], "as_of": [MAR, MAR, APR]})
    table = build_features(tiny_tables.leads, tiny_tables.events, snaps, spec)
    assert table["lead_id"].tolist() == ["zz", "a", "zz"]
    numeric = [c for c in spec.numeric if c in table]
    assert numeric and table.loc[table["lead_id"] == "zz", numeric].isna().all().all()
    only_missing = build_features(tiny_tables.leads, tiny_tables.events, snaps.iloc[[0]], spec)
    assert only_missing[numeric].isna().all().all()


def test_duplicate_lead_ids_are_refused(tiny_tables, spec):
    leads = pd.concat([tiny_tables.leads, tiny_tables.leads.iloc[:1]], ignore_index=True)
    snaps = pd.DataFrame({"lead_id": [leads["lead_id"].iloc[0]], "as_of": [MAR]})
    with pytest.raises(ValueError, match="lead_id must be unique"):
        build_features(leads, tiny_tables.events, snaps, spec)


def test_each_event_type_decays_by_its_own_half_life(tiny_tables):
    from leadscore.config import config_from_dict

    # Keyed as the source spells the type.
    cfg = config_from_dict({"features": {"event_half_life_days": {"Email Open": 7}}})
    spec = spec_for(tiny_tables, cfg, APR)
    assert spec.event_half_lives == {"email_open": 7.0}
    assert type(spec).from_dict(spec.to_dict()) == spec
    end = pd.Timestamp("2024-06-01", tz="UTC")
    t = tiny_tables
    a_feb = row(build_table(t.leads, t.events, t.outcomes, [FEB], spec, 30, end), "a", FEB)
    # Before Feb 1: a pricing-page view 1.5 days back (common 14 days), an open 21.625 back (7).
    pricing, opened = 2 ** (-1.5 / 14), 2 ** (-21.625 / 7)
    assert a_feb["pricing_page_view_decayed"] == pytest.approx(pricing, rel=1e-5)
    assert a_feb["email_open_decayed"] == pytest.approx(opened, rel=1e-5)
    assert a_feb["engagement_decayed"] == pytest.approx(pricing + opened, rel=1e-5)


def test_a_half_life_that_is_not_positive_is_named():
    from leadscore.config import config_from_dict

    with pytest.raises(Exception, match="email_open"):
        config_from_dict({"features": {"event_half_life_days": {"email_open": 0}}})
