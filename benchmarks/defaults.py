"""How the training defaults were chosen: each option measured by the rolling backtest on
several generated worlds (seeds, sizes, history lengths) and, when given, public data.

    .venv/bin/python benchmarks/defaults.py                      # generated worlds only
    MAVEN_SRC=path/to/maven_crm_sales_opportunities X_EDUCATION_CSV=path/to/Leads.csv \\
        .venv/bin/python benchmarks/defaults.py                  # and the two public sets

``DEFAULTS_OPTIONS=default,6 folds`` measures only the options named, ``DEFAULTS_WORLDS=...``
only the generated worlds named (Maven and X Education run when their paths are given). Prints one line per
(dataset, option): pooled backtest ROC AUC and log loss, and how far the
predictions miss the realised rate per fold (calibration in the large). Not a test: it
informs the defaults in pipeline/default.yaml and the README quotes its output.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

WORLDS = {  # name: (leads, seed, start, end, shape: generate_world's drift / interaction)
    # (the 4-month world is judged with a 30-day horizon: its config below)
    "world-20k-s0": (20_000, 0, "2024-01-01", "2025-12-31", {}),
    "world-20k-s1": (20_000, 1, "2024-01-01", "2025-12-31", {}),
    "world-40k-s2": (40_000, 2, "2024-01-01", "2025-12-31", {}),
    "world-30k-1y": (30_000, 3, "2025-01-01", "2025-12-31", {}),
    "world-12k-4m": (12_000, 4, "2025-09-01", "2025-12-31", {}),
    "drift-20k": (20_000, 5, "2024-01-01", "2025-12-31", {"drift": 1.0}),
    "interaction-20k": (20_000, 6, "2024-01-01", "2025-12-31", {"interaction": 1.0}),
}

WORLD_CONFIGS = {"world-12k-4m": {"training": {"horizon_days": 30}}}

OPTIONS = {  # name: config overrides
    "default": {},
    "6 folds": {"training": {"backtest": {"folds": 6}}},
    "recency 180d": {"training": {"backtest": {"recency_half_life_days": 180}}},
    "recency 90d": {"training": {"backtest": {"recency_half_life_days": 90}}},
    "negatives <= 20x": {"model": {"max_negatives_per_positive": 20}},
    "14-day snapshots": {"training": {"cadence": 14}},
    "monthly snapshots": {"training": {"cadence": "monthly"}},
    "calibrate on all": {"model": {"calibration_follows": "all"}},
    "calibrate base_rate": {"model": {"calibration_follows": "base_rate"}},
    "calibrate latest": {"model": {"calibration_follows": "latest"}},
    "deeper trees": {
        "model": {"params": {"max_depth": -1, "num_leaves": 31, "learning_rate": 0.05}}
    },
}


#: Options whose overrides are chosen from the data first: name -> chooser(tables, cfg dict).
CHOSEN = {"half-life per type": lambda tables, base: per_type_half_lives(tables, base)}

#: The half-lives, in days, each event type may take.
HALF_LIVES = (3, 7, 14, 30, 60, 120)


def per_type_half_lives(tables, base: dict) -> dict:
    """One half-life per event type, chosen on the rows the backtest's first fold trains on
    (so no fold's test rows take part): the candidate whose ``{type}_decayed`` count alone
    ranks those rows best (ROC AUC). Printed, and returned as a config override."""
    from sklearn.metrics import roc_auc_score

    from leadscore.config import config_from_dict
    from leadscore.training.dataset import training_table

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from run import plan_for

    best: dict[str, tuple[float, float]] = {}
    for h in HALF_LIVES:
        cfg = config_from_dict(_merge(base, {"features": {"half_life_days": h}}))
        tt = training_table(tables, cfg)
        rows = plan_for(tt.frame, cfg).folds[0].train
        y = tt.frame["label"].to_numpy()[rows]
        if y.min() == y.max():
            return {}
        for t in tt.spec.event_types:
            auc = roc_auc_score(y, tt.frame[f"{t}_decayed"].to_numpy()[rows])
            if auc > best.get(t, (0.0, 0.0))[0]:
                best[t] = (auc, float(h))
    chosen = {t: h for t, (_, h) in best.items()}
    print("  chosen half-lives: " + ", ".join(f"{t} {h:g}d" for t, h in chosen.items()), flush=True)
    return {"features": {"event_half_life_days": chosen}}


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def event_datasets() -> dict:
    from leadscore.config import load_config
    from leadscore.data.synthetic.world import generate_world
    from leadscore.data.validate import require_valid, validate_tables

    out = {}
    only = os.environ.get("DEFAULTS_WORLDS")
    for name, (n, seed, start, end, shape) in WORLDS.items():
        if only and name not in only.split(","):
            continue
        world = generate_world(n, seed=seed, start=start, end=end, **shape)
        tables = require_valid(validate_tables(world))
        out[name] = (tables, WORLD_CONFIGS.get(name, {}))
    src = os.environ.get("MAVEN_SRC")
    if src:
        import yaml

        from leadscore.data.importer import run_import

        result = run_import(ROOT / "configs" / "maven_crm.import.yaml", src)
        tables = require_valid(validate_tables(result.tables))
        raw = yaml.safe_load((ROOT / "configs" / "maven_crm.yaml").read_text())
        load_config(ROOT / "configs" / "maven_crm.yaml")  # valid as shipped
        out["maven"] = (tables, raw)
    return out


def _in_the_large(rows: pd.DataFrame, p: str) -> float:
    """The largest miss over folds of mean predicted against realised, as a ratio's log."""
    g = rows.groupby("fold").agg(pred=(p, "mean"), real=("label", "mean"))
    return float(np.abs(np.log(g["pred"] / g["real"])).max())


def calibration_sources(rows: pd.DataFrame, horizon_days: int) -> dict[str, tuple[float, float]]:
    """The backtest's later folds calibrated three ways: on their own holdout (what the
    backtest does), and on the out-of-time margins of the earlier folds that were fully
    known at the fold's start (their last snapshot + horizon before it), all of them or the
    latest. That is what the deployed model does at as_of. Gives (log loss, worst
    calibration-in-the-large miss) over the folds that had such earlier folds."""
    from sklearn.metrics import log_loss

    from leadscore.model.calibrator import Calibrator, choose_calibration

    horizon = pd.Timedelta(days=horizon_days)
    first = rows.groupby("fold")["period"].min()
    last = rows.groupby("fold")["period"].max()
    known = {k: [j for j in first.index if last[j] + horizon <= first[k]] for k in first.index}
    judged = [k for k, js in known.items() if js]
    if not judged:
        return {}
    later = rows[rows["fold"].isin(judged)]
    out = {"holdout": later["p_model"].to_numpy()}
    for name, pick in (("known folds", lambda js: js), ("latest known", lambda js: js[-1:])):
        p = np.empty(len(later))
        for k in judged:
            src = rows[rows["fold"].isin(pick(known[k]))]
            method, _ = choose_calibration(
                src["margin"].to_numpy(), src["label"].to_numpy(), src["fold"].to_numpy(), "auto"
            )
            cal = Calibrator(method).fit(src["margin"].to_numpy(), src["label"].to_numpy())
            at = (later["fold"] == k).to_numpy()
            p[at] = cal.predict(later.loc[at, "margin"].to_numpy())
        out[name] = p
    res = {}
    for name, p in out.items():
        frame = later.assign(_p=p)
        res[name] = (float(log_loss(later["label"], p, labels=[0, 1])), _in_the_large(frame, "_p"))
    return res


def run_events(name: str, tables, base: dict) -> None:
    from sklearn.metrics import log_loss, roc_auc_score

    from leadscore.config import config_from_dict
    from leadscore.training.backtest import run_backtest
    from leadscore.training.dataset import training_table

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from run import plan_for

    tt_cache: dict = {}
    chosen = os.environ.get("DEFAULTS_OPTIONS")
    for option, override in {**OPTIONS, **CHOSEN}.items():
        if chosen and option not in chosen.split(","):
            continue
        if callable(override):
            override = override(tables, base)
        cfg = config_from_dict(_merge(base, override))
        key = (cfg.training.cadence, repr(cfg.features))
        t0 = time.perf_counter()
        try:
            if key not in tt_cache:
                tt_cache[key] = training_table(tables, cfg)
            tt = tt_cache[key]
            bt = run_backtest(tt.frame, tt.spec, plan_for(tt.frame, cfg), cfg)
        except Exception as err:  # noqa: BLE001 - a measurement script reports and goes on
            print(f"{name:14s} {option:18s} failed: {err}", flush=True)
            continue
        r = bt.rows
        print(
            f"{name:14s} {option:18s} folds={len(bt.folds)} rows={len(tt.frame):,} "
            f"auc={roc_auc_score(r['label'], r['p_model']):.4f} "
            f"points_auc={roc_auc_score(r['label'], r['p_baseline']):.4f} "
            f"log_loss={log_loss(r['label'], r['p_model']):.4f} "
            f"in_the_large={_in_the_large(r, 'p_model'):.3f} follows={bt.follows} "
            f"seconds={time.perf_counter() - t0:.1f}",
            flush=True,
        )
        if option in ("default", "6 folds") and len(bt.folds) > 1:
            sources = calibration_sources(r, cfg.training.horizon_days)
            if not sources:
                print(f"{name:14s} calibrate: no fold has an earlier one fully known", flush=True)
            for source, (ll, miss) in sources.items():
                print(
                    f"{name:14s} calibrate: {source:14s} log_loss={ll:.4f} in_the_large={miss:.3f}",
                    flush=True,
                )


def run_x_education(path: str) -> None:
    import yaml
    from sklearn.metrics import log_loss, roc_auc_score

    from leadscore.config import config_from_dict
    from leadscore.data.files import read_frame
    from leadscore.training.backtest import run_backtest
    from leadscore.training.flat import flat_plan, prepare_flat

    raw = yaml.safe_load((ROOT / "configs" / "x_education.yaml").read_text())
    for option in ("default", "deeper trees"):
        cfg = config_from_dict(_merge(raw, OPTIONS[option]))
        data = prepare_flat(read_frame(path), cfg, "Converted")
        bt = run_backtest(data.table, data.spec, flat_plan(data.table, cfg), cfg)
        r = bt.rows
        print(
            f"{'x-education':14s} {option:18s} folds={len(bt.folds)} "
            f"auc={roc_auc_score(r['label'], r['p_model']):.4f} "
            f"points_auc={roc_auc_score(r['label'], r['p_baseline']):.4f} "
            f"log_loss={log_loss(r['label'], r['p_model']):.4f}",
            flush=True,
        )


def main() -> int:
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{tempfile.mkdtemp()}/mlflow.db")
    for name, (tables, base) in event_datasets().items():
        run_events(name, tables, base)
    if os.environ.get("X_EDUCATION_CSV"):
        run_x_education(os.environ["X_EDUCATION_CSV"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
