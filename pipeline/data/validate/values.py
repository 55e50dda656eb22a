"""Cell values read by the contract's rules, vectorised: ids, text, event types folded to one
spelling, ISO 8601 timestamps (an Arrow fast path checked against pandas), won flags and
numbers. Each parser returns the clean values with masks of the missing and unreadable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api import types as ptypes

from leadscore.data.contract import FALSE_WORDS, TRUE_WORDS
from leadscore.data.validate.report import Problem, _example, _say
from leadscore.features.spec import event_keys

NON_NEGATIVE = ("employees", "annual_revenue")


_NAT = np.iinfo(np.int64).min


_NAIVE = pa.timestamp("us")


_ZONED = pa.timestamp("us", tz="UTC")


_BLOCK = 1 << 20  # rows per Arrow cast: a bad value sends only its block to pandas


def _as_text(s: pd.Series) -> pd.Series:
    """``s`` as pandas ``str`` dtype (values untouched; whole-number floats without ``.0``)."""
    if ptypes.is_float_dtype(s.dtype) and not ptypes.is_bool_dtype(s.dtype):
        values = s.to_numpy(dtype="float64", na_value=np.nan)
        finite = values[~np.isnan(values)]
        if np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2**53):
            s = s.astype("Int64")
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.na_value is not pd.NA:
        return s
    return s.astype("str")


def _event_types(s: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Event types in their one spelling (``event_key``): (``str`` Series, codes with -1 =
    missing, types).

    The text work is done once per distinct value (dictionary / categorical codes), not per row.
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy().astype(np.int64)
        distinct = pd.Series(s.cat.categories)
    else:
        encoded = pc.dictionary_encode(_arrow_text(_as_text(s)))
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        distinct = pd.Series(pd.array(encoded.dictionary, dtype="str"))
    # blank -> -1; "Email Click", "EMAIL_CLICK" and "email-click" become one type
    normal, types = pd.factorize(event_keys(_as_id(distinct)))
    codes = np.append(normal, -1)[codes]  # code -1 (missing) stays -1
    types = np.asarray(types, dtype=object)
    values = pc.take(pa.array(types, pa.large_string()), pa.array(codes, mask=codes < 0))
    return pd.Series(pd.array(values, dtype="str")), codes, types


def _as_id(s: pd.Series) -> pd.Series:
    """Text, stripped; blank -> missing."""
    text = _as_text(s).str.strip()
    blank = (text == "").to_numpy(dtype=bool, na_value=False)
    return text.mask(blank) if blank.any() else text


def _isna(s: pd.Series) -> np.ndarray:
    return s.isna().to_numpy()


def _parse_timestamps(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(UTC microseconds as int64 with NaT, missing mask, unparseable mask).

    Text is split into naive and zoned values, each part cast by Arrow's ISO 8601 parser
    (fast) in blocks; a block Arrow refuses (a bad or unusual value) is parsed by pandas'
    ISO 8601 parser instead, which is what decides "unparseable".
    """
    n = len(s)
    if ptypes.is_datetime64_any_dtype(s.dtype):
        values = _ts_int(pd.to_datetime(s, utc=True))
        return values, values == _NAT, np.zeros(n, bool)
    text = _as_id(s)
    missing = _isna(text)
    arr = _arrow_text(text)
    zoned = _looks_zoned(arr)
    if not zoned.any():
        values = _cast_iso(arr, _NAIVE)
    elif zoned[~missing].all():
        values = _cast_iso(arr, _ZONED)
    else:
        values = np.empty(n, np.int64)
        values[~zoned] = _cast_iso(arr.filter(pa.array(~zoned)), _NAIVE)
        values[zoned] = _cast_iso(arr.filter(pa.array(zoned)), _ZONED)
    return values, missing, (values == _NAT) & ~missing


