"""What travels with a model: typed settings, validated once, and the scorer's defaults."""

from __future__ import annotations

import json

import pytest

from leadscore.config import config_from_dict, defaults
from leadscore.errors import ModelError
from leadscore.features.flat import flat_spec
from leadscore.model.scorer import LeadScorer
from leadscore.model.settings import ModelSettings


def test_events_settings_round_trip_through_json():
    cfg = config_from_dict({"training": {"horizon_days": 60}, "explain": {"top_reasons": 5}})
    s = ModelSettings.for_events(cfg)
    back = ModelSettings.from_json(s.to_json())
    assert back == s
    assert back.horizon_days == 60 and back.explain.top_reasons == 5
    assert back.tiers == cfg.tiers and back.baseline == cfg.baseline
    assert back.outcome == "becomes a won deal within 60 days"


def test_flat_settings_need_their_id_column():
    cfg = defaults()
    s = ModelSettings.for_flat(cfg, "Prospect ID", "Converted")
    assert s.outcome == "converts" and s.flat == cfg.flat
    raw = json.loads(s.to_json())
    raw.pop("id_column")
    raw["id_column"] = None
    with pytest.raises(ModelError, match="flat-mode model needs id_column"):
        ModelSettings.from_json(json.dumps(raw))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda raw: raw.pop("tiers"), "model settings key 'tiers' is required"),
        (lambda raw: raw.update(colour="red"), "model settings key 'colour' is not a known"),
        (lambda raw: raw.update(horizon_days=None), "events-mode model needs horizon_days"),
    ],
)
def test_bad_stored_settings_are_one_line_naming_the_key(change, match):
    raw = json.loads(ModelSettings.for_events(defaults()).to_json())
    change(raw)
    with pytest.raises(ModelError, match=match) as err:
        ModelSettings.from_json(json.dumps(raw))
    assert "\n" not in str(err.value)


def test_scorer_defaults_are_the_config_defaults():
    spec = flat_spec(("x",), (), {})
    scorer = LeadScorer(spec)
    assert scorer.config == defaults().model
    assert scorer.config.num_boost_round == defaults().model.num_boost_round


def test_an_old_model_earns_a_warning_a_fresh_one_none(cfg):
    import pandas as pd

    from leadscore.model.settings import ModelSettings

    settings = ModelSettings.for_events(cfg).model_copy(
        update={"data_end": "2025-06-30 12:00:00+00:00"}
    )
    assert settings.max_model_age_days == 90
    assert settings.age_warning(pd.Timestamp("2025-09-28", tz="UTC")) is None  # 89 days
    line = settings.age_warning(pd.Timestamp("2025-12-01", tz="UTC"))
    assert line == (
        "the model's data ended 2025-06-30, 153 days before 2025-12-01 "
        "(more than training.max_model_age_days = 90); retrain it"
    )
    assert ModelSettings.for_events(cfg).age_warning(pd.Timestamp("2030-01-01", tz="UTC")) is None
    unbounded = settings.model_copy(update={"max_model_age_days": None})
    assert unbounded.age_warning(pd.Timestamp("2030-01-01", tz="UTC")) is None
