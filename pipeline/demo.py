"""`make demo`: the whole job on a synthetic world, with the embedded defaults.

generate -> validate -> train (MLflow run, registered model, champion alias) -> score every
open lead on two nights, kept in a score history -> accounts -> the HTML review -> the
hand-off list -> the monitor of both nights. Each step is the `leadscore` command a user
would run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from leadscore.cli import main as leadscore


def _step(title: str, argv: list[str], ok: tuple[int, ...] = (0,)) -> None:
    print(f"\n== {title}\n$ leadscore {' '.join(argv)}", flush=True)
    t0 = time.perf_counter()
    code = leadscore(argv)
    if code not in ok:
        sys.exit(code)
    print(f"({time.perf_counter() - t0:.1f}s)", flush=True)


def run(out: Path, leads: int, seed: int, as_of: str) -> None:
    data, history = out / "data", out / "history"
    month_before = f"{pd.Timestamp(as_of) - pd.DateOffset(months=1):%Y-%m-%d}"
    _step(
        "1. generate a synthetic B2B world",
        ["generate", "--out", str(data), "--leads", str(leads), "--seed", str(seed)],
    )
    _step("2. validate it against the contract", ["validate", "--data", str(data)])
    _step(
        "3. train: points baseline vs calibrated LightGBM, tracked in MLflow",
        ["train", "--data", str(data)],
    )
    _step(
        f"4. score every open lead on the night of {month_before}, kept in the score history",
        [
            "score",
            "--data",
            str(data),
            "--as-of",
            month_before,
            "--out",
            str(out / f"scores-{month_before}.parquet"),
            "--history",
            str(history),
        ],
    )
    _step(
        f"5. and on the night of {as_of}: score changes since the first night",
        [
            "score",
            "--data",
            str(data),
            "--as-of",
            as_of,
            "--out",
            str(out / "scores.parquet"),
            "--history",
            str(history),
        ],
    )
    _step(
        "6. roll the scores up to accounts (buying groups)",
        [
            "accounts",
            "--scores",
            str(out / "scores.parquet"),
            "--data",
            str(data),
            "--out",
            str(out / "accounts.parquet"),
        ],
    )
    _step(
        "7. the review for sales",
        [
            "report",
            "--scores",
            str(out / "scores.parquet"),
            "--accounts",
            str(out / "accounts.parquet"),
            "--out",
            str(out / "report.html"),
        ],
    )
    _step(
        "8. hand off the best 100 to sales",
        [
            "handoff",
            "--scores",
            str(out / "scores.parquet"),
            "--capacity",
            "100",
            "--out",
            str(out / "handoff.csv"),
            "--history",
            str(history),
        ],
    )
    # Exit status 3 is the monitor's alert, which a nightly job acts on; the demo shows it.
    _step(
        "9. monitor both nights: drift against training, expected and realised conversions",
        [
            "monitor",
            "--history",
            str(history),
            "--data",
            str(data),
            "--out",
            str(out / "monitor.html"),
            "--json",
            str(out / "monitor.json"),
        ],
        ok=(0, 3),
    )
    print(
        f"\ndone: scores {out / 'scores.parquet'}, report {out / 'report.html'}, "
        f"hand-off list {out / 'handoff.csv'}, monitor {out / 'monitor.html'}, "
        f"score history {history}, MLflow store ./mlflow.db"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default="out/demo")
    p.add_argument("--leads", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--as-of", default="2026-01-01", help="scoring date (the synthetic data ends 2025-12-31)"
    )
    args = p.parse_args(argv)
    run(Path(args.out), args.leads, args.seed, args.as_of)
    return 0


if __name__ == "__main__":
    sys.exit(main())
