"""Segment models: a segment gets its own model only where it beats the pooled models on the
segment's own out-of-time rows, beyond chance.

With ``segments.column`` set (a categorical feature: region, product line, source), each
segment (a value, or the values ``segments.names`` gives one name) with at least
``segments.min_conversions`` conversions in its out-of-time rows and in its deployed
model's rows is judged. A model of the tournament winner's kind learns from the segment's
rows only, through the same folds (each fold's training and test rows cut to the segment), is
calibrated the same way, and is compared on the segment's test rows of every fold with each
pooled kind of the tournament: the paired bootstrap interval of its lead over each
(``metrics.leads``, by ``tracking.promote_metric``). It is kept only when every interval lies
wholly above zero; otherwise the pooled winner serves the segment.

The kept models and the pooled one become one ``SegmentedScorer``, and the run's
out-of-time rows take the kept models' probabilities on their segments, so every figure of
the run (pooled comparison, tiers, slices, the monitor's reference) is the served model's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import logit

from leadscore import metrics
from leadscore.config import Config
from leadscore.features.spec import OTHER, FeatureSpec
from leadscore.model.calibrator import EPS
from leadscore.model.kind import Scorer
from leadscore.model.segmented import SegmentedScorer
from leadscore.model.tiers import to_score
from leadscore.training.backtest import Backtest, FoldFit, run_backtest
from leadscore.training.deploy import deploy
from leadscore.training.folds import MIN_FOLD_POSITIVES, Fold, Plan
from leadscore.training.slices import find_column
from leadscore.training.tournament import Tournament

#: Paired resamples behind each segment's intervals.
SEGMENT_BOOTSTRAP = 200


@dataclass
class Segments:
    """What the segments step decided: one row per segment (``table``), the model to serve
    (a ``SegmentedScorer`` when a segment kept its own model, else None) and the run's
    out-of-time rows as that model scores them."""

    column: str | None = None
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    scorer: SegmentedScorer | None = None
    backtest: Backtest | None = None
    notes: list[str] = field(default_factory=list)


def segment_names(values: pd.Series, names: dict[str, str]) -> pd.Series:
    """Each row's segment (None: the pooled model's): its value's name in ``names`` (keys read
    lower-case and trimmed, as the features spell values), else, with no names given, the
    value itself; the bucket of rare values (``other``) is never a segment."""
    value = values.astype("object").astype(str)
    if names:
        spelled = {str(k).strip().lower(): str(v) for k, v in names.items()}
        named = value.map(spelled)
        out = np.where(named.notna().to_numpy(), named.to_numpy(dtype=object), None)
    else:
        out = np.where((value != OTHER).to_numpy(), value.to_numpy(dtype=object), None)
    return pd.Series(out, index=values.index, dtype=object)


def segment_plan(plan: Plan, mine: np.ndarray, y: np.ndarray) -> Plan:
    """``plan`` cut to the rows ``mine``: folds whose cut has test rows and enough
    conversions to learn from (``MIN_FOLD_POSITIVES``)."""
    folds = [
        Fold(f.number, f.train & mine, f.test & mine, f.test_label, f.train_label)
        for f in plan.folds
        if (f.test & mine).any() and y[f.train & mine].sum() >= MIN_FOLD_POSITIVES
    ]
    return Plan(
        folds, plan.deploy & mine, plan.deploy_label, plan.how, plan.out_of_time, plan.snapshots
    )


def _why_not_judged(
    oot_conversions: int, deploy_conversions: int, folds: int, cfg: Config
) -> str | None:
    need = cfg.segments.min_conversions
    if oot_conversions < need:
        return f"{oot_conversions} conversions in its out-of-time rows (segments.min_conversions {need})"
    if deploy_conversions < need:
        return f"{deploy_conversions} conversions to learn from (segments.min_conversions {need})"
    if folds == 0:
        return f"no fold has {MIN_FOLD_POSITIVES} of its conversions to learn from"
    return None


def _judge(
    own: pd.DataFrame, pooled: dict[str, pd.DataFrame], cfg: Config
) -> tuple[dict[str, tuple[float, float, float]], dict[str, float], float]:
    """The segment model's lead over each pooled kind on its rows (difference, low, high),
    every entry's figure there, and the points sheet's."""
    key = ["fold", "row"]
    metric = cfg.tracking.promote_metric
    y = own["label"].to_numpy(dtype="float64")
    theirs = {
        k: own[key].merge(r[[*key, "p_model"]], on=key, how="left")["p_model"].to_numpy()
        for k, r in pooled.items()
    }
    ahead = metrics.leads(
        y, own["p_model"].to_numpy(), theirs, metric, n_boot=SEGMENT_BOOTSTRAP, seed=cfg.model.seed
    )
    figure = {k: metrics.metric_value(y, p, metric) for k, p in theirs.items()}
    figure["segment"] = metrics.metric_value(y, own["p_model"].to_numpy(), metric)
    return ahead, figure, metrics.metric_value(y, own["p_baseline"].to_numpy(), metric)


def run_segments(
    table: pd.DataFrame,
    spec: FeatureSpec,
    plan: Plan,
    cfg: Config,
    tournament: Tournament,
    pooled: Scorer,
) -> Segments:
    """Each segment judged, its model deployed where it wins (see the module's note);
    ``pooled``: the deployed pooled model, which serves every other row.

    It reads top to bottom as the step's parts: find the column, judge each segment, build
    the served model and its out-of-time rows.
    """
    wanted = cfg.segments.column
    if wanted is None:
        return Segments()
    column = find_column(wanted, pd.Index(spec.categorical_features))
    if column is None:
        return Segments(
            notes=[
                f"segments: {wanted!r} is not a categorical feature of this data; one pooled "
                "model serves every lead (segments.column)"
            ]
        )
    winner = tournament.winner
    rows = tournament.backtests[winner].rows
    segment = segment_names(table[column], cfg.segments.names).to_numpy(dtype=object)
    y = table["label"].to_numpy(dtype="float64")
    oot = segment[rows["row"].to_numpy()]
    records, models, own_rows = [], {}, []
    counts = pd.Series(segment[pd.notna(segment)], dtype=object).value_counts()
    present = counts.index[counts.to_numpy() > 0]
    for name in present:
        mine = segment == name
        sub = segment_plan(plan, mine, y)
        oot_conv = int(rows["label"].to_numpy()[oot == name].sum())
        record = {
            "segment": name,
            "values": ", ".join(sorted(table.loc[mine, column].astype(str).unique())),
            "out_of_time_rows": int((oot == name).sum()),
            "conversions": oot_conv,
            "learning_conversions": int(y[plan.deploy & mine].sum()),
            "folds": len(sub.folds),
        }
        why = _why_not_judged(oot_conv, record["learning_conversions"], len(sub.folds), cfg)
        if why is None:
            pooled_hashes = tournament.backtests[winner].hashes
            bt = run_backtest(table, spec, sub, cfg, winner, tournament.base, hashes=pooled_hashes)
            pooled_rows = {k: b.rows for k, b in tournament.backtests.items()}
            ahead, figure, points = _judge(bt.rows, pooled_rows, cfg)
            record.update(
                judged=True,
                segment_model=figure["segment"],
                pooled_model=figure[winner],
                points_sheet=points,
                **{f"lead_over_{k}": v[0] for k, v in ahead.items()},
                **{f"lead_over_{k}_low": v[1] for k, v in ahead.items()},
                **{f"lead_over_{k}_high": v[2] for k, v in ahead.items()},
            )
            kept = all(low > 0 for _, low, _ in ahead.values())
            record["kept"] = kept
            record["why"] = (
                "its own model is ahead of every pooled kind beyond chance"
                if kept
                else "not clearly ahead of "
                + ", ".join(k for k, (_, low, _) in ahead.items() if low <= 0)
            )
            if kept:
                models[name] = deploy(table, spec, sub, bt, cfg).scorer
                own_rows.append(bt.rows)
        else:
            record.update(judged=False, kept=False, why=f"not judged: {why}")
        records.append(record)
    out = Segments(column, pd.DataFrame(records))
    if models:
        pairs = pd.DataFrame({"value": table[column].astype(str), "segment": segment})
        pairs = pairs[pairs["segment"].notna()].drop_duplicates()
        routes = dict(zip(pairs["value"], pairs["segment"].astype(str), strict=True))
        out.scorer = SegmentedScorer(pooled, column, routes, models, cfg.segments.tiers)
        out.backtest = served_backtest(tournament.backtests[winner], own_rows)
    return out


def served_backtest(pooled: Backtest, own: list[pd.DataFrame]) -> Backtest:
    """The pooled backtest with the kept segment models' test rows in place of the pooled
    model's; ``margin`` is every row's log-odds, as the served model's is."""
    rows = pooled.rows.copy()
    key = pd.MultiIndex.from_frame(rows[["fold", "row"]])
    for r in own:
        at = key.get_indexer(pd.MultiIndex.from_frame(r[["fold", "row"]]))
        rows.iloc[at, rows.columns.get_loc("p_model")] = r["p_model"].to_numpy()
    p = rows["p_model"].to_numpy(dtype="float64")
    rows["margin"] = logit(np.clip(p, EPS, 1 - EPS))
    rows["score"] = to_score(p)
    folds = [
        FoldFit(f.number, f.best_iteration, rows[rows["fold"] == f.number], f.counts, f.scorer)
        for f in pooled.folds
    ]
    return Backtest(
        pooled.kind, folds, rows, pooled.plan, pooled.seed, pooled.follows, pooled.follows_loss
    )


def segment_lines(segments: Segments, metric: str) -> list[str]:
    """For ``train``'s output: the decision per judged segment, one line each, then the
    segments too small to judge in one line."""
    t = segments.table
    if not len(t):
        return []
    kept = int(t["kept"].sum())
    per = segments.scorer is not None and segments.scorer.tiers_by == "segment"
    cut = "within each model's leads" if per else "over all leads"
    lines = [
        f"  segments by {segments.column}: {len(t)} found, {int(t['judged'].sum())} judged, "
        f"{kept} with a model of their own (segments.csv); tiers are cut {cut}"
    ]
    small = []
    for r in t.to_dict("records"):
        if not r["judged"]:
            small.append(f"{r['segment']} ({r['conversions']:,})")
            continue
        served = "own model" if r["kept"] else "pooled model"
        lines.append(
            f"  segment {r['segment']} ({r['conversions']:,} conversions out of time): "
            f"{served}; {metric} own {r['segment_model']:.3f} vs pooled "
            f"{r['pooled_model']:.3f} (points sheet {r['points_sheet']:.3f}); {r['why']}"
        )
    if small:
        lines.append(
            f"  not judged, served by the pooled model (conversions out of time): "
            f"{', '.join(small)}"
        )
    return lines
