"""``leadscore handoff`` end to end on tiny files: the CRM-import CSV, the summary, the
hand-off log that keeps a lead from being handed off twice in a week, and its errors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.cli import main
from leadscore.scoring.history import record


def night(path, day: str, ids="abcdef"):
    p = np.linspace(0.6, 0.1, len(ids))
    pd.DataFrame(
        {
            "lead_id": list(ids),
            "as_of": pd.Timestamp(day, tz="UTC"),
            "probability": p,
            "score": np.round(p * 100, 1),
            "tier": ["A"] * (len(ids) - 1) + ["B"],
            "fit_grade": "B",
            "top_reasons": [f"+ viewed the pricing page {i} times" for i in range(len(ids))],
            "model_version": "leadscore/1",
        }
    ).to_parquet(path, index=False)
    return path


def handed(path) -> list[str]:
    return list(pd.read_csv(path, dtype=str)["lead_id"])


def test_the_log_keeps_a_lead_from_a_second_hand_off_within_the_period(tmp_path, capsys):
    hist = tmp_path / "history"
    first = night(tmp_path / "n1.parquet", "2026-01-05")
    out = tmp_path / "list.csv"
    argv = ["handoff", "--capacity", "2", "--history", str(hist), "--out", str(out)]
    assert main([*argv, "--scores", str(first)]) == 0
    said = capsys.readouterr().out
    assert handed(out) == ["a", "b"]
    assert "in 6 = handed off 2 + below the bar 1 + handed off in the last 7 days 0" in said
    assert "over capacity 3" in said and "left out for lack of capacity: 3 leads" in said
    assert (hist / "handoffs" / "as_of=2026-01-05.parquet").is_file()

    second = night(tmp_path / "n2.parquet", "2026-01-06")
    assert main([*argv, "--scores", str(second)]) == 0
    assert handed(out) == ["c", "d"]
    assert "handed off in the last 7 days 2" in capsys.readouterr().out
    # A rerun of a night replaces its own list: it does not exclude itself.
    assert main([*argv, "--scores", str(second)]) == 0
    assert handed(out) == ["c", "d"]
    assert (
        main(
            [
                *argv,
                "--scores",
                str(second),
                "--recent-days",
                "0",
                "--history",
                str(tmp_path / "h2"),
            ]
        )
        == 0
    )
    assert handed(out) == ["a", "b"]  # no period: the best are handed off again
    # A week on, the first night's leads are due again; the second night's are not.
    later = night(tmp_path / "n3.parquet", "2026-01-12")
    assert main([*argv, "--scores", str(later)]) == 0
    assert handed(out) == ["a", "b"]


def test_a_score_history_is_read_at_its_latest_night_and_logs_there(tmp_path, capsys):
    hist = tmp_path / "history"
    for day in ("2026-01-05", "2026-01-06"):
        record(hist, night(tmp_path / f"{day}.parquet", day), pd.Timestamp(day, tz="UTC"), "v1")
    out = tmp_path / "list.csv"
    assert main(["handoff", "--scores", str(hist), "--capacity", "1", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "night 2026-01-06" in said
    assert (hist / "handoffs" / "as_of=2026-01-06.parquet").is_file()
    row = pd.read_csv(out, dtype=str).iloc[0]
    assert row["lead_id"] == "a" and row["scored_at"] == "2026-01-06"
    assert row["reasons"] == "+ viewed the pricing page 0 times"


def test_owners_route_by_the_leads_country_and_excluded_rows_are_written(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame(
        {"lead_id": list("abcdef"), "country": ["US", "DE", "US", "US", "FR", "US"]}
    ).to_csv(data / "leads.csv", index=False)
    owners = tmp_path / "owners.csv"
    owners.write_text("owner,email,country,capacity\nAna,ana@x.com,US,1\nBo,,US,1\nDi,,DE,5\n")
    scores = night(tmp_path / "n.parquet", "2026-01-05")
    out, left = tmp_path / "list.csv", tmp_path / "left.csv"
    argv = ["handoff", "--scores", str(scores), "--owners", str(owners), "--out", str(out)]
    assert main([*argv, "--data", str(data), "--excluded", str(left)]) == 0
    said = capsys.readouterr().out
    rows = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(zip(rows["lead_id"], rows["owner"], rows["country"], strict=True)) == [
        ("a", "Ana", "US"),
        ("b", "Di", "DE"),
        ("c", "Bo", "US"),
    ]
    assert list(rows["owner_email"]) == ["ana@x.com", "", ""]
    assert "Ana: 1 of 1" in said and "Di: 1 of 5" in said
    why = pd.read_csv(left, dtype=str)
    assert dict(zip(why["lead_id"], why["outcome"], strict=True)) == {
        "d": "over capacity",
        "e": "no owner for its territory",
        "f": "below the bar",
    }
    assert "no --history" in said
    # Routing by country needs the leads table: one line, exit 2, no list written.
    out.unlink()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("leadscore: error: the owners are split by country") and err.count("\n") == 1
    )
    assert not out.exists()


def test_bad_scores_are_one_line_naming_the_column(tmp_path, capsys):
    bad = tmp_path / "s.csv"
    bad.write_text("lead_id,probability,score,tier\na,0.5,50,A\nb,,x,A\n")
    assert (
        main(["handoff", "--scores", str(bad), "--capacity", "1", "--out", str(tmp_path / "o.csv")])
        == 2
    )
    err = capsys.readouterr().err
    assert (
        "scores " in err
        and "column probability has 1 missing or non-numeric value(s) of 2 rows" in err
    )
    assert main(["handoff", "--scores", str(bad), "--out", str(tmp_path / "o.csv")]) == 2
    assert "needs --capacity N, --owners FILE, or both" in capsys.readouterr().err
