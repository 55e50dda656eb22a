"""What travels with every registered model besides the booster: ``ModelSettings``.

Scoring, reports and hand-offs read these from the model, never from the config of the
day, so a model scores and explains itself the way it was trained: the same points
baseline beside it, the same tiers, the same number of reasons, the same column mapping.
They are stored as ``settings.json`` in the model's artifacts and validated once, when the
model is loaded (``leadscore.model.registered``).
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import ValidationError, model_validator

from leadscore.config import (
    BaselineConfig,
    Columns,
    Config,
    ExplainConfig,
    FlatConfig,
    ModelConfig,
    Strict,
    TierConfig,
    describe_error,
)
from leadscore.errors import ModelError
from leadscore.model.reference import Reference


class ModelSettings(Strict):
    """The config sections a registered model needs to score: typed, frozen, complete."""

    mode: Literal["events", "flat"]
    baseline: BaselineConfig
    tiers: TierConfig
    explain: ExplainConfig
    columns: Columns
    #: Events mode: the label horizon ("won within N days"); flat mode learns a label column.
    horizon_days: int | None = None
    #: Flat mode: the file's id and label columns and the cleaning rules it was trained with.
    id_column: str | None = None
    label: str | None = None
    flat: FlatConfig | None = None
    #: Events mode: where the training data ended (ISO), and the age that earns a warning.
    data_end: str | None = None
    max_model_age_days: int | None = None
    #: What the model saw at training, for ``leadscore monitor`` (None: trained without one).
    reference: Reference | None = None
    #: The model settings it was trained with (``kind``: its own), so a later training can
    #: re-run its recipe through new folds and judge it fairly (None: not recorded).
    recipe: ModelConfig | None = None

    @model_validator(mode="after")
    def _complete_for_mode(self) -> ModelSettings:
        if self.mode == "events" and self.horizon_days is None:
            raise ValueError("an events-mode model needs horizon_days")
        if self.mode == "flat" and (self.id_column is None or self.flat is None):
            raise ValueError("a flat-mode model needs id_column and flat")
        return self

    @classmethod
    def for_events(cls, cfg: Config) -> ModelSettings:
        return cls(
            mode="events",
            baseline=cfg.baseline,
            tiers=cfg.tiers,
            explain=cfg.explain,
            columns=cfg.columns,
            horizon_days=cfg.training.horizon_days,
            max_model_age_days=cfg.training.max_model_age_days,
        )

    def age_warning(self, as_of: pd.Timestamp) -> str | None:
        """A line when the model's data ended more than ``max_model_age_days`` before
        ``as_of`` (the model has not seen the outcomes since), else None."""
        if self.data_end is None or self.max_model_age_days is None:
            return None
        end = pd.Timestamp(self.data_end)
        end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
        age = (as_of - end).days
        if age <= self.max_model_age_days:
            return None
        return (
            f"the model's data ended {end:%Y-%m-%d}, {age} days before {as_of:%Y-%m-%d} "
            f"(more than training.max_model_age_days = {self.max_model_age_days}); retrain it"
        )

    @classmethod
    def for_flat(cls, cfg: Config, id_column: str, label: str) -> ModelSettings:
        return cls(
            mode="flat",
            baseline=cfg.baseline,
            tiers=cfg.tiers,
            explain=cfg.explain,
            columns=cfg.columns,
            id_column=id_column,
            label=label,
            flat=cfg.flat,
        )

    @property
    def outcome(self) -> str:
        """What the probability is the probability of, as a verb phrase for a lead."""
        if self.horizon_days:
            return f"becomes a won deal within {self.horizon_days} days"
        return "converts"

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str) -> ModelSettings:
        """Parse stored settings; anything missing or unknown is one ``ModelError`` line."""
        try:
            return cls.model_validate_json(text)
        except ValidationError as err:
            raise ModelError(
                describe_error(err, "model settings") + " (retrain the model with this leadscore)"
            ) from None
