"""The review's accounts section: the buying groups most likely to bring a conversion.

A pure function of an accounts file (``leadscore accounts``): how many accounts hold the
open leads, how concentrated they are, and the accounts with the highest chance that at
least one of their leads converts, each with its best lead and that lead's reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from leadscore.data.files import read_frame, require_numbers
from leadscore.errors import DataError
from leadscore.reporting import blocks
from leadscore.reporting.blocks import Table
from leadscore.reporting.wording import Rich, b, chip, num, pct, rich, score_text
from leadscore.scoring.accounts import COLUMNS

TOP_ACCOUNTS = 10


@dataclass
class AccountsSection:
    intro: str
    key: Rich | None = None
    table: Table | None = None


def read_accounts(path: str | Path) -> pd.DataFrame:
    """An accounts file, checked: every column of the rollup, numbers as numbers."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"accounts file {p}: does not exist (write it with leadscore accounts)")
    frame = read_frame(p)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"accounts file {p}: missing column(s) {', '.join(missing)} ({len(frame):,} rows; "
            "write it with leadscore accounts)"
        )
    numbers = ("open_leads", "p_any_converts", "expected_conversions", "best_score")
    return require_numbers(frame, numbers, f"accounts file {p}")


def accounts_section(accounts: pd.DataFrame) -> AccountsSection:
    intro = (
        "Leads of one account are one buying group. P(at least one converts) is 1 - the "
        "product of (1 - p) over the account's open leads: it assumes its leads convert "
        "independently, which colleagues buying together do not, so it is an upper bound; "
        "expected conversions (the sum of p) need no such assumption."
    )
    if not len(accounts):
        return AccountsSection(intro + " The accounts file holds no accounts.")
    n, leads = len(accounts), int(accounts["open_leads"].sum())
    multi = accounts[accounts["open_leads"] >= 2]
    top = accounts.head(TOP_ACCOUNTS)
    expected, top_expected = (
        accounts["expected_conversions"].sum(),
        top["expected_conversions"].sum(),
    )
    key = rich(
        b(num(leads)),
        f" open leads sit in {num(n)} accounts; ",
        b(num(len(multi))),
        f" accounts ({pct(len(multi) / n, 1)}) have two or more. The {num(len(top))} below "
        f"are expected to bring {top_expected:,.1f} of the {expected:,.1f} conversions expected "
        "across all accounts.",
    )
    rows = [
        [
            blocks.text(r.account),
            blocks.text(num(int(r.open_leads))),
            blocks.text(pct(float(r.p_any_converts), 1)),
            blocks.text(f"{float(r.expected_conversions):,.2f}"),
            blocks.rich_cell(f"{r.best_lead_id} ({score_text(r.best_score)}) ", chip(r.best_tier)),
            blocks.reasons(r.best_reasons),
        ]
        for r in top.itertuples()
    ]
    heads = [
        "Account",
        "Open leads",
        "P(at least one converts)",
        "Expected conversions",
        "Best lead (score)",
        "Its top reasons",
    ]
    return AccountsSection(intro, key, blocks.table(heads, rows, {1, 2, 3}, "examples"))
