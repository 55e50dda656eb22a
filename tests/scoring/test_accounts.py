"""The account rollup, worked by hand: P(at least one converts) = 1 - prod(1 - p)."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.scoring.accounts import COLUMNS, roll_up


def test_accounts_by_hand():
    scores = pd.DataFrame(
        {
            "lead_id": ["a1", "a2", "b1", "c1", "c2", "n1"],
            "probability": [0.5, 0.2, 0.6, 0.1, 0.1, 0.9],
            "score": [50.0, 20.0, 60.0, 10.0, 10.0, 90.0],
            "tier": ["A", "B", "A", "C", "C", "A"],
            "top_reasons": ["+ r a1", "+ r a2", "+ r b1", "+ r c1", "+ r c2", "+ r n1"],
        }
    )
    account = pd.Series(["Acme", "Acme ", "Bolt", "Core", "Core", None])
    r = roll_up(scores, account)
    a = r.accounts
    assert list(a.columns) == COLUMNS
    # Acme: 1 - 0.5 * 0.8 = 0.6 (ties Bolt's 0.6; more expected conversions first: 0.7 > 0.6)
    # Core: 1 - 0.9 * 0.9 = 0.19.
    assert list(a["account"]) == ["Acme", "Bolt", "Core"]
    assert list(a["open_leads"]) == [2, 1, 2]
    assert list(a["p_any_converts"]) == pytest.approx([0.6, 0.6, 0.19])
    assert list(a["expected_conversions"]) == pytest.approx([0.7, 0.6, 0.2])
    # Best lead: highest probability, ties by lead_id (c1 before c2).
    assert list(a["best_lead_id"]) == ["a1", "b1", "c1"]
    assert list(a["best_reasons"]) == ["+ r a1", "+ r b1", "+ r c1"]
    # in = in accounts + no account: the lead without one is counted, not lost.
    assert (r.leads_in, r.without_account) == (6, 1)
    assert r.line() == "in 6 leads = in 3 accounts 5 + no account 1 (left out of the rollup)"


def test_a_certain_lead_makes_its_account_certain():
    scores = pd.DataFrame(
        {
            "lead_id": ["x", "y"],
            "probability": [1.0, 0.3],
            "score": [100.0, 30.0],
            "tier": ["A", "B"],
        }
    )
    a = roll_up(scores, pd.Series(["K", "K"])).accounts
    assert a["p_any_converts"].tolist() == [1.0]
    assert a["best_reasons"].tolist() == [""]


def test_a_model_with_stages_needs_the_stages_table():
    from types import SimpleNamespace

    from leadscore.data.contract import Tables
    from leadscore.errors import DataError
    from leadscore.scoring.batch import check_stages

    scorer = SimpleNamespace(spec=SimpleNamespace(stages=("lead", "mql")))
    leads = pd.DataFrame({"lead_id": ["a"]})
    with pytest.raises(
        DataError, match=r"^stages: the model uses the current funnel stage .* 1 leads\)$"
    ):
        check_stages(Tables(leads, pd.DataFrame(), pd.DataFrame()), scorer)
    check_stages(Tables(leads, pd.DataFrame(), pd.DataFrame(), pd.DataFrame()), scorer)
