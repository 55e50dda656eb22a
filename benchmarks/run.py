"""`make bench`: speed and memory figures for features, training and scoring (prints a table).

Each case runs in its own process, so its peak memory (max RSS) and CPU time are its own.
Synthetic worlds are generated once into out/bench/ and reused, in two shapes (BENCH_SHAPES,
default "default,other-crm"): the default generator, and `leadscore generate --shape
other-crm` (18 months of history, 5 event types outside the contract, spelling variants,
events before creation, 44% of leads closed), so no speed decision is tuned to one shape.

Sizes: BENCH_SIZES (default "200000,1000000"); BENCH_CASES picks cases (default
"features,train,score,spark,shapes,serve"; spark, the Spark engine on local[2] against
DuckDB, runs at sizes up to 200k; serve, `leadscore serve` over HTTP on localhost); BENCH_CONFIG names a config file for the train case (an
option against the defaults). The features case runs `leadscore features` and the
straightforward reference (benchmarks/reference.py) as whole processes, A B A B
(BENCH_PAIRS pairs, default 2), and checks their values equal on the shared columns; the
score case runs BENCH_SCORE_RUNS times (default 3). Each features and score line is
followed by whether it meets the project's targets (TARGETS); so is each train line at 1M
and 3M leads. Not a test: figures vary
with the machine and its load; the README records ours.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "out" / "bench"
DATES = ["2025-04-01", "2025-08-01", "2025-12-01"]
BENCH_STORE = f"sqlite:///{OUT / 'mlflow.db'}"
SHAPE_START = {"default": "2024-01-01", "other-crm": "2024-07-01"}


def world(n: int, shape: str = "default") -> Path:
    """The world's folder; generated in a child process the first time, so this process
    stays small (see features_ab)."""
    d = OUT / (str(n) if shape == "default" else f"{shape}-{n}")
    if not (d / "events.parquet").exists():
        subprocess.run([sys.executable, __file__, "world", str(n), shape], cwd=ROOT, check=True)
    return d


def make_world(n: int, shape: str) -> None:
    d = OUT / (str(n) if shape == "default" else f"{shape}-{n}")
    if not (d / "events.parquet").exists():
        from leadscore.data.files import write_tables
        from leadscore.data.synthetic.shape import OTHER_CRM, reshape
        from leadscore.data.synthetic.world import generate_world

        if n > PART:
            return _world_in_parts(n, d, shape)
        tables = generate_world(n, seed=0, start=SHAPE_START[shape])
        if shape == "other-crm":
            tables = reshape(tables, OTHER_CRM, seed=0)
        write_tables(tables, d)


#: Generating holds the events in pandas several times over (reshaping, about 15 GB at 1M
#: leads), so larger worlds are made of 1M-lead parts (seeds 0, 1, ..., ids prefixed p0-, ...).
PART = 1_000_000


def _world_in_parts(n: int, d: Path, shape: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from leadscore.data.synthetic.shape import OTHER_CRM, reshape
    from leadscore.data.synthetic.world import generate_world

    d.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        for k in range(-(-n // PART)):
            size = min(PART, n - k * PART)
            part = generate_world(size, seed=k, start=SHAPE_START[shape])
            if shape == "other-crm":
                part = reshape(part, OTHER_CRM, k)
            for name, frame in part.items():
                frame = frame.assign(lead_id="p" + str(k) + "-" + frame["lead_id"].astype(str))
                if "account" in frame:  # one part's accounts are not another's
                    frame["account"] = "p" + str(k) + "-" + frame["account"].astype(str)
                if "event_type" in frame:
                    frame["event_type"] = frame["event_type"].astype(str)
                table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(
                    None
                )
                if name not in writers:
                    writers[name] = pq.ParquetWriter(d / f"{name}.tmp", table.schema)
                writers[name].write_table(table.cast(writers[name].schema))
            del part
    finally:
        for w in writers.values():
            w.close()
    for name in writers:  # events last: its presence marks the world as complete
        if name != "events":
            (d / f"{name}.tmp").rename(d / f"{name}.parquet")
    (d / "events.tmp").rename(d / "events.parquet")


def load(d: Path):
    from leadscore.data.load import load_data
    from leadscore.data.validate import require_valid

    return require_valid(load_data(d))


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Wall time, CPU time (user + system) and peak memory of one whole process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed: {err[-2000:]}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_gib": usage.ru_maxrss / 1024**2,
    }


def _pairs(a_cmd: list[str], b_cmd: list[str], pairs: int) -> tuple[dict, list[float]]:
    """A B A B: each command's runs, and the wall-time ratio of each pair."""
    runs: dict[str, list[dict]] = {"a": [], "b": []}
    for _ in range(pairs):
        runs["a"].append(_timed(a_cmd))
        runs["b"].append(_timed(b_cmd))
    return runs, [x["wall"] / y["wall"] for x, y in zip(runs["a"], runs["b"], strict=True)]


