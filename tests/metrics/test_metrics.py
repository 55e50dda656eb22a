"""Evaluation metrics, comparison tables and plots: hand-worked values on tiny arrays."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from leadscore import metrics as ev
from leadscore.metrics import (
    band_table,
    bootstrap,
    bootstrap_intervals,
    capacity_table,
    compare,
    expected_calibration_error,
    lift_capture,
    point_metrics,
    reliability_table,
    tier_table,
    weighted,
)


def calibrated(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """y ~ Bernoulli(p): perfectly calibrated by construction."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.01, 0.5, n)
    return (rng.random(n) < p).astype(int), p


# --- point metrics ------------------------------------------------------------------------


def test_auc_perfect_and_random():
    y, _ = calibrated(20_000)
    perfect = point_metrics(y, np.where(y == 1, 0.9, 0.1))
    assert perfect["roc_auc"] == 1.0
    assert perfect["pr_auc"] == 1.0
    noise = np.random.default_rng(7).random(y.size)
    assert point_metrics(y, noise)["roc_auc"] == pytest.approx(0.5, abs=0.02)


def test_point_metrics_keys_and_counts():
    y = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 0])
    p = np.linspace(0.9, 0.05, 10)
    m = point_metrics(y, p)
    assert list(m) == [
        "roc_auc",
        "pr_auc",
        "log_loss",
        "brier",
        "ece",
        "lift_at_10",
        "capture_at_10",
        "lift_at_20",
        "capture_at_20",
        "positives",
        "rows",
        "base_rate",
    ]
    assert (m["positives"], m["rows"], m["base_rate"]) == (3, 10, 0.3)
    assert m["brier"] == pytest.approx(np.mean((p - y) ** 2))
    # positives at ranks 1, 3, 6 of 10: 7 + 6 + 4 = 17 of 21 pairs ordered correctly
    assert m["roc_auc"] == pytest.approx(17 / 21)
    assert m["pr_auc"] == pytest.approx((1 / 1 + 2 / 3 + 3 / 6) / 3)


def test_log_loss_clips_and_one_class_gives_nan():
    m = point_metrics([1, 0], [0.0, 0.0])  # a confident miss is finite: p clipped to 1e-6
    assert m["log_loss"] == pytest.approx(-(math.log(1e-6) + math.log(1 - 1e-6)) / 2)
    one = point_metrics([0, 0, 0], [0.1, 0.2, 0.3])
    assert math.isnan(one["roc_auc"]) and math.isnan(one["pr_auc"])
    assert math.isnan(one["lift_at_10"]) and one["brier"] == pytest.approx((0.01 + 0.04 + 0.09) / 3)


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="0/1"):
        point_metrics([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="rows"):
        point_metrics([0, 1], [0.1])
    with pytest.raises(ValueError, match="probabilities"):
        point_metrics([0, 1], [0.1, 1.2])
    with pytest.raises(ValueError, match="missing"):
        point_metrics([0, 1], [0.1, np.nan])


# --- calibration --------------------------------------------------------------------------


def test_ece_hand_worked():
    # two equal-count bins: {0.1, 0.2} -> |0 - 0.15|, {0.7, 0.8} -> |1 - 0.75|
    assert expected_calibration_error([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.8], n_bins=2) == (
        pytest.approx(0.5 * 0.15 + 0.5 * 0.25)
    )
    # tied predictions share one bin: |0.75 - 0.5|
    assert expected_calibration_error([0, 1, 1, 1], [0.5] * 4, n_bins=2) == pytest.approx(0.25)
    # uniform bins [0, .1), [.1, .2), ..., [.9, 1]
    ece = expected_calibration_error([0, 0, 1, 1], [0.05, 0.15, 0.95, 1.0], strategy="uniform")
    assert ece == pytest.approx(0.25 * 0.05 + 0.25 * 0.15 + 0.5 * 0.025)


def test_ece_equal_count_bins_split_evenly():
    y = np.arange(100) % 2
    p = np.linspace(0.01, 0.99, 100)
    t = reliability_table(y, p, n_bins=10)
    assert t["rows"].tolist() == [10] * 10


def test_ece_small_when_calibrated_large_when_halved():
    y, p = calibrated(200_000)
    assert expected_calibration_error(y, p) < 0.01
    assert expected_calibration_error(y, p * 0.5) > 0.1


def test_reliability_table_agrees_with_ece():
    y, p = calibrated(5_000, seed=3)
    p = np.round(p, 2)  # ties, as after isotonic calibration
    t = reliability_table(y, p, n_bins=10)
    assert t["rows"].sum() == y.size
    assert (t["mean_predicted"].diff().dropna() > 0).all()
    share = t["rows"] / y.size
    expected = (share * (t["observed_rate"] - t["mean_predicted"]).abs()).sum()
    assert expected_calibration_error(y, p) == pytest.approx(expected)


# --- lift and capture ---------------------------------------------------------------------

Y10 = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 0])
P10 = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])


