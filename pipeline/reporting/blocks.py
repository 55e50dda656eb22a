"""The building blocks a section hands to its template: tables of typed cells, and images.

A cell says what it is (text, rich text, a value with its interval, a verdict pill, a bar,
a list of reasons); ``templates/macros.html.j2`` draws each kind. Classes are decided here,
so the templates only loop and escape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from leadscore.reporting.wording import Rich, rich

CellKind = Literal["text", "rich", "valued", "labelled", "pill", "bar", "reasons"]


@dataclass(frozen=True)
class Cell:
    kind: CellKind = "text"
    text: str = ""
    parts: Rich = field(default_factory=list)
    detail: str | None = None  # the interval under a value, the hint under a name
    items: tuple[tuple[str, str], ...] = ()  # reasons: (direction, words)
    width: str = ""  # bars: CSS width


def text(value: object) -> Cell:
    return Cell("text", str(value))


def rich_cell(*parts) -> Cell:
    return Cell("rich", parts=rich(*parts))


def valued(value: str, interval: str | None = None) -> Cell:
    """A figure with its 95% interval beneath (``&ndash;`` when there is no figure)."""
    return Cell("valued", value, detail=interval)


def labelled(name: str, hint: str) -> Cell:
    return Cell("labelled", name, detail=hint)


def pill(verdict: Literal["model", "base", "tie"], words: str) -> Cell:
    return Cell("pill", words, detail=verdict)


def bar(share: float) -> Cell:
    return Cell("bar", width=f"{max(share * 100, 0.4):.1f}%")


def reasons(top_reasons: object) -> Cell:
    """``+ did this; - did that`` as a list, each item marked up (raises) or down (lowers)."""
    if not isinstance(top_reasons, str):
        return Cell("reasons")
    items = []
    for part in top_reasons.split("; "):
        part = part.strip()
        if part.startswith("+ "):
            items.append(("up", part[2:]))
        elif part.startswith("- "):
            items.append(("down", part[2:]))
        elif part:
            items.append(("", part))
    return Cell("reasons", items=tuple(items))


@dataclass(frozen=True)
class Table:
    """Header cells and body rows, each cell with its CSS class decided."""

    head: list[tuple[str, Rich]]
    body: list[list[tuple[str, Cell]]]
    cls: str = ""


def table(
    headers: list[str | Rich],
    rows: list[list[Cell]],
    numeric: set[int] | None = None,
    cls: str = "",
    highlight: set[tuple[int, int]] | None = None,
) -> Table:
    """A table whose ``numeric`` columns are right-aligned; ``highlight``: (row, column) cells."""
    numeric = numeric or set()
    highlight = highlight or set()

    def cell_class(i: int, j: int) -> str:
        return " ".join(
            c for c in ("num" if j in numeric else "", "hl" if (i, j) in highlight else "") if c
        )

    head = [("num" if j in numeric else "", rich(h)) for j, h in enumerate(headers)]
    body = [[(cell_class(i, j), c) for j, c in enumerate(row)] for i, row in enumerate(rows)]
    return Table(head, body, cls)


@dataclass(frozen=True)
class Image:
    png: str  # base64
    alt: str
    cls: str = "chart"
