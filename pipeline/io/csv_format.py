"""How a CSV file is written: its delimiter, its encoding and its decimal mark.

CRMs and spreadsheets write CSV in several dialects: European ones separate fields with
``;`` and write decimal commas, Excel on Windows saves Windows-1252, some tools start
with a byte-order mark. ``sniff_csv`` reads the first megabyte and decides; a config's
``io.csv`` settings override any part of the decision. One answer serves every reader:
pandas for the leads and outcomes, DuckDB (and Spark) for the streamed events.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1")
SAMPLE_BYTES = 1 << 20
SAMPLE_LINES = 200
#: Bytes read from a file's end to judge its last line.
TAIL_BYTES = 1 << 16
_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}


@dataclass(frozen=True)
class CsvFormat:
    delimiter: str = ","
    encoding: str = "utf-8"
    decimal: str = "."

    def describe(self) -> str:
        """E.g. ``';'-delimited, cp1252, decimal ','``."""
        return f"{_NAMES.get(self.delimiter, repr(self.delimiter))}-delimited, {self.encoding}, decimal {self.decimal!r}"

    @property
    def is_default(self) -> bool:
        return self == CsvFormat()

    @property
    def engine_reads_it(self) -> bool:
        """Whether DuckDB decodes this encoding itself (UTF-8, UTF-16); other files are
        transcoded to UTF-8 first (``utf8_copy``): DuckDB's Latin-1 reader refuses the bytes
        Windows-1252 adds (the euro sign, typographic quotes and dashes)."""
        return self.encoding.startswith(("utf-8", "utf-16"))

    def duckdb_options(self) -> str:
        """``read_csv`` options for this format (a transcoded copy is UTF-8)."""
        enc = "utf-16" if self.encoding == "utf-16" else "utf-8"
        delim = self.delimiter.replace("'", "''")
        return f"delim = '{delim}', encoding = '{enc}'"

    @property
    def java_encoding(self) -> str:
        """The encoding's name for Java (Spark's CSV reader)."""
        return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16"}.get(
            self.encoding,
            {"cp1252": "windows-1252", "latin-1": "ISO-8859-1"}.get(self.encoding, self.encoding),
        )


def _encoding(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text"
    cut = raw if len(raw) < SAMPLE_BYTES else raw[: raw.rfind(b"\n") + 1 or len(raw)]
    try:
        cut.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        cut.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"  # every byte is a Latin-1 character


def _delimiter(text: str) -> str:
    """The candidate that splits the header into the most fields and the sampled rows into
    that same number most often (quotes respected); ``,`` when none splits the header."""
    lines = text.splitlines()[:SAMPLE_LINES]
    best, best_key = ",", (0.0, 1)
    for d in DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=d))
        except csv.Error:  # e.g. an open quote running past the sample: not this delimiter
            continue
        rows = [r for r in rows if r]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        same = sum(len(r) == width for r in rows) / len(rows)
        key = (same, width)
        if key > best_key:
            best, best_key = d, key
    return best


def sniff_csv(path: str | Path, given: dict[str, str] | None = None) -> CsvFormat:
    """The format of the CSV file at ``path``; ``given`` (``delimiter``, ``encoding``,
    ``decimal``, each a value or ``"auto"``) overrides what the sample suggests."""
    given = {k: v for k, v in (given or {}).items() if v not in (None, "auto")}
    with open(path, "rb") as f:
        raw = f.read(SAMPLE_BYTES)
    encoding = given.get("encoding") or _encoding(raw)
    if encoding == "utf-16" and len(raw) % 2:
        raw = raw[:-1]  # the sample may end inside a character
    text = raw.decode(encoding, errors="replace")
    delimiter = given.get("delimiter") or _delimiter(text)
    # The European convention: a ";" file writes decimal commas.
    decimal = given.get("decimal") or ("," if delimiter == ";" else ".")
    return CsvFormat(delimiter, encoding, decimal)


def cut_short(path: str | Path, fmt: CsvFormat) -> str | None:
    """Why the file's last line looks cut in the middle (a copy or an export that stopped),
    or None. A last line without a line end is cut when it holds fewer fields than the
    header, or ends inside a quoted field; a file that ends with a line end is whole as far
    as can be told."""
    with open(path, "rb") as f:
        head = f.read(TAIL_BYTES).decode(fmt.encoding, errors="replace")
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - TAIL_BYTES))
        tail = f.read()
    if not tail or tail.endswith((b"\n", b"\r")) or fmt.encoding == "utf-16":
        return None  # (UTF-16's line ends are two bytes: left to the reader)
    text = tail.decode(fmt.encoding, errors="replace")
    lines = re.split(r"\r\n|\r|\n", text)  # only CSV's line ends, not Unicode's others
    if len(tail) == size and len(lines) < 2:
        return None  # a header alone, without a line end: no row to cut
    last = lines[-1]
    if last.count('"') % 2:
        return "its last line ends inside a quoted field"
    try:
        header = next(csv.reader([head.splitlines()[0] if head else ""], delimiter=fmt.delimiter))
        fields = next(csv.reader([last], delimiter=fmt.delimiter), [])
    except (csv.Error, StopIteration):
        return None  # not plain CSV lines: the reader says what is wrong
    if len(fields) < len(header):
        return (
            f"its last line has {len(fields)} of the header's {len(header)} fields and no line end"
        )
    return None


class _Tracked:
    """A file's lines as ``csv.reader`` takes them, keeping the last one (to tell blank)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.last = ""

    def __iter__(self) -> _Tracked:
        return self

    def __next__(self) -> str:
        self.last = next(self.lines)
        return self.last


