"""A saved scorer carries its SHAP leaf tables, and never uses tables of other trees."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.config import config_from_dict
from leadscore.features.flat import fit_flat_spec
from leadscore.model.scorer import CUTS_FILE, LeadScorer


def fitted(seed: int) -> tuple[LeadScorer, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.poisson(2, 3000).astype(float)})
    y = (X["a"] + 0.5 * X["b"] + rng.logistic(size=3000) > 1.5).astype(float).to_numpy()
    spec = fit_flat_spec(X, ["a", "b"], max_categories=config_from_dict({}).flat.max_categories)
    scorer = LeadScorer(spec).fit_rounds(X, y, 20)
    scorer.calibrate(X, y, np.zeros(len(y)))
    return scorer, X


def test_saved_leaf_tables_are_loaded_and_give_the_same_reasons(tmp_path):
    scorer, X = fitted(0)
    scorer.save(tmp_path / "m")
    assert (tmp_path / "m" / CUTS_FILE).exists()
    back = LeadScorer.load(tmp_path / "m")
    assert back.tree_cuts(leaves=True).leaves  # from the file, not rebuilt
    assert back._cuts[0] is back.booster_
    pd.testing.assert_frame_equal(back.contributions(X), scorer.contributions(X))


def test_leaf_tables_of_other_trees_are_ignored(tmp_path):
    one, X = fitted(0)
    other, _ = fitted(1)
    one.save(tmp_path / "one")
    other.save(tmp_path / "other")
    (tmp_path / "one" / CUTS_FILE).write_bytes((tmp_path / "other" / CUTS_FILE).read_bytes())
    back = LeadScorer.load(tmp_path / "one")
    assert getattr(back, "_cuts", None) is None  # rebuilt from its own trees when needed
    pd.testing.assert_frame_equal(back.contributions(X), one.contributions(X))
    (tmp_path / "one" / CUTS_FILE).write_bytes(b"not a joblib file")
    pd.testing.assert_frame_equal(
        LeadScorer.load(tmp_path / "one").contributions(X), one.contributions(X)
    )
