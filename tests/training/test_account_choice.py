"""The account-feature candidate: off never builds it; auto keeps it only when the
backtest's paired interval is clear of noise in its favour."""

from __future__ import annotations

import re

import pytest

from leadscore.config import config_from_dict
from leadscore.data.files import write_tables
from leadscore.data.load import load_data
from leadscore.data.synthetic.world import generate_world
from leadscore.data.validate import require_valid
from leadscore.features.table import lead_account
from leadscore.training.accounts import choose
from leadscore.training.dataset import training_table
from leadscore.training.folds import time_folds

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    data = tmp_path_factory.mktemp("acct") / "data"
    write_tables(generate_world(4000, seed=11), data)
    tables = require_valid(load_data(data))
    cfg = config_from_dict(
        {
            "model": {"num_boost_round": 60, "early_stopping_rounds": 10},
            "training": {"min_positives": 10},
        }
    )
    tt = training_table(tables, cfg)
    plan = time_folds(tt.frame["as_of"], tt.frame["label"].to_numpy(), 90, None, None, "monthly")
    return tt, plan, lead_account(tables.leads, tt.frame["lead_id"])


def test_off_and_no_account_leave_the_table_as_it_is(table):
    tt, plan, account = table
    off = config_from_dict({"features": {"account": "off"}})
    for cfg, acct in ((off, account), (config_from_dict({}), None)):
        c = choose(tt.frame, tt.spec, acct, plan, cfg)
        assert c.table is tt.frame and c.spec is tt.spec and c.line == ""


def test_auto_keeps_the_columns_only_when_the_interval_says_so(table):
    tt, plan, account = table
    cfg = config_from_dict({"model": {"num_boost_round": 60, "early_stopping_rounds": 10}})
    c = choose(tt.frame, tt.spec, account, plan, cfg)
    low = float(re.search(r"\[([+-][0-9.]+), ", c.line).group(1))
    kept = "account_open_leads" in c.table.columns
    assert kept == (low > 0) == c.line.endswith("kept (clear of noise)")
    assert kept == bool(c.spec.account_window)
    assert c.backtest is not None and len(c.backtest.rows) > 0
