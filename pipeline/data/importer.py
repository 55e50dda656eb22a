"""``leadscore import``: CRM exports -> a contract data folder, driven by config, every rule counted.

A CRM export is rarely shaped like the contract: opportunities in one file, accounts in
another, a stage column instead of outcomes, misspelled categories. The ``import:`` section
of a YAML file (its own file, e.g. ``configs/maven_crm.import.yaml``) describes the export;
general code here applies it in a fixed order and counts what every rule touched:

1. ``sources``: read each file (CSV or Parquet) under the source folder.
2. ``placeholders``: listed values (case-insensitive) -> missing, in every text column.
3. ``value_map``: ``{source.column: {raw: normalised}}`` for misspellings and variants.
4. ``joins``: many-to-one left joins onto the ``base`` source (one row per lead) by ``key``
   (``source_key`` when the joined file names it differently); a joined
   source whose key repeats is an error; keys missing or not found are counted.
5. ``drop_rows``: rows that cannot be leads (``missing: true`` or listed ``values``), dropped
   with the stated reason; a row is counted under its first matching rule.
6. ``leads``: columns named ``{output name: joined column}`` (contract names such as
   ``lead_id``, ``created_at``, ``industry``, or any extra attribute), with ``types``
   (number, string, timestamp) and ``scale`` (e.g. revenue in millions -> units).
   Rows without an id or a readable ``created_at`` are dropped; a repeated id keeps the first.
7. ``outcomes``: a status column mapped to ``won`` / ``lost`` / ``open`` values (an unlisted
   status is an error, so a new CRM stage is never guessed); closed rows need a readable
   ``closed_at`` on or after ``created_at`` (else the lead is dropped, counted), open rows get
   no outcome.
8. ``events``: an optional event source (``lead_id``, ``occurred_at``, ``event_type``
   columns); without one the events table is written empty (header only), which the
   contract allows.

The output folder then passes ``leadscore validate`` and feeds ``leadscore train``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, model_validator

from leadscore.config import Strict, describe_error, read_yaml
from leadscore.data.clean import CleanReport, map_values, set_placeholders
from leadscore.data.contract import TABLES, TIMESTAMP_DTYPE
from leadscore.data.files import read_frame, write_table, write_tables
from leadscore.errors import ConfigError, DataError

__all__ = [
    "ImportConfig",
    "ImportResult",
    "import_tables",
    "load_import_config",
    "run_import",
    "write_import",
]

# --------------------------------------------------------------------------- config schema


class SourceSpec(Strict):
    file: str


class JoinSpec(Strict):
    # (not "on": YAML 1.1 reads a bare ``on`` key as true)
    source: str
    key: str  # column of the rows joined so far
    source_key: str | None = None  # column of the joined source (default: the same name)


class DropRule(Strict):
    column: str
    missing: bool = False
    values: list[str] | None = None
    reason: str

    @model_validator(mode="after")
    def _one_way(self) -> DropRule:
        if self.missing == (self.values is not None):
            raise ValueError(
                f"drop rule for column '{self.column}' needs exactly one of missing: true or values"
            )
        return self


class LeadsSpec(Strict):
    columns: dict[str, str]
    types: dict[str, Literal["number", "string", "timestamp"]] = Field(default_factory=dict)
    scale: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _required(self) -> LeadsSpec:
        missing = [c for c in ("lead_id", "created_at") if c not in self.columns]
        if missing:
            raise ValueError(f"leads.columns must name {', '.join(missing)}")
        return self


class OutcomeSpec(Strict):
    status: str
    won: list[str]
    lost: list[str]
    open: list[str] = Field(default_factory=list)
    closed_at: str
    amount: str | None = None


class EventSpec(Strict):
    source: str
    lead_id: str
    occurred_at: str
    event_type: str


class ImportConfig(Strict):
    sources: dict[str, SourceSpec]
    base: str
    placeholders: list[str] = Field(default_factory=list)
    value_map: dict[str, dict[str, str]] = Field(default_factory=dict)
    joins: list[JoinSpec] = Field(default_factory=list)
    drop_rows: list[DropRule] = Field(default_factory=list)
    leads: LeadsSpec
    outcomes: OutcomeSpec | None = None
    events: EventSpec | None = None

    @model_validator(mode="after")
    def _known_sources(self) -> ImportConfig:
        named = [self.base, *(j.source for j in self.joins)]
        named += [self.events.source] if self.events else []
        named += [k.split(".", 1)[0] for k in self.value_map]
        unknown = sorted({n for n in named if n not in self.sources})
        if unknown:
            raise ValueError(f"source(s) {', '.join(map(repr, unknown))} not listed under sources")
        bad = [k for k in self.value_map if "." not in k]
        if bad:
            raise ValueError(f"value_map keys are source.column, got {bad[0]!r}")
        return self


def load_import_config(config: dict[str, Any] | str | Path | ImportConfig) -> ImportConfig:
    """An :class:`ImportConfig` from a dict or a YAML file (the section may sit under ``import:``)."""
    if isinstance(config, ImportConfig):
        return config
    if isinstance(config, (str, Path)):
        raw = read_yaml(config, "import config file")
    else:
        raw = config
    if isinstance(raw, dict) and "import" in raw:
        raw = raw["import"]
    if not isinstance(raw, dict):
        raise ConfigError("import config must be a YAML mapping (optionally under 'import:')")
    try:
        return ImportConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(describe_error(err, "import config")) from None


# --------------------------------------------------------------------------- the import


@dataclass
class ImportResult:
    tables: dict[str, pd.DataFrame]  # leads, events, outcomes
    report: CleanReport
    rows_in: int  # rows of the base source

    def summary(self) -> str:
        sizes = ", ".join(f"{n} {len(self.tables[n]):,}" for n in TABLES)
        return f"imported {self.rows_in:,} source rows -> {sizes}"


def _read_source(source_dir: Path, name: str, spec: SourceSpec) -> pd.DataFrame:
    path = source_dir / spec.file
    if not path.is_file():
        raise DataError(f"import: source {name!r}: file {path} does not exist")
    frame = read_frame(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _need(frame: pd.DataFrame, column: str, where: str) -> None:
    if column not in frame.columns:
        cols = ", ".join(map(str, frame.columns[:12]))
        raise DataError(
            f"import: {where}: column {column!r} not found ({len(frame)} rows; columns: {cols})"
        )


def _example(values: pd.Series) -> str:
    top = values.value_counts().head(3)
    return ", ".join(f"{v!r} x{n}" for v, n in top.items())


def _join(
    base: pd.DataFrame, other: pd.DataFrame, join: JoinSpec, report: CleanReport
) -> pd.DataFrame:
    key = join.source_key or join.key
    _need(base, join.key, f"join {join.source}")
    _need(other, key, f"source {join.source}")
    keys = other[key].astype("string").str.strip()
    dup = keys.dropna().duplicated()
    if dup.any():
        raise DataError(
            f"import: join {join.source}: key {key!r} repeats {int(dup.sum())} value(s) "
            f"(e.g. {keys.dropna()[dup.to_numpy()].iloc[0]!r}); a joined source needs one row per key"
        )
    right = other.drop(columns=[key]).copy()
    clash = [c for c in right.columns if c in base.columns]
    right = right.rename(columns={c: f"{join.source}.{c}" for c in clash})
    right.insert(0, "__key", keys.to_numpy())
    right = right[keys.notna().to_numpy()]  # a blank key matches nothing (pandas would pair NaNs)
    left_key = base[join.key].astype("string").str.strip()
    merged = base.assign(__key=left_key.to_numpy()).merge(right, on="__key", how="left")
    merged = merged.drop(columns="__key")
    missing = left_key.isna().to_numpy()
    unmatched = ~missing & ~left_key.isin(set(keys.dropna())).fillna(False).to_numpy(dtype=bool)
    report.add(
        "join",
        f"{join.source} on {join.key}",
        int((~missing & ~unmatched).sum()),
        f"{int((~missing & ~unmatched).sum())} rows matched, {int(missing.sum())} have no "
        f"{join.key}, {int(unmatched.sum())} name one not in {join.source}"
        + (f" ({_example(left_key[unmatched])})" if unmatched.any() else ""),
    )
    if clash:
        report.add(
            "join",
            join.source,
            len(clash),
            f"column(s) {', '.join(clash)} also in the rows joined so far: "
            f"named {join.source}.<column>",
        )
    return merged


def _drop(
    frame: pd.DataFrame, mask: np.ndarray, rule: str, column: str, reason: str, report: CleanReport
) -> pd.DataFrame:
    n = int(mask.sum())
    if n:
        report.add(rule, column, n, f"{n} rows dropped: {reason}")
        return frame[~mask].reset_index(drop=True)
    return frame


def _timestamps(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """ISO 8601 text (or datetimes) -> UTC; returns (timestamps, unparseable mask)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        ts = values.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(values):
        ts = values.dt.tz_localize("UTC")
    else:
        text = values.astype("string").str.strip()
        ts = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        bad = (ts.isna() & text.notna()).to_numpy()
        return ts.astype(TIMESTAMP_DTYPE), bad
    return ts.astype(TIMESTAMP_DTYPE), np.zeros(len(values), bool)


