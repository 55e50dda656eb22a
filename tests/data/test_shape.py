"""Reshaping a generated world into another CRM's shape: each axis does what it says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.data.synthetic.shape import EXTRA_TYPES, OTHER_CRM, Shape, reshape, variants
from leadscore.data.synthetic.world import generate_world


@pytest.fixture(scope="module")
def world() -> dict[str, pd.DataFrame]:
    return generate_world(3000, seed=3)


def test_variants_spell_a_type_four_other_ways():
    assert variants("email_click") == ["Email Click", "EMAIL_CLICK", "email-click", " email_click "]


def test_the_default_shape_changes_nothing(world):
    out = reshape(world, Shape())
    for name in ("leads", "outcomes"):
        pd.testing.assert_frame_equal(out[name], world[name])
    assert len(out["events"]) == len(world["events"])
    assert set(out["events"]["event_type"].astype(str)) == set(
        world["events"]["event_type"].astype(str)
    )


def test_each_axis_moves_by_its_share(world):
    out = reshape(world, OTHER_CRM, seed=1)
    ev, n0 = out["events"], len(world["events"])
    assert len(ev) == n0 + round(0.15 * n0)
    types = ev["event_type"].astype(str)
    extra = types.str.strip().str.lower().str.replace(r"[^a-z]+", "_", regex=True)
    assert set(extra[extra.isin(EXTRA_TYPES)]) == set(EXTRA_TYPES[:5])
    spelled = ~types.isin(set(world["events"]["event_type"].astype(str)) | set(EXTRA_TYPES))
    assert spelled.mean() == pytest.approx(0.2, abs=0.01)
    born = out["leads"].set_index("lead_id")["created_at"].reindex(ev["lead_id"]).to_numpy()
    early = (ev["occurred_at"].to_numpy() < born).mean()
    assert early == pytest.approx(0.02, abs=0.005)
    assert len(out["outcomes"]) / len(out["leads"]) == pytest.approx(0.44, abs=0.002)
    # Added closes are lost, after their lead's creation, by the end; generated ones stay.
    added = out["outcomes"][~out["outcomes"]["lead_id"].isin(world["outcomes"]["lead_id"])]
    assert not added["won"].any() and out["outcomes"]["lead_id"].is_unique
    at = out["leads"].set_index("lead_id")["created_at"].reindex(added["lead_id"]).to_numpy()
    assert (added["closed_at"].to_numpy() > at).all()
    assert added["closed_at"].max() <= ev["occurred_at"].max()
    assert ev["occurred_at"].is_monotonic_increasing


def test_same_seed_same_tables_and_input_untouched(world):
    before = world["events"].copy()
    a, b = reshape(world, OTHER_CRM, seed=5), reshape(world, OTHER_CRM, seed=5)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    pd.testing.assert_frame_equal(world["events"], before)
    c = reshape(world, OTHER_CRM, seed=6)
    assert not np.array_equal(
        a["events"]["event_type"].astype(str), c["events"]["event_type"].astype(str)
    )


@pytest.mark.parametrize(
    "bad", [{"extra_types": 9}, {"variant_share": 1.5}, {"closed_share": -0.1}]
)
def test_bad_shapes_are_refused(bad):
    with pytest.raises(ValueError):
        Shape(**bad)


def test_spellings_of_a_type_are_one_type_in_validation_and_features(world):
    from leadscore.data.validate import validate_tables
    from leadscore.features.spec import event_key

    assert event_key(" Email Click ") == event_key("EMAIL-CLICK") == "email_click"
    assert event_key("---") == ""
    out = reshape(world, Shape(variant_share=0.5), seed=2)
    clean = validate_tables(out).tables.events
    plain = validate_tables(world).tables.events
    assert (
        clean["event_type"].value_counts().to_dict() == plain["event_type"].value_counts().to_dict()
    )


def test_features_from_a_file_of_mixed_spellings_equal_the_plain_ones(world, tmp_path):
    from leadscore.config import config_from_dict
    from leadscore.data.files import write_tables
    from leadscore.data.load import load_streaming
    from leadscore.training.dataset import feature_table

    dates = [pd.Timestamp("2025-03-01", tz="UTC"), pd.Timestamp("2025-09-01", tz="UTC")]
    cfg = config_from_dict({})
    frames = []
    for name, tables in (("plain", world), ("mixed", reshape(world, Shape(variant_share=0.5)))):
        write_tables(tables, tmp_path / name)
        clean, source, _ = load_streaming(tmp_path / name, {})
        frames.append(feature_table(clean, cfg, dates, events=source))
    assert frames[0].shape[0] > 1000
    pd.testing.assert_frame_equal(frames[0], frames[1])
