"""Handing freed memory back to the system between a job's steps.

Building a table frees most of what it allocated, but the allocators keep it: Arrow's pool
(DuckDB's results and the Parquet reads come through it) and glibc's heaps (pandas and the
engine's threads). The fits that follow reuse little of it, so it stays resident through
them: 2.1 of 4.9 GiB resident after the training table of the 1M-lead world.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

import pyarrow as pa


@cache
def _malloc_trim() -> ctypes._CFuncPtr | None:
    """glibc's ``malloc_trim`` (None where the C library has none: macOS, musl)."""
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def release_freed_memory() -> None:
    """Return the memory Arrow's pool and glibc's heaps hold free to the system (what is in
    use is untouched; no figure changes)."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
