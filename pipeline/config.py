"""YAML configuration -> a typed, frozen Config.

A user file is merged over the embedded defaults (``pipeline/default.yaml``, installed as ``leadscore/default.yaml``), then validated;
an unknown or ill-typed key fails with one line that names it.
"""

from __future__ import annotations

import copy
import functools
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from leadscore.errors import ConfigError
from leadscore.timestamps import to_utc


class Strict(BaseModel):
    """A frozen pydantic model that refuses unknown keys (every config section)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Columns(Strict):
    leads: dict[str, str] = Field(default_factory=dict)
    events: dict[str, str] = Field(default_factory=dict)
    outcomes: dict[str, str] = Field(default_factory=dict)
    stages: dict[str, str] = Field(default_factory=dict)
    field_history: dict[str, str] = Field(default_factory=dict)


class ExplicitFeatures(Strict):
    categorical: list[str]
    numeric: list[str]
    extra: list[str] = Field(default_factory=list)
    max_categories: int = Field(gt=1)


class EmailDomains(Strict):
    """Email domains that make an address free (webmail) or disposable: the built-in lists
    extended with these, or replaced by them (``replace``)."""

    free: list[str] = Field(default_factory=list)
    disposable: list[str] = Field(default_factory=list)
    replace: bool = False

    @field_validator("free", "disposable")
    @classmethod
    def _domains(cls, v: list[str]) -> list[str]:
        out = [d.strip().lower().removeprefix("@") for d in v]
        bad = [d for d in out if not d or "@" in d or " " in d]
        if bad:
            raise ValueError(f"not an email domain: {bad[0]!r} (write it as example.com)")
        return out


class FeatureConfig(Strict):
    event_types: Literal["auto"] | list[str]
    max_event_types: int = Field(gt=0)
    windows_days: list[int]
    half_life_days: float = Field(gt=0)
    event_half_life_days: dict[str, float] = Field(default_factory=dict)
    negative_event_types: list[str]
    dedupe_events: bool
    stage_order: list[str] = Field(default_factory=list)
    account: Literal["auto", "on", "off"] = "auto"
    explicit: ExplicitFeatures
    email_domains: EmailDomains = Field(default_factory=EmailDomains)

    @field_validator("windows_days")
    @classmethod
    def _windows_positive(cls, v: list[int]) -> list[int]:
        if not v or any(w <= 0 for w in v):
            raise ValueError("windows_days must be a non-empty list of positive days")
        return sorted(set(v))

    @field_validator("event_half_life_days")
    @classmethod
    def _half_lives_positive(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [t for t, h in v.items() if not h > 0]
        if bad:
            raise ValueError(f"half-life of {bad[0]!r} must be a positive number of days")
        return v


class BacktestConfig(Strict):
    folds: Literal["auto"] | Annotated[int, Field(ge=1)]
    fold_snapshots: Literal["auto"] | Annotated[int, Field(ge=1)]
    calibration_folds: Literal["all"] | Annotated[int, Field(ge=1)]
    champion_folds: int = Field(ge=1)
    recency_half_life_days: float | None = Field(default=None, gt=0)


#: The entry of ``training.leakage.export_time_names`` that stands for the built-in list.
BUILTIN_NAMES = "builtin"


def name_key(name: str) -> str:
    """A column name or name pattern as the export-time rule compares it: lower-case, with
    only letters, digits and ``*`` kept ("Lead Quality", "lead_quality" and "LeadQuality"
    are one name)."""
    return re.sub(r"[^0-9a-z*]+", "", str(name).lower())


class LeakageConfig(Strict):
    """The leakage guard's bounds (``leadscore.training.leakage``); null turns a rule off."""

    # A feature that alone ranks the held-out rows with a ROC AUC above this is flagged.
    max_single_auc: float | None = Field(default=0.95, gt=0.5, le=1.0)
    # A value "marks" conversions when at least this share of the rows holding it converted.
    purity: float = Field(default=0.95, gt=0.5, le=1.0)
    # ... and holds at least this many of the rows learnt from (smaller levels mark nothing).
    min_rows: int = Field(default=30, ge=1)
    # A feature whose marking values hold at least this share of the held-out conversions
    # is flagged as filled almost only for converted leads.
    max_marked_share: float | None = Field(default=0.25, gt=0.0, le=1.0)
    # Lead fields named like these (case, spaces, "_" and "-" aside; "*" any run of
    # characters) hold their value as of the export, after the outcome, unless a field
    # history gives it as it was: flagged. "builtin" stands for the built-in list
    # (leadscore.training.leakage.EXPORT_TIME_NAMES); [] turns the rule off.
    export_time_names: list[str] = Field(default_factory=lambda: [BUILTIN_NAMES])

    @field_validator("export_time_names")
    @classmethod
    def _name_patterns(cls, v: list[str]) -> list[str]:
        for p in v:
            if p != BUILTIN_NAMES and not re.search(r"[0-9a-z]", name_key(p)):
                raise ValueError(
                    f"{p!r} is no name pattern: give letters or digits, "
                    f"with * for any run of characters (or {BUILTIN_NAMES!r})"
                )
        return v


