"""Periods as text: each distinct period formatted once, the same text as pandas gives."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.training.fit import period_text


@pytest.mark.parametrize(
    "period",
    [
        pd.Series(pd.to_datetime(["2025-07-01", "2025-08-01", None, "2025-07-01"], utc=True)),
        pd.Series(pd.to_datetime(["2025-07-01", "2025-08-01", "2025-07-01"])),
        pd.Series([3, 1, 1, 2]),
    ],
)
def test_period_text_is_what_astype_str_gives(period: pd.Series) -> None:
    assert list(period_text(period)) == list(period.astype(str))
