"""Flat-file features: the model's columns from one row per lead (a CRM export with a label
column), numbers as numbers and categories on levels fitted at training.

A flat file has no history, so there is no point in time to keep: each row is what the lead
was when the export was made. The same ``flat_features`` serves training and scoring.
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from leadscore.errors import DataError
from leadscore.features.spec import FeatureSpec, top_levels
from leadscore.features.table import categorise


def _norm(values: pd.Series) -> pd.Series:
    s = values.astype("string").str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    return s.mask(s == "")


def _is_numeric(values: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return True
    present = values.dropna()
    return len(present) > 0 and pd.to_numeric(present, errors="coerce").notna().all()


def fit_flat_spec(
    table: pd.DataFrame,
    features: list[str],
    *,
    categorical: Collection[str] = (),
    numeric: Collection[str] = (),
    max_categories: int,
) -> FeatureSpec:
    """Numeric or categorical per column (``categorical`` and ``numeric`` force either, as the
    config's ``flat`` section does); category levels fitted here."""
    as_numbers: list[str] = []
    as_categories: list[str] = []
    for col in features:
        if col in categorical:
            as_categories.append(col)
        elif col in numeric or _is_numeric(table[col]):
            as_numbers.append(col)
        else:
            as_categories.append(col)
    categories = {c: top_levels(_norm(table[c]), max_categories) for c in as_categories}
    return flat_spec(as_numbers, as_categories, categories)


def flat_spec(
    numeric: Collection[str],
    categorical: Collection[str] = (),
    categories: dict[str, tuple[str, ...]] | None = None,
) -> FeatureSpec:
    """A flat file's spec: these number and category columns (``categories``: each
    category column's levels, none by default), no events."""
    return FeatureSpec(
        event_types=(),
        windows_days=(),
        half_life_days=1.0,
        negative_event_types=(),
        dedupe_events=False,
        categorical=(),
        numeric=(),
        extra_numeric=tuple(numeric),
        extra_categorical=tuple(categorical),
        categories=categories if categories is not None else {c: () for c in categorical},
        kind="flat",
    )


def flat_features(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """The model's columns from a flat frame: numbers as float32, categories on fixed levels."""
    missing = [c for c in spec.feature_columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"flat file: {len(missing)} column(s) the model needs are missing ({', '.join(missing[:8])}); {len(frame)} rows"
        )
    data = {}
    wanted = set(spec.feature_columns)
    for c in spec.extra_numeric:
        if c in wanted:
            data[c] = pd.to_numeric(frame[c], errors="coerce").astype("float32")
    for c in spec.extra_categorical:
        if c in wanted:
            data[c] = categorise(_norm(frame[c]), spec.categories[c])
    return pd.DataFrame(data, index=frame.index)
