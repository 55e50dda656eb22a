"""`make demo`: the whole job on a synthetic world, with the embedded defaults.

generate -> validate -> train (MLflow run, registered model, champion alias) -> score every
open lead -> accounts -> the HTML review -> the hand-off list. Each step is the `leadscore` command a user would run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from leadscore.cli import main as leadscore


def _step(title: str, argv: list[str]) -> None:
    print(f"\n== {title}\n$ leadscore {' '.join(argv)}", flush=True)
    t0 = time.perf_counter()
    code = leadscore(argv)
    if code != 0:
        sys.exit(code)
    print(f"({time.perf_counter() - t0:.1f}s)", flush=True)


def run(out: Path, leads: int, seed: int, as_of: str) -> None:
    data = out / "data"
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
        f"4. score every open lead at {as_of}",
        ["score", "--data", str(data), "--as-of", as_of, "--out", str(out / "scores.parquet")],
    )
    _step(
        "5. roll the scores up to accounts (buying groups)",
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
        "6. the review for sales",
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
        "7. hand off the best 100 to sales",
        [
            "handoff",
            "--scores",
            str(out / "scores.parquet"),
            "--capacity",
            "100",
            "--out",
            str(out / "handoff.csv"),
        ],
    )
    print(
        f"\ndone: scores {out / 'scores.parquet'}, report {out / 'report.html'}, "
        f"hand-off list {out / 'handoff.csv'}, MLflow store ./mlflow.db"
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
