"""Validation as a whole: the tables' structure checked, each table's rules run in order
(leads first: the other tables refer to them), and the clean tables handed on, or refused."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.data.contract import ALL_TABLES, OPTIONAL, OPTIONAL_TABLES, REQUIRED, TABLES, Tables
from leadscore.data.validate.events import _check_events
from leadscore.data.validate.field_history import _check_field_history
from leadscore.data.validate.leads import _check_leads
from leadscore.data.validate.outcomes import _check_outcomes
from leadscore.data.validate.report import Problem, TableCounts, ValidationReport, _plural
from leadscore.data.validate.rows import _LeadRef, _rejects
from leadscore.data.validate.stages import _check_stages
from leadscore.errors import DataError


def validate_tables(raw: dict[str, pd.DataFrame]) -> ValidationReport:
    """Check ``raw`` (``{"leads": ..., "events": ..., "outcomes": ...}``, and the optional
    ``stages`` and ``field_history``) against the contract.

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
    own = {"stages": _check_stages, "field_history": _check_field_history}
    checks += [(name, own[name]) for name in optional]
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
        else Tables(
            clean["leads"],
            clean["events"],
            clean["outcomes"],
            clean.get("stages"),
            clean.get("field_history"),
        )
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
