"""Check raw tables against the data contract; return clean typed tables and every problem.

``validate_tables(raw)`` takes the three raw frames (as read by :mod:`leadscore.data.files`: CSV cells
as strings, or Parquet already typed) and returns a :class:`ValidationReport`: the clean
:class:`~leadscore.data.contract.Tables` (or ``None`` when a problem is fatal), a list of
:class:`Problem` (each naming table, column and row count) and the dropped leads rows.
Everything is vectorised (NumPy / Arrow kernels, no Python loop over rows).

Clean output
    * ids (``lead_id``) and ``event_type``: pandas ``str`` dtype, surrounding whitespace
      stripped, a blank cell is missing; ``event_type`` is also folded to one spelling
      (lower-case, runs of other characters to ``_``), so ``"Email Open "``,
      ``"EMAIL-OPEN"`` and ``"email_open"`` are one type. Whole-number float ids from Parquet (``12.0``)
      read as ``"12"``.
    * timestamps: ``datetime64[us, UTC]`` in every table (:data:`TIMESTAMP_DTYPE`). ISO 8601
      text without a zone is UTC, with a zone it is converted to UTC; typed datetimes from
      Parquet are treated the same way (naive = UTC).
    * ``won``: bool. ``employees``, ``annual_revenue``, ``amount``: float64 (NaN = missing).
    * the optional text columns (email, job_title, industry, country, lead_source): ``str``
      dtype, values untouched (feature code normalises case). Any other column is kept as is.
    * index reset to 0..n-1, column order as in the input.

Fatal problems (``tables`` is ``None``; the non-fatal problems are still collected)
    * a table missing from ``raw``; a required column missing (or present twice);
    * the leads table empty, or no leads row left after the row checks.
    An events or outcomes table with 0 rows (a header-only file, or a frame with no columns
    at all) is not fatal: it is a note with ``rows=0`` and the clean table is empty but
    typed. A header that lacks a required column is fatal even with 0 rows.

Rows dropped (non-fatal, counted per reason; a row is counted under its first failing check,
in this order)
    * leads: missing ``lead_id``; missing ``created_at``; unparseable ``created_at``;
      duplicate ``lead_id`` (the first valid occurrence is kept, so a broken first copy does
      not take a good second copy down with it). Every dropped leads row is listed in
      ``rejects``: ``lead_id`` (NA when missing), ``row`` (0-based position among the
      file's data rows, header not counted) and ``reason`` (missing lead_id, missing
      created_at, unparseable created_at, duplicate lead_id).
    * events: missing ``lead_id``; missing / unparseable ``occurred_at``; missing
      ``event_type``; ``lead_id`` not among the kept leads; ``occurred_at`` before the lead's
      ``created_at``.
    * outcomes: missing ``lead_id``; missing / unparseable ``closed_at``; missing /
      unparseable ``won`` (accepted, case-insensitive: true/false, t/f, yes/no, y/n, won/lost,
      1/0 and 1.0/0.0; numbers 1/0; bools); ``lead_id`` not among the kept leads;
      ``closed_at`` before the lead's ``created_at``; several outcomes for one lead: the
      earliest ``closed_at`` is kept (file order breaks ties), the others are dropped.
    For each table ``rows in == kept + dropped`` (see :attr:`ValidationReport.counts`).

Values coerced (non-fatal, counted on kept rows, the row is kept)
    * a non-numeric (or infinite) ``employees`` / ``annual_revenue`` / ``amount`` -> NaN;
    * a negative ``employees`` / ``annual_revenue`` -> NaN (a negative ``amount`` is kept:
      credit notes exist).

Notes (non-fatal, nothing changed)
    * exact duplicate events (same ``lead_id``, ``occurred_at``, ``event_type``) are kept
      and counted (feature code dedupes them when the config says so);
    * event types outside the contract's list are kept and counted (types are open-ended).

Timestamps: "unparseable" means pandas' ISO 8601 parser (``format="ISO8601"``) refuses it
(``31/12/2024``, ``2025-02-30``, ``yesterday``); well-formed text takes a faster Arrow path
that gives the same instants (tested against pandas). Sub-microsecond digits are truncated.

Messages: drops end in ``(dropped)``, coercions in ``(set to NA)``, notes in ``(kept)``;
table-level notes and fatal problems start with ``table``. :meth:`Problem.line` reads
``table.column: message``, or ``table: message`` for those table-level ones (which name
the column inside the message). Problems are listed per table (leads, events, outcomes),
in the order of the checks above.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api import types as ptypes

from leadscore.data.contract import (
    ALL_TABLES,
    FALSE_WORDS,
    KNOWN_EVENT_TYPES,
    OPTIONAL,
    OPTIONAL_TABLES,
    REQUIRED,
    TABLES,
    TRUE_WORDS,
    Tables,
)
from leadscore.errors import DataError
from leadscore.features.spec import event_keys
from leadscore.io.ids import positions

__all__ = [
    "Problem",
    "TableCounts",
    "ValidationReport",
    "require_valid",
    "validate_tables",
]

NON_NEGATIVE = ("employees", "annual_revenue")

_NAT = np.iinfo(np.int64).min
_NAIVE = pa.timestamp("us")
_ZONED = pa.timestamp("us", tz="UTC")
_BLOCK = 1 << 20  # rows per Arrow cast: a bad value sends only its block to pandas
_REJECT_COLUMNS = ("lead_id", "row", "reason")


# --------------------------------------------------------------------------- report types


@dataclass(frozen=True)
class Problem:
    """One finding: which table and column, how many rows, what happened to them."""

    table: str
    column: str | None
    rows: int
    message: str
    fatal: bool

    def line(self) -> str:
        """One line for the user, e.g. ``leads.created_at: 12 rows have ... (dropped)``."""
        if self.column is None or self.message.startswith("table "):
            return f"{self.table}: {self.message}"
        return f"{self.table}.{self.column}: {self.message}"


@dataclass(frozen=True)
class TableCounts:
    """Rows in, kept and dropped for one table (kept/dropped ``None`` when not checked)."""

    rows_in: int
    kept: int | None
    dropped: int | None

    def line(self, table: str) -> str:
        if self.kept is None:
            return f"{table}: {_plural(self.rows_in, 'row')} in, not checked"
        return (
            f"{table}: {_plural(self.rows_in, 'row')} in, {self.kept} kept, {self.dropped} dropped"
        )


@dataclass(frozen=True, eq=False)
class ValidationReport:
    """The outcome of :func:`validate_tables`."""

    tables: Tables | None
    problems: list[Problem]
    rejects: pd.DataFrame
    counts: dict[str, TableCounts] = field(default_factory=dict)

    @property
    def fatal(self) -> list[Problem]:
        return [p for p in self.problems if p.fatal]

    def summary(self) -> str:
        lines = [self.counts[name].line(name) for name in ALL_TABLES if name in self.counts]
        n_fatal = len(self.fatal)
        if not self.problems:
            lines.append("no problems")
        else:
            lines.append(f"{_plural(len(self.problems), 'problem')} ({n_fatal} fatal):")
            lines += [f"  {'FATAL ' if p.fatal else ''}{p.line()}" for p in self.problems]
        return "\n".join(lines)


# --------------------------------------------------------------------------- public API


def validate_tables(raw: dict[str, pd.DataFrame]) -> ValidationReport:
    """Check ``raw`` (``{"leads": ..., "events": ..., "outcomes": ...}``) against the contract.

    The input frames are not modified. See the module docstring for the rules.
    """
    problems: list[Problem] = []
    counts: dict[str, TableCounts] = {}
    frames = {name: _prepare(name, raw.get(name), problems) for name in TABLES}

    leads = rejects = None
    if frames["leads"] is not None:
        leads, rejects, counts["leads"] = _check_leads(frames["leads"], problems)
    elif isinstance(raw.get("leads"), pd.DataFrame):
        counts["leads"] = TableCounts(len(raw["leads"]), None, None)
    ref = _LeadRef(leads) if leads is not None and len(leads) else None

    clean: dict[str, pd.DataFrame | None] = {"leads": leads if ref is not None else None}
    optional = [name for name in OPTIONAL_TABLES if raw.get(name) is not None]
    frames |= {name: _prepare(name, raw[name], problems) for name in optional}
    checks = [("events", _check_events), ("outcomes", _check_outcomes)]
    checks += [(name, _check_stages) for name in optional]
    for name, check in checks:
        if frames[name] is not None:
            clean[name], counts[name] = check(frames[name], ref, problems)
        elif isinstance(raw.get(name), pd.DataFrame):
            counts[name] = TableCounts(len(raw[name]), None, None)

    if rejects is None:
        rejects = _rejects(pd.Series([], dtype="str"), np.zeros(0, np.int64), np.zeros(0, object))
    problems.sort(key=lambda p: ALL_TABLES.index(p.table))  # stable: per table, in check order
    fatal = any(p.fatal for p in problems) or any(frame is None for frame in clean.values())
    tables = (
        None
        if fatal
        else Tables(clean["leads"], clean["events"], clean["outcomes"], clean.get("stages"))
    )
    return ValidationReport(tables=tables, problems=problems, rejects=rejects, counts=counts)


def require_valid(report: ValidationReport, max_drop_share: float | None = None) -> Tables:
    """The clean tables, or :class:`~leadscore.errors.DataError` with the first fatal line;
    with ``max_drop_share``, also when a table lost more than that share of its rows."""
    fatal = report.fatal
    if fatal:
        raise DataError(fatal[0].line())
    if report.tables is None:  # pragma: no cover - validate_tables never builds this
        raise DataError("data did not validate")
    if max_drop_share is not None:
        for name in ALL_TABLES:
            c = report.counts.get(name)
            if c is None or not c.dropped:
                continue
            worst = max(
                (p for p in report.problems if p.table == name and "dropped" in p.message),
                key=lambda p: p.rows,
                default=None,
            )
            check_drop_share(
                name,
                c.rows_in,
                c.dropped,
                max_drop_share,
                None if worst is None else (worst.column or "rows", worst.rows),
            )
    return report.tables


def check_drop_share(
    table: str,
    rows_in: int,
    dropped: int,
    max_share: float,
    biggest: tuple[str, int] | None = None,
) -> None:
    """A one-line :class:`~leadscore.errors.DataError` when ``dropped`` of ``rows_in`` rows is
    more than ``max_share`` (the config's ``validation.max_drop_share``); ``biggest`` names
    the column (or rule) that dropped most and how many."""
    if rows_in <= 0 or dropped / rows_in <= max_share:
        return
    most = f"; most for {biggest[0]} ({biggest[1]:,} rows)" if biggest else ""
    raise DataError(
        f"{table}: {dropped:,} of {rows_in:,} rows dropped ({dropped / rows_in:.1%}){most}, "
        f"more than validation.max_drop_share ({max_share:.1%}); fix the export, or raise the "
        "setting in the config to go on without them"
    )


# --------------------------------------------------------------------------- structure


def _prepare(name: str, frame: object, problems: list[Problem]) -> pd.DataFrame | None:
    """The frame with a 0..n-1 index, or None after recording a fatal structural problem."""
    if not isinstance(frame, pd.DataFrame):
        problems.append(Problem(name, None, 0, "table is missing (no frame given)", True))
        return None
    n = len(frame)
    if n == 0 and len(frame.columns) == 0:
        frame = pd.DataFrame({col: pd.Series([], dtype="str") for col in REQUIRED[name]})
    ok = True
    names = pd.Index(frame.columns)
    present = ", ".join(map(str, names[:12])) + (", ..." if len(names) > 12 else "")
    for col in REQUIRED[name]:
        times = int((names == col).sum())
        if times == 0:
            msg = f"table is missing required column {col!r} ({_plural(n, 'row')}; columns: {present})"
            problems.append(Problem(name, col, n, msg, True))
            ok = False
        elif times > 1:
            msg = f"table has {times} columns named {col!r} ({_plural(n, 'row')})"
            problems.append(Problem(name, col, n, msg, True))
            ok = False
    for col in OPTIONAL[name]:
        if int((names == col).sum()) > 1:
            msg = (
                f"table has {int((names == col).sum())} columns named {col!r} ({_plural(n, 'row')})"
            )
            problems.append(Problem(name, col, n, msg, True))
            ok = False
    if n == 0:
        problems.append(Problem(name, None, 0, "table is empty (0 rows)", name == "leads"))
    if not ok:
        return None
    return frame.reset_index(drop=True)


class _Rows:
    """Per-row drop reasons for one table: the first failing check wins."""

    def __init__(self, table: str, n: int, problems: list[Problem]) -> None:
        self.table = table
        self.n = n
        self.code = np.zeros(n, np.int8)
        self.labels = [""]
        self.problems = problems
        self.dropped = 0

    @property
    def kept(self) -> np.ndarray:
        return self.code == 0

    def drop(
        self,
        mask: np.ndarray,
        column: str,
        label: str,
        what: str,
        example: pd.Series | None = None,
    ) -> None:
        new = mask & (self.code == 0)
        k = int(np.count_nonzero(new))
        if not k:
            return
        self.labels.append(label)
        self.code[new] = len(self.labels) - 1
        self.dropped += k
        text = _say(what, k, _example(example, new) if example is not None else "")
        self.problems.append(Problem(self.table, column, k, f"{text} (dropped)", False))

    def counts(self) -> TableCounts:
        return TableCounts(self.n, self.n - self.dropped, self.dropped)


class _LeadRef:
    """The kept leads' ids (an Arrow array for hash look-ups) and created_at as int64."""

    def __init__(self, leads: pd.DataFrame) -> None:
        self.ids = _arrow_text(leads["lead_id"])
        self.created = _ts_int(leads["created_at"])

    def locate(self, ids: pd.Series) -> np.ndarray:
        """Position of each id among the leads, -1 when absent (or missing)."""
        return positions(_arrow_text(ids), self.ids)


# --------------------------------------------------------------------------- tables


def _check_leads(
    raw: pd.DataFrame, problems: list[Problem]
) -> tuple[pd.DataFrame | None, pd.DataFrame, TableCounts]:
    n = len(raw)
    rows = _Rows("leads", n, problems)
    ids = _as_id(raw["lead_id"])
    created, ts_missing, ts_bad = _parse_timestamps(raw["created_at"])

    rows.drop(_isna(ids), "lead_id", "missing lead_id", "{rows} {have} no lead_id")
    rows.drop(ts_missing, "created_at", "missing created_at", "{rows} {have} no created_at")
    rows.drop(
        ts_bad,
        "created_at",
        "unparseable created_at",
        "{rows} {have} an unparseable timestamp",
        raw["created_at"],
    )
    dup = np.zeros(n, bool)
    ok = rows.kept
    dup[ok] = ids[ok].duplicated(keep="first").to_numpy()
    rows.drop(
        dup,
        "lead_id",
        "duplicate lead_id",
        "{rows} repeat{s} an earlier lead_id{eg}; the first is kept",
        ids,
    )

    bad = np.flatnonzero(~rows.kept)
    rejects = _rejects(ids.iloc[bad], bad, np.asarray(rows.labels, dtype=object)[rows.code[bad]])
    counts = rows.counts()
    if n and counts.kept == 0:
        msg = f"table has no valid rows left (all {_plural(n, 'row')} dropped)"
        problems.append(Problem("leads", None, n, msg, True))
        return None, rejects, counts

    out = raw.assign(lead_id=ids, created_at=_ts_series(created))
    out = _keep(out, rows.kept)
    for col, kind in OPTIONAL["leads"].items():
        if col not in out.columns:
            continue
        if kind == "number":
            out[col] = _number_column(out[col], "leads", col, problems)
        else:
            out[col] = _as_text(out[col])
    return out, rejects, counts


def _check_events(
    raw: pd.DataFrame, ref: _LeadRef | None, problems: list[Problem]
) -> tuple[pd.DataFrame | None, TableCounts]:
    n = len(raw)
    rows = _Rows("events", n, problems)
    ids = _as_id(raw["lead_id"])
    occurred, ts_missing, ts_bad = _parse_timestamps(raw["occurred_at"])
    etype, type_codes, types = _event_types(raw["event_type"])

    rows.drop(_isna(ids), "lead_id", "missing lead_id", "{rows} {have} no lead_id")
    rows.drop(ts_missing, "occurred_at", "missing occurred_at", "{rows} {have} no occurred_at")
    rows.drop(
        ts_bad,
        "occurred_at",
        "unparseable occurred_at",
        "{rows} {have} an unparseable timestamp",
        raw["occurred_at"],
    )
    rows.drop(type_codes < 0, "event_type", "missing event_type", "{rows} {have} no event_type")
    if ref is None:
        return None, TableCounts(n, None, None)
    where = _drop_unknown_or_early(rows, ref, ids, occurred, "occurred_at", "occurred")

    kept = rows.kept
    out = _keep(raw.assign(lead_id=ids, occurred_at=_ts_series(occurred), event_type=etype), kept)
    _note_events(where[kept], occurred[kept], type_codes[kept], types, problems)
    return out, rows.counts()


def _check_stages(
    raw: pd.DataFrame, ref: _LeadRef | None, problems: list[Problem]
) -> tuple[pd.DataFrame | None, TableCounts]:
    """Stage entries: the rules of events, the stage name folded like an event type."""
    n = len(raw)
    rows = _Rows("stages", n, problems)
    ids = _as_id(raw["lead_id"])
    entered, ts_missing, ts_bad = _parse_timestamps(raw["entered_at"])
    stage, codes, _ = _event_types(raw["stage"])

    rows.drop(_isna(ids), "lead_id", "missing lead_id", "{rows} {have} no lead_id")
    rows.drop(ts_missing, "entered_at", "missing entered_at", "{rows} {have} no entered_at")
    rows.drop(
        ts_bad,
        "entered_at",
        "unparseable entered_at",
        "{rows} {have} an unparseable timestamp",
        raw["entered_at"],
    )
    rows.drop(codes < 0, "stage", "missing stage", "{rows} {have} no stage")
    if ref is None:
        return None, TableCounts(n, None, None)
    _drop_unknown_or_early(rows, ref, ids, entered, "entered_at", "entered")
    out = _keep(raw.assign(lead_id=ids, stage=stage, entered_at=_ts_series(entered)), rows.kept)
    return out, rows.counts()


def _check_outcomes(
    raw: pd.DataFrame, ref: _LeadRef | None, problems: list[Problem]
) -> tuple[pd.DataFrame | None, TableCounts]:
    n = len(raw)
    rows = _Rows("outcomes", n, problems)
    ids = _as_id(raw["lead_id"])
    closed, ts_missing, ts_bad = _parse_timestamps(raw["closed_at"])
    won, won_missing, won_bad = _parse_won(raw["won"])

    rows.drop(_isna(ids), "lead_id", "missing lead_id", "{rows} {have} no lead_id")
    rows.drop(ts_missing, "closed_at", "missing closed_at", "{rows} {have} no closed_at")
    rows.drop(
        ts_bad,
        "closed_at",
        "unparseable closed_at",
        "{rows} {have} an unparseable timestamp",
        raw["closed_at"],
    )
    rows.drop(won_missing, "won", "missing won", "{rows} {have} no won value")
    rows.drop(
        won_bad,
        "won",
        "unparseable won",
        "{rows} {have} an unparseable won value{eg} (expected true/false, yes/no, won/lost, 1/0)",
        raw["won"],
    )
    if ref is None:
        return None, TableCounts(n, None, None)
    where = _drop_unknown_or_early(rows, ref, ids, closed, "closed_at", "closed")

    ok = np.flatnonzero(rows.kept)
    order = ok[np.lexsort((closed[ok], where[ok]))]  # stable: file order breaks ties
    lead = where[order]
    later = np.zeros(n, bool)
    later[order[1:][lead[1:] == lead[:-1]]] = True
    rows.drop(
        later,
        "lead_id",
        "further outcome",
        "{rows} repeat{s} a lead_id that has an earlier outcome{eg}; the earliest closed_at is kept",
        ids,
    )

    out = raw.assign(lead_id=ids, closed_at=_ts_series(closed), won=won)
    out = _keep(out, rows.kept)
    if "amount" in out.columns:
        out["amount"] = _number_column(out["amount"], "outcomes", "amount", problems)
    return out, rows.counts()


def _drop_unknown_or_early(
    rows: _Rows, ref: _LeadRef, ids: pd.Series, times: np.ndarray, column: str, verb: str
) -> np.ndarray:
    """Drop rows of an unknown lead or dated before the lead's creation; each row's lead index."""
    where = ref.locate(ids)
    rows.drop(
        where < 0,
        "lead_id",
        "unknown lead_id",
        "{rows} {have} a lead_id not among the valid leads",
        ids,
    )
    known = where >= 0
    before = np.zeros(len(where), bool)
    before[known] = times[known] < ref.created[where[known]]
    rows.drop(before, column, "before created_at", f"{{rows}} {verb} before the lead's created_at")
    return where


def _note_events(
    lead: np.ndarray,
    occurred: np.ndarray,
    codes: np.ndarray,
    types: np.ndarray,
    problems: list[Problem],
) -> None:
    """Informational counts on kept events: exact duplicates, types outside the contract."""
    if not len(lead):
        return
    repeats = _count_repeats([lead, occurred, codes])
    if repeats:
        what = "{rows} repeat{s} an earlier event with the same lead_id, occurred_at and event_type"
        problems.append(Problem("events", None, repeats, f"{_say(what, repeats)} (kept)", False))
    per_type = np.bincount(codes, minlength=len(types))
    unknown = np.flatnonzero(~np.isin(types, KNOWN_EVENT_TYPES) & (per_type > 0))
    if len(unknown):
        per_type = per_type[unknown]
        k = int(per_type.sum())
        top = types[unknown[np.argsort(-per_type, kind="stable")[:5]]]  # most frequent first
        names = ", ".join(map(repr, top)) + (", ..." if len(unknown) > 5 else "")
        what = "{rows} {have} an event type outside the contract's list{eg}"
        text = _say(what, k, f" ({_plural(len(unknown), 'type')}: {names})")
        problems.append(Problem("events", "event_type", k, f"{text} (kept)", False))


# --------------------------------------------------------------------------- value parsing


def _as_text(s: pd.Series) -> pd.Series:
    """``s`` as pandas ``str`` dtype (values untouched; whole-number floats without ``.0``)."""
    if ptypes.is_float_dtype(s.dtype) and not ptypes.is_bool_dtype(s.dtype):
        values = s.to_numpy(dtype="float64", na_value=np.nan)
        finite = values[~np.isnan(values)]
        if np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2**53):
            s = s.astype("Int64")
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.na_value is not pd.NA:
        return s
    return s.astype("str")


