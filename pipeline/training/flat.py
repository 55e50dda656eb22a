"""Flat mode: a CRM export that is already one row per lead with a label column.

Same model, calibration, baseline comparison and tracking as the event pipeline; the
features are the file's own columns (point in time is then the user's care), the split is by
a date column when one is given (out of time), else stratified at random (said plainly).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.config import Config
from leadscore.data.clean import CleanReport, clean_flat
from leadscore.data.contract import FALSE_WORDS, TRUE_WORDS
from leadscore.data.fingerprint import fingerprint
from leadscore.data.io import read_frame
from leadscore.errors import DataError
from leadscore.features.spec import FeatureSpec, top_levels
from leadscore.features.table import categorise
from leadscore.model.scorer import LeadScorer
from leadscore.model.settings import ModelSettings
from leadscore.training.fit import fit_and_evaluate
from leadscore.training.run import RunSummary, comparison_text, track


@dataclass
class FlatData:
    table: pd.DataFrame  # lead_id, label, [date], then the feature columns
    spec: FeatureSpec
    id_column: str
    report: CleanReport
    dropped_label_rows: int


def parse_label(values: pd.Series, column: str) -> tuple[np.ndarray, np.ndarray]:
    """0/1 from 1/0, true/false, yes/no, won/lost; returns (label, ok mask)."""
    low = values.astype("string").str.strip().str.lower()
    label = np.where(
        low.isin(TRUE_WORDS).fillna(False),
        1.0,
        np.where(low.isin(FALSE_WORDS).fillna(False), 0.0, np.nan),
    )
    ok = ~np.isnan(label)
    return label, ok


def _norm(values: pd.Series) -> pd.Series:
    s = values.astype("string").str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    return s.mask(s == "")


def _is_numeric(values: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return True
    present = values.dropna()
    return len(present) > 0 and pd.to_numeric(present, errors="coerce").notna().all()


def fit_flat_spec(table: pd.DataFrame, features: list[str], cfg: Config) -> FeatureSpec:
    """Numeric or categorical per column (config can force either); category levels fitted here."""
    numeric, categorical = [], []
    for col in features:
        if col in cfg.flat.categorical:
            categorical.append(col)
        elif col in cfg.flat.numeric or _is_numeric(table[col]):
            numeric.append(col)
        else:
            categorical.append(col)
    categories = {c: top_levels(_norm(table[c]), cfg.flat.max_categories) for c in categorical}
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
        categories=categories,
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
    for c in spec.extra_numeric:
        data[c] = pd.to_numeric(frame[c], errors="coerce").astype("float32")
    for c in spec.extra_categorical:
        data[c] = categorise(_norm(frame[c]), spec.categories[c])
    return pd.DataFrame(data, index=frame.index)


def pick_id_column(frame: pd.DataFrame, cfg: Config, given: str | None) -> str:
    col = (
        given
        or cfg.flat.id_column
        or ("lead_id" if "lead_id" in frame.columns else frame.columns[0])
    )
    if col not in frame.columns:
        raise DataError(f"flat file: id column {col!r} not found ({len(frame)} rows)")
    return col


def prepare_flat(
    frame: pd.DataFrame,
    cfg: Config,
    label: str,
    id_column: str | None = None,
    date_column: str | None = None,
) -> FlatData:
    """Clean the export, parse the label, fit the spec; the training table for flat mode."""
    if label not in frame.columns:
        raise DataError(
            f"flat file: label column {label!r} not found ({len(frame)} rows; columns: {', '.join(map(str, frame.columns[:12]))})"
        )
    id_col = pick_id_column(frame, cfg, id_column)
    date_col = date_column or cfg.flat.date_column
    if date_col and date_col not in frame.columns:
        raise DataError(f"flat file: date column {date_col!r} not found ({len(frame)} rows)")
    keep = [id_col, label] + ([date_col] if date_col else [])
    cleaned, report = clean_flat(frame, cfg.flat, keep)

    y, ok = parse_label(cleaned[label], label)
    dropped = int((~ok).sum())
    if dropped:
        report.add("label", label, dropped, f"{dropped} rows with an unreadable label dropped")
    cleaned = cleaned[ok].reset_index(drop=True)
    y = y[ok]
    if len(cleaned) == 0:
        raise DataError(
            f"flat file: column {label!r} has no readable label (0/1, true/false, yes/no) in {len(frame)} rows"
        )
    if cleaned[id_col].duplicated().any():
        n = int(cleaned[id_col].duplicated().sum())
        raise DataError(f"flat file: column {id_col!r} repeats {n} id(s); ids must be unique")

    features = [c for c in cleaned.columns if c not in keep]
    spec = fit_flat_spec(cleaned, features, cfg)
    table = pd.concat(
        [
            pd.DataFrame({"lead_id": cleaned[id_col].astype("string").to_numpy(), "label": y}),
            *(
                [
                    pd.DataFrame(
                        {
                            "as_of": pd.to_datetime(
                                cleaned[date_col], utc=True, errors="coerce"
                            ).to_numpy()
                        }
                    )
                ]
                if date_col
                else []
            ),
            flat_features(cleaned, spec).reset_index(drop=True),
        ],
        axis=1,
    )
    return FlatData(table, spec, id_col, report, dropped)


def flat_roles(
    y: np.ndarray, dates: pd.Series | None, cfg: Config
) -> tuple[pd.Series, pd.Series, str]:
    """Row roles for flat mode: by date when given (out of time), else stratified at random."""
    f = cfg.flat
    n = len(y)
    role = np.empty(n, dtype=object)
    if dates is not None:
        if dates.isna().any():
            raise DataError(
                f"flat file: date column has {int(dates.isna().sum())} missing or unparseable values ({n} rows)"
            )
        order = np.argsort(dates.to_numpy(), kind="stable")
        cuts = np.cumsum(
            [
                1 - f.test_fraction - f.calibration_fraction - f.early_stopping_fraction,
                f.early_stopping_fraction,
                f.calibration_fraction,
            ]
        )
        edges = (cuts * n).astype(int)
        names = np.array(["train", "early_stopping", "calibration", "test"])
        role[order] = names[np.searchsorted(edges, np.arange(n), side="right")]
        period = pd.Series(pd.to_datetime(dates).dt.to_period("M").astype(str).to_numpy())
        how = "out of time: the latest rows by date are calibration and test"
    else:
        from sklearn.model_selection import train_test_split

        idx = np.arange(n)
        rest, test = train_test_split(
            idx, test_size=f.test_fraction, stratify=y, random_state=cfg.model.seed
        )
        rest, cal = train_test_split(
            rest,
            test_size=f.calibration_fraction / (1 - f.test_fraction),
            stratify=y[rest],
            random_state=cfg.model.seed,
        )
        frac = f.early_stopping_fraction / (1 - f.test_fraction - f.calibration_fraction)
        train, es = train_test_split(
            rest, test_size=frac, stratify=y[rest], random_state=cfg.model.seed
        )
        for name, rows in (
            ("train", train),
            ("early_stopping", es),
            ("calibration", cal),
            ("test", test),
        ):
            role[rows] = name
        # No time: calibration's two halves and the capacity table's "period" are random folds.
        period = pd.Series(
            np.where(np.random.default_rng(cfg.model.seed).random(n) < 0.5, "fold-a", "fold-b")
        )
        how = "stratified at random (the file has no date column): not an out-of-time estimate"
    return pd.Series(role), period, how


def train_flat(
    path: str | Path,
    label: str,
    cfg: Config,
    *,
    date_column: str | None,
    id_column: str | None,
    say,
) -> RunSummary:
    """``leadscore train --flat FILE --label COLUMN``: clean, split, fit, evaluate, track.

    The flat counterpart of ``run.train_events``, step by step; the champion check scores
    the same test rows with the champion's own spec.
    """
    raw = read_frame(path)
    data = prepare_flat(raw, cfg, label, id_column, date_column)
    table = data.table
    for line in data.report.text():
        say(f"  clean: {line}")
    dates = table["as_of"] if "as_of" in table.columns else None
    role, period, how = flat_roles(table["label"].to_numpy(), dates, cfg)
    say(
        f"flat table: {len(table):,} rows, {len(data.spec.feature_columns)} features, {int(table['label'].sum()):,} positives; split {how}"
    )
    result = fit_and_evaluate(table, role, period, data.spec, cfg, {"method": how})
    result.notes.extend(data.report.text())
    for note in result.notes:
        say(f"  note: {note}")
    say(comparison_text(result))
    test = (role == "test").to_numpy()

    def champion_scores(champ: LeadScorer) -> np.ndarray:
        return champ.predict_proba(
            flat_features(data.table[test].reset_index(drop=True), champ.spec)
            if champ.spec.kind == "flat"
            else table[test]
        )

    flat_cfg = cfg.model_copy(
        update={
            "tracking": cfg.tracking.model_copy(
                update={
                    "registered_model_name": cfg.tracking.registered_model_name
                    + cfg.flat.registry_suffix
                }
            )
        }
    )
    params = {
        "mode": "flat",
        "file": str(path),
        "label": label,
        "id_column": data.id_column,
        "split": how,
        "n_features": len(data.spec.feature_columns),
        **{f"lgb.{k}": v for k, v in cfg.model.params.items()},
        "seed": cfg.model.seed,
    }
    summary = track(
        result,
        flat_cfg,
        params=params,
        data_fingerprint=fingerprint({"flat": raw}),
        example=table[data.spec.feature_columns].head(5),
        settings=ModelSettings.for_flat(cfg, data.id_column, label),
        champion_scores=champion_scores,
        say=say,
    )
    return summary
