"""The review's tournament table: names, figures and the winner's lead with its interval."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.reporting.tournament import tournament_part
from leadscore.reporting.wording import plain


def board() -> pd.DataFrame:
    nan = np.nan
    return pd.DataFrame(
        {
            "contestant": ["logistic", "lightgbm", "points sheet"],
            "role": ["kind", "kind", "points"],
            "winner": [True, False, False],
            "roc_auc_latest": [0.81, 0.79, 0.70],
            "roc_auc_all": [0.8, 0.8, 0.7],
            "predicted_latest": [0.05, 0.04, 0.06],
            "realised_latest": [0.05] * 3,
            "lead": [nan, 0.02, 0.11],
            "lead_low": [nan, -0.01, 0.08],
            "lead_high": [nan, 0.05, 0.14],
            "rows_latest": [1200] * 3,
            "conversions_latest": [60] * 3,
            "metric": ["roc_auc"] * 3,
            "judged_folds": ["3,4"] * 3,
        }
    )


def test_the_part_names_the_best_kind_and_shows_each_lead_with_its_interval():
    part = tournament_part(board())
    assert plain(part.key) == (
        "2 kinds of model learned from the same rows and were judged on the 2 latest "
        "folds (1,200 leads, 60 conversions): Logistic regression ranked best, with ranking "
        "quality (AUC) 0.810."
    )
    cells = [[c.text for _, c in row] for row in part.table.body]
    assert cells[0] == ["Logistic regression", "0.810", "0.800", "5.00%", "best"]
    assert cells[1][0] == "Gradient-boosted trees (LightGBM)" and cells[1][4] == "+0.020"
    assert part.table.body[1][4][1].detail == "-0.010 to +0.050"


def test_a_run_without_a_tournament_has_no_part():
    assert tournament_part(None) is None
    assert tournament_part(board().drop(columns="metric")) is None


def test_one_kind_on_one_fold_reads_in_the_singular():
    one = board().iloc[[0, 2]].assign(judged_folds="4")
    assert plain(tournament_part(one).key) == (
        "One kind of model was trained and judged on the latest fold (1,200 leads, "
        "60 conversions): Logistic regression, with ranking quality (AUC) 0.810."
    )