def record_lines(path: str | Path, fmt: CsvFormat) -> list[int]:
    """The line of the file each data row starts on (the header is line 1), as pandas reads
    the file: a blank line (nothing, or spaces and tabs only) is no row, and a quoted field
    that holds line ends makes its row span several lines. A line ends at LF, CR LF or CR,
    as an editor counts them."""
    starts: list[int] = []
    with open(path, encoding=fmt.encoding, newline="") as f:
        lines = _Tracked(f)
        reader = csv.reader(lines, delimiter=fmt.delimiter)
        done = 0  # lines read so far
        for _ in reader:
            first, done = done + 1, reader.line_num
            if done == first and not lines.last.strip(" \t\r\n"):
                continue
            starts.append(first)
    return starts[1:]  # the first row read is the header


# 1.250,5 / 1250,5 / 12: a first group without a leading zero, so 0.125 or 030.123.456
# (a dot decimal, a phone number) is never read as thousands.
_EU_NUMBER = re.compile(r"^[+-]?(?:[1-9]\d{0,2}(?:\.\d{3})+|\d+)(?:,\d+)?$")


def decimal_commas(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns written with decimal commas (``1.250,5``) as dot decimals (``1250.5``).

    A column is converted only when every value it holds reads as such a number and at
    least one uses a comma or a thousands dot, so ids, dates and text stay as they are.
    """
    out = {}
    for c in frame.columns:
        col = frame[c]
        text = col.dropna().astype(str).str.strip()
        if text.empty or not text.str.contains(r"[.,]", regex=True).any():
            continue
        if text.str.fullmatch(_EU_NUMBER.pattern).all():
            fixed = col.astype("string").str.strip().str.replace(".", "", regex=False)
            out[c] = fixed.str.replace(",", ".", regex=False)
    return frame.assign(**out) if out else frame


# A UTF-8 lead byte (0xC2-0xF4) then a continuation byte (0x80-0xBF), as a single-byte
# encoding shows them: UTF-8 text inside a Windows-1252 or Latin-1 file ("SociÃ©tÃ©").
_UTF8_IN_CP1252 = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152-\u2122]")


def utf8_rows_repaired(frame: pd.DataFrame, encoding: str) -> tuple[pd.DataFrame, int]:
    """Cells of a file read as ``encoding`` (Windows-1252 or Latin-1) that are UTF-8 text
    (a row pasted from another export) decoded again as UTF-8; and how many rows held one.
    A cell is changed only when its bytes decode as UTF-8 (text that truly means "Ã©" is
    vanishingly rare); the rest of the file keeps its own encoding."""
    if encoding not in ("cp1252", "latin-1"):
        return frame, 0
    fixed = pd.Series(False, index=frame.index)
    out = {}
    for c in frame.columns:
        col = frame[c]
        if not (col.dtype == object or isinstance(col.dtype, pd.StringDtype)):
            continue
        suspect = col.str.contains(_UTF8_IN_CP1252, na=False)
        if not suspect.any():
            continue
        again = col[suspect].map(lambda v: _as_utf8(v, encoding))  # the suspect cells only
        changed = again.notna()
        if changed.any():
            out[c] = col.where(~suspect | ~changed.reindex(col.index, fill_value=False), again)
            fixed |= changed.reindex(frame.index, fill_value=False)
    return (frame.assign(**out) if out else frame), int(fixed.sum())


def _as_utf8(text: str, encoding: str) -> str | None:
    try:
        return text.encode(encoding).decode("utf-8")
    except UnicodeError:
        return None


def utf8_copy(path: str | Path, fmt: CsvFormat, folder: Path) -> Path:
    """The file re-encoded as UTF-8 in ``folder`` (same name), streamed in blocks."""
    out = folder / Path(path).name
    with (
        open(path, encoding=fmt.encoding, newline="") as src,
        open(out, "w", encoding="utf-8", newline="") as dst,
    ):
        while block := src.read(1 << 22):
            dst.write(block)
    return out
