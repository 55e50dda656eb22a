"""The rule-based points model: what a marketer's spreadsheet does, from config alone.

Points for fit (explicit attributes), for engagement (decayed event counts, capped per
type) and off for negative signs; the sum clipped to ``[0, max_points]`` and scaled to
0-100; a fit grade A-F from the fit points alone; MQL / SQL status from the score.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from leadscore.config import BaselineConfig, PointsRule

NOT_QUALIFIED = "nurture"


def _value_points(col: pd.Series, rule: PointsRule) -> np.ndarray:
    """A ``values`` or ``not_in`` rule's points for each value of ``col``."""
    key = col.astype("object").astype("string").str.lower()
    if rule.values is not None:
        table = {str(k).lower(): float(v) for k, v in rule.values.items()}
        return key.map(table).astype("float64").fillna(0.0).to_numpy()
    allowed = {str(v).lower() for v in rule.not_in or ()}
    # A missing value is not evidence of the wrong market: no penalty.
    outside = key.notna() & ~key.isin(allowed) & (key != "missing")
    return np.where(outside.fillna(False).to_numpy(dtype=bool), float(rule.points), 0.0)


@lru_cache(maxsize=256)
def _level_points(rule: str, levels: tuple) -> np.ndarray:
    """A rule's points per level, and 0 last (taken by code -1); kept per model's levels,
    so a server pricing one lead at a time does it once."""
    per_level = _value_points(
        pd.Series(levels, dtype="object"), PointsRule.model_validate_json(rule)
    )
    out = np.append(per_level, 0.0)
    out.flags.writeable = False  # shared between calls
    return out


def rule_points(frame: pd.DataFrame, rule: PointsRule) -> np.ndarray:
    """Points one rule gives each row (0 where the value is missing or unmatched)."""
    col = frame[rule.column]
    if rule.values is not None or rule.not_in is not None:
        if isinstance(col.dtype, pd.CategoricalDtype):
            # Each level once, then taken by code (a missing value, code -1, earns none).
            levels = tuple(col.cat.categories)
            per_level = _level_points(rule.model_dump_json(), levels)
            return per_level[col.cat.codes.to_numpy()]
        return _value_points(col, rule)
    values = pd.to_numeric(col, errors="coerce").astype("float64").to_numpy()
    if rule.bands is not None:
        bands = sorted(rule.bands)
        lows = np.array([b[0] for b in bands])
        pts = np.array([b[1] for b in bands], dtype="float64")
        idx = np.searchsorted(lows, np.nan_to_num(values, nan=-np.inf), side="right") - 1
        out = np.where(idx >= 0, pts[np.clip(idx, 0, len(pts) - 1)], 0.0)
        return np.where(np.isnan(values), 0.0, out)
    out = np.nan_to_num(values, nan=0.0) * float(rule.per_unit)
    if rule.cap is not None:
        out = np.clip(out, -rule.cap, rule.cap)
    return out


def missing_columns(columns: list[str] | pd.Index, cfg: BaselineConfig) -> list[str]:
    """Rule columns the table does not have (those rules give no points; the run says so)."""
    have = set(columns)
    return [r.column for r in cfg.rules if r.column not in have]


def unnamed_event_columns(columns: list[str] | pd.Index, cfg: BaselineConfig) -> list[str]:
    """The decayed count columns (``<type>_decayed``) of event types no rule names: a rule
    names a type when its column is one of that type's (starts with ``<type>_``)."""
    named = [r.column for r in cfg.rules]
    out = []
    for c in columns:
        if not c.endswith("_decayed") or c == "engagement_decayed":
            continue
        kind = c.removesuffix("_decayed")
        if not any(n.startswith(f"{kind}_") for n in named):
            out.append(c)
    return out


def rules_for(columns: list[str] | pd.Index, cfg: BaselineConfig) -> list[PointsRule]:
    """The rules that give points on a table with ``columns``: the configured ones whose
    column it has, and ``default_event_points`` on each event type no rule names."""
    have = set(columns)
    rules = [r for r in cfg.rules if r.column in have]
    if cfg.default_event_points:
        rules += [
            PointsRule(
                column=c,
                kind="engagement",
                per_unit=cfg.default_event_points,
                cap=cfg.default_event_cap,
            )
            for c in unnamed_event_columns(columns, cfg)
        ]
    return rules


def fit_grade(fit_points: np.ndarray, grades: dict[str, float]) -> np.ndarray:
    """A-F from fit points: the best grade whose minimum is reached, else F."""
    out = np.full(len(fit_points), "F", dtype=object)
    for grade, minimum in sorted(grades.items(), key=lambda kv: kv[1]):
        out[fit_points >= minimum] = grade
    return out


def qualification(score: np.ndarray, cfg: BaselineConfig) -> np.ndarray:
    """SQL, MQL or nurture, from the 0-100 baseline score."""
    return np.where(
        score >= cfg.sql_threshold,
        "SQL",
        np.where(score >= cfg.mql_threshold, "MQL", NOT_QUALIFIED),
    )


def score_baseline(frame: pd.DataFrame, cfg: BaselineConfig) -> pd.DataFrame:
    """Points, 0-100 score, fit grade and MQL/SQL status for every row of a feature table."""
    n = len(frame)
    parts = {"fit": np.zeros(n), "engagement": np.zeros(n), "negative": np.zeros(n)}
    for rule in rules_for(frame.columns, cfg):
        parts[rule.kind] += rule_points(frame, rule)
    points = parts["fit"] + parts["engagement"] + parts["negative"]
    score = np.clip(points, 0, cfg.max_points) / cfg.max_points * 100.0
    return pd.DataFrame(
        {
            "fit_points": parts["fit"],
            "engagement_points": parts["engagement"],
            "negative_points": parts["negative"],
            "baseline_points": points,
            "baseline_score": np.round(score, 1),
            "fit_grade": fit_grade(parts["fit"], cfg.fit_grades),
            "baseline_tier": qualification(score, cfg),
        },
        index=frame.index,
    )
