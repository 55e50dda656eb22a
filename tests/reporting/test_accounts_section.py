"""The report's accounts section from an accounts file."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.errors import DataError
from leadscore.reporting.accounts import accounts_section, read_accounts
from leadscore.reporting.wording import plain
from leadscore.scoring.accounts import roll_up


def _accounts() -> pd.DataFrame:
    scores = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(6)],
            "probability": [0.5, 0.2, 0.6, 0.1, 0.1, 0.3],
            "score": [50.0, 20.0, 60.0, 10.0, 10.0, 5.0],
            "tier": ["A", "B", "A", "C", "C", "C"],
            "top_reasons": ["+ seniority: director"] * 6,
        }
    )
    return roll_up(scores, pd.Series(["Acme", "Acme", "Bolt", "Core", "Core", "Dyn"])).accounts


def test_the_section_states_counts_the_table_shows(tmp_path):
    path = tmp_path / "accounts.csv"
    _accounts().to_csv(path, index=False)
    section = accounts_section(read_accounts(path))
    assert "independently" in section.intro
    assert plain(section.key) == (
        "6 open leads sit in 4 accounts; 2 accounts (50.0%) have two or more. The 4 below are "
        "expected to bring 1.8 of the 1.8 conversions expected across all accounts."
    )
    assert len(section.table.body) == 4
    first = section.table.body[0]
    assert [c.text for _, c in first[:4]] == ["Acme", "2", "60.0%", "0.70"]


def test_a_bad_accounts_file_is_one_line(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("account,open_leads\nAcme,2\n")
    with pytest.raises(DataError, match=r"accounts file .*missing column\(s\) p_any_converts"):
        read_accounts(path)


def test_the_funnel_section_reads_the_logged_table():
    from leadscore.reporting.funnel import funnel_section
    from leadscore.training.funnel import funnel_table

    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    stages = pd.DataFrame(
        {
            "lead_id": ["a", "a", "b"],
            "stage": ["lead", "mql", "lead"],
            "entered_at": [t0, t0 + pd.Timedelta(days=3), t0],
        }
    )
    outcomes = pd.DataFrame(
        {"lead_id": ["a"], "closed_at": [t0 + pd.Timedelta(days=9)], "won": [True]}
    )
    section = funnel_section(funnel_table(stages, outcomes, ("lead", "mql")), "becomes a won deal")
    cells = [[c.text for _, c in row] for row in section.table.body]
    assert cells == [
        ["lead", "2", "1 (50.0%)", "3 days", "1 (50.0%)"],
        ["MQL", "1", "–", "–", "1 (100.0%)"],  # named as the reasons name it
    ]
    assert plain(section.key) == (
        "Of the leads that entered the first stage (lead), 50.0% went on to become a won deal; "
        "of those that entered the last one (MQL), 100.0%."
    )
    assert funnel_section(None, "won") is None
