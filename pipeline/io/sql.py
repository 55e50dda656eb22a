"""SQL spelled for each engine, DuckDB and Spark SQL: the primitives the engine-specific
steps are written with (``leadscore.features.dialects``, the event sources)."""

from __future__ import annotations

DIALECTS = ("duckdb", "spark")

_TEXT = {"duckdb": "VARCHAR", "spark": "STRING"}


def _check(dialect: str) -> None:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; one of {', '.join(DIALECTS)}")


def event_key_sql(expr: str, dialect: str = "duckdb") -> str:
    """``leadscore.features.spec.event_key`` in SQL over ``expr`` (text): lower-case, each run
    of characters other than letters and digits one "_", none at the ends."""
    _check(dialect)
    if dialect == "spark":
        return f"trim(BOTH '_' FROM regexp_replace(lower({expr}), '[^0-9a-z]+', '_'))"
    return f"trim(regexp_replace(lower({expr}), '[^0-9a-z]+', '_', 'g'), '_')"


def epoch_sql(expr: str, dialect: str = "duckdb") -> str:
    """Epoch seconds (DOUBLE, microseconds kept) of a timestamp."""
    _check(dialect)
    if dialect == "spark":
        return f"UNIX_MICROS({expr}) / 1e6"
    return f"epoch({expr})"


def text_sql(expr: str, dialect: str = "duckdb") -> str:
    """``expr`` cast to the engine's text type."""
    _check(dialect)
    return f"CAST({expr} AS {_TEXT[dialect]})"
