"""The tournament: the same rows for every contestant, the best on the judged folds wins."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from leadscore.config import config_from_dict
from leadscore.errors import ConfigError
from leadscore.model import kinds
from leadscore.training.backtest import Backtest
from leadscore.training.folds import Fold, Plan
from leadscore.training.tournament import BLEND, POINTS, judge, judged_folds, side_by_side

Y = np.array([1, 0, 0, 1, 0, 0, 1, 0])
FOLD = np.array([1, 1, 1, 1, 2, 2, 2, 2])


def bt(kind: str, p_model: list[float], p_points: list[float] | None = None) -> Backtest:
    rows = pd.DataFrame(
        {
            "row": np.arange(len(Y)),
            "fold": FOLD,
            "label": Y,
            "p_model": p_model,
            "p_baseline": p_points if p_points is not None else [0.5] * len(Y),
        }
    )
    return Backtest(kind, [], rows, plan(True), 0)


# On fold 2 (rows 4-7, one conversion at row 6): PERFECT ranks it first (AUC 1), HALF puts
# it second of four (AUC 2/3), WRONG last (AUC 0).
PERFECT = [0.9, 0.1, 0.1, 0.8, 0.1, 0.2, 0.9, 0.3]
HALF = [0.9, 0.1, 0.1, 0.8, 0.5, 0.1, 0.4, 0.2]
WRONG = [0.1, 0.9, 0.8, 0.1, 0.5, 0.6, 0.1, 0.7]


def run(metric: str = "roc_auc", folds: tuple[int, ...] = (2,), **p_models: list[float]):
    """The tournament of the named kinds (kind=probabilities) on ``folds``."""
    return judge({k: bt(k, p) for k, p in p_models.items()}, metric, list(folds), seed=0)


def test_the_best_on_the_judged_folds_wins_and_each_other_entry_gets_the_winners_lead():
    winner, board = run(lightgbm=HALF, logistic=PERFECT)
    assert winner == "logistic"
    assert board["contestant"].tolist() == ["logistic", "lightgbm", POINTS, BLEND]
    b = board.set_index("contestant")
    assert b.loc["logistic", "roc_auc_latest"] == 1.0
    assert b.loc["lightgbm", "roc_auc_latest"] == pytest.approx(2 / 3)
    assert b.loc["lightgbm", "lead"] == pytest.approx(1 / 3)
    assert b.loc[POINTS, "roc_auc_latest"] == 0.5  # every row tied
    assert np.isnan(b.loc["logistic", "lead"])  # the winner has no lead over itself
    assert (b["rows_latest"] == 4).all() and (b["conversions_latest"] == 1).all()
    # The blend is the two best kinds' mean probability.
    assert b.loc[BLEND, "predicted_latest"] == pytest.approx(
        np.mean((np.array(HALF[4:]) + np.array(PERFECT[4:])) / 2)
    )


def test_a_tie_on_the_judged_folds_goes_to_the_better_figure_over_every_fold_then_order():
    # Both perfect on fold 2; on fold 1 WRONG_EARLY ranks badly, so the other wins.
    wrong_early = [0.1, 0.9, 0.9, 0.1, 0.1, 0.2, 0.9, 0.3]
    winner, _ = run(naive_bayes=wrong_early, lightgbm=PERFECT)
    assert winner == "lightgbm"
    winner, board = run(naive_bayes=PERFECT, lightgbm=PERFECT)
    assert winner == "naive_bayes"  # a full tie: the earlier contestant
    assert board.set_index("contestant").loc["lightgbm", "lead"] == 0.0


def test_lower_is_better_metrics_pick_the_lowest():
    winner, _ = run("log_loss", (1, 2), lightgbm=WRONG, logistic=PERFECT)
    assert winner == "logistic"


def test_one_contestant_has_no_blend():
    winner, board = run(lightgbm=PERFECT)
    assert winner == "lightgbm" and board["contestant"].tolist() == ["lightgbm", POINTS]


def plan(out_of_time: bool) -> Plan:
    n = np.zeros(4, dtype=bool)
    folds = [Fold(k, n, n, f"test {k}", f"train {k}") for k in (1, 2, 3)]
    return Plan(folds, n, "deploy", "how", out_of_time)


def test_the_latest_folds_judge_an_in_time_plan_and_every_fold_an_unordered_one():
    assert judged_folds(plan(True), 2) == [2, 3]
    assert judged_folds(plan(False), 2) == [1, 2, 3]


def test_contestants_come_from_the_config_and_unknown_ones_are_named():
    assert kinds.contestants(config_from_dict({})) == ["lightgbm", "logistic", "naive_bayes"]
    assert kinds.contestants(config_from_dict({"model": {"kind": "logistic"}})) == ["logistic"]
    with pytest.raises(ConfigError, match="model.contestants: unknown kind 'forest'"):
        kinds.contestants(config_from_dict({"model": {"contestants": ["lightgbm", "forest"]}}))


def test_one_core_kinds_run_their_folds_two_at_a_time_and_come_back_in_order():
    assert [kinds.one_core(k) for k in ("lightgbm", "logistic", "naive_bayes")] == [
        False,
        True,
        True,
    ]
    both = threading.Barrier(2, timeout=10)  # broken unless a's two folds run at once
    running, most = [0], [0]
    lock = threading.Lock()

    def fold(name: str) -> str:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        if name in ("a1", "a2"):
            both.wait()
        with lock:
            running[0] -= 1
        return name.upper()

    def backtest(kind: str, map_folds) -> list[str]:
        return list(map_folds(fold, [f"{kind}1", f"{kind}2", f"{kind}3"]))

    assert side_by_side(["a"], backtest) == {"a": ["A1", "A2", "A3"]}
    got = side_by_side(["a", "b", "c"], backtest)
    assert list(got) == ["a", "b", "c"]
    assert got["c"] == ["C1", "C2", "C3"]
    assert most[0] == 2
    assert side_by_side([], backtest) == {}


def test_what_each_contestants_fits_freed_goes_back_before_the_next(monkeypatch):
    from leadscore.training import tournament

    released: list[int] = []
    monkeypatch.setattr(tournament, "release_freed_memory", lambda: released.append(1))
    cfg = config_from_dict({})
    table = pd.DataFrame({"lead_id": [f"L{i}" for i in range(len(Y))], "label": Y})
    known = {k: bt(k, PERFECT) for k in kinds.contestants(cfg)}
    t = tournament.run_tournament(table, None, plan(True), cfg, known)
    assert t.winner == kinds.contestants(cfg)[0]
    assert len(released) == len(known)  # once after each contestant's backtest