class TrainingConfig(Strict):
    horizon_days: int = Field(gt=0)
    cadence: Literal["monthly", "auto"] | Annotated[int, Field(ge=1)]
    first_snapshot: str | None = None
    min_positives: int = Field(ge=1)
    backtest: BacktestConfig
    max_model_age_days: int | None = Field(default=90, gt=0)
    # From when outcomes are recorded: "auto" finds it (the first close, when it comes more
    # than a horizon after the first lead), "all" labels every snapshot, or a date.
    outcomes_from: str = "auto"
    # Features built only for the rows some fit can use (leadscore.training.sampling).
    sample_before_build: bool = True
    leakage: LeakageConfig = Field(default_factory=LeakageConfig)
    # Features the leakage guard flags that are kept anyway, by feature column name.
    allow_features: list[str] = Field(default_factory=list)

    @field_validator("first_snapshot", "outcomes_from")
    @classmethod
    def _a_moment(cls, value: str | None) -> str | None:
        if value is not None and value not in ("auto", "all"):
            try:
                to_utc(value)
            except (ValueError, TypeError):
                raise ValueError(f"{value!r} is not a date or timestamp") from None
        return value

    @property
    def first_snapshot_at(self) -> pd.Timestamp | None:
        """``first_snapshot`` as a UTC moment (None: from the first lead on)."""
        return None if self.first_snapshot is None else to_utc(self.first_snapshot)


class ModelConfig(Strict):
    # The model kind training deploys (``leadscore.model.kinds``: lightgbm, logistic,
    # naive_bayes, points, or one a plug-in registers), or "auto": the tournament's winner
    # among ``contestants``; checked against the registry when training starts.
    kind: str = "auto"
    contestants: list[str] = Field(
        default_factory=lambda: ["lightgbm", "logistic", "naive_bayes"], min_length=1
    )
    seed: int
    calibration: Literal["isotonic", "sigmoid", "auto"]
    calibration_follows: Literal["auto", "all", "latest", "base_rate"] = "auto"
    # How the logistic kind's numbers enter (``leadscore.model.linear``).
    logistic_numbers: Literal["auto", "standard", "quantile"] = "standard"
    positive_weight: Literal["none", "sqrt", "balanced"] | float
    num_boost_round: int = Field(gt=0)
    early_stopping_rounds: int = Field(gt=0)
    max_negatives_per_positive: float | None = Field(default=None, gt=0)
    min_negatives_kept: int = Field(default=200_000, ge=0)
    params: dict[str, Any]


