"""The engine-specific step, side by side for DuckDB and Spark SQL: events prepared for the
engagement query (``leadscore.features.engagement``), which itself runs unchanged on both.

Preparation turns contract events (``lead_id``, ``occurred_at``, ``event_type``) into
``events_prepared(lead_key, ts, created_ts, event_type)``: integer lead keys from a
``keys_in(lead_id, lead_key, created_ts)`` relation (keeping only the leads asked for),
``ts`` in epoch seconds with microseconds, and ``event_type`` as its ``event_key``.

Two traps on Spark: ``UNIX_TIMESTAMP`` (what SQL translators map ``epoch`` to) truncates to
whole seconds, so epoch seconds come from ``UNIX_MICROS``; and a decimal literal meeting an
integer gives DECIMAL there, so constants are written in exponent form (``1e6``, a DOUBLE).
"""

from __future__ import annotations

from leadscore.io.sql import epoch_sql, event_key_sql, text_sql


def events_prepared_sql(source: str, dialect: str = "duckdb") -> str:
    """The ``events_prepared`` relation over ``source`` (a relation with the contract's event
    columns, ``occurred_at`` a timestamp) joined to ``keys_in``. Rows without a time or a
    type are left out, as the validator drops them."""
    key = event_key_sql(text_sql("event_type", dialect), dialect)
    return (
        f"SELECT k.lead_key, {epoch_sql('e.occurred_at', dialect)} AS ts, k.created_ts, e.event_type "
        f"FROM (SELECT lead_id, occurred_at, {key} AS event_type FROM {source}) e "
        f"JOIN keys_in k ON k.lead_id = {text_sql('e.lead_id', dialect)} "
        "WHERE e.occurred_at IS NOT NULL AND e.event_type IS NOT NULL AND e.event_type <> ''"
    )
