"""Rows chosen before features are built: every row a fit would keep is built, evaluation and
holdout rows are built whole, and the kept rows weigh for the full table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import config_from_dict
from leadscore.training.backtest import learning_rows
from leadscore.training.folds import Fold, Plan, fit_holdout
from leadscore.training.grid import table_cadence, time_plan
from leadscore.training.sampling import SHARE, draws, fit_rows, row_shares, sampled, thin

CFG = config_from_dict({"model": {"max_negatives_per_positive": 5, "min_negatives_kept": 100}})


def snapshots(n_leads: int, months: int, rate: float, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=months, freq="MS", tz="UTC")
    keys = pd.DataFrame(
        {
            "lead_id": pd.Series([f"L{i}" for i in range(n_leads)] * months, dtype="string"),
            "as_of": np.repeat(dates, n_leads),
        }
    )
    return keys, (rng.random(len(keys)) < rate).astype("float64")


def test_draws_follow_the_row_not_its_types_or_order():
    keys = pd.DataFrame(
        {"lead_id": ["a", "b"], "as_of": pd.to_datetime(["2025-01-01", "2025-02-01"], utc=True)}
    )
    other = keys.iloc[::-1].astype({"lead_id": "string", "as_of": "datetime64[us, UTC]"})
    assert draws(keys, 7).tolist() == draws(other, 7)[::-1].tolist()
    assert draws(keys, 7).tolist() != draws(keys, 8).tolist()


def test_a_row_kept_under_a_smaller_share_weighs_by_it():
    # Four non-converted rows, two sampled before the build at a quarter: they stand for 8.
    table = pd.DataFrame(
        {
            "lead_id": ["p", "a", "b", "c", "d"],
            "as_of": pd.Timestamp("2025-01-01", tz="UTC"),
            SHARE: [1.0, 1.0, 1.0, 0.25, 0.25],
        }
    )
    y = np.array([1.0, 0, 0, 0, 0])
    rows, weight = thin(table, y, np.ones(5, bool), keep=None, seed=0)
    assert rows.all() and weight.tolist() == [1.0, 1.0, 1.0, 4.0, 4.0]
    # A fit keeping 5 of the 10 it stands for: share 0.5, the sampled rows keep their 4.
    rows, weight = thin(table, y, np.ones(5, bool), keep=5, seed=0)
    assert weight.tolist() == [1.0, 2.0, 2.0, 4.0, 4.0]
    u = draws(table, 0)
    assert rows.tolist() == [True, *(u[1:] < 0.5)]


def test_shares_keep_conversions_tested_and_held_out_rows_whole():
    keys, y = snapshots(400, 6, 0.02, seed=1)
    dates = keys["as_of"].to_numpy()
    last = dates == dates.max()
    early = dates < np.sort(np.unique(dates))[-2]
    plan = Plan([Fold(1, early, last, "last", "early")], np.ones(len(y), bool), "all", "", True)
    shares = row_shares(keys, y, plan, CFG)
    hold = fit_holdout(keys["lead_id"], y, early, CFG.model.seed)
    assert (shares[(y == 1) | last | hold] == 1.0).all()
    # The rest: the largest share a fit learning from them keeps (5 per conversion, >= 100).
    learn, deploy = fit_rows(plan, keys["lead_id"], y, CFG.model.seed)
    share_fold = max(5 * y[learn].sum(), 100) / (learn & (y == 0)).sum()
    share_all = max(5 * y.sum(), 100) / (y == 0).sum()
    rest = (y == 0) & ~last & ~hold
    assert np.allclose(shares[rest & learn], max(share_fold, share_all))
    assert np.allclose(shares[rest & ~learn], share_all)
    assert 0 < shares.min() < 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_row_a_fit_keeps_is_built_and_the_weights_stand_for_the_full_table(seed):
    keys, y = snapshots(2000, 24, 0.01, seed)
    cfg = config_from_dict(
        {
            "training": {"horizon_days": 30, "cadence": "monthly"},
            "model": {"max_negatives_per_positive": 5, "min_negatives_kept": 500},
        }
    )
    plan = time_plan(keys["as_of"], y, cfg)
    share = sampled(keys, y, plan, cfg)
    built = share > 0
    assert built.sum() < 0.5 * len(y)  # the point: far fewer rows to build
    sample = keys[built].reset_index(drop=True).assign(**{SHARE: share[built]})
    ys = y[built]
    for full_rows, rows in zip(
        fit_rows(plan, keys["lead_id"], y, cfg.model.seed),
        fit_rows(time_plan(sample["as_of"], ys, cfg), sample["lead_id"], ys, cfg.model.seed),
        strict=True,
    ):
        kept_full, _ = learning_rows(keys, y, full_rows, cfg)
        assert not (kept_full & ~built).any()  # nothing a fit keeps was left unbuilt
        kept, weight = learning_rows(sample, ys, rows, cfg)
        negatives = (full_rows & (y == 0)).sum()
        assert weight[ys[kept] == 0].sum() == pytest.approx(negatives, rel=0.1)
        assert ys[kept].sum() == y[full_rows].sum()
    again = sampled(keys.iloc[::-1].reset_index(drop=True), y[::-1], plan_rev(keys, y, cfg), cfg)
    assert again[::-1].tolist() == share.tolist()  # seeded: the same rows in any order


def plan_rev(keys: pd.DataFrame, y: np.ndarray, cfg) -> Plan:
    return time_plan(keys["as_of"].iloc[::-1].reset_index(drop=True), y[::-1], cfg)


@pytest.fixture(scope="module")
def both_tables():
    """A generated world's training table built whole and built from a sample."""
    from leadscore.data.synthetic.world import generate_world
    from leadscore.data.validate import require_valid, validate_tables
    from leadscore.training.dataset import training_table

    tables = require_valid(validate_tables(generate_world(3000, seed=11)))
    thinning = {"model": {"max_negatives_per_positive": 5, "min_negatives_kept": 2000}}
    cfg = config_from_dict(thinning)
    off = config_from_dict(thinning | {"training": {"sample_before_build": False}})
    return cfg, training_table(tables, cfg), training_table(tables, off)


