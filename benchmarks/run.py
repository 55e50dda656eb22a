"""`make bench`: speed and memory figures for features, training and scoring (prints a table).

Each case runs in its own process so its peak memory (max RSS) is its own. Synthetic worlds
are generated once into out/bench/<leads>/ and reused. Sizes: BENCH_SIZES (default
"200000,1000000"); BENCH_CASES picks cases (default "features,reference,train,score,shapes");
BENCH_CONFIG names a config file for the train case (an option against the defaults).
Not a test: figures vary with the machine and its load; the README records ours.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "out" / "bench"
DATES = ["2025-04-01", "2025-08-01", "2025-12-01"]


def world(n: int) -> Path:
    d = OUT / str(n)
    if not (d / "events.parquet").exists():
        from leadscore.data.io import write_tables
        from leadscore.data.synthetic.world import generate_world

        write_tables(generate_world(n, seed=0), d)
    return d


def load(d: Path):
    from leadscore.data.load import load_data
    from leadscore.data.validate import require_valid

    return require_valid(load_data(d))


def case_features(n: int) -> dict:
    """`leadscore features` at 3 snapshot dates: leads/outcomes read and validated, events
    streamed from their file by DuckDB (the command's own path)."""
    import pandas as pd

    from leadscore.config import load_config
    from leadscore.data.load import load_streaming
    from leadscore.training.dataset import feature_table

    t0 = time.perf_counter()
    tables, events, _ = load_streaming(world(n), {})
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    table = feature_table(
        tables, load_config(), [pd.Timestamp(d, tz="UTC") for d in DATES], events=events
    )
    t_feat = time.perf_counter() - t1
    import pyarrow.parquet as pq

    n_events = pq.ParquetFile(world(n) / "events.parquet").metadata.num_rows
    return {
        "rows": len(table),
        "events": n_events,
        "load_check_s": t_load,
        "features_s": t_feat,
        "events_per_s": n_events / t_feat,
        "columns": table.shape[1],
    }


REFERENCE_SQL = """
SELECT s.lead_id, s.as_of,
{counts},
{recency},
  date_diff('second', max(e.occurred_at), s.as_of) / 86400.0 AS days_since_last_event,
  sum(exp(-ln(2) * date_diff('second', e.occurred_at, s.as_of) / 86400.0 / 14)) AS engagement_decayed,
{active}
FROM snapshots s
LEFT JOIN events e ON e.lead_id = s.lead_id AND e.occurred_at <= s.as_of
GROUP BY s.lead_id, s.as_of
"""


def case_reference(n: int) -> dict:
    """A straightforward hand-written DuckDB query for the core features, same snapshots."""
    import duckdb
    import pandas as pd

    from leadscore.data.contract import KNOWN_EVENT_TYPES
    from leadscore.features.snapshots import open_leads

    tables = load(world(n))
    snaps = open_leads(tables.leads, tables.outcomes, [pd.Timestamp(d, tz="UTC") for d in DATES])
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.register("snapshots", snaps)
    con.register("events", tables.events)
    counts = ",\n".join(
        f"  count(*) FILTER (WHERE e.event_type = '{t}' AND e.occurred_at > s.as_of - INTERVAL {w} DAY) AS {t}_{w}d"
        for t in KNOWN_EVENT_TYPES
        for w in (7, 30, 90)
    )
    recency = ",\n".join(
        f"  date_diff('second', max(e.occurred_at) FILTER (WHERE e.event_type = '{t}'), s.as_of) / 86400.0 AS {t}_days_since"
        for t in KNOWN_EVENT_TYPES
    )
    active = ",\n".join(
        f"  count(DISTINCT date_trunc('day', e.occurred_at)) FILTER (WHERE e.occurred_at > s.as_of - INTERVAL {w} DAY) AS active_days_{w}d"
        for w in (7, 30, 90)
    )
    sql = REFERENCE_SQL.format(counts=counts, recency=recency, active=active)
    t0 = time.perf_counter()
    result = con.sql(sql).to_arrow_table()
    return {
        "rows": result.num_rows,
        "events": len(tables.events),
        "reference_s": time.perf_counter() - t0,
    }


def plan_for(frame, cfg):
    from leadscore.training.folds import time_folds

    b = cfg.training.backtest
    return time_folds(
        frame["as_of"],
        frame["label"].to_numpy(),
        cfg.training.horizon_days,
        None if b.folds == "auto" else int(b.folds),
        None if b.fold_snapshots == "auto" else int(b.fold_snapshots),
        cfg.training.cadence,
    )


def case_train(n: int) -> dict:
    """Training on the 200k world: the table, then the backtest, the deployed model and the
    pooled evaluation (what `leadscore train` does before MLflow)."""

    from leadscore.config import load_config
    from leadscore.training.dataset import training_table
    from leadscore.training.fit import train_on_table

    cfg = load_config(os.environ.get("BENCH_CONFIG"))  # a config file to compare against
    tables = load(world(n))
    t0 = time.perf_counter()
    tt = training_table(tables, cfg)
    t_table = time.perf_counter() - t0
    frame = tt.frame
    t1 = time.perf_counter()
    result = train_on_table(frame, tt.spec, plan_for(frame, cfg), cfg)
    t_fit = time.perf_counter() - t1
    result.scorer.save(OUT / f"model-{n}")  # the score case uses it
    comp = result.evaluation.comparison.set_index("metric")
    metrics = {
        f"{side}_{m}": round(float(comp.loc[m, side]), 4)
        for m in comp.index
        for side in ("model", "baseline")
    }
    return {
        "rows": len(frame),
        "positives": int(frame["label"].sum()),
        "folds": len(result.folds),
        "training_table_s": t_table,
        "backtest_deploy_evaluate_s": t_fit,
        "deploy_rounds": result.deployed.rounds,
        **metrics,
    }


def case_score(n: int) -> dict:
    """`leadscore score` on every open lead at the data's end: reading and checking the
    folder, features (events streamed from their file), prediction, SHAP reasons, write."""
    import tempfile

    import pandas as pd

    from leadscore.config import config_from_dict
    from leadscore.model.scorer import LeadScorer
    from leadscore.model.settings import ModelSettings
    from leadscore.scoring.batch import score_folder

    model_dir = OUT / "model-200000"
    if not (model_dir / "scorer.json").exists():
        raise SystemExit("run the train case first (it saves the model the score case uses)")
    scorer = LeadScorer.load(model_dir)
    settings = ModelSettings.for_events(config_from_dict({}))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        s = score_folder(
            world(n),
            {},
            scorer,
            settings,
            "bench",
            pd.Timestamp("2026-01-01", tz="UTC"),
            Path(tmp) / "scores.parquet",
        )
    wall = time.perf_counter() - t0
    return {"scored": s.scored, "end_to_end_s": wall, "leads_per_s": s.scored / wall}


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


CASES = {
    "features": case_features,
    "reference": case_reference,
    "train": case_train,
    "score": case_score,
    "shapes": case_shapes,
}


def child(case: str, n: int) -> None:
    t0 = time.perf_counter()
    out = CASES[case](n)
    out["wall_s"] = time.perf_counter() - t0
    out["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print("RESULT " + json.dumps(out))


def main() -> int:
    if len(sys.argv) == 3:
        child(sys.argv[1], int(sys.argv[2]))
        return 0
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "200000,1000000").split(",")]
    cases = os.environ.get("BENCH_CASES", "features,reference,train,score,shapes").split(",")
    for n in sizes:
        print(f"# generating/using world of {n:,} leads in {OUT / str(n)}", flush=True)
        world(n)
        for case in cases:
            if case == "train" and n != 200_000:
                continue
            if case == "shapes" and n != sizes[0]:
                continue
            if case == "shapes":
                n_case = int(os.environ.get("BENCH_SHAPES_LEADS", "40000"))
                r = subprocess.run(
                    [sys.executable, __file__, case, str(n_case)],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                )
                print(r.stdout.strip().removeprefix("RESULT ") or r.stderr[-2000:], flush=True)
                continue
            r = subprocess.run(
                [sys.executable, __file__, case, str(n)], capture_output=True, text=True, cwd=ROOT
            )
            line = next((x for x in r.stdout.splitlines() if x.startswith("RESULT ")), None)
            if line is None:
                print(f"{case} {n}: failed\n{r.stderr[-3000:]}")
                continue
            res = json.loads(line[7:])
            figures = ", ".join(
                f"{k}={v:.4g}"
                if isinstance(v, float)
                else f"{k}={v:,}"
                if isinstance(v, int)
                else f"{k}={v}"
                for k, v in res.items()
            )
            print(f"{case:10s} {n:>9,} leads: {figures}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
