"""The effect of a call from sales, planted in a generated world after a hand-off.

A world's outcomes are drawn before any hand-off happens, so the effect is applied to them
afterwards, given the hand-off log (``lead_id``, ``arm``, ``handed_off_at``): the world's
deals are taken as what happens when sales calls, and a lead held back in the control arm
loses each won deal that closes after the first night it was held back with probability
``uplift / (1 + uplift)`` (the deal closes lost at the same moment). Every lead's chance to
convert after that night is then divided by ``1 + uplift`` in the control arm whatever it
was, so routed leads convert ``1 + uplift`` times as often as held-back ones of the same
kind: an effect planted exactly, without knowing each lead's own chance (which lifting the
treated leads' chances instead would need). Treated leads and leads never handed off keep
their outcomes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def call_effect(
    outcomes: pd.DataFrame, log: pd.DataFrame, uplift: float, seed: int = 0
) -> pd.DataFrame:
    """``outcomes`` with the control leads of ``log`` converting ``1 / (1 + uplift)`` times
    as often after the first night each was held back. The same arguments give the same
    table; ``uplift`` 0 returns it unchanged."""
    if uplift < 0:
        raise ValueError(f"uplift must be 0 or more, not {uplift}")
    control = log.loc[log["arm"] == "control", ["lead_id", "handed_off_at"]]
    since = control.groupby(control["lead_id"].astype("string"))["handed_off_at"].min()
    night = outcomes["lead_id"].astype("string").map(since)
    closed = pd.to_datetime(outcomes["closed_at"], utc=True)
    after = (closed > pd.to_datetime(night, utc=True)).fillna(False).to_numpy(bool)
    won = outcomes["won"].astype(bool).to_numpy()
    # One draw per outcome row whatever the log holds: a seed means the same draws.
    lost = won & after & (np.random.default_rng(seed).random(len(outcomes)) < uplift / (1 + uplift))
    out = outcomes.copy()
    out["won"] = np.where(lost, False, won)
    if "amount" in out:
        out.loc[lost, "amount"] = np.nan
    return out