@pytest.mark.slow
def test_sampled_rows_are_the_full_tables_rows(both_tables):
    _, sampled_tt, full_tt = both_tables
    s, f = sampled_tt.frame, full_tt.frame
    assert SHARE in s and SHARE not in f and len(s) < 0.6 * len(f)
    assert sampled_tt.labelled == full_tt.labelled == len(f)
    at = pd.MultiIndex.from_frame(f[["lead_id", "as_of"]]).get_indexer(
        pd.MultiIndex.from_frame(s[["lead_id", "as_of"]])
    )
    assert (at >= 0).all()
    same = f.iloc[at].reset_index(drop=True)
    pd.testing.assert_frame_equal(s.drop(columns=SHARE), same, check_dtype=True)
    assert s["label"].sum() == f["label"].sum()


@pytest.mark.slow
def test_a_sampled_table_scores_as_the_full_one_within_its_intervals(both_tables):
    from leadscore.training.fit import train_on_table

    cfg, sampled_tt, full_tt = both_tables
    results = []
    for tt in (sampled_tt, full_tt, sampled_tt):
        timed = table_cadence(cfg, tt.frame["as_of"])
        plan = time_plan(tt.frame["as_of"], tt.frame["label"].to_numpy(), timed)
        result = train_on_table(tt.frame, tt.spec, plan, timed)
        results.append(result.evaluation.comparison.set_index("metric").loc["roc_auc"])
    sampled_auc, full_auc, again = results
    assert full_auc["model_low"] <= sampled_auc["model"] <= full_auc["model_high"]
    assert sampled_auc.equals(again)  # the same data, config and seed: the same figures
