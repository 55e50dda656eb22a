"""Funnel stages, worked by hand: the order, the current stage at a moment, its phrase."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.config import load_config
from leadscore.data.contract import Tables
from leadscore.features.snapshots import open_leads
from leadscore.features.stages import stage_order
from leadscore.features.table import build_features
from leadscore.scoring.reasons import _stage_phrase
from leadscore.training.dataset import spec_for

CFG = load_config()
T0 = pd.Timestamp("2024-01-01", tz="UTC")


def day(d: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=d)


LEADS = pd.DataFrame(
    {
        "lead_id": pd.Series(["a", "b", "c"], dtype="string"),
        "created_at": pd.Series([day(0), day(0), day(1)]).astype("datetime64[ns, UTC]"),
    }
)
STAGES = pd.DataFrame(
    {
        "lead_id": pd.Series(["a", "a", "a", "b", "b", "c"], dtype="string"),
        "stage": ["lead", "mql", "sql", "lead", "sql", "mql"],
        # b skips mql; c enters mql late, after a's sql: the median time alone would put
        # mql after sql, but every lead that has both enters mql first.
        "entered_at": pd.Series([day(0), day(5), day(10), day(0), day(2), day(30)]).astype(
            "datetime64[ns, UTC]"
        ),
    }
)


def test_the_order_follows_which_stage_comes_first():
    assert stage_order(STAGES, LEADS, day(100)) == ("lead", "mql", "sql")
    # Only entries known at the cutoff count; the config's order comes first.
    assert stage_order(STAGES, LEADS, day(3)) == ("lead", "sql")
    assert stage_order(STAGES, LEADS, day(100), ("sql",)) == ("sql", "lead", "mql")


def test_the_current_stage_at_a_moment():
    spec = spec_for(_tables(), CFG, day(100))
    assert spec.stages == ("lead", "mql", "sql")
    snaps = pd.DataFrame(
        {
            "lead_id": pd.Series(["a", "a", "a", "b", "c"], dtype="string"),
            "as_of": pd.Series([day(4), day(10), day(12), day(1), day(20)]).astype(
                "datetime64[ns, UTC]"
            ),
        }
    )
    f = build_features(LEADS, _events(), snaps, spec, stages=STAGES)
    assert list(f["current_stage"].astype(str)) == ["lead", "sql", "sql", "lead", "missing"]
    np.testing.assert_allclose(f["days_in_stage"], [4, 0, 2, 1, np.nan])
    assert list(_stage_phrase(f)) == [
        "in stage lead for 4 days",
        "in stage SQL for 0 days",
        "in stage SQL for 2 days",
        "in stage lead for 1 day",
        "no funnel stage yet",
    ]


def test_a_stage_unknown_to_the_model_is_other():
    spec = spec_for(_tables(), CFG, day(3))  # knows lead and sql only
    snaps = open_leads(LEADS, _tables().outcomes, [day(40)])
    f = build_features(LEADS, _events(), snaps, spec, stages=STAGES)
    assert dict(zip(f["lead_id"], f["current_stage"].astype(str), strict=True)) == {
        "a": "sql",
        "b": "sql",
        "c": "other",
    }


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": pd.Series([], dtype="string"),
            "occurred_at": pd.Series([], dtype="datetime64[ns, UTC]"),
            "event_type": pd.Series([], dtype="string"),
        }
    )


def _tables() -> Tables:
    outcomes = pd.DataFrame(
        {
            "lead_id": pd.Series([], dtype="string"),
            "closed_at": pd.Series([], dtype="datetime64[ns, UTC]"),
            "won": pd.Series([], dtype=bool),
        }
    )
    return Tables(LEADS, _events(), outcomes, STAGES)
