"""Implicit (behavioural) features: what a lead *did* up to a moment, as one SQL query.

The query is plain ANSI-style SQL (CASE WHEN, SUM, MIN, COUNT DISTINCT, EXP, FLOOR) over two
relations, so DuckDB runs it here and Spark SQL runs it unchanged on a cluster
(``leadscore.features.spark``; tests/spark checks the two give the same values):

- ``snapshots(snap_key, lead_key, as_of_ts, created_ts)``: the (lead, moment) pairs to
  describe, ``snap_key`` numbering them;
- ``events_prepared(lead_key, ts, event_type, created_ts)``: events with ``ts`` in epoch
  seconds, ``event_type`` already trimmed and lower-cased, and their lead's creation time.

``lead_key`` is an integer stand-in for ``lead_id`` and ``snap_key`` for a (lead, as_of)
pair (grouping on one integer is much faster than on strings or pairs); the caller maps
them back.

Only the preparation of those two relations (turning timestamps into epoch seconds) is
engine-specific; its two dialects sit side by side in ``leadscore.features.dialects``.
Every decimal constant meets a DOUBLE, so both engines compute in DOUBLE (in Spark a
decimal literal meeting an integer would give DECIMAL).

Point in time: the join keeps only events with ``ts <= as_of_ts`` (and none from before the
lead was created, which the contract treats as bad rows); every aggregate is over
that set, so nothing dated after a snapshot can reach its features. The nightly form (one
moment for every lead) applies the same two cuts as a WHERE clause instead of a join.
"""

from __future__ import annotations

import math

import numpy as np

from leadscore.features.spec import FeatureSpec, slug

DAY = 86400.0
# Decay weights are summed as whole multiples of 1 / SCALE (see engagement_sql).
SCALE = float(2**24)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _num(expr: str) -> str:
    # Sums of integers are wide integers/decimals in some engines; features are doubles.
    return f"CAST(COALESCE({expr}, 0) AS DOUBLE)"


def _parts(spec: FeatureSpec, single_as_of: float | None, kinds: tuple[str, ...] | None) -> str:
    """The CTEs both forms share: ``ev`` (deduplicated events with their bucket), ``j`` (each
    event with its snapshot and age), ``per_type`` (one row per snapshot and bucket) and
    ``days`` (active days per snapshot).

    The SQL is kept whole: it reads as the definition of the features.
    """
    # Types become small integers (their index; unknown ones pool as the last): grouping and
    # pivoting on integers is much faster than on strings.
    if kinds is None:
        codes = " ".join(f"WHEN {_literal(t)} THEN {i}" for i, t in enumerate(spec.event_types))
    else:
        bucket = {t: i for i, t in enumerate(spec.event_types)}
        codes = " ".join(f"WHEN {c} THEN {bucket[k]}" for c, k in enumerate(kinds) if k in bucket)
        codes = codes or "WHEN -1 THEN 0"
    codes = codes or "WHEN '' THEN 0"
    distinct = "DISTINCT " if spec.dedupe_events else ""
    decay = repr(math.log(2) / spec.half_life_days)
    if spec.event_half_lives:  # a rate per type code, the rest at the common rate
        rates = " ".join(
            f"WHEN {i} THEN {math.log(2) / spec.half_life_of(t)!r}"
            for i, t in enumerate(spec.event_types)
            if t in spec.event_half_lives
        )
        decay = f"(CASE et {rates} ELSE {decay} END)"
    windows = spec.windows_days
    sep = ",\n        "

    # Counts are cast to DOUBLE early: sums of integers widen to 128-bit in some engines.
    per_type = [f"CAST(COUNT(CASE WHEN age < {w} THEN 1 END) AS DOUBLE) AS n_{w}" for w in windows]
    per_type += [
        "CAST(COUNT(*) AS DOUBLE) AS n_total",
        "MIN(age) AS since",
        # Weights rounded to whole multiples of 2^-24 before summing: sums of such values
        # are exact, so they do not depend on the order the engine adds rows in (which
        # varies with its threads) and reruns give the same bits.
        f"SUM(ROUND(EXP(-{decay} * age) * {SCALE!r})) / {SCALE!r} AS decayed",
    ]
    active = [
        f"CAST(COUNT(CASE WHEN age < {w} THEN 1 END) AS DOUBLE) AS active_days_{w}d"
        for w in windows
    ]
    et = f"CASE event_type {codes} ELSE {len(spec.event_types)} END AS et"
    if single_as_of is None:
        head = f"""WITH ev AS (
    SELECT lead_key, ts, {et}
    FROM (SELECT {distinct}lead_key, ts, event_type FROM events_prepared) d
),
j AS (
    SELECT s.snap_key, e.et, e.ts, (s.as_of_ts - e.ts) / {DAY} AS age
    FROM snapshots s JOIN ev e ON e.lead_key = s.lead_key AND e.ts <= s.as_of_ts AND e.ts >= s.created_ts
),"""
    else:
        t = repr(float(single_as_of))
        head = f"""WITH ev AS (
    SELECT lead_key, ts, {et}
    FROM (
        SELECT {distinct}lead_key, ts, event_type FROM events_prepared
        WHERE ts <= {t} AND ts >= created_ts
    ) d
),
j AS (
    SELECT lead_key AS snap_key, et, ts, ({t} - ts) / {DAY} AS age FROM ev
),"""
    return f"""
{head}
per_type AS (
    SELECT snap_key, et,
        {sep.join(per_type)}
    FROM j GROUP BY snap_key, et
),
per_day AS (
    SELECT snap_key, MIN(age) AS age FROM j WHERE age < {max(windows)}
    GROUP BY snap_key, FLOOR(ts / {DAY})
),
days AS (
    SELECT snap_key,
        {sep.join(active)}
    FROM per_day GROUP BY snap_key
)"""


