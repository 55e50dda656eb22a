"""Vectorised draws and Arrow string building for the synthetic world (no loop over leads)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.data.synthetic._vocab import _E, DAY_S


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _pick(
    rng: np.random.Generator, group: np.ndarray, off: np.ndarray, size: np.ndarray
) -> np.ndarray:
    """A uniform index into each row's group of a grouped vocabulary."""
    return off[group] + (rng.random(len(group)) * size[group]).astype(np.int64)


def _variant(
    rng: np.random.Generator, group: np.ndarray, off: np.ndarray, size: np.ndarray, p: float
) -> np.ndarray:
    """The canonical form (first of its group) with probability ``p``, else another variant."""
    u = rng.random(len(group))
    other = 1 + (rng.random(len(group)) * (size[group] - 1)).astype(np.int64)
    return off[group] + np.where((u < p) | (size[group] < 2), 0, other)


def _categorical(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One draw per row of an (n, k) matrix of non-negative weights."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return (u[:, None] >= cum).sum(axis=1).astype(np.int8)


def _round_sig(x: np.ndarray, digits: int) -> np.ndarray:
    """``x`` (positive) rounded to ``digits`` significant digits."""
    scale = 10.0 ** (np.floor(np.log10(x)) - digits + 1)
    return np.round(x / scale) * scale


def _take(vocab: pa.Array, idx: np.ndarray) -> pa.Array:
    return vocab.take(pa.array(idx))


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _with_nulls(arr: pa.Array, missing: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(missing), pa.scalar(None, arr.type), arr)


def _str_series(arr: pa.Array | pa.ChunkedArray) -> pd.Series:
    return pd.Series(pd.array(arr, dtype="str"))


def _utc(seconds: np.ndarray, t0: pd.Timestamp) -> pd.Series:
    """Whole seconds after ``t0`` as a tz-aware UTC datetime column (ns resolution)."""
    ns = (seconds.astype(np.int64) + np.int64(t0.value // 1_000_000_000)) * np.int64(1_000_000_000)
    return pd.Series(pd.DatetimeIndex(ns.view("M8[ns]"), tz="UTC"))


def _horizon(start: str, end: str) -> tuple[pd.Timestamp, int]:
    """Start (UTC) and the horizon length in whole seconds; a bare ``end`` date is inclusive."""
    t0 = pd.Timestamp(start)
    t1 = pd.Timestamp(end)
    t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0.tz_convert("UTC")
    t1 = t1.tz_localize("UTC") if t1.tzinfo is None else t1.tz_convert("UTC")
    if t1 == t1.normalize() and len(str(end).strip()) <= 10:
        t1 = t1 + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    span = int((t1 - t0.floor("s")) // pd.Timedelta(seconds=1))
    if span < 7 * DAY_S:
        raise ValueError(f"end ({end}) must be at least a week after start ({start})")
    return t0.floor("s"), span


class _Events:
    """Accumulates event components as (lead index, time in days, type code, in-window flag)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]] = []

    def add(
        self, idx: np.ndarray, t: np.ndarray, etype: np.ndarray | np.int8, window: bool
    ) -> None:
        if len(idx):
            codes = np.broadcast_to(np.asarray(etype, np.int8), idx.shape)
            self.parts.append((idx.astype(np.int32, copy=False), t, codes, window))

    def concat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not self.parts:
            return (np.empty(0, np.int32), np.empty(0), np.empty(0, np.int8), np.empty(0, bool))
        idx = np.concatenate([p[0] for p in self.parts])
        t = np.concatenate([p[1] for p in self.parts])
        codes = np.concatenate([p[2] for p in self.parts])
        win = np.concatenate([np.full(len(p[0]), p[3]) for p in self.parts])
        self.parts = []
        return idx, t, codes, win


def _rep(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts), dtype=np.int32), counts)


def _count(idx: np.ndarray, codes: np.ndarray, n: int, *types: str) -> np.ndarray:
    """Events of the given types per lead."""
    return np.bincount(idx[np.isin(codes, [_E[t] for t in types])], minlength=n)


def _sessions(
    rng: np.random.Generator,
    ev: _Events,
    idx: np.ndarray,
    t_sess: np.ndarray,
    p_more: float,
    probs: tuple[float, float, float],
    window: bool,
) -> None:
    """Expand sessions into page events (page_view, pricing_page_view, content_download)."""
    pages = rng.geometric(1 - p_more, len(idx))
    start = np.cumsum(pages) - pages
    sess = np.repeat(np.arange(len(idx)), pages)
    step = np.arange(len(sess)) - np.repeat(start, pages)
    t = t_sess[sess] + step * rng.uniform(0.5, 3.0, len(sess)) / 1440
    kind = np.array([_E["page_view"], _E["pricing_page_view"], _E["content_download"]])
    codes = kind[rng.choice(3, size=len(sess), p=probs)]
    ev.add(idx[sess], t, codes, window)
