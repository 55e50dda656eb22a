"""Real CSV files: delimiters, encodings and decimal marks detected (or set in the config),
and a table that loses too many rows stops the run with one line."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadscore.cli import main
from leadscore.data.files import read_frame
from leadscore.data.load import load_data, load_streaming
from leadscore.data.synthetic.world import generate_world
from leadscore.data.validate import require_valid
from leadscore.errors import DataError
from leadscore.io.csv_format import CsvFormat, decimal_commas, record_lines, sniff_csv

LEADS = (
    "lead_id{d}created_at{d}job_title{d}annual_revenue{d}employees\n"
    "L1{d}2024-01-05T10:00:00Z{d}Directeur Général{d}{r1}{d}250\n"
    "L2{d}2024-02-01T10:00:00Z{d}Jefe de Compras{d}{r2}{d}1{t}200\n"
)


def write(path: Path, text: str, encoding: str = "utf-8", bom: bool = False) -> Path:
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


@pytest.mark.parametrize(
    ("delimiter", "encoding", "bom", "expected"),
    [
        (",", "utf-8", False, CsvFormat(",", "utf-8", ".")),
        (";", "cp1252", False, CsvFormat(";", "cp1252", ",")),
        ("\t", "utf-8", True, CsvFormat("\t", "utf-8-sig", ".")),
        ("|", "utf-8", False, CsvFormat("|", "utf-8", ".")),
    ],
)
def test_the_dialect_is_detected(tmp_path, delimiter, encoding, bom, expected):
    r1, r2, t = (
        ("2500000,5", "1.000.000", ".") if delimiter == ";" else ("2500000.5", "1000000", "")
    )
    text = LEADS.format(d=delimiter, r1=r1, r2=r2, t=t)
    path = write(tmp_path / "leads.csv", text, encoding, bom)
    assert sniff_csv(path) == expected


def test_quoted_commas_do_not_fool_the_delimiter(tmp_path):
    text = 'lead_id;job_title;employees\nL1;"Head of Sales, EMEA";12\nL2;"VP, Marketing";40\n'
    assert sniff_csv(write(tmp_path / "x.csv", text)).delimiter == ";"


def test_config_overrides_the_detection(tmp_path):
    path = write(tmp_path / "x.csv", "a;b\n1,5;2\n")
    fmt = sniff_csv(path, {"delimiter": "auto", "decimal": ".", "encoding": "latin-1"})
    assert fmt == CsvFormat(";", "latin-1", ".")


def test_decimal_commas_convert_only_columns_of_such_numbers():
    frame = pd.DataFrame(
        {
            "revenue": ["1.250,5", "3,25", None, "12"],
            "employees": ["1.200", "50", "7", "10.000"],
            "ratio": ["1.5", "2.25", "3", "4"],  # dot decimals: left alone
            "date": ["05.01.2024", "x", "y", "z"],
            "id": ["1", "2", "3", "4"],
        }
    )
    out = decimal_commas(frame)
    assert out["revenue"].tolist()[:2] == ["1250.5", "3.25"] and pd.isna(out["revenue"][2])
    assert out["employees"].tolist() == ["1200", "50", "7", "10000"]
    assert out["ratio"].tolist() == frame["ratio"].tolist()
    assert out["date"].tolist() == frame["date"].tolist()
    assert out["id"].tolist() == frame["id"].tolist()


def test_a_european_leads_file_is_read_and_typed(tmp_path):
    text = LEADS.format(d=";", r1="2500000,5", r2="1.000.000", t=".")
    frame = read_frame(write(tmp_path / "leads.csv", text, "cp1252"))
    assert frame.attrs["read_as"] == "';'-delimited, cp1252, decimal ','"
    assert frame["job_title"].tolist() == ["Directeur Général", "Jefe de Compras"]
    assert frame["annual_revenue"].tolist() == ["2500000.5", "1000000"]
    assert frame["employees"].tolist() == ["250", "1200"]
    assert frame["lead_id"].tolist() == ["L1", "L2"]


def test_a_file_that_cannot_be_parsed_names_its_header(tmp_path):
    path = write(tmp_path / "leads.csv", 'lead_id,created_at\n"L1,2024-01-01\n' + "x" * 10)
    with pytest.raises(
        DataError, match=r"leads.csv: cannot be read .*header: 'lead_id,created_at'"
    ):
        read_frame(path)


def test_a_wrong_encoding_setting_is_one_line(tmp_path):
    path = write(tmp_path / "leads.csv", "lead_id,job_title\nL1,Général\n", "cp1252")
    with pytest.raises(DataError, match=r"cannot be read as utf-8 .*set io.csv.encoding"):
        read_frame(path, {"encoding": "utf-8"})


@pytest.fixture(scope="module")
def european(tmp_path_factory):
    """A generated world written as European spreadsheets write it: ';', Windows-1252."""
    root = tmp_path_factory.mktemp("eu")
    tables = generate_world(400, seed=2)
    for name, frame in tables.items():
        frame = frame.copy()
        for c in frame.columns:
            if isinstance(frame[c].dtype, pd.DatetimeTZDtype):
                frame[c] = frame[c].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        if name == "leads":
            frame["job_title"] = (
                frame["job_title"]
                .astype("string")
                .str.replace("Director", "Directeur Général", regex=False)
            )
            frame["annual_revenue"] = frame["annual_revenue"].map(
                lambda v: "" if pd.isna(v) else f"{v:.2f}".replace(".", ",")
            )
        frame.to_csv(root / f"{name}.csv", sep=";", index=False, encoding="cp1252")
    return {"dir": root, "tables": tables}


def test_a_european_folder_validates_like_the_original(european):
    got = require_valid(load_data(european["dir"]))
    want = european["tables"]["leads"]
    assert len(got.leads) == len(want)
    revenue = got.leads.set_index("lead_id")["annual_revenue"]
    original = want.set_index("lead_id")["annual_revenue"].round(2)
    assert np.allclose(revenue.loc[original.index], original, equal_nan=True)
    assert got.leads["job_title"].astype("string").str.contains("Général").any()
    assert len(got.events) == len(european["tables"]["events"])


def test_streamed_european_events_are_read_and_the_format_said(european):
    said: list[str] = []
    tables, source, _ = load_streaming(european["dir"], {}, said.append)
    assert "  data: leads: read as ';'-delimited, cp1252, decimal ','" in said
    # Its events are plain ASCII, which is UTF-8 as well.
    assert "  data: events: read as ';'-delimited, utf-8, decimal ','" in said
    assert any(f"{len(european['tables']['events']):,} rows read" in s for s in said)
    assert source.max_time() is not None


def test_too_many_unreadable_times_stop_every_command(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["generate", "--out", str(data), "--leads", "300", "--seed", "1"]) == 0
    events = pd.read_parquet(data / "events.parquet")
    text = events.assign(occurred_at=events["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    broken = np.random.default_rng(0).random(len(text)) < 0.6
    text.loc[broken, "occurred_at"] = "not a time"
    text.to_csv(data / "events.csv", index=False)
    (data / "events.parquet").unlink()
    capsys.readouterr()
    message = (
        r"events: [\d,]+ of [\d,]+ rows dropped \(\d+\.\d%\).*validation.max_drop_share \(5\.0%\)"
    )
    assert main(["validate", "--data", str(data)]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert main(["train", "--data", str(data)]) == 2
    assert re.search(message, capsys.readouterr().err)
    out = tmp_path / "features.parquet"
    assert main(["features", "--data", str(data), "--as-of", "2025-06-01", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and "most for unreadable or missing occurred_at" in err
    assert not out.exists()
    # A config that allows the share lets the run go on (the drops still counted).
    cfg = tmp_path / "lenient.yaml"
    cfg.write_text("validation:\n  max_drop_share: 0.7\n")
    args = ["validate", "--data", str(data), "--config", str(cfg)]
    assert main(args) == 0


def test_infinite_numbers_are_counted_and_set_to_missing(tmp_path):
    (tmp_path / "leads.csv").write_text(
        "lead_id,created_at,employees,annual_revenue\n"
        "L1,2024-01-05,inf,1e400\nL2,2024-01-06,-inf,NaN\nL3,2024-01-07,50,2000000\n"
    )
    (tmp_path / "events.csv").write_text("lead_id,occurred_at,event_type\n")
    (tmp_path / "outcomes.csv").write_text("lead_id,closed_at,won\n")
    report = load_data(tmp_path)
    leads = require_valid(report).leads.set_index("lead_id")
    assert leads["employees"].isna().tolist() == [True, True, False]
    assert leads["annual_revenue"].isna().tolist() == [True, True, False]
    lines = [p.line() for p in report.problems]
    assert any(
        line.startswith("leads.employees: 2 rows have a non-numeric value") for line in lines
    )


def test_windows_1252_events_with_its_own_characters_stream(tmp_path):
    """Bytes 0x80-0x9F (en dash, euro, typographic quotes) are what Windows-1252 adds to
    Latin-1; the engine reads such a file through a UTF-8 copy."""
    (tmp_path / "leads.csv").write_bytes(
        "lead_id;created_at\nL1;2024-01-05T10:00:00Z\n".encode("cp1252")
    )
    (tmp_path / "outcomes.csv").write_bytes(b"lead_id;closed_at;won\n")
    events = "lead_id;occurred_at;event_type\n" + "".join(
        f"L1;2024-02-0{d}T10:00:00Z;Web \u2013 Visit \u20ac\n" for d in range(1, 4)
    )
    (tmp_path / "events.csv").write_bytes(events.encode("cp1252"))
    said: list[str] = []
    tables, source, _ = load_streaming(tmp_path, {}, said.append)
    assert "  data: events: read as ';'-delimited, cp1252, decimal ','" in said
    assert source.type_counts(pd.Timestamp("2025-01-01", tz="UTC")).to_dict() == {"web_visit": 3}
    assert Path(source.path).name == "events.csv" and Path(source.path).parent != tmp_path


def test_a_stray_quote_in_a_wide_file_is_not_a_traceback(tmp_path):
    wide = ",".join(f"c{i}" for i in range(60))
    rows = "\n".join(",".join(["x" * 10] * 60) for _ in range(199))
    path = write(
        tmp_path / "leads.csv", f'lead_id,created_at,{wide}\nL0,2024-01-01,"Web visit\n{rows}\n'
    )
    fmt = sniff_csv(path)
    assert fmt.delimiter == ","
    try:
        read_frame(path)
    except DataError:
        pass  # one line is a fair answer; a bare csv.Error is not


def test_excel_unicode_text_is_utf16(tmp_path):
    text = "lead_id\tcreated_at\nL1\t2024-01-05\n"
    path = tmp_path / "leads.csv"
    path.write_bytes(text.encode("utf-16"))
    assert sniff_csv(path) == CsvFormat("\t", "utf-16", ".")
    assert read_frame(path)["lead_id"].tolist() == ["L1"]


def test_zero_led_and_phone_like_values_are_not_thousands():
    frame = pd.DataFrame({"price": ["0.125", "1,5"], "phone": ["030.123.456", "040.111.222"]})
    out = decimal_commas(frame)
    assert out["price"].tolist() == ["0.125", "1,5"]  # mixed: left as written
    assert out["phone"].tolist() == ["030.123.456", "040.111.222"]


def test_a_mapped_id_column_keeps_its_dots(tmp_path):
    from leadscore.data.files import read_table

    (tmp_path / "leads.csv").write_text(
        "Lead Number;created_at;revenue\n1.001;2024-01-05;1.250,5\n"
    )
    frame = read_table(tmp_path, "leads", {"lead_id": "Lead Number"})
    assert frame["lead_id"].tolist() == ["1.001"] and frame["revenue"].tolist() == ["1250.5"]


def test_spark_options_need_the_spark_engine(tmp_path, capsys):
    args = ["features", "--data", str(tmp_path), "--as-of", "2025-01-01", "--out", "x.parquet"]
    assert main([*args, "--events", "s3a://lake/events/"]) == 2
    assert "--events need --engine spark" in capsys.readouterr().err
    score = ["score", "--data", str(tmp_path), "--as-of", "2025-01-01", "--engine", "spark"]
    assert main([*score, "--out", "scores.csv"]) == 2
    assert "writes a Parquet folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("ending", "why"),
    [
        ("L3,2024-03-0", "its last line has 2 of the header's 5 fields and no line end"),
        ('L3,2024-03-01T10:00:00Z,"Head of, Sales', "ends inside a quoted field"),
    ],
)
def test_a_file_cut_in_the_middle_of_its_last_line_is_refused(tmp_path, ending, why):
    p = write(tmp_path / "leads.csv", LEADS.format(d=",", r1="1000", r2="2000", t="") + ending)
    with pytest.raises(DataError, match=f"leads.csv: looks truncated \\(.*{re.escape(why)}"):
        read_frame(p)


@pytest.mark.parametrize(
    "ending",
    ["", "L3,2024-03-01T10:00:00Z,CEO,3000,40", 'L3,2024-03-01T10:00:00Z,"Head, Sales",3,4'],
)
def test_a_whole_file_passes_with_or_without_a_last_line_end(tmp_path, ending):
    p = write(tmp_path / "leads.csv", LEADS.format(d=",", r1="1000", r2="2000", t="") + ending)
    assert len(read_frame(p)) == (2 if ending == "" else 3)
    assert read_frame(write(tmp_path / "h.csv", "lead_id,created_at")).empty


def test_a_truncated_events_file_stops_validate_with_one_line(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["generate", "--out", str(data), "--leads", "200", "--seed", "2"]) == 0
    events = pd.read_parquet(data / "events.parquet")
    text = events.to_csv(index=False)
    (data / "events.csv").write_text(text[: len(text) - 25])  # cut inside the last row
    (data / "events.parquet").unlink()
    capsys.readouterr()
    assert main(["validate", "--data", str(data)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "events.csv: looks truncated" in err[0]


def test_validate_and_train_say_how_each_table_was_read(european, capsys):
    report = load_data(european["dir"])
    assert report.read_as["leads"] == "';'-delimited, cp1252, decimal ','"
    capsys.readouterr()
    main(["validate", "--data", str(european["dir"])])
    out = capsys.readouterr().out
    assert "leads: read as ';'-delimited, cp1252, decimal ','" in out
    assert "outcomes: read as" in out


def test_utf8_rows_inside_a_windows_1252_file_are_read_as_utf8_and_counted(tmp_path):
    head = "lead_id,created_at,company\n".encode("cp1252")
    rows = (
        "L1,2024-01-05T10:00:00Z,Crème & Cie\n".encode("cp1252")
        + "L2,2024-01-06T10:00:00Z,Société Générale\n".encode()
        + "L3,2024-01-07T10:00:00Z,Œuvre – 5 €\n".encode("cp1252")
    )
    p = tmp_path / "leads.csv"
    p.write_bytes(head + rows)
    frame = read_frame(p)
    assert list(frame["company"]) == ["Crème & Cie", "Société Générale", "Œuvre – 5 €"]
    assert frame.attrs["read_as"].endswith("; 1 row(s) of UTF-8 text in it read as UTF-8")


def test_each_row_starts_on_the_line_an_editor_shows(tmp_path):
    # Old Mac line ends, a blank line of spaces, a quoted field over two lines, ';' and
    # Windows-1252: pandas reads 3 rows, starting on lines 2, 4 and 6.
    text = 'id;note\r1;"a"\r   \r2;"two\r\nlines é"\r3;\r'
    path = write(tmp_path / "rows.csv", text, "cp1252")
    fmt = sniff_csv(path)
    assert (fmt.delimiter, fmt.encoding) == (";", "cp1252")
    assert len(read_frame(path)) == 3
    assert record_lines(path, fmt) == [2, 4, 6]
