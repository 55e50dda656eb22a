"""Time split and embargo: no training label may reach into the period a model is judged on."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadscore.errors import DataError
from leadscore.features.snapshots import snapshot_dates
from leadscore.training.split import time_split

MONTHLY = snapshot_dates("2024-01-01", "2025-10-01")  # Feb 2024 .. Oct 2025: 21 dates


def test_monthly_snapshots_with_90_day_horizon_by_hand():
    s = time_split(MONTHLY, 90, n_test=2, n_calibration=2, n_early_stopping=1)
    d = lambda x: pd.Timestamp(x, tz="UTC")  # noqa: E731
    assert s.test == [d("2025-09-01"), d("2025-10-01")]
    assert s.calibration == [d("2025-07-01"), d("2025-08-01")]
    # Apr 1 + 90 days = Jun 30 <= Jul 1; May 1 + 90 days = Jul 30 would reach into calibration.
    assert s.early_stopping == [d("2025-04-01")]
    # Jan 1 + 90 days = Apr 1: the last training label window ends as early stopping starts.
    assert s.train[-1] == d("2025-01-01") and s.train[0] == d("2024-02-01")
    assert s.embargoed == [d("2025-02-01"), d("2025-03-01"), d("2025-05-01"), d("2025-06-01")]


@given(
    n=st.integers(8, 40),
    horizon=st.integers(1, 120),
    cadence=st.integers(5, 40),
    n_test=st.integers(1, 3),
    n_cal=st.integers(1, 3),
    n_es=st.integers(1, 2),
)
def test_embargo_holds_for_any_cadence_and_horizon(n, horizon, cadence, n_test, n_cal, n_es):
    dates = [
        pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(days=cadence * i) for i in range(n)
    ]
    try:
        s = time_split(dates, horizon, n_test, n_cal, n_es)
    except DataError:
        return
    h = pd.Timedelta(days=horizon)
    judged_from = min(s.calibration + s.test)
    assert all(d + h <= judged_from for d in s.train + s.early_stopping)
    if s.early_stopping:
        assert all(d + h <= s.early_stopping[0] for d in s.train)
    assert max(s.calibration) < min(s.test)
    roles = s.train + s.early_stopping + s.calibration + s.test + s.embargoed
    assert sorted(roles) == sorted(dates)  # every date has exactly one role


def test_too_little_history_is_a_clear_error():
    with pytest.raises(
        DataError, match=r"training: 3 labelled snapshot date\(s\); a time split needs at least 5"
    ):
        time_split(MONTHLY[:3], 90, 2, 2, 1)
    with pytest.raises(DataError, match="no snapshot date is old enough"):
        time_split(MONTHLY[:6], 90, 2, 2, 1)