def _compare(ours: Path, other: Path) -> str:
    # In a child: a parent that grew would pass its size on to the next case's children
    # (Linux counts a forked child's pages before exec in its peak memory).
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "compare.py"), str(ours), str(other)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def features_ab(d: Path, pairs: int) -> dict:
    """`leadscore features` (A) against the reference (B) at 3 dates, A B A B, whole
    processes; then the two tables compared on their shared columns."""
    import pyarrow.parquet as pq

    ours, ref = OUT / "ab_features.parquet", OUT / "ab_reference.parquet"
    leadscore = [sys.executable, "-m", "leadscore.cli"]
    a_cmd = [*leadscore, "features", "--data", str(d), "--as-of", ",".join(DATES)]
    a_cmd += ["--out", str(ours)]
    _timed(a_cmd)  # warm-up: fills the page cache for both, and gives the types to count
    names = pq.read_schema(ours).names
    skip = {"events_7d", "active_days_7d", "other_7d"}
    types = sorted(c[:-3] for c in names if c.endswith("_7d") and c not in skip)
    b_cmd = [sys.executable, str(ROOT / "benchmarks" / "reference.py"), str(d), ",".join(DATES)]
    b_cmd += [str(ref), ",".join(types)]
    runs, ratios = _pairs(a_cmd, b_cmd, pairs)
    n_events = pq.ParquetFile(d / "events.parquet").metadata.num_rows
    a_wall = statistics.median(r["wall"] for r in runs["a"])
    return {
        "rows": pq.ParquetFile(ours).metadata.num_rows,
        "columns": len(names),
        "events": n_events,
        "features_wall_s": a_wall,
        "features_cpu_s": statistics.median(r["cpu"] for r in runs["a"]),
        "features_rss_gib": max(r["rss_gib"] for r in runs["a"]),
        "features_events_per_s": n_events / a_wall,
        "reference_wall_s": statistics.median(r["wall"] for r in runs["b"]),
        "reference_cpu_s": statistics.median(r["cpu"] for r in runs["b"]),
        "reference_rss_gib": max(r["rss_gib"] for r in runs["b"]),
        "ratio_median": statistics.median(ratios),
        "ratio_range": f"{min(ratios):.2f}-{max(ratios):.2f}",
        "pairs": pairs,
        "check": _compare(ours, ref),
    }


