"""The one description of the feature columns, shared by training and scoring.

A ``FeatureSpec`` is fitted once on training data (which event types exist, which category
levels are frequent enough to keep) and stored with the model, so that scoring builds exactly
the same columns with the same categories, whatever new values the scoring data holds.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from leadscore.features.explicit import (
    EMAIL_CLASSES,
    EMPLOYEE_BANDS,
    FUNCTIONS,
    REVENUE_BANDS,
    SENIORITY_LEVELS,
    band,
    categorical_value,
)

OTHER = "other"
MISSING = "missing"


def event_key(name: str) -> str:
    """The one spelling of an event type: lower-case, every run of characters other than
    letters and digits one "_", none at the ends ("Email Click", "EMAIL-CLICK " and
    "email_click" are one type). Empty when nothing is left."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")


def event_keys(values: pd.Series) -> pd.Series:
    """``event_key`` of every value, done once per distinct value; missing or empty -> NA."""
    codes, distinct = pd.factorize(values.astype("string"), use_na_sentinel=True)
    keys = pd.Series([event_key(v) for v in distinct], dtype="string")
    keys = keys.mask(keys == "")
    return pd.Series(keys.array.take(codes, allow_fill=True), index=values.index)


def slug(name: str) -> str:
    """A column-safe name for an event type or attribute ("Pricing Page View" -> pricing_page_view)."""
    s = re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")
    return s or "blank"


def _band_levels(edges: tuple[float, ...]) -> tuple[str, ...]:
    return tuple(band(pd.Series([e + 0.5 for e in edges], dtype="float64"), edges).tolist()) + (
        MISSING,
    )


