"""Account engagement, worked by hand: colleagues at the same moment, the lead itself left out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.features.accounts import account_window, add_account_features


def test_colleagues_at_the_same_moment():
    f = pd.DataFrame(
        {
            "lead_id": list("abcde"),
            "as_of": [1, 1, 1, 2, 1],
            "events_30d": [3.0, 0.0, 2.0, 5.0, 1.0],
        }
    )
    out = add_account_features(f, pd.Series(["X", "X", " X", "X", ""]), 30)
    # a, b, c: account X at moment 1 (c's " X" stripped); d: X at moment 2, alone; e: none.
    assert out["account_open_leads"].tolist()[:4] == [2, 2, 2, 0]
    assert out["account_events_30d"].tolist()[:4] == [2, 5, 3, 0]
    assert out["account_active_leads_30d"].tolist()[:4] == [1, 2, 1, 0]
    assert np.isnan(out.loc[4, ["account_open_leads", "account_events_30d"]].astype(float)).all()
    assert account_window((7, 30, 90)) == 30 and account_window((14,)) == 14
