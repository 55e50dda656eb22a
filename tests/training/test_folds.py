"""Backtest folds and the embargo: no fold's training label may reach into its test period."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.errors import DataError
from leadscore.features.snapshots import snapshot_dates
from leadscore.training.folds import MIN_FOLD_POSITIVES, holdout, row_folds, time_folds

MONTHLY = snapshot_dates("2024-01-01", "2025-10-01")  # Feb 2024 .. Oct 2025: 21 dates


def d(x: str) -> pd.Timestamp:
    return pd.Timestamp(x, tz="UTC")


def snapshots(
    dates: list[pd.Timestamp], rows: int = 50, rate: float = 0.2
) -> tuple[pd.Series, np.ndarray]:
    """``rows`` rows per date, the first ``rate`` of them converted."""
    period = pd.Series(pd.DatetimeIndex(dates).repeat(rows))
    label = np.tile((np.arange(rows) < rows * rate).astype(float), len(dates))
    return period, label


def dates_of(period: pd.Series, mask: np.ndarray) -> list[pd.Timestamp]:
    return sorted(pd.unique(period[mask]))


def test_monthly_folds_with_a_90_day_horizon_by_hand():
    period, label = snapshots(MONTHLY)
    plan = time_folds(period, label, 90, n_folds=2, fold_periods=1)
    first, last = plan.folds
    assert dates_of(period, last.test) == [d("2025-10-01")]
    # Jul 1 + 90 days = Sep 29 <= Oct 1; Aug 1 + 90 days would reach past it.
    assert dates_of(period, last.train)[-1] == d("2025-07-01")
    assert dates_of(period, first.test) == [d("2025-09-01")]
    assert dates_of(period, first.train)[-1] == d("2025-06-01")
    assert dates_of(period, first.train)[0] == d("2024-02-01")
    assert plan.deploy.all()  # the deployed model learns from every labelled snapshot
    assert last.test_label == "2025-10-01 (1)" and last.train_label == "2024-02-01..2025-07-01 (18)"


def test_unset_lengths_adapt_to_a_short_history():
    # 4 months of weekly snapshots with a 30-day horizon: two month-long (4-week) folds do
    # not fit, so the folds shrink until two do (3 weeks here).
    weekly = [d("2025-01-01") + pd.Timedelta(days=7 * i) for i in range(1, 13)]
    period, label = snapshots(weekly, rows=40, rate=0.5)
    plan = time_folds(period, label, 30, cadence=7)
    assert len(plan.folds) == 2
    assert [len(dates_of(period, f.test)) for f in plan.folds] == [3, 3]
    assert "2 folds of 3 snapshots" in plan.how and "set by the history" in plan.how
    # Fewer conversions (4 a week): two 2-week folds fit, each with 16-24 conversions before it.
    period, label = snapshots(weekly, rows=40, rate=0.1)
    plan = time_folds(period, label, 30, cadence=7)
    assert [len(dates_of(period, f.test)) for f in plan.folds] == [2, 2]


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(3, 40),
    horizon=st.integers(1, 120),
    cadence=st.integers(1, 40),
    folds=st.one_of(st.none(), st.integers(1, 5)),
    length=st.one_of(st.none(), st.integers(1, 4)),
    rate=st.sampled_from([0.0, 0.05, 0.5]),
)
def test_no_training_label_reaches_into_its_fold_for_any_history(
    n, horizon, cadence, folds, length, rate
):
    dates = [d("2024-01-01") + pd.Timedelta(days=cadence * i) for i in range(n)]
    period, label = snapshots(dates, rows=30, rate=rate)
    try:
        plan = time_folds(period, label, horizon, folds, length, cadence)
    except DataError:
        return
    h = pd.Timedelta(days=horizon)
    previous_end = None
    for fold in plan.folds:
        test, train = dates_of(period, fold.test), dates_of(period, fold.train)
        assert test and train
        assert all(t + h <= test[0] for t in train)  # the embargo
        assert not (fold.train & fold.test).any()
        assert label[fold.train].sum() >= MIN_FOLD_POSITIVES and label[fold.test].sum() >= 1
        if previous_end is not None:
            assert test[0] > previous_end  # folds move forward in time, without overlap
        previous_end = test[-1]
    assert plan.deploy.all()


def test_too_little_history_is_one_clear_line():
    period, label = snapshots(MONTHLY[:3])
    with pytest.raises(DataError, match=r"no backtest fold fits in 3 labelled snapshots") as err:
        time_folds(period, label, 90)
    assert "\n" not in str(err.value)


def test_ordered_rows_train_on_everything_before_their_fold():
    n = 1000
    label = (np.arange(n) % 4 == 0).astype(float)
    plan = row_folds(n, label, n_folds=4, test_share=0.2, order=np.arange(n))
    assert [f.test_label for f in plan.folds] == [
        "rows 801-850",
        "rows 851-900",
        "rows 901-950",
        "rows 951-1,000",
    ]
    for f in plan.folds:
        assert np.flatnonzero(f.train).max() < np.flatnonzero(f.test).min()
        assert f.train.sum() == np.flatnonzero(f.test).min()
    assert "out of time by row order" in plan.how and plan.out_of_time


def test_unordered_rows_are_stratified_cross_validation():
    label = (np.arange(400) % 5 == 0).astype(float)
    plan = row_folds(400, label, n_folds=4, test_share=0.2, order=None)
    tested = np.sum([f.test for f in plan.folds], axis=0)
    assert (tested == 1).all()  # every row is tested exactly once
    assert all(label[f.test].sum() == 20 for f in plan.folds)
    assert not plan.out_of_time and "not an out-of-time estimate" in plan.how


def test_holdout_keeps_a_leads_snapshots_together_and_is_repeatable():
    ids = pd.Series([f"L{i % 300}" for i in range(3000)])
    rows = np.ones(3000, bool)
    held = holdout(ids, rows, seed=42)
    assert holdout(ids, rows, seed=42).tolist() == held.tolist()
    by_lead = pd.Series(held).groupby(ids).agg(["min", "max"])
    assert (by_lead["min"] == by_lead["max"]).all()
    assert 0.12 < held.mean() < 0.28
    assert not holdout(ids, np.zeros(3000, bool), seed=42).any()
