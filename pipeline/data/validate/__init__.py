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
      ``rejects``: ``lead_id`` (NA when missing), ``row`` (the row's number among the
      table's rows, the first is 1) and ``reason`` (missing lead_id, missing created_at,
      unparseable created_at, duplicate lead_id). Read from a CSV file
      (:mod:`leadscore.data.load`), ``row`` becomes ``line``: the file line the row starts
      on (``files.with_file_lines``).
    * events: missing ``lead_id``; missing / unparseable ``occurred_at``; missing
      ``event_type``; ``lead_id`` not among the kept leads; ``occurred_at`` before the lead's
      ``created_at``.
    * field_history: missing ``lead_id``; missing / unparseable ``changed_at``; missing
      ``field``; a ``field`` that is not a column of the leads table (``lead_id`` and
      ``created_at`` cannot change); ``lead_id`` not among the kept leads. A change dated
      before the lead's ``created_at`` is kept (the first value a CRM stamps on a record).
    * outcomes: missing ``lead_id``; missing / unparseable ``closed_at``; missing /
      unparseable ``won`` (accepted, case-insensitive: true/false, t/f, yes/no, y/n, won/lost,
      1/0 and 1.0/0.0; numbers 1/0; bools); ``lead_id`` not among the kept leads;
      ``closed_at`` before the lead's ``created_at``; several outcomes for one lead: the
      earliest ``closed_at`` is kept (file order breaks ties), the others are dropped.
    For each table ``rows in == kept + dropped`` (see :attr:`ValidationReport.counts`).

Values coerced (non-fatal, counted on kept rows, the row is kept)
    * a non-numeric (or infinite) ``employees`` / ``annual_revenue`` / ``amount`` -> NaN
      (in the field history too, for a change of ``employees`` or ``annual_revenue``);
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


Modules: ``run`` (the whole: structure, then each table in order), ``checker`` (the rules
the tables share: a lead_id, a readable timestamp, a kind, a known lead, nothing before its
creation), ``leads``, ``events``, ``stages``, ``field_history`` and ``outcomes`` (each
table's own rules), ``rows`` (drops, look-ups, rejects), ``values`` (cell parsing) and
``report`` (what was found, and its lines).
"""

from leadscore.data.validate.report import Problem, TableCounts, ValidationReport
from leadscore.data.validate.rows import _count_repeats
from leadscore.data.validate.run import check_drop_share, require_valid, validate_tables
from leadscore.data.validate.values import NON_NEGATIVE

__all__ = [
    "NON_NEGATIVE",
    "Problem",
    "TableCounts",
    "ValidationReport",
    "_count_repeats",
    "check_drop_share",
    "require_valid",
    "validate_tables",
]