class PointsRule(Strict):
    """One line of a points model; exactly one of values, bands, per_unit, not_in."""

    column: str
    kind: Literal["fit", "engagement", "negative"]
    values: dict[str, float] | None = None
    bands: list[tuple[float, float]] | None = None
    per_unit: float | None = None
    cap: float | None = Field(default=None, ge=0)
    not_in: list[str] | None = None
    points: float | None = None

    @model_validator(mode="after")
    def _one_way(self) -> PointsRule:
        ways = [
            w for w in ("values", "bands", "per_unit", "not_in") if getattr(self, w) is not None
        ]
        if len(ways) != 1:
            raise ValueError(
                f"rule for column '{self.column}' needs exactly one of values, bands, per_unit, not_in (got {ways or 'none'})"
            )
        if self.not_in is not None and self.points is None:
            raise ValueError(f"rule for column '{self.column}' with not_in needs points")
        return self


class BaselineConfig(Strict):
    rules: list[PointsRule]
    max_points: float = Field(gt=0)
    fit_grades: dict[str, float]
    mql_threshold: float
    sql_threshold: float
    #: Points per decayed event of a type no rule names, capped at ``default_event_cap``.
    default_event_points: float = 0.0
    default_event_cap: float | None = Field(default=10.0, ge=0)


class FlatConfig(Strict):
    id_column: str | None = None
    date_column: str | None = None
    exclude: list[str] = Field(default_factory=list)
    categorical: list[str] = Field(default_factory=list)
    numeric: list[str] = Field(default_factory=list)
    placeholders: list[str] = Field(default_factory=list)
    value_map: dict[str, dict[str, str]] = Field(default_factory=dict)
    drop_constant: bool = True
    duplicates: Literal["drop", "keep"] = "keep"
    max_categories: int = Field(default=30, gt=1)
    # Rows in time order (--ordered, or a date column): the last test_fraction of rows is
    # the backtest's test, in folds; without order, folds-fold cross-validation.
    test_fraction: float = Field(default=0.2, gt=0, lt=1)
    folds: int = Field(default=4, ge=2)
    registry_suffix: str = "-flat"


class TierConfig(Strict):
    """Tiers set one of three ways (the first one given wins): fixed minimum ``cutoffs``;
    ``capacity``, the top N open leads of a night's list per tier; or ``shares`` of the open
    leads. Capacities and shares are applied to each night's ranks when it is scored
    (``leadscore.model.tiers.night_tiers``), so every night's tiers hold them; with
    ``fixed_at_training`` they become score cut-offs when the model is trained
    (``resolve_tiers``), stored with it in ``cutoffs``, and a tier's share moves with the
    leads instead."""

    cutoffs: dict[str, float] = Field(default_factory=dict)
    capacity: dict[str, Annotated[int, Field(gt=0)]] = Field(default_factory=dict)
    shares: dict[str, Annotated[float, Field(gt=0, le=1)]] = Field(default_factory=dict)
    rest: str
    fixed_at_training: bool = False
    #: How the stored cut-offs were found, in words (set by training).
    cut_from: str | None = None

    @property
    def by(self) -> Literal["cutoffs", "capacity", "shares"]:
        if self.cutoffs:
            return "cutoffs"
        return "capacity" if self.capacity else "shares"

    @property
    def ranked(self) -> bool:
        """Whether each night's tiers are cut on that night's ranks (not on fixed scores)."""
        return self.by != "cutoffs"

    def names(self) -> list[str]:
        """Tiers from best to worst, the rest last."""
        if self.by == "cutoffs":
            best_first = [t for t, _ in sorted(self.cutoffs.items(), key=lambda kv: -kv[1])]
        else:
            best_first = list(getattr(self, self.by))
        return [*best_first, self.rest]

    @model_validator(mode="after")
    def _one_way(self) -> TierConfig:
        chosen = getattr(self, self.by)
        if not chosen:
            raise ValueError("give tiers.cutoffs, tiers.capacity or tiers.shares")
        if self.rest in chosen:
            raise ValueError(f"tier {self.rest!r} is both a tier and the rest")
        if self.by == "shares" and sum(self.shares.values()) > 1 + 1e-9:
            raise ValueError(f"tiers.shares add up to {sum(self.shares.values()):g}, more than 1")
        return self


