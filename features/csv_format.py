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
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1")
SAMPLE_BYTES = 1 << 20
SAMPLE_LINES = 200
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

    def duckdb_options(self) -> str:
        """``read_csv`` options for this format. DuckDB decodes UTF-8, UTF-16 and Latin-1 by
        itself; Windows-1252 is read as Latin-1 (they differ only in 0x80-0x9F, typographic
        quotes and the euro sign, which event keys turn into "_" anyway)."""
        enc = "utf-8" if self.encoding.startswith("utf-8") else "latin-1"
        delim = self.delimiter.replace("'", "''")
        return f"delim = '{delim}', encoding = '{enc}'"


def _encoding(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
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
        rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=d))
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
    text = raw.decode(encoding, errors="replace")
    delimiter = given.get("delimiter") or _delimiter(text)
    # The European convention: a ";" file writes decimal commas.
    decimal = given.get("decimal") or ("," if delimiter == ";" else ".")
    return CsvFormat(delimiter, encoding, decimal)


_EU_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$")


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