def spark_ab(d: Path, pairs: int) -> dict:
    """`leadscore features --engine spark` on local[2] (A) against the DuckDB engine (B), A B
    A B, whole processes (the Spark figures include starting its JVM); then the two tables
    compared on every column. What Spark costs on one machine: it is for clusters."""
    import pyarrow.parquet as pq

    duck, spark = OUT / "ab_duckdb.parquet", OUT / "ab_spark.parquet"
    leadscore = [sys.executable, "-m", "leadscore.cli", "features", "--data", str(d)]
    leadscore += ["--as-of", ",".join(DATES)]
    a_cmd = [*leadscore, "--out", str(spark), "--engine", "spark", "--spark-master", "local[2]"]
    b_cmd = [*leadscore, "--out", str(duck)]
    runs, ratios = _pairs(a_cmd, b_cmd, pairs)
    n_events = pq.ParquetFile(d / "events.parquet").metadata.num_rows
    a_wall = statistics.median(r["wall"] for r in runs["a"])
    return {
        "events": n_events,
        "spark_wall_s": a_wall,
        "spark_events_per_s": n_events / a_wall,
        "duckdb_wall_s": statistics.median(r["wall"] for r in runs["b"]),
        "ratio_median": statistics.median(ratios),
        "ratio_range": f"{min(ratios):.2f}-{max(ratios):.2f}",
        "pairs": pairs,
        "check": _compare(duck, spark),
    }


def plan_for(frame, cfg):
    from leadscore.training.folds import time_folds
    from leadscore.training.grid import table_cadence

    cfg = table_cadence(cfg, frame["as_of"])
    b = cfg.training.backtest
    return time_folds(
        frame["as_of"],
        frame["label"].to_numpy(),
        cfg.training.horizon_days,
        None if b.folds == "auto" else int(b.folds),
        None if b.fold_snapshots == "auto" else int(b.fold_snapshots),
        cfg.training.cadence,
    )


def case_train(n: int, shape: str = "default") -> dict:
    """Training on a world: the table, then the backtest, the deployed model and the pooled
    evaluation (what `leadscore train` does before MLflow)."""

    from leadscore.config import load_config
    from leadscore.data.load import load_streaming
    from leadscore.training.dataset import training_table
    from leadscore.training.fit import train_on_table

    cfg = load_config(os.environ.get("BENCH_CONFIG"))  # a config file to compare against
    t0 = time.perf_counter()
    # As `leadscore train` reads a folder: events left in their file for the engine.
    tables, events, _ = load_streaming(world(n, shape), {})
    tt = training_table(tables, cfg, events=events)
    t_table = time.perf_counter() - t0
    frame = tt.frame
    t1 = time.perf_counter()
    result = train_on_table(frame, tt.spec, plan_for(frame, cfg), cfg)
    t_fit = time.perf_counter() - t1
    (OUT / "model-uri.txt").write_text(
        register_bench_model(result.scorer, frame.head(5))
    )  # for score
    comp = result.evaluation.comparison.set_index("metric")
    metrics = {
        f"{side}_{m}": round(float(comp.loc[m, side]), 4)
        for m in comp.index
        for side in ("model", "baseline")
    }
    board = result.tournament.table.set_index("contestant")
    metric = f"{result.tournament.metric}_latest"
    tournament = {
        f"{name.replace(' ', '_')}_{metric}": round(float(board.loc[name, metric]), 4)
        for name in board.index
    }
    return {
        "labelled_rows": tt.labelled,
        "rows": len(frame),
        "positives": int(frame["label"].sum()),
        "folds": len(result.folds),
        "winner": result.tournament.winner,
        **tournament,
        "read_and_table_s": t_table,
        "backtest_deploy_evaluate_s": t_fit,
        "deploy_rounds": result.deployed.rounds,
        **metrics,
    }


def register_bench_model(scorer, example) -> str:
    """The train case's model in the bench's own MLflow store (out/bench/mlflow.db), as
    `leadscore score` loads a registered model; its URI."""
    import mlflow

    from leadscore.config import config_from_dict
    from leadscore.model.registered import log_model
    from leadscore.model.settings import ModelSettings

    mlflow.set_tracking_uri(BENCH_STORE)
    with mlflow.start_run():
        uri, version = log_model(
            scorer, ModelSettings.for_events(config_from_dict({})), example, "bench"
        )
    return f"models:/bench/{version}"