class ExplainConfig(Strict):
    top_reasons: int = Field(ge=1)


class TrackingConfig(Strict):
    experiment: str
    registered_model_name: str
    promote_metric: Literal["roc_auc", "pr_auc", "brier", "log_loss"]


class CsvConfig(Strict):
    """How CSV files are read; ``auto`` detects each from the file (``sniff_csv``)."""

    delimiter: Literal["auto", ",", ";", "\t", "|"] = "auto"
    encoding: Literal["auto", "utf-8", "utf-8-sig", "cp1252", "latin-1"] = "auto"
    decimal: Literal["auto", ".", ","] = "auto"


class IoConfig(Strict):
    csv: CsvConfig = Field(default_factory=CsvConfig)


class ValidationConfig(Strict):
    # Rows a table may lose to the contract's rules before a run stops (share of its rows).
    max_drop_share: float = Field(default=0.05, ge=0, le=1)


class MonitorConfig(Strict):
    """Alert thresholds of ``leadscore monitor``; crossing one makes it exit with status 3."""

    #: Population stability index above which a feature (or the score) has drifted.
    psi_alert: float = Field(default=0.25, gt=0)
    #: Input drift alerts on the model's most important features only (by total gain).
    top_features: int = Field(default=10, ge=1)
    #: Calibration in the large (realised / expected conversions) off by more than this factor.
    calibration_factor: float = Field(default=1.5, gt=1)
    #: Alert when the model's realised ROC AUC falls below the points model's.
    auc_below_points: bool = True
    #: Realised figures alert only with at least this many realised conversions in the night.
    min_conversions: int = Field(default=20, ge=1)
    #: Input drift is measured on this many latest nights of a history.
    feature_nights: int = Field(default=7, ge=1)
    #: Drift alerts need at least this many leads in the night (fewer: too few to tell).
    min_leads: int = Field(default=300, ge=1)


class EvaluationConfig(Strict):
    """Quality by slice: the backtest's out-of-time rows (and the monitor's realised nights)
    cut by lead columns, the model beside the points sheet in each slice."""

    #: Lead columns to slice by; those absent from the data are skipped (the run says which).
    slices: list[str] = Field(default_factory=lambda: ["lead_source", "country", "industry"])
    #: A value with fewer conversions than this is pooled into "other" (counted).
    slice_min_conversions: int = Field(default=20, ge=1)
    #: A slice is miscalibrated when realised / expected conversions is off by more than this
    #: factor either way, and by more than chance.
    slice_calibration_factor: float = Field(default=1.5, gt=1)

    @field_validator("slices")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v) or any(not c.strip() for c in v):
            raise ValueError("slices must be distinct, non-empty column names")
        return v


class SegmentsConfig(Strict):
    """One model per segment where it wins: the rows cut by one categorical feature column,
    each segment's own model judged against the pooled models on its out-of-time rows."""

    #: The column that names a row's segment (a categorical feature; None: one pooled model).
    column: str | None = None
    #: Values -> segment names (several values may share one); empty: each value its own
    #: segment. Values not named here stay with the pooled model.
    names: dict[str, str] = Field(default_factory=dict)
    #: A segment is judged only with at least this many conversions in its out-of-time rows
    #: and in the rows its deployed model would learn from.
    min_conversions: int = Field(default=100, ge=1)
    #: Tiers by share or capacity cut over every lead (``overall``) or within each model's
    #: leads (``segment``: each segment's own model, and the pooled model's rest).
    tiers: Literal["overall", "segment"] = "overall"

    @field_validator("column")
    @classmethod
    def _named(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("column must be a column name, or null for no segments")
        return v


class HoldoutConfig(Strict):
    """A control arm held back from the hand-off (``handoff --holdout``)."""

    share: float = Field(default=0.0, ge=0, lt=1)
    name: str = Field(default="leadscore", min_length=1)
    #: The relative uplift of routing the experiment is planned to detect, with this power
    #: at this level (``experiment plan`` and ``report``).
    uplift: float = Field(default=0.2, gt=0)
    power: float = Field(default=0.8, gt=0, lt=1)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)