def _numbers(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    num = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = (num.isna() & values.notna()).to_numpy()
    return num, bad


def _lowered(values: list[str]) -> set[str]:
    return {str(v).strip().lower() for v in values}


def import_tables(
    config: dict[str, Any] | str | Path | ImportConfig,
    source_dir: str | Path,
    report: CleanReport | None = None,
) -> dict[str, pd.DataFrame]:
    """The contract tables (leads, events, outcomes) built from a CRM export by ``config``.

    ``report``, when given, receives one line per rule with the count it touched.
    """
    return run_import(config, source_dir, report=report).tables


def run_import(
    config: dict[str, Any] | str | Path | ImportConfig,
    source_dir: str | Path,
    report: CleanReport | None = None,
) -> ImportResult:
    """Like :func:`import_tables`, returning the tables with the report and row counts."""
    cfg = load_import_config(config)
    report = report if report is not None else CleanReport()
    src = Path(source_dir)
    if not src.is_dir():
        raise DataError(f"import: source folder {src} does not exist")
    frames = _read_sources(src, cfg, report)
    _value_rules(frames, cfg, report)
    rows = frames[cfg.base].copy()
    rows_in = len(rows)
    for join in cfg.joins:
        rows = _join(rows, frames[join.source], join, report)
    rows = _drop_rows(rows, cfg.drop_rows, report)
    leads, kept = _leads(rows, cfg.leads, report)
    outcomes = _empty_outcomes(cfg.outcomes is not None and cfg.outcomes.amount is not None)
    if cfg.outcomes is not None:
        outcomes = _outcomes(
            rows, leads, cfg.outcomes, cfg.leads.columns["created_at"], kept, report
        )
    leads = leads[kept.keep].reset_index(drop=True)
    leads["created_at"] = leads["created_at"].astype(TIMESTAMP_DTYPE)
    if cfg.events is not None:
        events = _events(frames[cfg.events.source], cfg.events, leads, report)
    else:
        events = _empty_events()
        report.add("events", "(table)", 0, "no event source: events written empty (header only)")
    report.add(
        "leads",
        "(table)",
        len(leads),
        f"{len(leads):,} of {rows_in:,} {cfg.base} rows became leads ({rows_in - len(leads):,} dropped above)",
    )
    return ImportResult({"leads": leads, "events": events, "outcomes": outcomes}, report, rows_in)


def _read_sources(src: Path, cfg: ImportConfig, report: CleanReport) -> dict[str, pd.DataFrame]:
    """1. Every source file, read as it is."""
    frames = {name: _read_source(src, name, spec) for name, spec in cfg.sources.items()}
    for name, frame in frames.items():
        report.add("read", name, len(frame), f"{len(frame):,} rows from {cfg.sources[name].file}")
    return frames


def _value_rules(frames: dict[str, pd.DataFrame], cfg: ImportConfig, report: CleanReport) -> None:
    """2-3. Placeholders to missing in every text column, then the value mappings, in place."""
    for name, frame in frames.items():
        for col in frame.columns:
            frame[col], n = set_placeholders(frame[col], cfg.placeholders)
            if n:
                report.add(
                    "placeholder", f"{name}.{col}", n, f"{n} placeholder values set to missing"
                )
    for target, mapping in cfg.value_map.items():
        name, col = target.split(".", 1)
        _need(frames[name], col, f"value_map {target}")
        frames[name][col], n = map_values(frames[name][col], mapping)
        report.add("value_map", target, n, f"{n} values normalised by the mapping")


def _drop_rows(rows: pd.DataFrame, rules: list[DropRule], report: CleanReport) -> pd.DataFrame:
    """5. Rows that cannot be leads, each counted under its first matching rule."""
    for rule in rules:
        _need(rows, rule.column, "drop_rows")
        if rule.missing:
            mask = rows[rule.column].isna().to_numpy()
            what = f"{rule.column} missing"
        else:
            mask = (
                rows[rule.column]
                .astype("string")
                .str.strip()
                .str.lower()
                .isin(_lowered(rule.values or []))
                .fillna(False)
                .to_numpy(dtype=bool)
            )
            what = f"{rule.column} in {rule.values}"
        rows = _drop(rows, mask, "drop", rule.column, f"{what}: {rule.reason}", report)
    return rows


class _Kept:
    """Which lead rows survive; a row is dropped (and counted) by the first rule that hits it."""

    def __init__(self, n: int, report: CleanReport) -> None:
        self.keep = np.ones(n, bool)
        self.report = report

    def drop(self, mask: np.ndarray, column: str, reason: str) -> None:
        new = mask & self.keep
        if new.any():
            self.report.add(
                "drop", column, int(new.sum()), f"{int(new.sum())} rows dropped: {reason}"
            )
            self.keep[new] = False


def _leads(rows: pd.DataFrame, spec: LeadsSpec, report: CleanReport) -> tuple[pd.DataFrame, _Kept]:
    """6. Leads: renamed, typed, scaled; rows without an id or creation date dropped."""
    for out_col, col in spec.columns.items():
        _need(rows, col, f"leads.columns.{out_col}")
    leads = pd.DataFrame({out: rows[col].to_numpy() for out, col in spec.columns.items()})
    leads["lead_id"] = leads["lead_id"].astype("string").str.strip()
    leads["created_at"], bad = _timestamps(leads["created_at"])
    kept = _Kept(len(leads), report)
    created = spec.columns["created_at"]
    kept.drop(leads["lead_id"].isna().to_numpy(), "lead_id", "no lead id")
    kept.drop(bad, "created_at", f"unreadable {created} (not ISO 8601)")
    kept.drop(leads["created_at"].isna().to_numpy(), "created_at", f"no {created}")
    dup = np.zeros(len(leads), bool)
    dup[kept.keep] = leads["lead_id"][kept.keep].duplicated(keep="first").to_numpy()
    kept.drop(dup, "lead_id", "repeats an earlier lead id (first kept)")
    _lead_types(leads, spec, kept, report)
    return leads, kept


def _lead_types(leads: pd.DataFrame, spec: LeadsSpec, kept: _Kept, report: CleanReport) -> None:
    for col, kind in spec.types.items():
        if col not in leads.columns:
            raise DataError(f"import: leads.types names {col!r}, not a column of leads.columns")
        if kind == "number":
            leads[col], bad = _numbers(leads[col])
        elif kind == "timestamp":
            leads[col], bad = _timestamps(leads[col])
        else:
            leads[col] = leads[col].astype("string")
            bad = np.zeros(len(leads), bool)
        if bad[kept.keep].any():
            n = int(bad[kept.keep].sum())
            report.add("type", col, n, f"{n} values not readable as {kind}: set to missing")
    for col, factor in spec.scale.items():
        if col not in leads.columns:
            raise DataError(f"import: leads.scale names {col!r}, not a column of leads.columns")
        number, _ = _numbers(leads[col])
        leads[col] = number * float(factor)
        n = int(number[kept.keep].notna().sum())
        report.add("scale", col, n, f"{n} values multiplied by {factor:g}")


def _status(rows: pd.DataFrame, o: OutcomeSpec, kept: _Kept) -> tuple[np.ndarray, ...]:
    """Won, lost and open masks from the status column; an unlisted status is an error."""
    status = rows[o.status].astype("string").str.strip()
    low = status.str.lower()
    won, lost, still_open = _lowered(o.won), _lowered(o.lost), _lowered(o.open)
    overlap = (won & lost) | (won & still_open) | (lost & still_open)
    if overlap:
        raise ConfigError(f"import config: status value(s) {sorted(overlap)} listed twice")
    masks = tuple(low.isin(v).fillna(False).to_numpy(dtype=bool) for v in (won, lost, still_open))
    unknown = kept.keep & ~(masks[0] | masks[1] | masks[2])
    if unknown.any():
        raise DataError(
            f"import: {o.status}: {int(unknown.sum())} rows have a status not listed under "
            f"outcomes won / lost / open ({_example(status[unknown].fillna('<missing>'))}); "
            "list each status so none is guessed"
        )
    return masks


def _outcomes(
    rows: pd.DataFrame,
    leads: pd.DataFrame,
    o: OutcomeSpec,
    created: str,
    kept: _Kept,
    report: CleanReport,
) -> pd.DataFrame:
    """7. Outcomes from the status column; a closed row needs a readable date after creation.

    ``created``: the source column the leads' creation time came from (named in messages).
    """
    for col in (o.status, o.closed_at, *([o.amount] if o.amount else [])):
        _need(rows, col, "outcomes")
    is_won, is_lost, is_open = _status(rows, o, kept)
    closed = is_won | is_lost
    closed_at, bad = _timestamps(rows[o.closed_at])
    kept.drop(
        closed & (bad | closed_at.isna().to_numpy()),
        "closed_at",
        f"closed ({o.status} won/lost) without a readable {o.closed_at}: the outcome cannot be placed in time",
    )
    early = closed & (closed_at < leads["created_at"]).fillna(False).to_numpy(dtype=bool)
    kept.drop(early, "closed_at", f"{o.closed_at} before {created}")
    open_dated = kept.keep & is_open & closed_at.notna().to_numpy()
    if open_dated.any():
        n = int(open_dated.sum())
        report.add(
            "outcome", o.closed_at, n, f"{n} open rows carry a {o.closed_at}: ignored (no outcome)"
        )
    take = kept.keep & closed
    outcomes = pd.DataFrame(
        {
            "lead_id": leads["lead_id"][take].to_numpy(),
            "closed_at": closed_at[take].to_numpy(),
            "won": is_won[take],
        }
    )
    outcomes["closed_at"] = outcomes["closed_at"].astype(TIMESTAMP_DTYPE)
    if o.amount:
        amount, bad = _numbers(rows[o.amount])
        outcomes["amount"] = amount[take].to_numpy()
        if bad[take].any():
            n = int(bad[take].sum())
            report.add("type", o.amount, n, f"{n} amounts not readable as numbers: set to missing")
    counts = rows[o.status].astype("string").str.strip()[kept.keep].value_counts()
    k = kept.keep
    report.add(
        "status",
        o.status,
        int(take.sum()),
        f"won {int((k & is_won).sum()):,}, lost {int((k & is_lost).sum()):,}, "
        f"open {int((k & is_open).sum()):,} (no outcome) of {int(k.sum()):,} leads; "
        + ", ".join(f"{key} {v:,}" for key, v in counts.items()),
    )
    return outcomes


def _events(
    frame: pd.DataFrame, e: EventSpec, leads: pd.DataFrame, report: CleanReport
) -> pd.DataFrame:
    """8. Events from their source: unreadable times and unknown leads dropped, counted."""
    for col in (e.lead_id, e.occurred_at, e.event_type):
        _need(frame, col, f"events source {e.source}")
    occurred, bad = _timestamps(frame[e.occurred_at])
    events = pd.DataFrame(
        {
            "lead_id": frame[e.lead_id].astype("string").str.strip().to_numpy(),
            "occurred_at": occurred.to_numpy(),
            "event_type": frame[e.event_type].astype("string").str.strip().to_numpy(),
        }
    )
    events["occurred_at"] = events["occurred_at"].astype(TIMESTAMP_DTYPE)
    events = _drop(events, bad, "events", e.occurred_at, "unreadable timestamp", report)
    known = events["lead_id"].isin(set(leads["lead_id"])).fillna(False).to_numpy(dtype=bool)
    return _drop(events, ~known, "events", e.lead_id, "lead not among the imported leads", report)


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": pd.Series([], dtype="string"),
            "occurred_at": pd.Series([], dtype=TIMESTAMP_DTYPE),
            "event_type": pd.Series([], dtype="string"),
        }
    )


def _empty_outcomes(amount: bool) -> pd.DataFrame:
    cols = {
        "lead_id": pd.Series([], dtype="string"),
        "closed_at": pd.Series([], dtype=TIMESTAMP_DTYPE),
        "won": pd.Series([], dtype="bool"),
    }
    if amount:
        cols["amount"] = pd.Series([], dtype="float64")
    return pd.DataFrame(cols)


def write_import(
    tables: dict[str, pd.DataFrame],
    out_dir: str | Path,
    fmt: str = "parquet",
    report: CleanReport | None = None,
) -> dict[str, Path]:
    """Write the contract tables (and ``import_report.csv``) atomically into ``out_dir``."""
    paths = write_tables({name: tables[name] for name in TABLES}, out_dir, fmt)
    if report is not None:
        paths["import_report"] = write_table(report.frame(), Path(out_dir) / "import_report.csv")
    return paths
