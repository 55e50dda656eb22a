"""Account engagement: what a lead's colleagues (other open leads of its account) did lately.

For a row (lead, as_of), over the other leads of the same account open at the same as_of:
how many there are, how many events they had in the window, and how many of them were
active in it. Point in time because it sums features that are: each colleague's counts
use only events up to as_of. A pure function of a feature frame (both engines build the
same frame; Spark runs the same sums as window functions), so rows of one account and
moment must be in the frame together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def account_window(windows_days: tuple[int, ...]) -> int:
    """The window colleagues' activity is counted over: the second shortest (30 days by
    default), or the only one."""
    return windows_days[1] if len(windows_days) > 1 else windows_days[0]


def add_account_features(features: pd.DataFrame, account: pd.Series, window: int) -> pd.DataFrame:
    """``features`` (with ``as_of`` and ``events_{window}d``) with the account columns;
    ``account``: each row's account, aligned (missing: no account, the columns are NaN)."""
    acct = pd.Series(account.to_numpy(), index=features.index).astype("string").str.strip()
    acct = acct.mask(acct == "")
    has = acct.notna().to_numpy()
    events = features[f"events_{window}d"].to_numpy(dtype="float64")
    active = (events > 0).astype("float64")
    keys = [acct.fillna("").to_numpy(), features["as_of"].to_numpy()]
    group = pd.DataFrame({"n": 1.0, "e": events, "a": active}).groupby(keys, sort=False)
    totals = group.transform("sum")
    out = features.copy()
    values = {
        "account_open_leads": totals["n"].to_numpy() - 1.0,
        f"account_events_{window}d": totals["e"].to_numpy() - events,
        f"account_active_leads_{window}d": totals["a"].to_numpy() - active,
    }
    for name, v in values.items():
        out[name] = np.where(has, v, np.nan).astype("float32")
    return out
