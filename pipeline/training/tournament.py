"""The tournament: every contestant kind fitted, calibrated and judged on the same folds and
the same out-of-time rows, the points sheet beside them; the best on the latest folds wins.

Each contestant (``model.contestants`` when ``model.kind`` is ``auto``, else the one kind) runs
the same backtest (``training.backtest``): the same fold plan, the same holdout for early
stopping and calibration, the same test rows. The winner is the contestant with the best
``tracking.promote_metric`` on the latest ``training.backtest.champion_folds`` folds (every
fold when the plan is not in time order: an unordered flat file's folds are all alike), ties
going to the better figure over every fold, then to the earlier contestant. Each other entry
gets the paired bootstrap interval of the winner's lead over it on those rows. The blend of
the top two (the mean of their calibrated probabilities) is measured and shown, not deployed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from leadscore import metrics
from leadscore.config import Config
from leadscore.features.spec import FeatureSpec
from leadscore.io.memory import release_freed_memory
from leadscore.model import kinds
from leadscore.model.baseline import score_baseline
from leadscore.training.backtest import Backtest, FoldFit, FoldMap, run_backtest
from leadscore.training.folds import Fold, Plan
from leadscore.training.sampling import RowHashes
from leadscore.words import counted

POINTS = "points sheet"
BLEND = "blend of top two"


@dataclass
class Tournament:
    backtests: dict[str, Backtest]  # contestant kind -> its backtest, in contestant order
    winner: str
    metric: str
    folds: list[int]  # the folds the winner is judged on
    table: pd.DataFrame  # one row per entry (kinds, points sheet, blend), the winner first
    # What the contestants ran on, so the champion's recipe can run the same way.
    data: pd.DataFrame
    spec: FeatureSpec
    plan: Plan
    cfg: Config
    base: pd.DataFrame  # the points sheet's scores of every row of ``data`` (score_baseline)

    def recipe(self, kind: str, cfg: Config) -> Backtest:
        """The backtest of ``kind`` with ``cfg``'s model and points settings through these
        folds: a contestant's own when the settings are this run's, else run now."""
        same = _settings(cfg) == _settings(self.cfg)
        if same and kind in self.backtests:
            return self.backtests[kind]
        if same and kind == "points":  # every backtest scored the same points sheet
            first = next(iter(self.backtests.values()))
            rows = first.rows.assign(p_model=first.rows["p_baseline"])
            return Backtest(
                "points",
                first.folds,
                rows,
                first.plan,
                first.seed,
                first.follows,
                first.follows_loss,
            )
        return run_backtest(self.data, self.spec, self.plan, cfg, kind)


def _settings(cfg: Config) -> tuple[dict, dict]:
    return cfg.model.model_dump(exclude={"kind", "contestants"}), cfg.baseline.model_dump()


def judged_folds(plan: Plan, latest: int) -> list[int]:
    """The latest ``latest`` folds of an in-time plan; every fold otherwise."""
    numbers = [f.number for f in plan.folds]
    return numbers[-latest:] if plan.out_of_time else numbers


def run_tournament(
    table: pd.DataFrame,
    spec: FeatureSpec,
    plan: Plan,
    cfg: Config,
    known: dict[str, Backtest] | None = None,
) -> Tournament:
    """Every contestant's backtest on ``table`` (``known``: ones already run on this table,
    spec and plan), judged."""
    known = known or {}
    base = score_baseline(table, cfg.baseline)  # the same points for every contestant
    memo: dict[int, dict[str, np.ndarray]] = {}  # and the same calibrated points per fold
    hashes = RowHashes(table, cfg.model.seed)  # and the same row hashes, made once

    def backtest(kind: str, map_folds: FoldMap = map) -> Backtest:
        done = known.get(kind) or run_backtest(
            table, spec, plan, cfg, kind, base, memo, map_folds, hashes
        )
        # What the kind's fits freed goes back before the next kind allocates its own: the
        # allocators would keep it, and on 1M leads the steps' high-water marks add up.
        release_freed_memory()
        return done

    order = kinds.contestants(cfg)
    done = {k: backtest(k) for k in order if not kinds.one_core(k)}
    done.update(side_by_side([k for k in order if kinds.one_core(k)], backtest))
    backtests = {k: done[k] for k in order}
    folds = judged_folds(plan, cfg.training.backtest.champion_folds)
    winner, board = judge(backtests, cfg.tracking.promote_metric, folds, cfg.model.seed)
    return Tournament(
        backtests, winner, cfg.tracking.promote_metric, folds, board, table, spec, plan, cfg, base
    )


def side_by_side(
    names: Sequence[str], run: Callable[[str, FoldMap], Backtest]
) -> dict[str, Backtest]:
    """``run`` of each name, their folds two at a time: kinds that fit on one core leave the
    other idle, and a pool of folds (not of kinds) keeps both busy until the last fold. BLAS
    and OpenMP keep one thread meanwhile, so the two do not fight over the cores. Run after
    the kinds that use every core, which fill the points sheet's memo (else folds compute
    it twice, the same numbers)."""
    if not names:
        return {}

    def on_one_core(task: Callable[[Fold], FoldFit]) -> Callable[[Fold], FoldFit]:
        def one(fold: Fold) -> FoldFit:
            # OpenMP's thread count is the calling thread's own (scikit-learn reads it where
            # its version threads a loss), so each worker sets it: two 2-thread teams on 2
            # cores would wait on each other.
            with threadpool_limits(limits=1, user_api="openmp"):
                return task(fold)

        return one

    with (
        threadpool_limits(limits=1, user_api="blas"),  # BLAS's count is the process's
        ThreadPoolExecutor(2) as folds,
        ThreadPoolExecutor(len(names)) as kinds_,
    ):

        def two_at_a_time(task: Callable[[Fold], FoldFit], items: Iterable[Fold]):
            return folds.map(on_one_core(task), items)

        waiting = {k: kinds_.submit(run, k, two_at_a_time) for k in names}
        return {k: w.result() for k, w in waiting.items()}


def judge(
    backtests: dict[str, Backtest], metric: str, folds: Sequence[int], seed: int
) -> tuple[str, pd.DataFrame]:
    """The winner among ``backtests`` on ``folds``, and the table of every entry."""
    first = next(iter(backtests.values()))
    for k, bt in backtests.items():
        if not np.array_equal(bt.rows["row"].to_numpy(), first.rows["row"].to_numpy()):
            raise AssertionError(f"tournament: {k} was judged on other rows")  # pragma: no cover
    y = first.rows["label"].to_numpy(dtype="float64")
    on = first.rows["fold"].isin(folds).to_numpy()
    entries = {k: bt.rows["p_model"].to_numpy() for k, bt in backtests.items()}
    figure = metrics.metric_value
    latest = {k: figure(y[on], p[on], metric) for k, p in entries.items()}
    overall = {k: figure(y, p, metric) for k, p in entries.items()}
    # Ties on the judged folds go to the better figure over every fold, then contestant order.
    order = list(entries)
    sign = -1.0 if metrics.HIGHER_IS_BETTER[metric] else 1.0
    ranked = sorted(
        order,
        key=lambda k: (
            np.isnan(latest[k]),
            sign * np.nan_to_num(latest[k]),
            sign * np.nan_to_num(overall[k]),
            order.index(k),
        ),
    )
    winner = ranked[0]
    entries[POINTS] = first.rows["p_baseline"].to_numpy()
    if len(ranked) > 1:
        entries[BLEND] = (entries[ranked[0]] + entries[ranked[1]]) / 2.0
    for name in (POINTS, BLEND):
        if name in entries:
            latest[name] = figure(y[on], entries[name][on], metric)
            overall[name] = figure(y, entries[name], metric)
    rivals = {k: p[on] for k, p in entries.items() if k != winner}
    ahead = metrics.leads(y[on], entries[winner][on], rivals, metric, n_boot=200, seed=seed)
    rows = []
    for name, p in entries.items():
        row = {
            "contestant": name,
            "role": "points" if name == POINTS else "blend" if name == BLEND else "kind",
            "winner": name == winner,
            f"{metric}_latest": latest[name],
            f"{metric}_all": overall[name],
            "log_loss_latest": figure(y[on], p[on], "log_loss"),
            "predicted_latest": float(p[on].mean()),
            "realised_latest": float(y[on].mean()),
            "lead": np.nan,
            "lead_low": np.nan,
            "lead_high": np.nan,
        }
        if name != winner:
            row.update(zip(("lead", "lead_low", "lead_high"), ahead[name], strict=True))
        rows.append(row)
    board = pd.DataFrame(rows)
    board["rows_latest"], board["conversions_latest"] = int(on.sum()), int(y[on].sum())
    board["metric"], board["judged_folds"] = metric, ",".join(map(str, folds))
    board = board.sort_values("winner", ascending=False, kind="stable").reset_index(drop=True)
    return winner, board


def tournament_text(t: Tournament) -> str:
    """The tournament's table as text for the terminal."""
    b, m = t.table, t.metric
    which = (
        "every fold"
        if len(t.folds) == len(t.plan.folds)
        else f"the latest {counted(len(t.folds), 'fold')}"
    )
    lines = [
        f"  tournament by {m} on {which} ({int(b['rows_latest'].iloc[0]):,} rows, "
        f"{int(b['conversions_latest'].iloc[0]):,} conversions):",
        f"    {'':18s} {'judged':>8s} {'all folds':>9s} {'predicted':>9s}  "
        f"{'winner ahead by [95% paired]':>30s}",
    ]
    for r in b.itertuples():
        name = f"{r.contestant}{' *' if r.winner else ''}"
        ahead = (
            "winner"
            if r.winner
            else f"{r.lead:+.4f} [{r.lead_low:+.4f}, {r.lead_high:+.4f}]"
            if np.isfinite(r.lead)
            else "n/a"
        )
        lines.append(
            f"    {name:18s} {getattr(r, f'{m}_latest'):8.4f} {getattr(r, f'{m}_all'):9.4f} "
            f"{r.predicted_latest:9.2%}  {ahead:>30s}"
        )
    blend = "; the blend is measured, not deployed" if (b["role"] == "blend").any() else ""
    lines.append(
        f"    realised {b['realised_latest'].iloc[0]:.2%}; * the best kind, the candidate unless "
        f"the points sheet does better{blend}"
    )
    return "\n".join(lines)
