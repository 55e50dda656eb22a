"""Whether colleagues' activity (account engagement) joins the model: kept only when the
backtest shows it helps.

The training table gets the account columns (``leadscore.features.accounts``), both
tables are backtested on the same plan, and the two models' out-of-time predictions are
compared on the same rows with a paired bootstrap. ``auto`` keeps the columns when the
promote metric's difference is clear of noise (its 95% interval excludes 0) in their
favour; ``on`` keeps them and ``off`` never builds them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from leadscore import metrics
from leadscore.config import Config
from leadscore.features.accounts import account_window, add_account_features
from leadscore.features.spec import FeatureSpec
from leadscore.training.backtest import Backtest, run_backtest
from leadscore.training.folds import Plan

Say = Callable[[str], None]
HIGHER_IS_BETTER = {"roc_auc": True, "pr_auc": True, "brier": False, "log_loss": False}


@dataclass(frozen=True)
class AccountChoice:
    table: pd.DataFrame
    spec: FeatureSpec
    backtest: Backtest | None  # the chosen table's, when it was run
    line: str  # what was measured and decided, for the run's notes


def choose(
    table: pd.DataFrame,
    spec: FeatureSpec,
    account: pd.Series | None,
    plan: Plan,
    cfg: Config,
) -> AccountChoice:
    """The training table and spec with or without the account columns (``account``: each
    row's account, aligned with ``table``; None when the leads have none)."""
    mode = cfg.features.account
    if mode == "off" or account is None or not account.notna().any():
        return AccountChoice(table, spec, None, "")
    w = account_window(spec.windows_days)
    with_spec = dataclasses.replace(spec, account_window=w)
    with_table = add_account_features(table, account, w)
    cols = with_spec.account_columns()
    with_table = with_table[[*table.columns, *cols]]
    if mode == "on":
        return AccountChoice(with_table, with_spec, None, "account features: on (config)")
    metric = cfg.tracking.promote_metric
    without = run_backtest(table, spec, plan, cfg)
    withc = run_backtest(with_table, with_spec, plan, cfg)
    a, b = without.rows, withc.rows
    same = a["lead_id"].astype(str).equals(b["lead_id"].astype(str)) and a["period"].equals(
        b["period"]
    )
    if not same:  # pragma: no cover - one plan on one table gives the same test rows
        raise AssertionError("account candidate: the two backtests tested different rows")
    cmp = metrics.compare(
        a["label"].to_numpy(dtype="float64"),
        b["p_model"].to_numpy(),
        a["p_model"].to_numpy(),
        n_boot=200,
        seed=cfg.model.seed,
    ).set_index("metric")
    r = cmp.loc[metric]
    helps = r["difference_low"] > 0 if HIGHER_IS_BETTER[metric] else r["difference_high"] < 0
    words = (
        f"account features ({', '.join(cols)}): {metric} {r['model']:.4f} with, "
        f"{r['baseline']:.4f} without, difference {r['difference']:+.4f} "
        f"[{r['difference_low']:+.4f}, {r['difference_high']:+.4f}] on {len(a):,} out-of-time rows; "
    )
    if helps:
        return AccountChoice(with_table, with_spec, withc, words + "kept (clear of noise)")
    return AccountChoice(table, spec, without, words + "left out (not clear of noise)")