def engagement_sql(
    spec: FeatureSpec, single_as_of: float | None = None, kinds: tuple[str, ...] | None = None
) -> str:
    """The SQL that turns events into one engagement row per snapshot (lead, as_of): the
    whole definition in one statement, as Spark runs it (DuckDB runs ``engagement_long_sql``
    and pivots in ``pivot_engagement``, with the same values).

    ``single_as_of`` (epoch seconds) is for the nightly case: one snapshot per lead, all at
    that moment, numbered by ``snap_key = lead_key``. The moment is then a constant, so
    events are cut at it and at the lead's creation before deduplication and no join to
    the snapshots is needed; the result is the same (a test compares the two).

    ``kinds``: when ``event_type`` is already an integer code, the event key of each code
    (see ``leadscore.features.prepared``); otherwise it is the key itself.

    Shape: join events to snapshots (only events at or before each snapshot), aggregate per
    (snapshot, event type) with a handful of aggregates, then pivot the small result into
    columns. This is several times faster than one wide conditional aggregate over the join,
    and active days come from a per-(snapshot, day) pass: a day is active in a window when
    its most recent event is. That pass only reads events inside the longest window (no
    older day can count), a small share of a long history. Most of the function's lines
    are the one SQL statement it returns.
    """
    windows = spec.windows_days
    sep = ",\n        "
    pivot: list[str] = []
    final: list[str] = []
    for lit, t in enumerate(spec.event_buckets):
        s = slug(t)
        for w in windows:
            pivot.append(f"MAX(CASE WHEN et = {lit} THEN n_{w} END) AS {s}_{w}d")
        # One per_type row per (snapshot, type): MAX just picks it (NULL when absent).
        pivot.append(f"MAX(CASE WHEN et = {lit} THEN n_total END) AS {s}_total")
        pivot.append(f"MAX(CASE WHEN et = {lit} THEN since END) AS {s}_days_since")
        pivot.append(f"MAX(CASE WHEN et = {lit} THEN decayed END) AS {s}_decayed")
        final += [
            f"{_num(f'w.{s}_{x}')} AS {s}_{x}" for x in [*(f"{w}d" for w in windows), "total"]
        ]
        final += [f"w.{s}_days_since AS {s}_days_since", f"{_num(f'w.{s}_decayed')} AS {s}_decayed"]
    pivot += [f"SUM(n_{w}) AS events_{w}d" for w in windows]
    pivot += [
        "SUM(n_total) AS events_total",
        "MIN(since) AS days_since_last_event",
        "SUM(decayed) AS engagement_decayed",
    ]
    final += [f"{_num(f'w.events_{w}d')} AS events_{w}d" for w in windows]
    final += [f"{_num(f'd.active_days_{w}d')} AS active_days_{w}d" for w in windows]
    final += [
        f"{_num('w.events_total')} AS events_total",
        "w.days_since_last_event AS days_since_last_event",
    ]
    final += [f"{_num('w.engagement_decayed')} AS engagement_decayed"]
    if len(windows) > 1:
        # Events per day in the second-shortest window against the rest of the longest one.
        # A pseudo-count of one event spread evenly over the longest window keeps the ratio
        # finite and makes a lead with no history exactly flat (1.0).
        r, lw = windows[1], windows[-1]
        nr, nl = _num(f"w.events_{r}d"), _num(f"w.events_{lw}d")
        final.append(
            f"(({nr} + {r / lw!r}) / {r}) / (({nl} - {nr} + {(lw - r) / lw!r}) / {lw - r}) AS activity_trend"
        )
    final.append(f"(s.as_of_ts - s.created_ts) / {DAY} AS days_since_created")
    return f"""{_parts(spec, single_as_of, kinds)},
wide AS (
    SELECT snap_key,
        {sep.join(pivot)}
    FROM per_type GROUP BY snap_key
)
SELECT s.snap_key,
        {sep.join(final)}
FROM snapshots s
LEFT JOIN wide w ON w.snap_key = s.snap_key
LEFT JOIN days d ON d.snap_key = s.snap_key
"""


