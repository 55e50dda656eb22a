"""The funnel table, worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.training.funnel import funnel_table

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def test_funnel_by_hand():
    d = lambda x: T0 + pd.Timedelta(days=x)  # noqa: E731
    stages = pd.DataFrame(
        {
            "lead_id": ["a", "a", "a", "b", "b", "c", "d"],
            "stage": ["lead", "mql", "sql", "lead", "mql", "lead", "sql"],
            "entered_at": [d(0), d(4), d(10), d(0), d(8), d(0), d(3)],
        }
    )
    outcomes = pd.DataFrame(
        {"lead_id": ["a", "b", "d"], "closed_at": [d(20), d(30), d(1)], "won": [True, False, True]}
    )
    f = funnel_table(stages, outcomes, ("lead", "mql", "sql"))
    # lead: a, b, c entered; a and b moved on to mql after 4 and 8 days (median 6); a won.
    # mql: a, b; a moved on to sql after 6 days; a won.
    # sql: a, d; last stage; a won after entering; d won before entering sql (not counted).
    assert f["leads"].tolist() == [3, 2, 2]
    assert f["to_next"].tolist()[:2] == [2, 1] and pd.isna(f["to_next"].iloc[2])
    assert f["to_next_rate"].tolist()[:2] == pytest.approx([2 / 3, 1 / 2])
    np.testing.assert_allclose(f["median_days_to_next"], [6.0, 6.0, np.nan])
    assert f["converted"].tolist() == [1, 1, 1]
    assert f["conversion_rate"].tolist() == pytest.approx([1 / 3, 1 / 2, 1 / 2])