def case_score(n: int, shape: str = "default") -> dict:
    """`leadscore score` as a whole process on every open lead at the data's end: start-up,
    the registry look-up, reading and checking the folder, features (events streamed from
    their file), prediction, SHAP reasons, write. BENCH_SCORE_RUNS runs (default 3); the
    median wall and CPU time, the largest peak memory."""
    import pyarrow.parquet as pq

    uri_file = OUT / "model-uri.txt"
    if not uri_file.exists():
        raise SystemExit("run the train case first (it registers the model the score case uses)")
    d = world(n, shape)
    out = OUT / "scores.parquet"
    cmd = [sys.executable, "-m", "leadscore.cli", "score", "--data", str(d)]
    cmd += ["--as-of", "2026-01-01", "--out", str(out), "--model", uri_file.read_text().strip()]
    runs = [
        _timed(cmd, {"MLFLOW_TRACKING_URI": BENCH_STORE})
        for _ in range(int(os.environ.get("BENCH_SCORE_RUNS", "3")))
    ]
    wall = statistics.median(r["wall"] for r in runs)
    scored = pq.ParquetFile(out).metadata.num_rows
    n_events = pq.ParquetFile(d / "events.parquet").metadata.num_rows
    return {
        "scored": scored,
        "events": n_events,
        "runs": len(runs),
        "wall_s": wall,
        "wall_range": f"{min(r['wall'] for r in runs):.1f}-{max(r['wall'] for r in runs):.1f}",
        "cpu_s": statistics.median(r["cpu"] for r in runs),
        "peak_rss_gib": max(r["rss_gib"] for r in runs),
        "open_leads_per_s": scored / wall,
        "events_per_s": n_events / wall,
    }


def _serve_call(port: int, body: dict, into: list | None = None) -> float:
    import urllib.request

    data = json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/score", data=data)
    t0 = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as answer:
        text = answer.read()
    took = time.perf_counter() - t0
    if into is not None:
        into.extend(json.loads(text)["scores"])
    return took


def _against_batch(d: Path, uri: str, answers: list[dict]) -> dict:
    """The online answers against `leadscore score` of the same folder at the same moment."""
    import pandas as pd

    out = OUT / "serve-batch.parquet"
    cmd = [sys.executable, "-m", "leadscore.cli", "score", "--data", str(d)]
    cmd += ["--as-of", "2026-01-01", "--out", str(out), "--model", uri]
    _timed(cmd, {"MLFLOW_TRACKING_URI": BENCH_STORE})
    batch = pd.read_parquet(out).set_index("lead_id")
    online = pd.DataFrame(answers).drop_duplicates("lead_id").set_index("lead_id")
    b = batch.loc[online.index]
    return {
        "compared": len(online),
        "max_abs_p_diff": float((online["probability"] - b["probability"]).abs().max()),
        "reasons_equal": int((online["top_reasons"] == b["top_reasons"]).sum()),
    }