def engagement_long_sql(
    spec: FeatureSpec, single_as_of: float | None = None, kinds: tuple[str, ...] | None = None
) -> str:
    """``engagement_sql`` before its pivot: the ``per_type`` rows (``snap_key``, ``et``, one
    count per window, ``n_total``, ``since``, ``decayed``), then one row per snapshot with
    active days (``et`` = -1, the window counts in the ``n_`` columns). Pivoting those few
    rows per snapshot into columns costs an engine more than all the rest; numpy places them
    by position (``pivot_engagement``)."""
    n = ", ".join(f"n_{w}" for w in spec.windows_days)
    active = ", ".join(f"active_days_{w}d" for w in spec.windows_days)
    return f"""{_parts(spec, single_as_of, kinds)}
SELECT snap_key, et, {n}, n_total, since, decayed FROM per_type
UNION ALL
SELECT snap_key, -1, {active}, NULL, NULL, NULL FROM days
"""


def pivot_engagement(
    long: dict[str, np.ndarray],
    spec: FeatureSpec,
    as_of_ts: np.ndarray,
    created_ts: np.ndarray,
    dtype: type = np.float64,
) -> dict[str, np.ndarray]:
    """``engagement_sql``'s columns (``spec.engagement_columns()`` order) from the rows of
    ``engagement_long_sql``, one value per snapshot in ``snap_key`` order, as ``dtype``
    (float32 rounds each double value once, as a cast of the SQL's result would).

    The same arithmetic as the SQL: counts are whole numbers and decayed sums whole
    multiples of 2^-24, so their sums are exact in any order; the ratio and the age are the
    same IEEE operations on the same operands.
    """
    n = len(as_of_ts)
    windows = spec.windows_days
    et = long["et"]
    typed = et >= 0
    # Rows grouped by bucket (one sort of a small integer), so each column is one scatter.
    order = np.flatnonzero(typed)
    order = order[np.argsort(et[order].astype(np.int16), kind="stable")]  # a radix sort
    row = long["snap_key"][order].astype(np.int64)
    edges = np.searchsorted(et[order], np.arange(len(spec.event_buckets) + 1))
    measures = [*(f"n_{w}" for w in windows), "n_total", "since", "decayed"]
    names = [*(f"{w}d" for w in windows), "total", "days_since", "decayed"]
    values = {m: long[m][order] for m in measures}
    out: dict[str, np.ndarray] = {}

    def column(at: np.ndarray, v: np.ndarray, fill: float) -> np.ndarray:
        col = np.full(n, fill, dtype=dtype)
        col[at] = v
        return col

    for lit, t in enumerate(spec.event_buckets):
        lo, hi = edges[lit], edges[lit + 1]
        for m, x in zip(measures, names, strict=True):
            fill = np.nan if m == "since" else 0.0  # no event of the type: NULL, or a count of 0
            out[f"{slug(t)}_{x}"] = column(row[lo:hi], values[m][lo:hi], fill)
    # Totals over every bucket, the pooled one included, in doubles (exact sums: see above).
    total = {m: np.bincount(row, weights=values[m], minlength=n) for m in measures if m != "since"}
    for w in windows:
        out[f"events_{w}d"] = total[f"n_{w}"]
    days = long["snap_key"][~typed].astype(np.int64)
    for w in windows:
        out[f"active_days_{w}d"] = column(days, long[f"n_{w}"][~typed], 0.0)
    out["events_total"] = total["n_total"]
    last = np.full(n, np.inf)
    for lit in range(len(spec.event_buckets)):  # a snapshot has one row per bucket at most
        at = row[edges[lit] : edges[lit + 1]]
        last[at] = np.minimum(last[at], values["since"][edges[lit] : edges[lit + 1]])
    last[np.isinf(last)] = np.nan
    out["days_since_last_event"] = last
    out["engagement_decayed"] = total["decayed"]
    if len(windows) > 1:
        r, lw = windows[1], windows[-1]
        nr, nl = out[f"events_{r}d"], out[f"events_{lw}d"]
        out["activity_trend"] = ((nr + r / lw) / r) / ((nl - nr + (lw - r) / lw) / (lw - r))
    out["days_since_created"] = (as_of_ts - created_ts) / DAY
    return {c: out[c].astype(dtype, copy=False) for c in spec.engagement_columns()}
