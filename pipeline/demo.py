"""`make demo`: the whole job on a synthetic world, with the embedded defaults.

generate -> validate -> train (MLflow run, registered model, champion alias) -> score every
open lead on two nights, kept in a score history -> accounts -> the HTML review -> the
hand-off list -> the monitor of both nights -> ``leadscore serve`` started, two leads
scored over HTTP (one by id, one sent whole), stopped. Each step is the `leadscore` command
a user would run.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
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


def steps(out: Path, leads: int, seed: int, as_of: str) -> list[tuple[str, list[str]]]:
    """The demo's steps: a title and the ``leadscore`` command line of each."""
    data, history = str(out / "data"), str(out / "history")
    month_before = f"{pd.Timestamp(as_of) - pd.DateOffset(months=1):%Y-%m-%d}"
    scores, accounts = str(out / "scores.parquet"), str(out / "accounts.parquet")
    first_night = str(out / f"scores-{month_before}.parquet")
    return [
        (
            "1. generate a synthetic B2B world",
            ["generate", "--out", data, "--leads", str(leads), "--seed", str(seed)],
        ),
        ("2. validate it against the contract", ["validate", "--data", data]),
        (
            "3. train: points baseline vs calibrated LightGBM, tracked in MLflow",
            ["train", "--data", data],
        ),
        (
            f"4. score every open lead on the night of {month_before}, kept in the score history",
            ["score", "--data", data, "--as-of", month_before, "--out", first_night]
            + ["--history", history],
        ),
        (
            f"5. and on the night of {as_of}: score changes since the first night",
            ["score", "--data", data, "--as-of", as_of, "--out", scores, "--history", history],
        ),
        (
            "6. roll the scores up to accounts (buying groups)",
            ["accounts", "--scores", scores, "--data", data, "--out", accounts],
        ),
        (
            "7. the review for sales",
            ["report", "--scores", scores, "--accounts", accounts]
            + ["--out", str(out / "report.html")],
        ),
        (
            "8. hand off the best 100 to sales",
            ["handoff", "--scores", scores, "--capacity", "100"]
            + ["--out", str(out / "handoff.csv"), "--history", history],
        ),
        (
            "9. monitor both nights: drift against training, expected and realised conversions",
            ["monitor", "--history", history, "--data", data]
            + ["--out", str(out / "monitor.html"), "--json", str(out / "monitor.json")],
        ),
    ]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(url: str, body: dict | None = None) -> dict:
    """GET ``url``, or POST ``body`` to it as JSON; the JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=60) as answer:
        return json.loads(answer.read())


def serve_two(out: Path, as_of: str) -> None:
    """Start ``leadscore serve`` on a free port, score the night's best lead by id and a new
    lead sent whole, and stop it."""
    port = _port()
    argv = ["serve", "--data", str(out / "data"), "--history", str(out / "history")]
    argv += ["--port", str(port)]
    print(f"\n== 10. score two leads now, over HTTP\n$ leadscore {' '.join(argv)} &", flush=True)
    t0 = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "leadscore.cli", *argv])
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                print(f"GET /health -> {_call(base + '/health')}", flush=True)
                break
            except (urllib.error.URLError, OSError):
                if server.poll() is not None:
                    sys.exit(server.returncode or 1)
                time.sleep(0.1)
        best = pd.read_parquet(out / "scores.parquet", columns=["lead_id", "rank"])
        by_id = str(best.sort_values("rank")["lead_id"].iloc[0])
        new = {
            "lead_id": "NEW-1",
            "created_at": f"{as_of}T09:00:00Z",
            "job_title": "VP Marketing",
            "industry": "software",
            "employees": 450,
            "events": [
                {"occurred_at": f"{as_of}T09:05:00Z", "event_type": "pricing_page_view"},
                {"occurred_at": f"{as_of}T09:12:00Z", "event_type": "demo_request"},
            ],
        }
        body = {"as_of": f"{as_of}T10:00:00Z", "leads": [{"lead_id": by_id}, new]}
        print(f"POST /score {json.dumps(body)[:160]}...", flush=True)
        for row in _call(base + "/score", body)["scores"]:
            print(
                f"  {row['lead_id']}: score {row['score']:g}, tier {row['tier']}, "
                f"{row['top_reasons']}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"({time.perf_counter() - t0:.1f}s)", flush=True)


def run(out: Path, leads: int, seed: int, as_of: str) -> None:
    for title, argv in steps(out, leads, seed, as_of):
        # Exit status 3 is the monitor's alert, which a nightly job acts on; the demo shows it.
        _step(title, argv, ok=(0, 3) if argv[0] == "monitor" else (0,))
    serve_two(out, as_of)
    print(
        f"\ndone: scores {out / 'scores.parquet'}, report {out / 'report.html'}, "
        f"hand-off list {out / 'handoff.csv'}, monitor {out / 'monitor.html'}, "
        f"score history {out / 'history'}, MLflow store ./mlflow.db"
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
