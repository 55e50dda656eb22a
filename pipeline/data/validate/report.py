"""What validation found: each problem (table, column, rows, what happened), the rows in,
kept and dropped per table, and the report that holds them with the clean tables."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leadscore.data.contract import ALL_TABLES, Tables


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
    #: Tables read from a CSV file of another dialect than the plain one: how (``CsvFormat``).
    read_as: dict[str, str] = field(default_factory=dict)

    @property
    def fatal(self) -> list[Problem]:
        return [p for p in self.problems if p.fatal]

    def read_as_lines(self) -> list[str]:
        return [f"{name}: read as {how}" for name, how in self.read_as.items()]

    def summary(self) -> str:
        lines = self.read_as_lines()
        lines += [self.counts[name].line(name) for name in ALL_TABLES if name in self.counts]
        n_fatal = len(self.fatal)
        if not self.problems:
            lines.append("no problems")
        else:
            lines.append(f"{_plural(len(self.problems), 'problem')} ({n_fatal} fatal):")
            lines += [f"  {'FATAL ' if p.fatal else ''}{p.line()}" for p in self.problems]
        return "\n".join(lines)


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
