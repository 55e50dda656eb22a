"""The training grid is anchored at the latest labelled moment and steps back by the cadence."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.features.snapshots import anchored_dates

moments = st.datetimes(
    min_value=pd.Timestamp("2015-01-01").to_pydatetime(),
    max_value=pd.Timestamp("2030-01-01").to_pydatetime(),
).map(lambda d: pd.Timestamp(d, tz="UTC"))


@settings(max_examples=200, deadline=None)
@given(
    start=moments,
    as_of=moments,
    horizon=st.integers(1, 400),
    cadence=st.one_of(st.just("monthly"), st.integers(1, 60)),
)
def test_the_newest_snapshot_is_the_latest_labelled_moment(start, as_of, horizon, cadence):
    anchor = as_of.normalize() - pd.Timedelta(days=horizon)
    dates = anchored_dates(start, anchor, cadence)
    if anchor <= start:
        assert dates == []
        return
    assert dates[-1] == anchor  # the latest moment whose label window has closed by as_of
    assert all(start < d <= anchor for d in dates)
    assert dates == sorted(set(dates))
    if cadence == "monthly":
        assert all(d.day == anchor.day or d.is_month_end for d in dates)
        older = anchor - pd.DateOffset(months=len(dates))
        assert older <= start  # the grid reaches back to start
    else:
        gaps = {(b - a) for a, b in zip(dates, dates[1:], strict=False)}
        assert gaps <= {pd.Timedelta(days=cadence)}
        assert dates[0] - pd.Timedelta(days=cadence) <= start  # the grid reaches back to start


def test_worked_examples():
    utc = lambda s: pd.Timestamp(s, tz="UTC")  # noqa: E731
    assert anchored_dates(utc("2025-01-10"), utc("2025-04-30"), "monthly") == [
        utc("2025-01-30"),
        utc("2025-02-28"),
        utc("2025-03-30"),
        utc("2025-04-30"),
    ]
    assert anchored_dates(utc("2025-03-01"), utc("2025-03-22"), 7) == [
        utc("2025-03-08"),
        utc("2025-03-15"),
        utc("2025-03-22"),
    ]