@dataclass(frozen=True)
class FeatureSpec:
    """What the feature table holds; fitted on training data, reused unchanged for scoring."""

    event_types: tuple[str, ...]
    windows_days: tuple[int, ...]
    half_life_days: float
    negative_event_types: tuple[str, ...]
    dedupe_events: bool
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    extra_numeric: tuple[str, ...] = ()
    extra_categorical: tuple[str, ...] = ()
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Funnel stages in order (leadscore.features.stages); empty: no stages table.
    stages: tuple[str, ...] = ()
    # Colleagues' activity over this window (leadscore.features.accounts); 0: not used.
    account_window: int = 0
    # "events": explicit + engagement features built here; "flat": a CRM export's own
    # columns (extra_numeric + extra_categorical), one row per lead, no event history.
    kind: str = "events"
    # Email domains read as free and as disposable (None: the built-in lists).
    free_domains: tuple[str, ...] | None = None
    disposable_domains: tuple[str, ...] | None = None
    # Columns built but not given to the model (flagged by training's leakage guard).
    left_out: tuple[str, ...] = ()
    # Lead fields read as the field history says they were at each row's moment, not as
    # exported (leadscore.features.history); training's leakage guard reads it.
    history_fields: tuple[str, ...] = ()
    # Half-lives of single event types (their keys), where they differ from half_life_days.
    event_half_lives: dict[str, float] = field(default_factory=dict)

    def half_life_of(self, event_type: str) -> float:
        """The decay half-life, in days, of one event type's ``{type}_decayed`` count."""
        return self.event_half_lives.get(event_type, self.half_life_days)

    # --- event-derived column names -------------------------------------------------
    @property
    def event_buckets(self) -> tuple[str, ...]:
        """Event types with their own columns, plus the pooled ``other``."""
        return (*self.event_types, OTHER)

    def engagement_columns(self) -> list[str]:
        cols: list[str] = []
        for t in self.event_buckets:
            s = slug(t)
            cols += [f"{s}_{w}d" for w in self.windows_days]
            cols += [f"{s}_total", f"{s}_days_since", f"{s}_decayed"]
        cols += [f"events_{w}d" for w in self.windows_days]
        cols += [f"active_days_{w}d" for w in self.windows_days]
        cols += ["events_total", "days_since_last_event", "engagement_decayed"]
        if len(self.windows_days) > 1:
            cols.append("activity_trend")
        cols.append("days_since_created")
        return cols

    def explicit_columns(self) -> list[str]:
        cols = ["seniority", "job_function", "email_domain", *self.categorical, *self.numeric]
        if "employees" in self.numeric:
            cols.append("employees_band")
        if "annual_revenue" in self.numeric:
            cols.append("revenue_band")
        cols += [*self.extra_numeric, *self.extra_categorical]
        cols += [f"{c}_missing" for c in ("job_title", *self.categorical, *self.numeric)]
        return cols

    def stage_columns(self) -> list[str]:
        """The stage a lead is in at the moment, and for how many days (with stages only)."""
        return ["current_stage", "days_in_stage"] if self.stages else []

    def account_columns(self) -> list[str]:
        """Colleagues' activity (with ``account_window``; see leadscore.features.accounts)."""
        if not self.account_window:
            return []
        w = self.account_window
        return ["account_open_leads", f"account_events_{w}d", f"account_active_leads_{w}d"]

    @property
    def feature_columns(self) -> list[str]:
        """Every model input column, in the order the model sees them (``left_out`` not)."""
        if self.kind == "flat":
            cols = [*self.extra_numeric, *self.extra_categorical]
        else:
            cols = (
                self.explicit_columns()
                + self.engagement_columns()
                + self.stage_columns()
                + self.account_columns()
            )
        return [c for c in cols if c not in self.left_out] if self.left_out else cols

    @property
    def lead_columns(self) -> tuple[str, ...]:
        """The leads-table columns (contract names) the features read and scoring needs:
        the configured attributes training found values for, and ``account`` with account
        features. ``job_title`` and ``email`` are read when present, never required."""
        extra = ("account",) if self.account_window else ()
        return (
            *self.categorical,
            *self.numeric,
            *self.extra_numeric,
            *self.extra_categorical,
            *extra,
        )

    @property
    def categorical_features(self) -> list[str]:
        return list(self.categories)

    # --- persistence ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["categories"] = {k: list(v) for k, v in self.categories.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureSpec:
        d = dict(d)
        for key in (
            "event_types",
            "windows_days",
            "negative_event_types",
            "categorical",
            "numeric",
            "extra_numeric",
            "extra_categorical",
            "stages",
            "left_out",
            "history_fields",
        ):
            d[key] = tuple(d.get(key, ()))
        d["categories"] = {k: tuple(v) for k, v in d.get("categories", {}).items()}
        for key in ("free_domains", "disposable_domains"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        d["event_half_lives"] = {k: float(v) for k, v in d.get("event_half_lives", {}).items()}
        return cls(**d)


def discover_event_types(
    event_type: pd.Series, max_types: int, always: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The ``max_types`` most frequent event types (ties broken by name), plus ``always``."""
    raw = event_type.value_counts(dropna=True)  # by raw spelling first: few distinct values
    keys = event_keys(pd.Series(raw.index.astype("string"), index=raw.index))
    counts = raw.groupby(keys.to_numpy(), dropna=True).sum()
    return top_event_types(counts, max_types, always)


def top_event_types(
    counts: pd.Series, max_types: int, always: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The ``max_types`` largest counts (ties broken by name), plus ``always``."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    top = [t for t, _ in ranked[:max_types]]
    return tuple(sorted(set(top) | set(always)))


def top_levels(values: pd.Series, max_levels: int) -> tuple[str, ...]:
    """Frequent levels kept as themselves; the rest become ``other``, blanks ``missing``."""
    counts = values.dropna().value_counts()
    # A real value spelled "other" or "missing" joins the pooled level of that name.
    ranked = sorted(
        ((v, n) for v, n in counts.items() if str(v) not in (OTHER, MISSING)),
        key=lambda kv: (-kv[1], kv[0]),
    )
    kept = sorted(str(v) for v, _ in ranked[: max_levels - 2])
    return (*kept, OTHER, MISSING)


def _has_values(leads: pd.DataFrame, column: str, numeric: bool) -> bool:
    """Whether ``column`` is in ``leads`` with at least one value (a number, if ``numeric``)."""
    if column not in leads.columns:
        return False
    if numeric:
        return bool(pd.to_numeric(leads[column], errors="coerce").notna().any())
    return bool(categorical_value(leads[column], column).notna().any())


def fit_spec(
    leads: pd.DataFrame,
    events: pd.DataFrame,
    cutoff: pd.Timestamp,
    *,
    event_types: str | list[str],
    max_event_types: int,
    windows_days: list[int],
    half_life_days: float,
    negative_event_types: list[str],
    dedupe_events: bool,
    categorical: list[str],
    numeric: list[str],
    extra: list[str],
    max_categories: int,
    stages: tuple[str, ...] = (),
    domains: tuple[tuple[str, ...] | None, tuple[str, ...] | None] = (None, None),
    event_half_lives: dict[str, float] | None = None,
) -> FeatureSpec:
    """Fit the vocabulary on data known at ``cutoff`` (nothing later, so it is point in time).

    Its length is mostly its signature: one keyword per ``features:`` config key.
    """
    known_leads = leads[leads["created_at"] <= cutoff]
    # What the model is trained without, it never asks for: a configured attribute that is
    # absent, or missing on every lead known at the cutoff, is not a model input.
    categorical = [c for c in categorical if _has_values(known_leads, c, numeric=False)]
    numeric = [c for c in numeric if _has_values(known_leads, c, numeric=True)]
    negatives = tuple(event_key(t) for t in negative_event_types)
    if event_types == "auto":
        if hasattr(events, "type_counts"):  # an EventSource: the engine counts over the file
            types = top_event_types(events.type_counts(cutoff), max_event_types, always=negatives)
        else:
            past = events.loc[events["occurred_at"] <= cutoff, "event_type"]
            types = discover_event_types(past, max_event_types, always=negatives)
    else:
        types = tuple(sorted({event_key(t) for t in event_types} | set(negatives)))
    types = tuple(t for t in types if t != OTHER)

    categories: dict[str, tuple[str, ...]] = {
        "seniority": SENIORITY_LEVELS,
        "job_function": FUNCTIONS,
        "email_domain": EMAIL_CLASSES,
    }
    for name in categorical:
        col = known_leads[name] if name in known_leads.columns else pd.Series([], dtype="string")
        categories[name] = top_levels(categorical_value(col, name), max_categories)
    if "employees" in numeric:
        categories["employees_band"] = _band_levels(EMPLOYEE_BANDS)
    if "annual_revenue" in numeric:
        categories["revenue_band"] = _band_levels(REVENUE_BANDS)

    extra_num: list[str] = []
    extra_cat: list[str] = []
    for name in extra:
        if name not in leads.columns:
            raise KeyError(name)
        raw = known_leads[name]
        num = pd.to_numeric(raw, errors="coerce")
        if num.notna().sum() == raw.notna().sum():
            extra_num.append(name)
        else:
            extra_cat.append(name)
            categories[name] = top_levels(categorical_value(raw, name), max_categories)

    if stages:
        categories["current_stage"] = (*stages, OTHER, MISSING)
    return FeatureSpec(
        stages=tuple(stages),
        event_types=types,
        windows_days=tuple(sorted(windows_days)),
        half_life_days=float(half_life_days),
        negative_event_types=negatives,
        dedupe_events=dedupe_events,
        categorical=tuple(categorical),
        numeric=tuple(numeric),
        extra_numeric=tuple(extra_num),
        extra_categorical=tuple(extra_cat),
        categories=categories,
        free_domains=domains[0],
        disposable_domains=domains[1],
        # Only the types with their own columns: the pooled "other" keeps half_life_days.
        event_half_lives={
            event_key(t): float(h)
            for t, h in (event_half_lives or {}).items()
            if event_key(t) in types and float(h) != float(half_life_days)
        },
    )
