"""Reading data folders (CSV or Parquet, with column mapping) and writing outputs atomically."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from leadscore.data.contract import OPTIONAL_TABLES, TABLES
from leadscore.errors import DataError
from leadscore.features.spec import FeatureSpec
from leadscore.io.csv_format import (
    CsvFormat,
    cut_short,
    decimal_commas,
    record_lines,
    sniff_csv,
    utf8_rows_repaired,
)
from leadscore.io.scratch import as_if_created, scratch_file


def find_table(data_dir: str | Path, name: str) -> Path:
    """The file holding table ``name`` in ``data_dir`` (``name.parquet`` or ``name.csv``)."""
    d = Path(data_dir)
    if not d.is_dir():
        raise DataError(f"data folder {d} does not exist")
    found = [d / f"{name}{ext}" for ext in (".parquet", ".csv") if (d / f"{name}{ext}").is_file()]
    if not found:
        raise DataError(f"table {name}: no {name}.parquet or {name}.csv in {d}")
    if len(found) > 1:
        raise DataError(f"table {name}: both {found[0].name} and {found[1].name} in {d}; keep one")
    return found[0]


def read_frame(
    path: str | Path, csv: dict[str, str] | None = None, ids: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Read one CSV or Parquet file as it is (CSV cells as strings, so nothing is guessed).

    A CSV's delimiter, encoding and decimal mark are detected (``sniff_csv``; ``csv``, the
    config's ``io.csv``, overrides them); a format other than the plain one is recorded in
    ``frame.attrs["read_as"]`` for the run to report. With decimal commas, columns that
    hold only such numbers are rewritten with dot decimals, except id columns (``ids``, the
    file's names for them, and any named ``id`` or ``*_id``).
    """
    p = Path(path)
    try:
        if p.suffix == ".parquet":
            return pd.read_parquet(p)
        if p.stat().st_size == 0:
            return pd.DataFrame()  # a 0-byte file is an empty table; validation says so
        fmt = sniff_csv(p, csv)
        require_whole(p, fmt)
        frame = pd.read_csv(
            p,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            sep=fmt.delimiter,
            encoding=fmt.encoding,
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except UnicodeDecodeError as err:
        raise DataError(
            f"{p.name}: cannot be read as {err.encoding} (byte {err.object[err.start : err.start + 1]!r} "
            f"at position {err.start}); set io.csv.encoding in the config"
        ) from None
    except (OSError, ValueError) as err:
        raise DataError(f"{p.name}: cannot be read ({_first_line(err)}){_header_of(p)}") from None
    if fmt.decimal == ",":
        keep = [c for c in frame.columns if c.endswith("_id") or c in ("id", "lead_id", *ids)]
        frame = decimal_commas(frame.drop(columns=keep)).join(frame[keep])[frame.columns]
    frame, repaired = utf8_rows_repaired(frame, fmt.encoding)
    if not fmt.is_default:
        frame.attrs["read_as"] = fmt.describe() + (
            f"; {repaired:,} row(s) of UTF-8 text in it read as UTF-8" if repaired else ""
        )
    return frame


def with_file_lines(
    rejects: pd.DataFrame, path: str | Path, rows: int, csv: dict[str, str] | None = None
) -> pd.DataFrame:
    """``rejects`` of the table read from ``path`` (``rows`` rows; a ``row`` column numbers
    them from 1) placed as an editor shows the file: for a CSV file ``row`` becomes ``line``,
    the line the row starts on (the header is line 1, so the first row is line 2 unless
    blank lines or line ends inside quoted fields come before it). A Parquet file's row
    numbers stay. Should the file's rows not match the table's, ``row`` stays too."""
    p = Path(path)
    if p.suffix == ".parquet":  # read_frame reads any other file as CSV
        return rejects
    starts = record_lines(p, sniff_csv(p, csv)) if len(rejects) else []
    if len(rejects) and len(starts) != rows:
        return rejects
    lines = pd.Series([starts[r - 1] for r in rejects["row"]], index=rejects.index, dtype="int64")
    return rejects.assign(row=lines).rename(columns={"row": "line"})


def require_whole(path: str | Path, fmt: CsvFormat) -> None:
    """A ``DataError`` when the CSV file's last line is cut short (``cut_short``)."""
    cut = cut_short(path, fmt)
    if cut:
        raise DataError(f"{Path(path).name}: looks truncated ({cut}); export it again, whole")


def _first_line(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def _header_of(p: Path) -> str:
    """``; header: ...`` with the file's first line, so a user sees what was read."""
    try:
        with open(p, "rb") as f:
            head = f.readline(300).decode("utf-8", errors="replace").strip()
    except OSError:
        return ""
    return f"; header: {head[:120]!r}" if head else ""


def read_table(
    data_dir: str | Path,
    name: str,
    mapping: dict[str, str] | None = None,
    csv: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Read table ``name`` and rename the file's columns to the contract's.

    ``mapping`` is {contract name: file's column name}, as in the config's ``columns:``;
    ``csv`` the config's ``io.csv`` (see ``read_frame``).
    """
    frame = read_frame(
        find_table(data_dir, name),
        csv,
        ids=tuple(v for k, v in (mapping or {}).items() if k == "lead_id"),
    )
    if mapping:
        missing = [src for src in mapping.values() if src not in frame.columns]
        if missing:
            raise DataError(
                f"table {name}: mapped column(s) {', '.join(map(repr, missing))} not in the file "
                f"({len(frame)} rows)"
            )
        read_as = frame.attrs.get("read_as")
        frame = frame.rename(columns={src: dst for dst, src in mapping.items()})
        if read_as:
            frame.attrs["read_as"] = read_as
    return frame


def read_raw_tables(
    data_dir: str | Path, columns: dict[str, dict[str, str]], csv: dict[str, str] | None = None
) -> dict[str, pd.DataFrame]:
    """The three contract tables and the optional ones the folder holds, renamed but not
    yet checked or typed."""
    out = {name: read_table(data_dir, name, columns.get(name), csv) for name in TABLES}
    return out | read_optional_tables(data_dir, columns, csv)


def read_optional_tables(
    data_dir: str | Path, columns: dict[str, dict[str, str]], csv: dict[str, str] | None = None
) -> dict[str, pd.DataFrame]:
    """The optional contract tables (``stages``, ``field_history``) the folder holds,
    renamed, unchecked. A field history's ``field`` names the leads file's column: the
    leads mapping turns it into the contract's name, as for the column itself."""
    d = Path(data_dir)
    out = {
        name: read_table(d, name, columns.get(name), csv)
        for name in OPTIONAL_TABLES
        if any((d / f"{name}{ext}").is_file() for ext in (".parquet", ".csv"))
    }
    history = out.get("field_history")
    leads_map = columns.get("leads") or {}
    if history is not None and leads_map and "field" in history.columns:
        back = {src: dst for dst, src in leads_map.items()}
        out["field_history"] = history.assign(field=history["field"].replace(back))
    return out


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    A crash leaves the old file (or none), never half a file. The file gets the mode the
    umask implies, as if written in place.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = scratch_file(target)  # also clears what killed runs left beside the target
    try:
        write(Path(tmp))
        as_if_created(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_tables(
    tables: dict[str, pd.DataFrame], out_dir: str | Path, fmt: str = "parquet"
) -> dict[str, Path]:
    """Write each table as ``<name>.parquet`` or ``<name>.csv`` into ``out_dir``, atomically.

    CSV gets ISO 8601 UTC times. A contract table of the other format left in the folder by
    an earlier run is removed, so the folder never holds both ``leads.csv`` and
    ``leads.parquet`` (which ``find_table`` would refuse).
    """
    if fmt not in ("parquet", "csv"):
        raise DataError(f"format must be parquet or csv, not {fmt!r}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataError(f"output {out} exists and is not a folder")
    other = "csv" if fmt == "parquet" else "parquet"
    paths: dict[str, Path] = {}
    for name, frame in tables.items():
        paths[name] = write_table(frame, out / f"{name}.{fmt}")
        if name in TABLES + OPTIONAL_TABLES:
            (out / f"{name}.{other}").unlink(missing_ok=True)
    return paths


def iso_utc(ts: pd.Series) -> pd.Series:
    """UTC timestamps as ISO 8601 text like ``2024-03-05T14:07:31Z`` (whole seconds)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    seconds = ts.dt.tz_convert(None).dt.floor("s").to_numpy().astype("M8[s]")
    return pd.Series(
        pc.strftime(pa.array(seconds), format="%Y-%m-%dT%H:%M:%SZ").to_pandas(), index=ts.index
    ).astype("str")


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a frame atomically as Parquet or CSV, chosen by the file's extension.

    In CSV, zoned timestamps are written as ISO 8601 UTC text (the contract's format).
    """
    p = Path(path)
    if p.suffix == ".csv":
        zoned = [c for c in frame.columns if isinstance(frame[c].dtype, pd.DatetimeTZDtype)]
        if zoned:
            frame = frame.assign(**{c: iso_utc(frame[c]) for c in zoned})
        return write_atomic(p, lambda t: frame.to_csv(t, index=False))
    return write_atomic(p, lambda t: frame.to_parquet(t, index=False))


SPEC_KEY = b"leadscore.spec"  # the feature spec, in a feature table's Parquet metadata
HORIZON_KEY = b"leadscore.horizon_days"  # the horizon its labels were built with
KEY_COLUMNS = ("lead_id", "as_of", "label")


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """A frame as an Arrow table without pandas metadata; zoned times stay zoned."""
    # Zoned times go to Arrow as UTC wall times, then get their zone back: pyarrow's own
    # conversion of zoned pandas columns uses an API pandas 3.1 deprecates.
    zoned = [c for c in frame.columns if isinstance(frame[c].dtype, pd.DatetimeTZDtype)]
    plain = frame.assign(**{c: frame[c].dt.tz_convert(None) for c in zoned})
    table = pa.Table.from_pandas(plain, preserve_index=False).replace_schema_metadata(None)
    for c in zoned:
        i = table.schema.get_field_index(c)
        table = table.set_column(i, c, table[c].cast(pa.timestamp(table[c].type.unit, tz="UTC")))
    return table


def write_feature_table(
    frame: pd.DataFrame, path: str | Path, spec: FeatureSpec, horizon_days: int | None = None
) -> Path:
    """A feature table, atomically; as Parquet it carries its feature spec and the horizon
    its labels were built with, so a model can be trained from the file alone (``train
    --features``) and a config with another horizon is refused."""
    import pyarrow.parquet as pq

    p = Path(path)
    if p.suffix == ".csv":
        return write_table(frame, p)
    meta = {SPEC_KEY: json.dumps(spec.to_dict()).encode()}
    if horizon_days is not None:
        meta[HORIZON_KEY] = str(int(horizon_days)).encode()
    table = to_arrow(frame).replace_schema_metadata(meta)
    return write_atomic(p, lambda t: pq.write_table(table, t))


def feature_table_horizon(path: str | Path) -> int | None:
    """The horizon (days) a feature table's labels were built with, as ``write_feature_table``
    or the Spark engine stored it; None when the table does not say."""
    import pyarrow.parquet as pq

    from leadscore.features.spark import read_horizon

    p = Path(path)
    if p.is_dir():
        return read_horizon(str(p))
    raw = (pq.read_schema(p).metadata or {}).get(HORIZON_KEY)
    return None if raw is None else int(raw)


def read_feature_table(path: str | Path) -> tuple[pd.DataFrame, FeatureSpec]:
    """A feature table written by ``leadscore features`` (a Parquet file, or the folder the
    Spark engine writes) and its feature spec; one-line errors for anything else."""
    import pyarrow.parquet as pq

    from leadscore.features.spark import read_spec

    p = Path(path)
    if not p.exists():
        raise DataError(f"features: {p} does not exist")
    try:
        table = pq.read_table(p)
    except (pa.ArrowException, OSError) as err:
        raise DataError(f"features: {p.name} cannot be read as Parquet ({err})") from None
    spec = read_spec(str(p)) if p.is_dir() else None
    raw = (table.schema.metadata or {}).get(SPEC_KEY)
    if spec is None and raw is not None:
        spec = FeatureSpec.from_dict(json.loads(raw))
    if spec is None:
        raise DataError(
            f"features: {p.name} ({table.num_rows:,} rows) holds no feature spec; "
            "write it with `leadscore features`"
        )
    missing = [c for c in (*KEY_COLUMNS, *spec.feature_columns) if c not in table.column_names]
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise DataError(
            f"features: {p.name} lacks column(s) {shown} of its feature spec ({table.num_rows:,} rows)"
        )
    frame = table.to_pandas()
    frame["lead_id"] = frame["lead_id"].astype("string")
    frame["as_of"] = pd.to_datetime(frame["as_of"], utc=True).astype("datetime64[ns, UTC]")
    return frame, spec


def read_lead_column(
    data_dir: str | Path, column: str, mapping: dict[str, str], lead_ids: pd.Series
) -> pd.Series:
    """Each of ``lead_ids``' value of the leads table's ``column`` (its contract name,
    read through ``mapping``), aligned with ``lead_ids``; missing for a lead the table
    does not hold. Reads only the two columns from Parquet."""
    path = find_table(data_dir, "leads")
    src_id, src_col = mapping.get("lead_id", "lead_id"), mapping.get(column, column)
    if path.suffix == ".parquet":
        names, rows = pq.read_schema(path).names, pq.read_metadata(path).num_rows
    else:
        leads = read_frame(path, ids=(src_id,))
        names, rows = list(leads.columns), len(leads)
    missing = [c for c in (src_id, src_col) if c not in names]
    if missing:
        raise DataError(
            f"table leads: no column {missing[0]!r} in {path.name} ({rows:,} rows); map the "
            f"file's column with columns.leads.{column if missing[0] == src_col else 'lead_id'} "
            "in the config"
        )
    if path.suffix == ".parquet":
        leads = pd.read_parquet(path, columns=[src_id, src_col])
    leads = leads.drop_duplicates(src_id)
    lookup = pd.Series(leads[src_col].to_numpy(), index=leads[src_id].astype(str).to_numpy())
    return pd.Series(
        lookup.reindex(lead_ids.astype(str).to_numpy()).to_numpy(),
        index=lead_ids.index,
        dtype="string",
    )


def require_numbers(frame: pd.DataFrame, columns: tuple[str, ...], where: str) -> pd.DataFrame:
    """``frame`` with ``columns`` as float64; a ``DataError`` naming ``where``, the column
    and the count when any value is missing or not a number."""
    out = frame.copy()
    for c in columns:
        number = pd.to_numeric(out[c], errors="coerce").astype("float64")
        bad = int(number.isna().sum())
        if bad:
            raise DataError(
                f"{where}: column {c} has {bad:,} missing or non-numeric value(s) of {len(out):,} rows"
            )
        out[c] = number
    return out