class HandoffConfig(Strict):
    holdout: HoldoutConfig = Field(default_factory=HoldoutConfig)


CRM_OUTPUTS = ("probability", "score", "tier", "reasons", "model_version")


class CrmConfig(Strict):
    """How a hand-off list reads in a CRM's import shape (``handoff --format``): HubSpot's
    key and property internal names, Salesforce's field API names and reasons length."""

    hubspot_key: Literal["Record ID", "Email"] = "Record ID"
    hubspot_properties: dict[str, str] = Field(default_factory=dict)
    salesforce_fields: dict[str, str] = Field(default_factory=dict)
    salesforce_reasons_length: int = Field(default=32_768, gt=0, le=131_072)

    @field_validator("hubspot_properties", "salesforce_fields")
    @classmethod
    def _outputs(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(CRM_OUTPUTS))
        if unknown:
            raise ValueError(
                f"{unknown[0]!r} is not an output; name one of {', '.join(CRM_OUTPUTS)}"
            )
        return v


class Config(Strict):
    io: IoConfig = Field(default_factory=IoConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    columns: Columns
    features: FeatureConfig
    training: TrainingConfig
    model: ModelConfig
    baseline: BaselineConfig
    flat: FlatConfig
    tiers: TierConfig
    explain: ExplainConfig
    tracking: TrackingConfig
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    segments: SegmentsConfig = Field(default_factory=SegmentsConfig)
    crm: CrmConfig = Field(default_factory=CrmConfig)
    handoff: HandoffConfig = Field(default_factory=HandoffConfig)


def default_dict() -> dict[str, Any]:
    """The embedded defaults as a plain dict."""
    text = resources.files("leadscore").joinpath("default.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in _REPLACED:
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# Mappings a user most likely means to replace whole rather than extend key by key.
_REPLACED = {"cutoffs", "capacity", "shares", "fit_grades"}


def describe_error(err: ValidationError, what: str = "config") -> str:
    """A pydantic error as one line naming the bad key, e.g. "config key 'model.x' is not a known setting"."""
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    if first["type"] == "extra_forbidden":
        return f"{what} key '{where}' is not a known setting"
    if first["type"] == "missing":
        return f"{what} key '{where}' is required"
    if first["type"] == "value_error":
        msg = first["msg"].removeprefix("Value error, ")
        return f"{what} key '{where}': {msg}" if where else f"{what}: {msg}"
    return f"{what} key '{where}': {first['msg']} (got {first.get('input')!r})"


def config_from_dict(raw: dict[str, Any] | None) -> Config:
    """Merge ``raw`` over the defaults and validate."""
    if raw is not None and not isinstance(raw, dict):
        raise ConfigError("config must be a YAML mapping at the top level")
    merged = _merge(default_dict(), raw or {})
    try:
        return Config.model_validate(merged)
    except ValidationError as err:
        raise ConfigError(describe_error(err)) from None


def read_yaml(path: str | Path, what: str = "config file") -> object:
    """A YAML file's content; a missing or malformed file is a one-line ``ConfigError``."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{what} {p} does not exist")
    try:
        return yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{what} {p} is not valid YAML: {str(err).splitlines()[0]}") from None


@functools.cache
def defaults() -> Config:
    """The embedded defaults, validated once per process."""
    return config_from_dict(None)


def load_config(path: str | Path | None = None) -> Config:
    """Load a YAML config (or only the defaults when ``path`` is None)."""
    if path is None:
        return config_from_dict(None)
    return config_from_dict(read_yaml(path))


def registered_name(cfg: Config, flat: bool = False) -> str:
    """The model registry name: ``tracking.registered_model_name``, plus ``flat.registry_suffix``
    for a flat-mode model."""
    return cfg.tracking.registered_model_name + (cfg.flat.registry_suffix if flat else "")


def config_to_yaml(cfg: Config) -> str:
    """The resolved config, as YAML (logged with every run)."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
