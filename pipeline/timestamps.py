"""Moments as leadscore reads them: every date or time a user gives (a command's ``--as-of``,
the Python API's ``as_of``, a config's ``training.first_snapshot``) is parsed here once, at
the edge, into a UTC ``pandas.Timestamp``; the code inside takes that typed value as it is.

A date or a timestamp without a zone is UTC, as the data contract says.
"""

from __future__ import annotations

import pandas as pd


def to_utc(value: str | pd.Timestamp) -> pd.Timestamp:
    """A timestamp in UTC (a date or a timestamp without a zone is taken as UTC)."""
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
