"""Handing freed memory back: what is in use stays as it was."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.io import memory
from leadscore.io.memory import release_freed_memory


def test_release_keeps_what_is_in_use():
    # Computed results live in Arrow's pool (arrays made from numpy would not).
    kept = pc.add(pa.array(np.arange(1_000_000, dtype=np.int64)), 1)
    freed = pc.add(pa.array(np.arange(2_000_000, dtype=np.int64)), 1)
    frame = pd.DataFrame({"x": np.arange(10, dtype=np.float32), "s": list("abcdefghij")})
    before = frame.copy()
    in_use = pa.total_allocated_bytes()
    del freed
    assert pa.total_allocated_bytes() < in_use
    in_use = pa.total_allocated_bytes()
    release_freed_memory()
    assert pa.total_allocated_bytes() == in_use
    assert kept[999_999].as_py() == 1_000_000
    pd.testing.assert_frame_equal(frame, before)


def test_release_without_malloc_trim(monkeypatch):
    # A C library without malloc_trim (macOS, musl): Arrow's pool is still released.
    monkeypatch.setattr(memory, "_malloc_trim", lambda: None)
    release_freed_memory()