def case_serve(n: int, shape: str = "default") -> dict:
    """`leadscore serve` as a whole process over HTTP on localhost: start-up until /health
    answers (reading and indexing the folder, loading the model), then BENCH_SERVE_CALLS
    one-lead calls by id (default 300) one after another, and the same calls from 2 clients
    at once; the answers are compared with `leadscore score` at the same moment."""
    import socket
    import urllib.error
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import pyarrow.parquet as pq

    uri_file = OUT / "model-uri.txt"
    if not uri_file.exists():
        raise SystemExit("run the train case first (it registers the model the serve case uses)")
    d = world(n, shape)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "leadscore.cli", "serve", "--data", str(d), "--port", str(port)]
    cmd += ["--model", uri_file.read_text().strip()]
    env = {**os.environ, "MLFLOW_TRACKING_URI": BENCH_STORE}
    t0 = time.perf_counter()
    server = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5):
                    break
            except (urllib.error.URLError, OSError):
                if server.poll() is not None:
                    raise SystemExit(f"leadscore serve exited with {server.returncode}") from None
                time.sleep(0.05)
        start = time.perf_counter() - t0
        leads = pq.read_table(d / "leads.parquet", columns=["lead_id", "created_at"]).to_pandas()
        outcomes = pq.read_table(d / "outcomes.parquet", columns=["lead_id"]).to_pandas()
        open_ = leads[~leads["lead_id"].isin(outcomes["lead_id"])]  # open on the night
        old = open_[open_["created_at"] < "2025-12-01"]["lead_id"].astype(str).to_numpy()
        calls = int(os.environ.get("BENCH_SERVE_CALLS", "300"))
        picked = np.random.default_rng(0).choice(old, size=calls)
        bodies = [{"as_of": "2026-01-01T00:00:00Z", "leads": [{"lead_id": i}]} for i in picked]
        _serve_call(port, bodies[0])  # warm
        answers: list[dict] = []
        one = np.array([_serve_call(port, b, answers) for b in bodies])
        t1 = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda b: _serve_call(port, b), bodies))
        two = time.perf_counter() - t1
        fifty = [{"as_of": "2026-01-01T00:00:00Z", "leads": [{"lead_id": i} for i in picked[:50]]}]
        batch = _serve_call(port, fifty[0])
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        **_against_batch(d, uri_file.read_text().strip(), answers),
        "startup_s": start,
        "calls": calls,
        "p50_ms": float(np.percentile(one, 50) * 1000),
        "p99_ms": float(np.percentile(one, 99) * 1000),
        "leads_per_s_2_clients": calls / two,
        "leads_per_s_50_per_call": 50 / batch,
    }


#: The speed and memory the project promises (the README quotes them); each case's line is
#: followed by whether it met them. Not a test: they hold on this project's build machine.
#: The last field: the smallest world a target is for (throughput counts start-up, which a
#: small world cannot spread).
TARGETS = {
    "features": [("ratio_median", "<=", 1.0, "x the reference's wall time", 0)],
    "train": [
        ("wall_s", "<=", 180.0, "s wall", (1_000_000, 1_000_000)),
        ("peak_rss_gib", "<=", 6.0, "GiB peak memory", (1_000_000, 1_000_000)),
        ("peak_rss_gib", "<=", 24.0, "GiB peak memory", (3_000_000, 3_000_000)),
    ],
    "score": [
        ("open_leads_per_s", ">=", 20_000, "open leads/s", 1_000_000),
        ("events_per_s", ">=", 1_500_000, "events/s", 1_000_000),
        ("peak_rss_gib", "<=", 3.0, "GiB peak memory", 0),
    ],
    "serve": [
        ("p50_ms", "<=", 10.0, "ms median, one lead by id", 0),
        ("p99_ms", "<=", 50.0, "ms 99th percentile", 0),
        ("leads_per_s_2_clients", ">=", 200.0, "leads/s from 2 clients", 0),
        ("startup_s", "<=", 10.0, "s start-up", 0),
    ],
}


def verdicts(case: str, res: dict, leads: int) -> str:
    out = []
    for key, op, bound, unit, sizes in TARGETS.get(case, []):
        smallest, largest = sizes if isinstance(sizes, tuple) else (sizes, None)
        if leads < smallest or (largest is not None and leads > largest):
            continue
        value = res[key]
        ok = value <= bound if op == "<=" else value >= bound
        out.append(f"{'meets' if ok else 'MISSES'} {op} {bound:,.4g} {unit} ({value:,.4g})")
    return "; ".join(out)


SHAPES = {
    "default (depth 4, lr 0.1)": {},
    "unlimited depth, lr 0.03": {"model": {"params": {"learning_rate": 0.03, "max_depth": -1}}},
    "default + positive_weight sqrt": {"model": {"positive_weight": "sqrt"}},
}


