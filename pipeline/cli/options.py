"""What every command shares: how it speaks, how it reads dates, and the options several
commands take, each declared once here."""

from __future__ import annotations

import argparse

from leadscore.errors import UsageError

Sub = argparse._SubParsersAction


def say(msg: str) -> None:
    """A progress or result line on stdout, at once (a nightly log shows it as it happens)."""
    print(msg, flush=True)


def dates(text: str) -> list:
    """``--as-of``: one date or several, comma separated, as UTC timestamps."""
    from leadscore.timestamps import to_utc  # pandas: only once a command runs

    try:
        return [to_utc(d.strip()) for d in text.split(",") if d.strip()]
    except ValueError:
        raise UsageError(
            f"--as-of: cannot read {text!r} as dates (use YYYY-MM-DD[,YYYY-MM-DD...])"
        ) from None


def add_config(
    p: argparse.ArgumentParser, help: str = "YAML config merged over the defaults"
) -> None:
    p.add_argument("--config", help=help)


def add_data(
    p: argparse.ArgumentParser,
    help: str = "data folder with leads, events, outcomes (.parquet or .csv)",
    required: bool = False,
) -> None:
    p.add_argument("--data", required=required, help=help)


def add_as_of(p: argparse.ArgumentParser, help: str, required: bool = False) -> None:
    p.add_argument("--as-of", required=required, help=help)


def add_out(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--out", required=True, help=help)


def add_model(
    p: argparse.ArgumentParser, help: str = "MLflow model URI (default: the champion)"
) -> None:
    p.add_argument("--model", help=help)


def add_engine(p: argparse.ArgumentParser) -> None:
    """``--engine`` and the Spark engine's own options."""
    p.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        default="duckdb",
        help="where events are read and aggregated: DuckDB on this machine (default) or Apache "
        'Spark (pip install "leadscore[spark]"; writes a Parquet folder)',
    )
    p.add_argument(
        "--events",
        help="spark: the events table, a Parquet path or URI (default: the data folder's)",
    )
    p.add_argument(
        "--spark-master",
        help="spark: the master URL (default: what spark-submit set, else local[*])",
    )


def check_engine(args: argparse.Namespace) -> None:
    """Spark options only with the Spark engine, and the Spark engine only where it applies."""
    if args.engine != "spark":
        given = [
            o for o, v in (("--events", args.events), ("--spark-master", args.spark_master)) if v
        ]
        if given:
            raise UsageError(f"{' and '.join(given)} need --engine spark")
        return
    if getattr(args, "flat", None):
        raise UsageError("--engine spark scores event data (--data DIR), not --flat files")
    if str(args.out).endswith(".csv"):
        raise UsageError("--engine spark writes a Parquet folder; give --out a .parquet name")


def events_path(args: argparse.Namespace) -> str:
    """Spark's events table: ``--events``, else the data folder's."""
    from leadscore.data.files import find_table

    return args.events or str(find_table(args.data, "events"))
