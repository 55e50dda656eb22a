"""Calibration that follows drift: the latest rows, the intercept update, unordered rows."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from leadscore.model.calibrator import Calibrator
from leadscore.training.calibrate import (
    calibrate,
    calibrated_ways,
    choose_way,
    latest_rows,
    settle,
    ways_tried,
)


def test_latest_rows_go_back_until_enough_conversions():
    period = np.array([1, 1, 2, 2, 3, 3, 3])
    y = np.array([1, 0, 1, 1, 0, 1, 0])
    # period 3 holds 1 conversion, 3 and 2 hold 3
    assert latest_rows(y, period, positives=1).tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert latest_rows(y, period, positives=2).tolist() == [0, 0, 1, 1, 1, 1, 1]
    assert latest_rows(y, period, positives=3).tolist() == [0, 0, 1, 1, 1, 1, 1]
    # never enough: every row
    assert latest_rows(y, period, positives=9).all()


def test_latest_rows_order_dates_not_positions():
    period = np.array(["2025-03-01", "2025-01-01", "2025-02-01"], dtype="datetime64[ns]")
    assert latest_rows(np.array([1, 1, 1]), period, positives=1).tolist() == [True, False, False]


class Held:
    """The part of a scorer ``calibrate`` uses: a calibrator fitted on what it is given."""

    def calibrate_margins(self, margin, y, period):
        self.seen_ = len(y)
        self.calibrator_ = Calibrator("sigmoid").fit(margin, y)
        return self

    def calibrated(self, margin):
        return self.calibrator_.predict(margin)


def trending(n: int = 20_000, seed: int = 0):
    """Ten periods whose log-odds climb by 0.3 each, the margin ranking within a period."""
    rng = np.random.default_rng(seed)
    period = np.repeat(np.arange(10), n // 10)
    margin = rng.normal(size=n)
    y = (rng.random(n) < expit(-3 + margin + 0.3 * period)).astype(float)
    return margin, y, period


def test_base_rate_moves_the_level_to_the_latest_rows_and_keeps_the_ranking():
    margin, y, period = trending()
    everything = calibrate(Held(), margin, y, period, "all").calibrated(margin)
    held = calibrate(Held(), margin, y, period, "base_rate")
    moved = held.calibrated(margin)
    latest = latest_rows(y, period)
    assert held.seen_ == len(y)  # the mapping's shape reads every row
    assert moved[latest].mean() == pytest.approx(y[latest].mean(), rel=1e-6)
    assert everything[latest].mean() < 0.8 * y[latest].mean()  # all rows lag the trend
    assert np.array_equal(np.argsort(moved, kind="stable"), np.argsort(everything, kind="stable"))


def test_latest_reads_only_the_latest_rows():
    margin, y, period = trending()
    held = calibrate(Held(), margin, y, period, "latest")
    assert held.seen_ == int(latest_rows(y, period).sum()) < len(y)


def test_rows_without_a_time_order_are_all_read_whatever_the_setting():
    margin, y, period = trending()
    for follows in ("latest", "base_rate"):
        held = calibrate(Held(), margin, y, period, follows, in_time=False)
        assert held.seen_ == len(y) and held.calibrator_.shift == 0.0


def test_a_shift_is_saved_with_its_calibrator_and_an_old_one_has_none():
    margin, y, _ = trending()
    c = (
        Calibrator("isotonic")
        .fit(margin, y)
        .shift_to(margin[:500], np.r_[np.ones(100), np.zeros(400)])
    )
    again = pickle.loads(pickle.dumps(c))
    assert again.shift == c.shift != 0
    np.testing.assert_array_equal(again.predict(margin), c.predict(margin))
    del again.shift  # as a calibrator pickled before shifts existed
    np.testing.assert_array_equal(
        again.predict(margin), Calibrator("isotonic").fit(margin, y).predict(margin)
    )


def test_an_unknown_setting_is_refused():
    margin, y, period = trending(1000)
    with pytest.raises(ValueError, match="calibration_follows"):
        calibrate(Held(), margin, y, period, "newest")


def test_auto_tries_every_way_in_time_and_one_otherwise():
    assert ways_tried("auto", True) == ("all", "base_rate", "latest")
    assert ways_tried("auto", False) == ("all",)
    assert ways_tried("latest", True) == ("latest",)


def test_the_way_with_the_lowest_log_loss_is_chosen_and_settled():
    rows = pd.DataFrame(
        {
            "label": [1, 0, 0, 1],
            "p_model": [0.5] * 4,
            "p_baseline": [0.5] * 4,
            "score": [50.0] * 4,
            "p_model_all": [0.5, 0.5, 0.5, 0.5],
            "p_model_base_rate": [0.9, 0.1, 0.1, 0.9],  # the best
            "p_model_latest": [0.1, 0.9, 0.9, 0.1],
            "p_baseline_all": [0.4] * 4,
            "p_baseline_base_rate": [0.6] * 4,
            "p_baseline_latest": [0.2] * 4,
        }
    )
    ways = ("all", "base_rate", "latest")
    way, losses = choose_way(rows, ways)
    assert way == "base_rate"
    assert losses["all"] == pytest.approx(np.log(2))
    assert losses["base_rate"] == pytest.approx(-np.log(0.9))
    settled = settle(rows, way, ways)
    assert list(settled.columns) == ["label", "p_model", "p_baseline", "score"]
    assert settled["p_model"].tolist() == [0.9, 0.1, 0.1, 0.9]
    assert settled["p_baseline"].tolist() == [0.6] * 4
    assert settled["score"].iloc[0] > settled["score"].iloc[1]


def test_ties_go_to_every_row():
    rows = pd.DataFrame({"label": [1, 0], "p_model_all": [0.6, 0.4], "p_model_latest": [0.6, 0.4]})
    assert choose_way(rows, ("all", "latest"))[0] == "all"


def test_each_way_of_calibrated_ways_is_the_way_on_its_own():
    margin, y, period = trending()
    test = np.linspace(-3, 3, 50)
    together = calibrated_ways(Held(), margin, y, period, test, ("all", "base_rate", "latest"))
    for way in ("all", "base_rate", "latest"):
        alone = calibrate(Held(), margin, y, period, way).calibrated(test)
        np.testing.assert_allclose(together[way], alone, rtol=1e-12)


def test_an_ordered_flat_file_whose_rate_climbs_is_followed():
    """Rows in time order, the conversion rate climbing from about 5% to about 40% with
    nothing in the columns to say so: calibrated on all rows the folds predict about half
    of what happens; auto follows the latest rows and lands close."""
    from leadscore.config import config_from_dict
    from leadscore.training.backtest import run_backtest
    from leadscore.training.flat import flat_plan, prepare_flat

    rng = np.random.default_rng(0)
    n = 8000
    raw = pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "x1": rng.normal(size=n),
            "source": rng.choice(["a", "b", "c"], n),
        }
    )
    climb = -3 + 2.5 * np.arange(n) / n + raw["x1"]
    raw["Converted"] = (rng.random(n) < expit(climb)).astype(int)
    miss = {}
    for follows in ("all", "auto"):
        cfg = config_from_dict({"model": {"calibration_follows": follows}})
        data = prepare_flat(raw, cfg, "Converted", None, None)
        bt = run_backtest(
            data.table, data.spec, flat_plan(data.table, cfg, ordered=True), cfg, "logistic"
        )
        by_fold = bt.rows.groupby("fold").agg(p=("p_model", "mean"), y=("label", "mean"))
        miss[follows] = float((by_fold["p"] / by_fold["y"]).sub(1).abs().max())
        if follows == "auto":
            assert bt.follows != "all"
            assert bt.follows_loss[bt.follows] < bt.follows_loss["all"] - 0.05
    assert miss["all"] > 0.4 and miss["auto"] < 0.3
