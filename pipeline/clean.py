"""Messy-data rules for flat CRM exports, driven by config and counted.

Each rule is general code; the config says where it applies. Every run reports how many
values or rows each rule touched, so nothing changes silently.

Order: exclude listed columns -> placeholders to missing -> value mapping -> drop constant
columns -> drop rows that repeat another row apart from their id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from pipeline.config import FlatConfig


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


def clean_flat(frame: pd.DataFrame, cfg: FlatConfig, keep: list[str]) -> tuple[pd.DataFrame, CleanReport]:
    """Apply the cleaning rules to a flat export; ``keep`` columns (id, label, date) are never dropped."""
    report = CleanReport()
    out = frame.copy()

    for col in cfg.exclude:
        if col in out.columns and col not in keep:
            out = out.drop(columns=col)
            report.add("exclude", col, len(frame), "excluded by config (not known for a new lead)")

    placeholders = {p.strip().lower() for p in cfg.placeholders}
    if placeholders:
        for col in out.columns:
            if col in keep or not (out[col].dtype == object or pd.api.types.is_string_dtype(out[col])):
                continue
            hit = _lower(out[col]).isin(placeholders).fillna(False).to_numpy(dtype=bool)
            if hit.any():
                out.loc[hit, col] = pd.NA
                report.add("placeholder", col, hit.sum(), f"{int(hit.sum())} placeholder values set to missing")

    for col, mapping in cfg.value_map.items():
        if col not in out.columns:
            report.add("value_map", col, 0, "column not in the file; mapping skipped")
            continue
        table = {str(k).strip().lower(): v for k, v in mapping.items()}
        low = _lower(out[col])
        hit = low.isin(table.keys()).fillna(False).to_numpy(dtype=bool)
        out.loc[hit, col] = low[hit].map(table).to_numpy()
        report.add("value_map", col, hit.sum(), f"{int(hit.sum())} values normalised by the mapping")

    if cfg.drop_constant:
        for col in list(out.columns):
            if col in keep:
                continue
            distinct = out[col].nunique(dropna=True)
            if distinct <= 1:
                out = out.drop(columns=col)
                report.add("constant", col, len(frame), f"dropped: {'no values' if distinct == 0 else 'a single value'}")

    if cfg.duplicates == "drop":
        id_cols = [c for c in keep[:1] if c in out.columns]
        body = [c for c in out.columns if c not in id_cols]
        dup = out.duplicated(subset=body, keep="first").to_numpy()
        if dup.any():
            out = out[~dup]
            report.add("duplicates", "(row)", dup.sum(), f"{int(dup.sum())} rows repeat an earlier row apart from the id: dropped (first kept)")
    return out.reset_index(drop=True), report
