"""Check a reference feature table (or the Spark engine's) against leadscore's on the columns
both have."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd


def compare(ours_path: str, ref_path: str) -> str:
    """One line: rows matched, columns compared, and the largest difference (raises when the
    tables disagree beyond float32 rounding)."""
    ref = pd.read_parquet(ref_path)
    shared = [c for c in ref.columns if c not in ("lead_id", "as_of")]
    ours = pd.read_parquet(ours_path, columns=["lead_id", "as_of", *shared])
    ref["as_of"] = pd.to_datetime(ref["as_of"], utc=True)
    ours["as_of"] = pd.to_datetime(ours["as_of"], utc=True)
    ref["lead_id"] = ref["lead_id"].astype("string")
    ours["lead_id"] = ours["lead_id"].astype("string")
    m = ours.merge(ref, on=["lead_id", "as_of"], suffixes=("", "_ref"), validate="one_to_one")
    if len(m) != len(ours) or len(m) != len(ref):
        raise AssertionError(
            f"rows: leadscore {len(ours):,}, reference {len(ref):,}, both {len(m):,}"
        )
    worst = 0.0
    for c in shared:
        if not pd.api.types.is_numeric_dtype(m[c]):  # categories: the same text
            differ = m[c].astype(str).to_numpy() != m[f"{c}_ref"].astype(str).to_numpy()
            if differ.any():
                raise AssertionError(f"{c}: {int(differ.sum()):,} rows differ")
            continue
        a = m[c].to_numpy(dtype="float64")
        b = m[f"{c}_ref"].to_numpy(dtype="float64")
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            raise AssertionError(f"{c}: missing in different rows")
        ok = ~np.isnan(a)
        diff = np.abs(a[ok] - b[ok]) / np.maximum(1.0, np.abs(b[ok]))
        bad = diff > 1e-5
        if bad.any():
            raise AssertionError(f"{c}: {int(bad.sum()):,} rows differ (largest {diff.max():.3g})")
        worst = max(worst, float(diff.max()) if len(diff) else 0.0)
    return f"equal on {len(shared)} columns x {len(m):,} rows (largest relative difference {worst:.1e})"


if __name__ == "__main__":
    print(compare(sys.argv[1], sys.argv[2]))