def _event_types(s: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Event types in their one spelling (``event_key``): (``str`` Series, codes with -1 =
    missing, types).

    The text work is done once per distinct value (dictionary / categorical codes), not per row.
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy().astype(np.int64)
        distinct = pd.Series(s.cat.categories)
    else:
        encoded = pc.dictionary_encode(_arrow_text(_as_text(s)))
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        distinct = pd.Series(pd.array(encoded.dictionary, dtype="str"))
    # blank -> -1; "Email Click", "EMAIL_CLICK" and "email-click" become one type
    normal, types = pd.factorize(event_keys(_as_id(distinct)))
    codes = np.append(normal, -1)[codes]  # code -1 (missing) stays -1
    types = np.asarray(types, dtype=object)
    values = pc.take(pa.array(types, pa.large_string()), pa.array(codes, mask=codes < 0))
    return pd.Series(pd.array(values, dtype="str")), codes, types


def _as_id(s: pd.Series) -> pd.Series:
    """Text, stripped; blank -> missing."""
    text = _as_text(s).str.strip()
    blank = (text == "").to_numpy(dtype=bool, na_value=False)
    return text.mask(blank) if blank.any() else text


def _isna(s: pd.Series) -> np.ndarray:
    return s.isna().to_numpy()


def _parse_timestamps(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(UTC microseconds as int64 with NaT, missing mask, unparseable mask).

    Text is split into naive and zoned values, each part cast by Arrow's ISO 8601 parser
    (fast) in blocks; a block Arrow refuses (a bad or unusual value) is parsed by pandas'
    ISO 8601 parser instead, which is what decides "unparseable".
    """
    n = len(s)
    if ptypes.is_datetime64_any_dtype(s.dtype):
        values = _ts_int(pd.to_datetime(s, utc=True))
        return values, values == _NAT, np.zeros(n, bool)
    text = _as_id(s)
    missing = _isna(text)
    arr = _arrow_text(text)
    zoned = _looks_zoned(arr)
    if not zoned.any():
        values = _cast_iso(arr, _NAIVE)
    elif zoned[~missing].all():
        values = _cast_iso(arr, _ZONED)
    else:
        values = np.empty(n, np.int64)
        values[~zoned] = _cast_iso(arr.filter(pa.array(~zoned)), _NAIVE)
        values[zoned] = _cast_iso(arr.filter(pa.array(zoned)), _ZONED)
    return values, missing, (values == _NAT) & ~missing


def _looks_zoned(arr: pa.Array) -> np.ndarray:
    """Text that ends in a zone (Z, +hh:mm, +hhmm, +hh), read from its last bytes.

    Only a routing hint for the fast parser: a wrong guess costs time, never correctness.
    """
    n = len(arr)
    data = arr.buffers()[2]
    if n == 0 or data is None or data.size == 0:
        return np.zeros(n, bool)
    data = np.frombuffer(data, np.uint8)
    end = np.frombuffer(arr.buffers()[1], np.int64, count=n, offset=(arr.offset + 1) * 8)
    b1, b3, b5, b6 = (data[np.maximum(end - k, 0)] for k in (1, 3, 5, 6))
    plus, minus, colon = ord("+"), ord("-"), ord(":")
    return (
        (b1 == ord("Z"))
        | (b1 == ord("z"))
        | (((b6 == plus) | (b6 == minus)) & (b3 == colon))  # +hh:mm
        | (((b5 == plus) | (b5 == minus)) & (b3 >= ord("0")) & (b3 <= ord("9")))  # +hhmm
        | (b3 == plus)  # +hh
    )


def _cast_iso(arr: pa.Array, target: pa.DataType) -> np.ndarray:
    """UTC microseconds (int64, NaT when missing or unparseable) for ISO 8601 text."""
    out = np.empty(len(arr), np.int64)
    for start in range(0, len(arr), _BLOCK):
        block = arr.slice(start, _BLOCK)
        # Arrow is slow to refuse many values: try a small head of the block first
        try:
            block.slice(0, 256).cast(target)
            parsed = block.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            parsed = None
        if parsed is not None:
            ints = pc.fill_null(parsed.cast(pa.int64()), _NAT).to_numpy(zero_copy_only=False)
        else:
            text = pd.Series(pd.array(block, dtype="str"))
            ints = _ts_int(pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce"))
        out[start : start + len(block)] = ints
    return out


def _ts_int(s: pd.Series) -> np.ndarray:
    """A tz-aware datetime Series as UTC microseconds (int64, NaT = int64 min)."""
    naive = s.dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("us")
    return naive.to_numpy().view(np.int64)


def _ts_series(values: np.ndarray) -> pd.Series:
    return pd.Series(values.view("datetime64[us]")).dt.tz_localize("UTC")


def _parse_won(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(won as bool, missing mask, unparseable mask)."""
    missing = _isna(s)
    if ptypes.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=bool, na_value=False), missing, np.zeros(len(s), bool)
    if ptypes.is_numeric_dtype(s.dtype):
        values = s.to_numpy(dtype="float64", na_value=np.nan)
        won = values == 1
        return won, missing, ~missing & ~won & (values != 0)
    text = _as_id(s).str.lower()
    missing = _isna(text)
    won = text.isin(TRUE_WORDS).to_numpy()
    lost = text.isin(FALSE_WORDS).to_numpy()
    return won, missing, ~missing & ~won & ~lost


def _number_column(s: pd.Series, table: str, col: str, problems: list[Problem]) -> pd.Series:
    """``s`` as float64; non-numbers (and negatives where not allowed) -> NaN, counted."""
    if ptypes.is_bool_dtype(s.dtype) or ptypes.is_numeric_dtype(s.dtype):
        source = s
        values = s.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    else:
        source = _as_id(s)
        values = pd.to_numeric(source, errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan, copy=True
        )
    missing = _isna(source)
    bad = ~missing & ~np.isfinite(values)
    if bad.any():
        k = int(bad.sum())
        text = _say("{rows} {have} a non-numeric value", k, _example(source, bad))
        problems.append(Problem(table, col, k, f"{text} (set to NA)", False))
        values[bad] = np.nan
    if col in NON_NEGATIVE:
        negative = values < 0
        if negative.any():
            k = int(negative.sum())
            text = _say("{rows} {have} a negative value", k, _example(source, negative))
            problems.append(Problem(table, col, k, f"{text} (set to NA)", False))
            values[negative] = np.nan
    return pd.Series(values, index=s.index, name=s.name)


# --------------------------------------------------------------------------- helpers


def _keep(frame: pd.DataFrame, kept: np.ndarray) -> pd.DataFrame:
    if kept.all():
        return frame.reset_index(drop=True)
    return frame[kept].reset_index(drop=True)


def _arrow_text(s: pd.Series) -> pa.Array:
    """A ``str`` Series as one Arrow large_string array (zero-copy when Arrow-backed)."""
    arr = pa.array(s, type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr


def _count_repeats(columns: list[np.ndarray]) -> int:
    """Rows that repeat an earlier row across ``columns`` (integer arrays), counted exactly.

    Each row gets a 32-bit hash; sorting the hashes finds those seen twice; only rows whose
    hash falls in a bucket of those (a small share) are compared exactly, so a collision
    cannot change the count.
    """
    h = columns[0].astype(np.int64).view(np.uint64).copy()
    _mix(h)
    for col in columns[1:]:
        h ^= col.astype(np.int64, copy=False).view(np.uint64)
        _mix(h)
    h32 = (h >> np.uint64(32)).astype(np.uint32)
    del h
    ordered = np.sort(h32)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return 0
    shared = ordered[1:][same]
    bits = int(min(26, max(10, np.ceil(np.log2(len(shared))) + 6)))
    table = np.zeros(1 << bits, bool)
    table[shared >> np.uint32(32 - bits)] = True
    candidates = table[h32 >> np.uint32(32 - bits)]
    sub = pd.DataFrame({i: col[candidates] for i, col in enumerate(columns)})
    return int(sub.duplicated().sum())


def _mix(x: np.ndarray) -> None:
    """splitmix64's finaliser, in place: a cheap, well-spread 64-bit hash."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)


def _rejects(ids: pd.Series, rows: np.ndarray, reasons: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": pd.Series(ids.to_numpy(), dtype="str"),
            "row": pd.Series(rows, dtype="int64"),
            "reason": pd.Series(reasons, dtype="str"),
        },
        columns=list(_REJECT_COLUMNS),
    )


def _plural(k: int, noun: str) -> str:
    return f"{k} {noun}" if k == 1 else f"{k} {noun}s"


def _say(template: str, k: int, eg: str = "") -> str:
    """Fill ``template``'s {rows} {have} {are} {s} for ``k`` rows; {eg} (else the end) = ``eg``."""
    one = k == 1
    if "{eg}" not in template:
        template += "{eg}"
    return template.format(
        eg=eg,
        rows=_plural(k, "row"),
        have="has" if one else "have",
        are="is" if one else "are",
        s="s" if one else "",
    )


def _example(values: pd.Series, mask: np.ndarray) -> str:
    value = values.iloc[int(np.argmax(mask))]
    text = repr(value if isinstance(value, str) else str(value))
    if len(text) > 40:
        text = text[:36] + "...'"
    return f", e.g. {text}"
