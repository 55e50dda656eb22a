"""The points baseline: every rule kind worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import config_from_dict
from leadscore.errors import ConfigError
from leadscore.model.baseline import missing_columns, score_baseline


def baseline(rules, **extra):
    return config_from_dict({"baseline": {"rules": rules, **extra}}).baseline


FRAME = pd.DataFrame(
    {
        "seniority": pd.Categorical(["vp", "individual", "unknown"]),
        "employees": [250.0, 20.0, np.nan],
        "country": pd.Categorical(["united states", "nigeria", "missing"]),
        "demo_request_decayed": [2.0, 0.5, 0.0],
        "unsubscribe_total": [0.0, 1.0, 3.0],
    }
)

RULES = [
    {"column": "seniority", "kind": "fit", "values": {"VP": 16, "individual": 3}},
    {"column": "employees", "kind": "fit", "bands": [[0, 0], [50, 4], [200, 8]]},
    {"column": "country", "kind": "fit", "not_in": ["united states"], "points": -10},
    {"column": "demo_request_decayed", "kind": "engagement", "per_unit": 30, "cap": 40},
    {"column": "unsubscribe_total", "kind": "negative", "per_unit": -20, "cap": 20},
]


def test_points_per_rule_kind_by_hand():
    cfg = baseline(
        RULES,
        max_points=100,
        fit_grades={"A": 20, "B": 10, "C": 1},
        mql_threshold=30,
        sql_threshold=60,
    )
    out = score_baseline(FRAME, cfg)
    # Row 0: vp 16 + 250 employees 8 + US 0 = 24 fit; demo 2 x 30 = 60 capped at 40; no unsubscribe.
    # Row 1: individual 3 + 20 employees 0 + Nigeria -10 = -7 fit; demo 15; one unsubscribe -20.
    # Row 2: unknown 0 + missing employees 0 + missing country 0; three unsubscribes capped at -20.
    assert out["fit_points"].tolist() == [24, -7, 0]
    assert out["engagement_points"].tolist() == [40, 15, 0]
    assert out["negative_points"].tolist() == [0, -20, -20]
    assert out["baseline_score"].tolist() == [64.0, 0.0, 0.0]  # clipped at 0, scaled to 0-100
    assert out["fit_grade"].tolist() == ["A", "F", "F"]
    assert out["baseline_tier"].tolist() == ["SQL", "nurture", "nurture"]


def test_mql_between_thresholds():
    cfg = baseline(
        [{"column": "demo_request_decayed", "kind": "engagement", "per_unit": 20}],
        max_points=100,
        mql_threshold=30,
        sql_threshold=60,
    )
    assert score_baseline(FRAME, cfg)["baseline_tier"].tolist() == ["MQL", "nurture", "nurture"]


def test_rules_on_absent_columns_are_reported():
    cfg = baseline(
        [*RULES, {"column": "webinar_attended_decayed", "kind": "engagement", "per_unit": 5}]
    )
    assert missing_columns(FRAME.columns, cfg) == ["webinar_attended_decayed"]
    score_baseline(FRAME, cfg)  # still scores with the rules it can apply


def test_a_rule_needs_exactly_one_way_of_giving_points():
    with pytest.raises(
        ConfigError, match=r"baseline.rules.0.*exactly one of values, bands, per_unit, not_in"
    ):
        baseline([{"column": "x", "kind": "fit", "values": {"a": 1}, "per_unit": 2}])


def test_default_baseline_scores_the_default_feature_columns(tiny_tables, cfg):
    from leadscore.features.snapshots import open_leads
    from leadscore.features.table import build_features
    from leadscore.training.dataset import spec_for

    t = pd.Timestamp("2024-03-01", tz="UTC")
    spec = spec_for(tiny_tables, cfg, t)
    table = build_features(
        tiny_tables.leads,
        tiny_tables.events,
        open_leads(tiny_tables.leads, tiny_tables.outcomes, [t]),
        spec,
    )
    out = score_baseline(table, cfg.baseline)
    assert out["baseline_score"].between(0, 100).all()
    # Lead a: VP (16) at software (10), 250 employees (8), US, business email (5): fit 39 -> A.
    assert out.loc[table["lead_id"] == "a", "fit_grade"].item() == "A"


def test_event_types_no_rule_names_get_the_default_points():
    from leadscore.model.baseline import unnamed_event_columns

    frame = FRAME.assign(
        chat_started_decayed=[1.0, 4.0, 0.0],  # a type found in the data, no rule
        demo_request_7d=[1.0, 0.0, 0.0],
        engagement_decayed=[9.0, 9.0, 9.0],  # the total, not a type
    )
    common = {"max_points": 100, "fit_grades": {"A": 20}, "mql_threshold": 30}
    assert unnamed_event_columns(frame.columns, baseline(RULES, **common)) == [
        "chat_started_decayed"
    ]
    off = score_baseline(frame, baseline(RULES, **common, sql_threshold=60))
    on = score_baseline(
        frame,
        baseline(RULES, **common, sql_threshold=60, default_event_points=2, default_event_cap=5),
    )
    # 1 event x 2 = 2; 4 events x 2 = 8, capped at 5; none.
    assert (on["engagement_points"] - off["engagement_points"]).tolist() == [2, 5, 0]


def test_categorical_and_text_columns_earn_the_same_points():
    # Categoricals are priced once per level and taken by code: a missing value (code -1),
    # a level no row uses and the "missing" level must come out as for plain text.
    levels = ["united states", "nigeria", "missing", "vp", "unused"]
    text = ["vp", None, "nigeria", "united states", "missing", "VP"]
    frame = pd.DataFrame(
        {
            "seniority": pd.Categorical([t if t != "VP" else "vp" for t in text], levels),
            "country": pd.Categorical([t if t != "VP" else "vp" for t in text], levels),
        }
    )
    plain = frame.astype("object")
    cfg = baseline([RULES[0], RULES[2]], max_points=100)
    got, want = score_baseline(frame, cfg), score_baseline(plain, cfg)
    pd.testing.assert_frame_equal(got, want)
    # vp 16 + outside -10; missing 0; nigeria -10; US 0; "missing" 0; vp 16 - 10.
    assert got["fit_points"].tolist() == [6, 0, -10, 0, 0, 6]
