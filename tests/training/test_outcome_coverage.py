"""Outcomes recorded only from some date on: earlier snapshots are not labelled as losses."""

from __future__ import annotations

import pandas as pd

from leadscore.config import config_from_dict
from leadscore.data.contract import Tables
from leadscore.data.synthetic.world import generate_world
from leadscore.data.validate import require_valid, validate_tables
from leadscore.training.grid import outcomes_recorded_from, training_snapshot_dates

CUT = pd.Timestamp("2024-09-01", tz="UTC")


def _world(cut: bool) -> Tables:
    tables = require_valid(validate_tables(generate_world(1500, seed=4)))
    if not cut:
        return tables
    kept = tables.outcomes[tables.outcomes["closed_at"] >= CUT].reset_index(drop=True)
    return Tables(tables.leads, tables.events, kept, tables.stages)


def test_a_world_recording_outcomes_from_a_date_has_no_snapshot_before_it():
    tables, cfg = _world(cut=True), config_from_dict({})
    recorded = outcomes_recorded_from(tables, cfg)
    assert recorded is not None and CUT <= recorded < CUT + pd.Timedelta(days=7)
    end = tables.leads["created_at"].max()
    dates = training_snapshot_dates(tables, cfg, end)
    assert dates and min(dates) >= recorded
    everything = config_from_dict({"training": {"outcomes_from": "all"}})
    assert min(training_snapshot_dates(tables, everything, end)) < CUT  # the setting overrides
    given = config_from_dict({"training": {"outcomes_from": "2025-01-01"}})
    assert outcomes_recorded_from(tables, given) == pd.Timestamp("2025-01-01", tz="UTC")


def test_a_world_recording_every_outcome_keeps_every_snapshot():
    tables, cfg = _world(cut=False), config_from_dict({})
    assert outcomes_recorded_from(tables, cfg) is None