@pytest.mark.parametrize(
    ("top", "lift", "capture"),
    [
        (0.1, (1 / 1) / 0.3, 1 / 3),  # top 1 row: 1 conversion
        (0.2, (1 / 2) / 0.3, 1 / 3),  # top 2 rows: 1
        (0.3, (2 / 3) / 0.3, 2 / 3),  # top 3 rows (not 4: 0.3 * 10 is not rounded up)
        (0.5, (2 / 5) / 0.3, 2 / 3),
        (0.25, (2 / 3) / 0.3, 2 / 3),  # ceil(2.5) = 3 rows
        (1.0, 1.0, 1.0),
    ],
)
def test_lift_capture_hand_worked(top, lift, capture):
    assert lift_capture(Y10, P10, top) == (pytest.approx(lift), pytest.approx(capture))


def test_lift_capture_ties_broken_by_row_order():
    y = np.array([0, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    flat = np.full(10, 0.5)
    assert lift_capture(y, flat, 0.1) == (0.0, 0.0)  # row 0 comes first
    assert lift_capture(y[::-1], flat, 0.2) == (0.0, 0.0)  # rows 0, 1 of the reversed array
    assert lift_capture(y, flat, 0.2) == (pytest.approx(2.5), pytest.approx(0.5))


# --- bootstrap ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighted_metrics_equal_sklearn_on_the_resample(seed):
    rng = np.random.default_rng(seed)
    n = 300
    p = np.round(rng.random(n), 1 + seed % 2)  # many ties
    y = (rng.random(n) < p).astype(int)
    idx = np.sort(rng.integers(0, n, n))  # the resample, rows kept in original order
    counts = np.bincount(idx, minlength=n).astype(float)
    s = weighted._prepare(y, p, 10)
    got = weighted._weighted_metrics(s, counts[s.order])
    want = point_metrics(y[idx], p[idx])
    assert set(got) == set(ev.BOOTSTRAP_METRICS)
    for m in got:
        assert got[m] == pytest.approx(want[m], rel=1e-9, abs=1e-12), m
    assert got["roc_auc"] == pytest.approx(roc_auc_score(y[idx], p[idx]))
    assert got["pr_auc"] == pytest.approx(average_precision_score(y[idx], p[idx]))


def test_bootstrap_deterministic_and_sensible():
    y, p = calibrated(4_000, seed=5)
    a = bootstrap_intervals(y, p, n_boot=50, seed=11)
    assert a == bootstrap_intervals(y, p, n_boot=50, seed=11)
    assert a != bootstrap_intervals(y, p, n_boot=50, seed=12)
    assert list(a) == ["roc_auc", "pr_auc", "brier", "log_loss", "ece", "lift_at_10"]
    point = point_metrics(y, p)
    for m, (low, high) in a.items():
        assert low < high
        assert low <= point[m] <= high, m


def test_each_resample_is_the_seeds_next_draw_whatever_thread_reads_it():
    y, p = calibrated(2_000, seed=3)
    q = np.clip(p + 0.05, 0, 1)
    draws = bootstrap._bootstrap_draws(y, [p, q], n_boot=9, seed=4)
    rng = np.random.default_rng(4)
    for b in range(9):
        counts = np.bincount(rng.integers(0, y.size, size=y.size), minlength=y.size)
        idx = np.repeat(np.arange(y.size), counts)
        for score, d in zip((p, q), draws, strict=True):
            want = point_metrics(y[idx], score[idx])
            assert d["roc_auc"][b] == pytest.approx(want["roc_auc"], rel=1e-12)
            assert d["log_loss"][b] == pytest.approx(want["log_loss"], rel=1e-9)


def test_bootstrap_rejects_unknown_metric():
    with pytest.raises(ValueError, match="unknown metric"):
        bootstrap_intervals([0, 1], [0.2, 0.8], metrics=("accuracy",))


# --- compare ------------------------------------------------------------------------------


def test_compare_marks_better_side_and_difference_interval():
    y, p = calibrated(5_000, seed=9)
    noisy = np.clip(p + np.random.default_rng(1).normal(0, 0.25, p.size), 0, 1)
    t = compare(y, p, noisy, n_boot=60, seed=0)
    assert list(t.columns) == [
        "metric",
        "model",
        "model_low",
        "model_high",
        "baseline",
        "baseline_low",
        "baseline_high",
        "difference",
        "difference_low",
        "difference_high",
        "better",
    ]
    assert t["metric"].tolist() == list(ev.COMPARE_METRICS)
    assert (t["better"] == "model").all()
    assert np.allclose(t["difference"], t["model"] - t["baseline"])
    assert (t["difference_low"] <= t["difference"]).all()
    assert (t["difference"] <= t["difference_high"]).all()
    by = t.set_index("metric")
    assert by.loc["roc_auc", "difference_low"] > 0  # clearly better, not noise
    assert by.loc["brier", "difference_high"] < 0  # lower is better for Brier

    swapped = compare(y, noisy, p, n_boot=60, seed=0)
    assert (swapped["better"] == "baseline").all()
    assert np.allclose(swapped["difference"], -t["difference"])


def test_compare_same_scores_is_a_tie_with_zero_width_interval():
    y, p = calibrated(1_000, seed=2)
    t = compare(y, p, p, n_boot=20, seed=0)
    assert (t["better"] == "tie").all()
    assert (t["difference_low"] == 0).all() and (t["difference_high"] == 0).all()


# --- tables -------------------------------------------------------------------------------


def test_band_table_hand_worked():
    score = [0, 5, 10, 15, 99.9, 100, 50, 55]
    y = [0, 1, 1, 0, 1, 1, 0, 1]
    t = band_table(y, score)
    assert t["band"].tolist() == [f"{lo}-{lo + 10}" for lo in range(0, 100, 10)]
    by = t.set_index("band")
    assert by.loc["0-10", ["leads", "conversions"]].tolist() == [2, 1]
    assert by.loc["10-20", ["leads", "conversions"]].tolist() == [2, 1]
    assert by.loc["50-60", ["leads", "conversions"]].tolist() == [2, 1]
    assert by.loc["90-100", ["leads", "conversions"]].tolist() == [2, 2]  # 100 is in
    assert by.loc["90-100", "conversion_rate"] == 1.0
    assert by.loc["90-100", "share_of_conversions"] == pytest.approx(2 / 5)
    assert by.loc["30-40", "leads"] == 0 and math.isnan(by.loc["30-40", "conversion_rate"])


def test_band_table_counts_add_up():
    rng = np.random.default_rng(4)
    score = rng.uniform(0, 100, 3_000)
    y = (rng.random(3_000) < score / 150).astype(int)
    t = band_table(y, score)
    assert t["leads"].sum() == 3_000
    assert t["conversions"].sum() == y.sum()
    assert t["share_of_conversions"].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="must lie"):
        band_table([0], [101])


def test_tier_table():
    y = [1, 0, 1, 0, 0, 1]
    tier = pd.Series(["A", "B", "A", "C", None, "B"])
    t = tier_table(y, tier)
    assert t["tier"].tolist() == ["A", "B", "C", "(missing)"]
    assert t["leads"].tolist() == [2, 2, 1, 1]
    assert t["conversions"].tolist() == [2, 1, 0, 0]
    assert t["conversion_rate"].tolist() == [1.0, 0.5, 0.0, 0.0]

    ordered = pd.Series(pd.Categorical(["MQL", "SQL", "nurture", "SQL"], ["SQL", "MQL", "nurture"]))
    t = tier_table([1, 1, 0, 0], ordered)
    assert t["tier"].tolist() == ["SQL", "MQL", "nurture"]
    assert t["conversion_rate"].tolist() == [0.5, 1.0, 0.0]


def capacity_inputs():
    # period A: rows 0-4, period B: rows 5-9
    period = pd.Series(pd.to_datetime(["2024-01-01"] * 5 + ["2024-02-01"] * 5))
    y = np.array([1, 0, 1, 0, 0, 0, 1, 0, 0, 1])
    model = np.array([0.9, 0.8, 0.7, 0.2, 0.1, 0.3, 0.9, 0.1, 0.2, 0.8])
    baseline = np.array([0.1, 0.9, 0.2, 0.8, 0.7, 0.9, 0.1, 0.8, 0.7, 0.2])
    return y, model, baseline, period


def test_capacity_table_hand_worked():
    # Model order   A: rows 0(y1) 1 2(y1) 3 4          B: rows 6(y1) 9(y1) 5 8 7
    # Baseline order A: rows 1 3 4 2(y1) 0(y1)         B: rows 5 7 8 9(y1) 6(y1)
    y, model, baseline, period = capacity_inputs()
    t = capacity_table(y, model, baseline, period, capacities=(1, 2, 3, 4, 5, 10))
    assert t["capacity"].tolist() == [1, 2, 3, 4, 5, 10]
    assert (t["periods"] == 2).all()
    assert t["model_conversions"].tolist() == [2, 3, 4, 4, 4, 4]
    assert t["baseline_conversions"].tolist() == [0, 0, 0, 2, 4, 4]
    assert t["best_possible"].tolist() == [2, 4, 4, 4, 4, 4]
    assert t["model_share_of_best"].tolist() == [1.0, 0.75, 1.0, 1.0, 1.0, 1.0]
    assert t["baseline_share_of_best"].tolist() == [0.0, 0.0, 0.0, 0.5, 1.0, 1.0]
    assert t["extra_conversions"].tolist() == [2, 3, 4, 2, 0, 0]

    perm = np.random.default_rng(0).permutation(10)  # row order must not matter
    shuffled = capacity_table(
        y[perm], model[perm], baseline[perm], period.iloc[perm], capacities=(1, 2, 3, 4, 5, 10)
    )
    pd.testing.assert_frame_equal(shuffled, t)


def test_capacity_table_ties_broken_by_row_order():
    period = pd.Series(["m1"] * 3 + ["m2"] * 3)
    y = [0, 1, 1, 1, 0, 0]
    flat = np.zeros(6)
    t = capacity_table(y, flat, flat[::-1].copy(), period, capacities=(1, 2))
    assert t["model_conversions"].tolist() == [1, 2]  # m1: row 0 then 1; m2: row 3 first
    assert t["best_possible"].tolist() == [2, 3]


# --- plots --------------------------------------------------------------------------------


def test_plots_return_figures_and_save_png(tmp_path):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from leadscore import charts

    y, p = calibrated(2_000, seed=8)
    baseline = np.clip(p + np.random.default_rng(2).normal(0, 0.1, p.size), 0, 1)
    importance = pd.DataFrame({"feature": [f"f{i}" for i in range(30)], "importance": range(30)})
    figures = {
        "reliability": charts.reliability_plot(
            {"model": reliability_table(y, p), "baseline": reliability_table(y, baseline)},
            {"model": p, "baseline": baseline},
        ),
        "lift": charts.lift_plot(y, {"model": p, "baseline": baseline}),
        "importance": charts.importance_plot(importance, top=5),
        "bands": charts.band_plot(band_table(y, baseline * 100)),
    }
    for name, fig in figures.items():
        assert isinstance(fig, Figure)
        assert all(ax.get_title() or ax.get_xlabel() for ax in fig.axes), name
        out = charts.save_png(fig, tmp_path / "charts" / f"{name}.png")
        data = out.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 1_000
        assert not plt.fignum_exists(fig.number)
    assert sorted(f.name for f in (tmp_path / "charts").iterdir()) == [
        "bands.png",
        "importance.png",
        "lift.png",
        "reliability.png",
    ]  # no temp files left behind
    bars = figures["importance"].axes[0].get_yticklabels()
    assert [t.get_text() for t in bars] == ["f25", "f26", "f27", "f28", "f29"]


def test_rank_band_table_hand_worked_ties_never_split():
    from leadscore.metrics import rank_band_table

    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0.0])
    score = np.array([9, 9, 8, 7, 6, 5, 4, 3, 2, 1.0])
    t = rank_band_table(y, score, (0.2, 0.5, 1.0))
    assert list(t["band"]) == ["top 20%", "top 20-50%", "top 50-100%"]
    assert list(t["leads"]) == [2, 3, 5] and list(t["conversions"]) == [1, 1, 0]
    assert list(t["score_low"]) == [9, 6, 1] and list(t["score_high"]) == [9, 8, 5]
    # Clopper-Pearson: 0 of 5 gives [0, 1 - 0.025 ** (1/5)].
    assert t["rate_low"].iloc[2] == 0 and t["rate_high"].iloc[2] == pytest.approx(1 - 0.025**0.2)
    # A tie at the cut stays in one band: 4 leads at the top score fill "top 20%" whole.
    tied = rank_band_table(np.zeros(10), np.array([5, 5, 5, 5, 1, 1, 1, 1, 1, 1.0]), (0.2, 1.0))
    assert list(tied["leads"]) == [4, 6] and list(tied["band"]) == ["top 40%", "top 40-100%"]


def test_leads_equal_compare_pair_by_pair_from_one_set_of_resamples():
    rng = np.random.default_rng(11)
    y = (rng.random(600) < 0.2).astype(int)
    best = np.clip(0.2 + 0.4 * (y - 0.2) + rng.normal(0, 0.2, 600), 0.01, 0.99)
    others = {"noise": rng.random(600), "close": np.clip(best + rng.normal(0, 0.1, 600), 0, 1)}
    out = ev.leads(y, best, others, "roc_auc", n_boot=50, seed=3)
    for name, p in others.items():
        c = ev.compare(y, best, p, n_boot=50, seed=3).set_index("metric").loc["roc_auc"]
        assert out[name] == pytest.approx(
            (c["difference"], c["difference_low"], c["difference_high"]), rel=1e-12
        )
    assert out["noise"][1] > 0  # clearly ahead of noise
