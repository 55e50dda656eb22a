"""The effect of a call planted after a hand-off: only held-back leads lose wins, only after
their first night held back, at the rate that makes routed leads convert 1 + uplift times
as often."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.data.synthetic.calls import call_effect

N1 = pd.Timestamp("2025-03-01", tz="UTC")


def test_only_wins_of_control_leads_after_their_first_night_can_turn():
    outcomes = pd.DataFrame(
        {
            "lead_id": ["t", "c", "c-before", "c-lost", "never"],
            "closed_at": [N1 + pd.Timedelta(days=5)] * 2
            + [N1 - pd.Timedelta(days=1)]
            + [N1 + pd.Timedelta(days=5)] * 2,
            "won": [True, True, True, False, True],
            "amount": [1.0, 2.0, 3.0, np.nan, 5.0],
        }
    )
    log = pd.DataFrame(
        {
            "lead_id": ["t", "c", "c", "c-before", "c-lost"],
            "arm": ["treated", "control", "control", "control", "control"],
            "handed_off_at": [N1, N1 + pd.Timedelta(days=7), N1, N1, N1],
        }
    )
    # uplift 1e9: a win that can turn does (probability 1 - 1e-9).
    out = call_effect(outcomes, log, 1e9, seed=0)
    assert out["won"].tolist() == [True, False, True, False, True]
    assert out["amount"].isna().tolist() == [False, True, False, True, False]
    assert call_effect(outcomes, log, 0.0)["won"].tolist() == outcomes["won"].tolist()
    assert outcomes["won"].tolist() == [True, True, True, False, True]  # input untouched
    with pytest.raises(ValueError, match="uplift must be 0 or more"):
        call_effect(outcomes, log, -0.1)


def test_control_wins_are_kept_one_in_one_plus_uplift_and_the_seed_fixes_which():
    n = 200_000
    outcomes = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "closed_at": N1 + pd.Timedelta(days=10),
            "won": True,
        }
    )
    log = pd.DataFrame({"lead_id": outcomes["lead_id"], "arm": "control", "handed_off_at": N1})
    out = call_effect(outcomes, log, 0.5, seed=3)
    # 1 / 1.5 of the wins kept: 2/3 +- 4 standard errors (0.0011 with 200k wins).
    assert abs(out["won"].mean() - 2 / 3) < 0.0045
    assert out["won"].equals(call_effect(outcomes, log, 0.5, seed=3)["won"])
    assert not out["won"].equals(call_effect(outcomes, log, 0.5, seed=4)["won"])
