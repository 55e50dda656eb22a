"""What ``training.cadence: auto`` does with histories of 3 to 24 months.

    .venv/bin/python benchmarks/cadence.py

For each history length and label horizon, a generated world (about 2,000 leads a month)
trained as ``leadscore train`` would plan it: the cadence ``auto`` takes, its folds and
labelled conversions, and the LightGBM backtest's pooled ROC AUC against the points
sheet's; then the same with monthly snapshots. A history that fits no fold at any cadence
prints the refusal. Not a test: docs/decisions.md quotes its output.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MONTHS = (3, 4, 6, 9, 12, 24)
HORIZONS = (30, 90)
END = pd.Timestamp("2025-12-31")


def measure(tables, horizon: int, cadence: str) -> str:
    from sklearn.metrics import roc_auc_score

    from leadscore.config import config_from_dict
    from leadscore.errors import DataError
    from leadscore.training.advice import check_folds_fit
    from leadscore.training.backtest import run_backtest
    from leadscore.training.dataset import training_table
    from leadscore.training.grid import plan_for, resolve_cadence

    cfg = config_from_dict({"training": {"horizon_days": horizon, "cadence": cadence}})
    cfg, _ = resolve_cadence(tables, cfg, None)
    try:
        check_folds_fit(tables, cfg, None)
    except DataError as err:
        return f"refused: {str(err)[:150]}"
    tt = training_table(tables, cfg)
    plan = plan_for(tables, cfg, tt.data_end)
    bt = run_backtest(tt.frame, tt.spec, plan, cfg)
    r = bt.rows
    got = cfg.training.cadence
    return (
        f"{got if got == 'monthly' else f'{got}-day'}: {len(plan.folds)} folds, "
        f"{int(tt.frame['label'].sum()):,} labelled conversions, ROC AUC "
        f"{roc_auc_score(r['label'], r['p_model']):.3f} (points "
        f"{roc_auc_score(r['label'], r['p_baseline']):.3f})"
    )


def main() -> int:
    from leadscore.data.synthetic.world import generate_world
    from leadscore.data.validate import require_valid, validate_tables

    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{tempfile.mkdtemp()}/mlflow.db")
    for months in MONTHS:
        start = (END - pd.DateOffset(months=months) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
        world = generate_world(2_000 * months, seed=months, start=start, end="2025-12-31")
        tables = require_valid(validate_tables(world))
        for horizon in HORIZONS:
            for cadence in ("auto", "monthly"):
                line = measure(tables, horizon, cadence)
                print(
                    f"{months:2d} months, {horizon}-day horizon, {cadence:7s} -> {line}", flush=True
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
