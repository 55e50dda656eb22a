"""A refusal to train names a configuration that would fit, computed from the data."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.config import config_from_dict
from leadscore.data.synthetic.world import generate_world
from leadscore.data.validate import require_valid, validate_tables
from leadscore.errors import DataError
from leadscore.training.advice import check_folds_fit
from leadscore.training.grid import cadence_of, finer_cadences, plan_for, resolve_cadence


def test_finer_cadences_are_coarsest_first():
    assert finer_cadences("monthly") == [14, 7, 3, 1]
    assert finer_cadences(7) == [3, 1]
    assert finer_cadences(1) == []


def test_a_short_history_is_refused_with_a_cadence_that_fits():
    tables = require_valid(
        validate_tables(generate_world(2000, seed=1, start="2025-01-01", end="2025-05-31"))
    )
    cfg = config_from_dict({"training": {"horizon_days": 45, "cadence": "monthly"}})
    with pytest.raises(DataError) as refused:
        check_folds_fit(tables, cfg, None)
    text = str(refused.value)
    assert text.startswith("training: no backtest fold fits in 4 labelled snapshots")
    assert "; with training.cadence 14, " in text and "labelled conversions)" in text
    # The advice holds: the plan fits at that cadence.
    fine = config_from_dict({"training": {"horizon_days": 45, "cadence": 14}})
    assert len(plan_for(tables, fine, tables.leads["created_at"].max()).folds) >= 1


def test_auto_takes_the_coarsest_cadence_that_fits_and_says_so():
    tables = require_valid(
        validate_tables(generate_world(2000, seed=1, start="2025-01-01", end="2025-05-31"))
    )
    auto = config_from_dict({"training": {"horizon_days": 45}})
    assert auto.training.cadence == "auto"
    chosen, line = resolve_cadence(tables, auto, None)
    assert chosen.training.cadence == 7
    assert line.startswith("training.cadence auto: 7-day snapshots, the coarsest whose backtest")
    assert line.endswith("monthly snapshots fit 0)")
    # 7 days fits two folds; 14 days (the refusal's advice: it fits one) does not
    end = tables.leads["created_at"].max()
    assert len(plan_for(tables, chosen, end).folds) >= 2
    fortnightly = config_from_dict({"training": {"horizon_days": 45, "cadence": 14}})
    assert len(plan_for(tables, fortnightly, end).folds) == 1


def test_auto_keeps_monthly_on_a_long_history_and_a_set_cadence_is_kept():
    tables = require_valid(validate_tables(generate_world(3000, seed=2)))
    chosen, line = resolve_cadence(tables, config_from_dict({}), None)
    assert (chosen.training.cadence, line) == ("monthly", None)
    weekly = config_from_dict({"training": {"cadence": 7}})
    assert resolve_cadence(tables, weekly, None) == (weekly, None)


def test_a_built_tables_cadence_is_read_from_its_dates():
    def dates(*days: str) -> pd.Series:
        return pd.Series(pd.to_datetime(list(days), utc=True))

    assert cadence_of(dates("2025-01-01", "2025-02-01", "2025-03-01")) == "monthly"
    assert cadence_of(dates("2025-01-01", "2025-01-08", "2025-01-15", "2025-01-15")) == 7
    assert cadence_of(dates("2025-01-01")) == "monthly"
