"""A refusal to train names a configuration that would fit, computed from the data."""

from __future__ import annotations

import pytest

from leadscore.config import config_from_dict
from leadscore.data.synthetic.world import generate_world
from leadscore.data.validate import require_valid, validate_tables
from leadscore.errors import DataError
from leadscore.training.advice import check_folds_fit, finer_cadences, plan_for


def test_finer_cadences_are_coarsest_first():
    assert finer_cadences("monthly") == [14, 7, 3, 1]
    assert finer_cadences(7) == [3, 1]
    assert finer_cadences(1) == []


def test_a_short_history_is_refused_with_a_cadence_that_fits():
    tables = require_valid(
        validate_tables(generate_world(2000, seed=1, start="2025-01-01", end="2025-05-31"))
    )
    cfg = config_from_dict({"training": {"horizon_days": 45}})
    with pytest.raises(DataError) as refused:
        check_folds_fit(tables, cfg, None)
    text = str(refused.value)
    assert text.startswith("training: no backtest fold fits in 4 labelled snapshot(s)")
    assert "; with training.cadence 14, " in text and "labelled conversions)" in text
    # The advice holds: the plan fits at that cadence.
    fine = config_from_dict({"training": {"horizon_days": 45, "cadence": 14}})
    assert len(plan_for(tables, fine, tables.leads["created_at"].max()).folds) >= 1
