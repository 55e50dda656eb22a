"""The straightforward reference that `leadscore features` is timed against.

One DuckDB program over the same files, on integer keys: the open leads at each date, then
one query joining every event at or before each snapshot (and not before the lead's
creation) and computing the core engagement features: per-type counts over 7/30/90 days,
days since each type and since any event, a decayed count and active days. No checks, no
explicit features, no labels. Event types get the same one spelling as leadscore's.

    python benchmarks/reference.py DATA_DIR DATE[,DATE...] OUT.parquet TYPE[,TYPE...]
"""

from __future__ import annotations

import math
import sys

import duckdb

WINDOWS = (7, 30, 90)
HALF_LIFE_DAYS = 14.0
KEY = "trim(regexp_replace(lower(CAST(event_type AS VARCHAR)), '[^0-9a-z]+', '_', 'g'), '_')"


def reference_sql(data: str, dates: list[str], types: list[str]) -> str:
    snaps = " UNION ALL ".join(
        f"SELECT lead_key, created_ts, epoch(TIMESTAMPTZ '{d} 00:00:00+00') AS as_of_ts FROM lk "
        f"WHERE created_ts <= epoch(TIMESTAMPTZ '{d} 00:00:00+00') AND (closed_ts IS NULL OR "
        f"closed_ts > epoch(TIMESTAMPTZ '{d} 00:00:00+00'))"
        for d in dates
    )
    cols = []
    for t in types:
        s = t.replace("'", "")
        for w in WINDOWS:
            cols.append(
                f"count(*) FILTER (WHERE e.t = '{s}' AND e.ts > s.as_of_ts - {w * 86400}) AS {s}_{w}d"
            )
        cols.append(
            f"(s.as_of_ts - max(e.ts) FILTER (WHERE e.t = '{s}')) / 86400.0 AS {s}_days_since"
        )
    cols.append("(s.as_of_ts - max(e.ts)) / 86400.0 AS days_since_last_event")
    decay = math.log(2) / HALF_LIFE_DAYS
    cols.append(
        f"coalesce(sum(exp(-{decay!r} * (s.as_of_ts - e.ts) / 86400.0)), 0) AS engagement_decayed"
    )
    for w in WINDOWS:
        cols.append(
            f"count(DISTINCT floor(e.ts / 86400)) FILTER (WHERE e.ts > s.as_of_ts - {w * 86400}) "
            f"AS active_days_{w}d"
        )
    body = ",\n  ".join(cols)
    return f"""
WITH closes AS (
  SELECT lead_id, min(epoch(closed_at)) AS closed_ts
  FROM read_parquet('{data}/outcomes.parquet') GROUP BY lead_id
),
lk AS (
  SELECT row_number() OVER () AS lead_key, l.lead_id, epoch(l.created_at) AS created_ts,
         c.closed_ts
  FROM read_parquet('{data}/leads.parquet') l LEFT JOIN closes c USING (lead_id)
),
snaps AS ({snaps}),
ev AS (
  SELECT DISTINCT lk.lead_key, epoch(e.occurred_at) AS ts, {KEY} AS t
  FROM read_parquet('{data}/events.parquet') e JOIN lk USING (lead_id)
)
SELECT lk.lead_id, to_timestamp(s.as_of_ts) AS as_of,
  {body}
FROM snaps s
JOIN lk USING (lead_key)
LEFT JOIN ev e ON e.lead_key = s.lead_key AND e.ts <= s.as_of_ts AND e.ts >= s.created_ts
GROUP BY lk.lead_id, s.as_of_ts
"""


def main(argv: list[str]) -> int:
    data, dates, out, types = argv
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    sql = reference_sql(data, dates.split(","), types.split(","))
    con.execute(f"COPY ({sql}) TO '{out}' (FORMAT parquet)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
