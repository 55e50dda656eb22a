"""Messy-data rules for flat CRM exports, driven by config and counted.

Each rule is general code; the config says where it applies. Every run reports how many
values or rows each rule touched, so nothing changes silently.

Order: exclude listed columns -> placeholders to missing -> value mapping -> drop constant
columns -> rows that repeat another row apart from their id (dropped, or kept and counted).

Duplicates are looked for after the value rules, so rows that differ only in a placeholder
("Select" vs blank), in case or in a mapped spelling count as the same row (near-duplicates).
A value mapping counts the values it actually changed (a value already spelled as the target
is not counted). :func:`set_placeholders` and :func:`map_values` are the same rules for one
column, shared with the config-driven importer (:mod:`leadscore.data.importer`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leadscore.config import FlatConfig


@dataclass
class CleanReport:
    """What each rule did: (rule, column, count, note) lines."""

    lines: list[dict] = field(default_factory=list)

    def add(self, rule: str, column: str, count: int, note: str) -> None:
        self.lines.append({"rule": rule, "column": column, "count": int(count), "note": note})

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.lines, columns=["rule", "column", "count", "note"])

    def text(self) -> list[str]:
        return [f"{r['rule']}: {r['column']}: {r['note']}" for r in self.lines]


def _lower(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip().str.lower()


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s)


def set_placeholders(
    values: pd.Series, placeholders: list[str] | set[str]
) -> tuple[pd.Series, int]:
    """Placeholder values (case-insensitive, trimmed) -> missing; returns (values, how many)."""
    marks = {str(p).strip().lower() for p in placeholders}
    if not marks or not _is_text(values):
        return values, 0
    hit = _lower(values).isin(marks).fillna(False).to_numpy(dtype=bool)
    if not hit.any():
        return values, 0
    out = values.copy()
    out[hit] = pd.NA
    return out, int(hit.sum())


def map_values(values: pd.Series, mapping: dict) -> tuple[pd.Series, int]:
    """Normalise values by ``{raw: normalised}`` (raw matched trimmed and case-insensitive).

    Returns (values, how many values changed); a value already equal to its target is not
    counted, so ``{google: Google}`` counts the lower-case spellings only.
    """
    table = {str(k).strip().lower(): v for k, v in mapping.items()}
    low = _lower(values)
    hit = low.isin(table.keys()).fillna(False).to_numpy(dtype=bool)
    if not hit.any():
        return values, 0
    new = low[hit].map(table)
    changed = int((values[hit].astype("string") != new.astype("string")).fillna(True).sum())
    text_targets = all(isinstance(v, str) for v in table.values())
    out = values.copy() if text_targets and _is_text(values) else values.astype("object")
    out[hit] = new.to_numpy()
    return out, changed


def clean_flat(
    frame: pd.DataFrame, cfg: FlatConfig, keep: list[str]
) -> tuple[pd.DataFrame, CleanReport]:
    """Apply the cleaning rules to a flat export; ``keep`` columns (id, label, date) are never dropped.

    The rules run in the order the config documents, one after another, each counted.
    """
    report = CleanReport()
    out = frame.copy()

    for col in cfg.exclude:
        if col in out.columns and col not in keep:
            out = out.drop(columns=col)
            report.add("exclude", col, len(frame), "excluded by config (not known for a new lead)")

    if cfg.placeholders:
        for col in out.columns:
            if col in keep:
                continue
            values, n = set_placeholders(out[col], cfg.placeholders)
            if n:
                out[col] = values
                report.add("placeholder", col, n, f"{n} placeholder values set to missing")

    for col, mapping in cfg.value_map.items():
        if col not in out.columns:
            report.add("value_map", col, 0, "column not in the file; mapping skipped")
            continue
        out[col], n = map_values(out[col], mapping)
        report.add("value_map", col, n, f"{n} values normalised by the mapping")

    if cfg.drop_constant:
        for col in list(out.columns):
            if col in keep:
                continue
            distinct = out[col].nunique(dropna=True)
            if distinct <= 1:
                out = out.drop(columns=col)
                report.add(
                    "constant",
                    col,
                    len(frame),
                    f"dropped: {'no values' if distinct == 0 else 'a single value'}",
                )

    id_cols = [c for c in keep[:1] if c in out.columns]
    body = [c for c in out.columns if c not in id_cols]
    dup = out.duplicated(subset=body, keep="first").to_numpy() if body else np.zeros(len(out), bool)
    if dup.any() and cfg.duplicates == "drop":
        out = out[~dup]
        report.add(
            "duplicates",
            "(row)",
            dup.sum(),
            f"{int(dup.sum())} rows repeat an earlier row apart from the id: dropped (first kept)",
        )
    elif dup.any():
        report.add(
            "duplicates",
            "(row)",
            dup.sum(),
            f"{int(dup.sum())} rows repeat an earlier row apart from the id: kept (duplicates: keep)",
        )
    return out.reset_index(drop=True), report