def _looks_zoned(arr: pa.Array) -> np.ndarray:
    """Text that ends in a zone (Z, +hh:mm, +hhmm, +hh), read from its last bytes.

    Only a routing hint for the fast parser: a wrong guess costs time, never correctness.
    """
    n = len(arr)
    data = arr.buffers()[2]
    if n == 0 or data is None or data.size == 0:
        return np.zeros(n, bool)
    data = np.frombuffer(data, np.uint8)
    end = np.frombuffer(arr.buffers()[1], np.int64, count=n, offset=(arr.offset + 1) * 8)
    b1, b3, b5, b6 = (data[np.maximum(end - k, 0)] for k in (1, 3, 5, 6))
    plus, minus, colon = ord("+"), ord("-"), ord(":")
    return (
        (b1 == ord("Z"))
        | (b1 == ord("z"))
        | (((b6 == plus) | (b6 == minus)) & (b3 == colon))  # +hh:mm
        | (((b5 == plus) | (b5 == minus)) & (b3 >= ord("0")) & (b3 <= ord("9")))  # +hhmm
        | (b3 == plus)  # +hh
    )


def _cast_iso(arr: pa.Array, target: pa.DataType) -> np.ndarray:
    """UTC microseconds (int64, NaT when missing or unparseable) for ISO 8601 text."""
    out = np.empty(len(arr), np.int64)
    for start in range(0, len(arr), _BLOCK):
        block = arr.slice(start, _BLOCK)
        # Arrow is slow to refuse many values: try a small head of the block first
        try:
            block.slice(0, 256).cast(target)
            parsed = block.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            parsed = None
        if parsed is not None:
            ints = pc.fill_null(parsed.cast(pa.int64()), _NAT).to_numpy(zero_copy_only=False)
        else:
            text = pd.Series(pd.array(block, dtype="str"))
            ints = _ts_int(pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce"))
        out[start : start + len(block)] = ints
    return out


def _ts_int(s: pd.Series) -> np.ndarray:
    """A tz-aware datetime Series as UTC microseconds (int64, NaT = int64 min)."""
    naive = s.dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("us")
    return naive.to_numpy().view(np.int64)


def _ts_series(values: np.ndarray) -> pd.Series:
    return pd.Series(values.view("datetime64[us]")).dt.tz_localize("UTC")


def _parse_won(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(won as bool, missing mask, unparseable mask)."""
    missing = _isna(s)
    if ptypes.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=bool, na_value=False), missing, np.zeros(len(s), bool)
    if ptypes.is_numeric_dtype(s.dtype):
        values = s.to_numpy(dtype="float64", na_value=np.nan)
        won = values == 1
        return won, missing, ~missing & ~won & (values != 0)
    text = _as_id(s).str.lower()
    missing = _isna(text)
    won = text.isin(TRUE_WORDS).to_numpy()
    lost = text.isin(FALSE_WORDS).to_numpy()
    return won, missing, ~missing & ~won & ~lost


def _number_column(s: pd.Series, table: str, col: str, problems: list[Problem]) -> pd.Series:
    """``s`` as float64; non-numbers (and negatives where not allowed) -> NaN, counted."""
    if ptypes.is_bool_dtype(s.dtype) or ptypes.is_numeric_dtype(s.dtype):
        source = s
        values = s.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    else:
        source = _as_id(s)
        values = pd.to_numeric(source, errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan, copy=True
        )
    missing = _isna(source)
    bad = ~missing & ~np.isfinite(values)
    if bad.any():
        k = int(bad.sum())
        text = _say("{rows} {have} a non-numeric value", k, _example(source, bad))
        problems.append(Problem(table, col, k, f"{text} (set to NA)", False))
        values[bad] = np.nan
    if col in NON_NEGATIVE:
        negative = values < 0
        if negative.any():
            k = int(negative.sum())
            text = _say("{rows} {have} a negative value", k, _example(source, negative))
            problems.append(Problem(table, col, k, f"{text} (set to NA)", False))
            values[negative] = np.nan
    return pd.Series(values, index=s.index, name=s.name)


def _arrow_text(s: pd.Series) -> pa.Array:
    """A ``str`` Series as one Arrow large_string array (zero-copy when Arrow-backed)."""
    arr = pa.array(s, type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr
