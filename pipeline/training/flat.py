"""Flat mode: a CRM export that is already one row per lead with a label column.

Same model, calibration, baseline comparison and tracking as the event pipeline; the
features are the file's own columns (point in time is then the user's care), the split is by
a date column when one is given (out of time), else stratified at random (said plainly).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.config import Config, registered_name
from leadscore.data.clean import CleanReport, clean_flat
from leadscore.data.contract import FALSE_WORDS, TRUE_WORDS
from leadscore.data.files import read_frame
from leadscore.data.fingerprint import fingerprint
from leadscore.errors import DataError
from leadscore.features.flat import fit_flat_spec, flat_features
from leadscore.features.spec import FeatureSpec
from leadscore.model.kind import Scorer
from leadscore.model.settings import ModelSettings
from leadscore.training.fit import train_on_table
from leadscore.training.folds import Plan, row_folds
from leadscore.training.leakage import guard
from leadscore.training.run import RunSummary, comparison_text, track
from leadscore.training.segments import segment_lines
from leadscore.training.slices import slice_lines
from leadscore.training.tournament import tournament_text


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
    """Clean the export, parse the label, fit the spec; the training table for flat mode.

    Its steps (clean, label, id column, spec) share the cleaning report they add to.
    """
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
    repeated = cleaned[id_col].duplicated(keep="first").to_numpy()
    if repeated.any():  # one lead, one row: the first is kept, as the contract keeps leads
        n = int(repeated.sum())
        report.add(
            "duplicate ids", id_col, n, f"{n} rows repeat an earlier id: dropped (first kept)"
        )
        cleaned, y = cleaned[~repeated].reset_index(drop=True), y[~repeated]

    features = [c for c in cleaned.columns if c not in keep]
    spec = fit_flat_spec(
        cleaned,
        features,
        categorical=cfg.flat.categorical,
        numeric=cfg.flat.numeric,
        max_categories=cfg.flat.max_categories,
    )
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


def flat_plan(table: pd.DataFrame, cfg: Config, ordered: bool = False) -> Plan:
    """The backtest's folds for a flat table: by date when it has one, by row position when
    ``ordered``, else stratified at random (said plainly in the plan)."""
    y = table["label"].to_numpy()
    n = len(table)
    if "as_of" in table.columns:
        dates = table["as_of"]
        if dates.isna().any():
            raise DataError(
                f"flat file: date column has {int(dates.isna().sum())} missing or unparseable values ({n} rows)"
            )
        order = np.argsort(dates.to_numpy(), kind="stable")
        return row_folds(n, y, cfg.flat.folds, cfg.flat.test_fraction, order, by="date")
    order = np.arange(n) if ordered else None
    return row_folds(n, y, cfg.flat.folds, cfg.flat.test_fraction, order)


def train_flat(
    path: str | Path,
    label: str,
    cfg: Config,
    *,
    date_column: str | None,
    id_column: str | None,
    ordered: bool = False,
    say: Callable[[str], None],
) -> RunSummary:
    """``leadscore train --flat FILE --label COLUMN``: clean, split, fit, evaluate, track.

    The flat counterpart of ``run.train_events``, step by step; the champion check scores
    the same test rows with the champion's own spec.
    """
    raw = read_frame(path, cfg.io.csv.model_dump())
    data = prepare_flat(raw, cfg, label, id_column, date_column)
    table = data.table
    for line in data.report.text():
        say(f"  clean: {line}")
    plan = flat_plan(table, cfg, ordered)
    say(
        f"flat table: {len(table):,} rows, {len(data.spec.feature_columns)} features, "
        f"{int(table['label'].sum()):,} positives"
    )
    say(f"  {plan.how}")
    table, spec, leakage = guard(table, data.spec, plan, cfg, say)
    result = train_on_table(table, spec, plan, cfg)
    result.leakage = leakage
    for note in result.notes:
        say(f"  note: {note}")
    result.notes.extend(data.report.text())  # printed above as clean: lines; logged with the run
    say(tournament_text(result.tournament))
    say(comparison_text(result))
    for line in slice_lines(result.slices, cfg):
        say(line)
    for line in segment_lines(result.segments, cfg.tracking.promote_metric):
        say(line)

    def champion_scores(champ: Scorer, rows: pd.DataFrame) -> np.ndarray:
        picked = data.table.iloc[rows["row"].to_numpy()].reset_index(drop=True)
        return champ.predict_proba(
            flat_features(picked, champ.spec) if champ.spec.kind == "flat" else picked
        )

    flat_cfg = cfg.model_copy(
        update={
            "tracking": cfg.tracking.model_copy(
                update={"registered_model_name": registered_name(cfg, flat=True)}
            )
        }
    )
    params = {
        "mode": "flat",
        "file": str(path),
        "label": label,
        "id_column": data.id_column,
        "split": plan.how,
        "n_features": len(spec.feature_columns),
        **{f"lgb.{k}": v for k, v in cfg.model.params.items()},
        "seed": cfg.model.seed,
    }
    summary = track(
        result,
        flat_cfg,
        params=params,
        data_fingerprint=fingerprint({"flat": raw}),
        example=table[spec.feature_columns].head(5),
        settings=ModelSettings.for_flat(cfg, data.id_column, label).model_copy(
            update={"tiers": result.tiers or cfg.tiers, "reference": result.reference}
        ),
        champion_scores=champion_scores,
        say=say,
    )
    return summary