def case_shapes(n: int) -> dict:
    """The model-shape choices in the default config, measured: backtest AUC and SHAP speed."""
    from sklearn.metrics import roc_auc_score

    from leadscore.config import config_from_dict
    from leadscore.data.synthetic.world import generate_world
    from leadscore.data.validate import require_valid, validate_tables
    from leadscore.model.scorer import LeadScorer
    from leadscore.training.backtest import run_backtest
    from leadscore.training.dataset import training_table

    tables = require_valid(validate_tables(generate_world(n, seed=7)))
    tt = training_table(tables, config_from_dict({}))
    frame = tt.frame
    out: dict = {}
    for i, (name, override) in enumerate(SHAPES.items()):
        cfg = config_from_dict(override)
        bt = run_backtest(frame, tt.spec, plan_for(frame, cfg), cfg)
        latest = bt.rows["fold"] == bt.rows["fold"].max()
        rows = frame.iloc[bt.rows.loc[latest, "row"].to_numpy()]
        scorer = LeadScorer(tt.spec, cfg.model)
        last = plan_for(frame, cfg).folds[-1]
        scorer.fit_rounds(frame.loc[last.train, tt.spec.feature_columns],
                          frame.loc[last.train, "label"], bt.folds[-1].best_iteration)  # fmt: skip
        t0 = time.perf_counter()
        scorer.contributions(rows)
        out[f"shape{i}"] = name
        out[f"shape{i}_auc"] = round(float(roc_auc_score(bt.rows["label"], bt.rows["p_model"])), 4)
        out[f"shape{i}_trees"] = int(sum(f.best_iteration for f in bt.folds) / len(bt.folds))
        out[f"shape{i}_shap_rows_per_s"] = int(len(rows) / (time.perf_counter() - t0))
    return out


CASES = {"train": case_train, "shapes": case_shapes}  # the cases run in a child process


def child(case: str, n: int, shape: str = "default") -> None:
    t0 = time.perf_counter()
    out = CASES[case](n, shape) if case == "train" else CASES[case](n)
    out["wall_s"] = time.perf_counter() - t0
    out["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print("RESULT " + json.dumps(out))


def show(case: str, label: str, res: dict, leads: int = 0) -> None:
    figures = ", ".join(
        f"{k}={v:.4g}"
        if isinstance(v, float)
        else f"{k}={v:,}"
        if isinstance(v, int)
        else f"{k}={v}"
        for k, v in res.items()
    )
    print(f"{case:9s} {label}: {figures}", flush=True)
    said = verdicts(case, res, leads) if case in TARGETS else ""
    if said:
        print(f"{'':9s} target: {said}", flush=True)


def in_child(case: str, n: int, shape: str = "default") -> dict | None:
    r = subprocess.run(
        [sys.executable, __file__, case, str(n), shape], capture_output=True, text=True, cwd=ROOT
    )
    line = next((x for x in r.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        print(f"{case} {n}: failed\n{r.stderr[-3000:]}", flush=True)
        return None
    return json.loads(line[7:])


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "world":
        make_world(int(sys.argv[2]), sys.argv[3])
        return 0
    if len(sys.argv) in (3, 4):
        child(sys.argv[1], int(sys.argv[2]), *sys.argv[3:])
        return 0
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "200000,1000000").split(",")]
    cases = os.environ.get("BENCH_CASES", "features,train,score,spark,shapes,serve").split(",")
    shapes = os.environ.get("BENCH_SHAPES", "default,other-crm").split(",")
    pairs = int(os.environ.get("BENCH_PAIRS", "2"))
    for n in sizes:
        for shape in shapes:
            label = f"{n:,} leads, {shape} shape"
            print(f"# world: {label} in {world(n, shape)}", flush=True)
            if "train" in cases:  # first: the score case scores with its model
                res = in_child("train", n, shape)
                if res:
                    show("train", label, res, n)
            if "features" in cases:
                show("features", label, features_ab(world(n, shape), pairs), n)
            if "score" in cases:
                show("score", label, case_score(n, shape), n)
            if "serve" in cases:
                show("serve", label, case_serve(n, shape), n)
            if "spark" in cases and n <= 200_000:
                show("spark", label, spark_ab(world(n, shape), pairs))
    if "shapes" in cases:
        res = in_child("shapes", int(os.environ.get("BENCH_SHAPES_LEADS", "40000")))
        if res:
            show("shapes", "model shapes", res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
