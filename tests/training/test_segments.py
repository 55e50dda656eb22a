"""Segment models: a segment keeps its own model only where it wins on its own out-of-time
rows beyond chance; the run's figures are then the served model's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import config_from_dict
from leadscore.errors import ConfigError
from leadscore.features.spec import FeatureSpec
from leadscore.model.segmented import SegmentedScorer
from leadscore.model.tiers import night_tiers
from leadscore.training.fit import train_on_table
from leadscore.training.folds import Fold, Plan, row_folds
from leadscore.training.segments import segment_lines, segment_names, segment_plan


def table(n: int, seed: int, emea_differs: bool) -> pd.DataFrame:
    """Leads in time order; EMEA converts on ``b`` (when ``emea_differs``), the rest on ``a``
    (``region``'s levels are ``region_spec``'s)."""
    rng = np.random.default_rng(seed)
    region = rng.choice(["amer", "emea"], n, p=[0.55, 0.45])
    a, b = rng.normal(size=n), rng.normal(size=n)
    signal = np.where((region == "emea") & emea_differs, b, a)
    y = (rng.random(n) < 1 / (1 + np.exp(1.0 - 2.5 * signal))).astype(float)
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "region": pd.Categorical(region, categories=["amer", "emea", "other", "missing"]),
            "a": a.astype("float32"),
            "b": b.astype("float32"),
            "label": y,
        }
    )


def train(frame: pd.DataFrame, spec: FeatureSpec, **segments):
    cfg = config_from_dict(
        {
            "model": {"kind": "auto", "contestants": ["logistic", "naive_bayes"]},
            "segments": {"column": "region", "min_conversions": 50, **segments},
        }
    )
    y = frame["label"].to_numpy()
    plan = row_folds(len(frame), y, 3, 0.4, np.arange(len(frame)))
    return train_on_table(frame, spec, plan, cfg)


def test_segment_names_read_values_as_the_features_spell_them():
    values = pd.Series(["emea", "amer", "other", "apac"])
    assert segment_names(values, {}).tolist() == ["emea", "amer", None, "apac"]
    named = segment_names(values, {" EMEA ": "europe", "APAC": "asia"})
    assert named.tolist() == ["europe", None, None, "asia"]


def test_a_segments_plan_keeps_folds_it_can_learn_and_be_judged_in():
    n = 40
    y = np.zeros(n)
    y[:12] = 1
    first = np.arange(n) < 20
    plan = Plan(
        [Fold(1, first, ~first, "late", "early"), Fold(2, ~first, first, "early", "late")],
        np.ones(n, bool),
        "all",
        "two folds",
        True,
    )
    mine = np.arange(n) % 2 == 0  # 6 of the 12 conversions, all in the first half
    sub = segment_plan(plan, mine, y)
    assert [f.number for f in sub.folds] == []  # fold 1 learns 6 (< 10), fold 2 learns none
    y[:20] = 1  # now 10 of the segment's first-half rows convert
    sub = segment_plan(plan, mine, y)
    assert [f.number for f in sub.folds] == [1]
    assert (sub.folds[0].train == (first & mine)).all() and (sub.deploy == mine).all()


def test_a_segment_with_other_signals_keeps_its_own_model_and_the_run_scores_with_it(region_spec):
    frame = table(6000, 7, emea_differs=True)
    result = train(frame, region_spec, names={"EMEA": "europe"})  # amer stays with the pooled model
    seg = result.segments.table.set_index("segment")
    assert seg.index.tolist() == ["europe"] and bool(seg.loc["europe", "kept"])
    # Learned on its own rows, EMEA's model ranks them far better than any pooled line can.
    assert seg.loc["europe", "lead_over_logistic_low"] > 0.05
    assert seg.loc["europe", "lead_over_naive_bayes_low"] > 0
    assert isinstance(result.scorer, SegmentedScorer)
    assert result.scorer.routes == {"emea": "europe"}
    assert list(result.scorer.models) == ["europe"]
    # The run's out-of-time rows are the served model's: EMEA's by its own model.
    rows = result.evaluation.rows
    emea = frame["region"].to_numpy()[rows["row"].to_numpy()] == "emea"
    pooled = result.tournament.backtests[result.tournament.winner].rows
    assert not np.allclose(rows.loc[emea, "p_model"], pooled.loc[emea, "p_model"])
    np.testing.assert_array_equal(rows.loc[~emea, "p_model"], pooled.loc[~emea, "p_model"])
    lines = segment_lines(result.segments, "roc_auc")
    assert lines[0].startswith("  segments by region: 1 found, 1 judged, 1 with a model")
    assert lines[1].startswith("  segment europe (") and "own model" in lines[1]


def test_without_a_segment_effect_the_pooled_model_serves_every_segment(region_spec):
    result = train(table(6000, 8, emea_differs=False), region_spec)
    assert result.segments.table["judged"].all() and not result.segments.table["kept"].any()
    assert not isinstance(result.scorer, SegmentedScorer)


def test_small_segments_are_not_judged_and_names_group_values(region_spec):
    frame = table(1500, 9, emea_differs=True)
    result = train(frame, region_spec, names={"emea": "europe"}, min_conversions=10_000)
    seg = result.segments.table
    assert seg["segment"].tolist() == ["europe"]  # amer is not named: pooled, not a segment
    assert not seg["judged"].any()
    assert seg["why"].iloc[0].startswith("not judged: ")
    assert "segments.min_conversions 10000" in seg["why"].iloc[0]
    conversions = int(seg["conversions"].iloc[0])
    assert segment_lines(result.segments, "roc_auc")[1:] == [
        f"  not judged, served by the pooled model (conversions out of time): europe ({conversions})"
    ]


def test_a_column_that_is_not_a_categorical_feature_leaves_one_pooled_model(region_spec):
    frame = table(1500, 10, emea_differs=False)
    cfg = config_from_dict({"model": {"kind": "logistic"}, "segments": {"column": "a"}})
    y = frame["label"].to_numpy()
    plan = row_folds(len(frame), y, 2, 0.4, np.arange(len(frame)))
    result = train_on_table(frame, region_spec, plan, cfg)
    assert not isinstance(result.scorer, SegmentedScorer)
    assert any("segments: 'a' is not a categorical feature" in n for n in result.notes)


def test_the_config_refuses_a_blank_column():
    with pytest.raises(ConfigError, match="segments.column"):
        config_from_dict({"segments": {"column": " "}})


def test_tiers_cut_per_segment_give_each_model_its_share_of_each_fold(region_spec):
    frame = table(6000, 7, emea_differs=True)
    result = train(frame, region_spec, names={"emea": "europe"}, tiers="segment")
    assert result.scorer.tiers_by == "segment"
    rows = result.evaluation.rows
    mine = frame["region"].to_numpy()[rows["row"].to_numpy()] == "emea"
    top = result.tiers.names()[0]
    share = next(iter(result.tiers.shares.values()))
    segment = np.where(mine, "europe", "")
    want = night_tiers(rows["p_model"], rows["margin"], result.tiers, rows["fold"], segment)
    assert (rows["tier"].to_numpy() == want).all()
    for fold in rows["fold"].unique():
        for group in (mine, ~mine):
            got = rows.loc[group & (rows["fold"] == fold).to_numpy(), "tier"]
            # Leads tied on probability go to one tier together: a few leads either way.
            assert abs((got == top).mean() - share) <= 0.01
    assert set(result.reference.segment_tier_floors) == {"europe", ""}
    assert "tiers are cut within each model's leads" in segment_lines(result.segments, "x")[0]
