"""``leadscore monitor``: scored nights against the model's training reference; exit status 3
on an alert, which a nightly job acts on."""

from __future__ import annotations

import argparse
import sys

from leadscore.cli.options import Sub, add_config, add_data, add_model, add_out, say
from leadscore.errors import UsageError

#: ``leadscore monitor`` exit status when an alert threshold is crossed (2 is an error).
ALERT_STATUS = 3


def cmd_monitor(args: argparse.Namespace) -> int:
    from leadscore.config import load_config
    from leadscore.monitoring.nights import scored_by
    from leadscore.monitoring.run import run_monitor
    from leadscore.scoring.night import find_model

    if bool(args.scores) == bool(args.history):
        raise UsageError("monitor needs --scores FILE or --history DIR (one of them)")
    cfg = load_config(args.config)
    # Without --model, the nights are compared with the model that scored them, not with
    # whichever version is champion now.
    uri = args.model or scored_by(args.scores, args.history)
    model = find_model(uri, cfg)
    run = run_monitor(
        args.data,
        model,
        model.version,
        cfg,
        args.out,
        scores=args.scores,
        history=args.history,
        json_out=args.json,
        say=say,
    )
    result = run.monitor
    _say_findings(result)
    say(f"monitor -> {run.page}")
    if run.json:
        say(f"monitor json -> {run.json}")
    for alert in result.alerts:
        print(f"leadscore: alert: {alert.line()}", file=sys.stderr)
    if result.alerts:
        return ALERT_STATUS
    say("monitor: no alert")
    return 0


def _say_findings(result) -> None:
    """The latest night in a few lines: notes, expected conversions, drift, realised."""
    for note in result.notes:
        say(f"  note: {note}")
    last = result.nights.iloc[-1]
    psi = last["psi_probability"]
    say(
        f"  {result.latest:%Y-%m-%d}: {int(last['leads']):,} leads, "
        f"{last['expected']:,.1f} expected conversions, expected ROC AUC "
        f"{last['expected_roc_auc']:.3f}, PSI of the probability "
        + (
            f"{psi:.3f} (threshold {result.probability_threshold:.3f})"
            if psi == psi
            else "not measured"
        )
    )
    if len(result.features):
        drifted = result.drifted
        listed = ", ".join(drifted[:8]) + (", ..." if len(drifted) > 8 else "")
        say(
            f"  input drift: {len(drifted)} of {len(result.features)} features drifted"
            + (f" ({listed})" if drifted else "")
        )
    for r in result.features.head(3).itertuples():
        say(
            f"  top mover: {r.feature} PSI {r.psi:.3f} (threshold {r.threshold:.3f}, "
            f"importance rank {r.importance_rank})"
        )
    moved = result.slice_drift
    if len(moved):
        judged = moved["judged"].astype(bool)
        drifted = moved[moved["drifted"].astype(bool)]
        say(
            f"  drift by slice: {int(judged.sum())} of {len(moved)} slices judged "
            f"({', '.join(dict.fromkeys(moved['column']))}), {len(drifted)} drifted"
            + "".join(f"; {r.column} = {r.value} PSI {r.psi:.3f}" for r in drifted.itertuples())
        )
    if result.experiment is not None:
        say(f"  experiment {result.experiment.name}: {result.experiment.verdict()}")
    if len(result.realised):
        r = result.realised.iloc[-1]
        say(
            f"  realised {r['as_of']:%Y-%m-%d}: {r['realised']:,.0f} conversions of "
            f"{r['expected']:,.1f} expected (ratio {r['ratio']:.2f}); ROC AUC model "
            f"{r['roc_auc_model']:.3f}, points {r['roc_auc_points']:.3f}"
        )
    slices = result.realised_slices
    if len(slices):
        judged = slices["judged"].astype(bool)
        bad = slices["loses_to_points"].astype(bool) | slices["miscalibrated"].astype(bool)
        say(
            f"  realised by slice: {int(judged.sum())} of {len(slices)} slices judged "
            f"({', '.join(dict.fromkeys(slices['column']))}), {int(bad.sum())} flagged"
        )


def add_monitor(sub: Sub) -> None:
    m = sub.add_parser(
        "monitor",
        help="drift, expected and realised performance of scored nights, as HTML and JSON",
        description="Compare scored nights with the model's training reference: PSI of every "
        "feature on the bins fixed at training, missing rates and values outside the kept "
        "levels; the probability's PSI and each tier's share, and by slice (evaluation.slices) "
        "against the model's earlier nights; expected conversions per tier; "
        "and, for nights whose horizon has passed, realised conversions against expected, "
        "by tier and by slice (evaluation.slices), and ROC AUC against the points model's. "
        "Exit status 3 when a threshold of "
        "the config's monitor: section is crossed on the latest night (each alert named on "
        "stderr), 2 on an error, 0 otherwise.",
    )
    m.add_argument("--scores", help="one night's scores file from leadscore score")
    m.add_argument("--history", help="a score history folder (every kept night)")
    add_data(m, "the data folder (features and outcomes)", required=True)
    add_model(m, "MLflow model URI (default: the model that scored the latest night)")
    add_config(m, "YAML config (registered model name, monitor thresholds)")
    add_out(m, "output .html file")
    m.add_argument("--json", help="also write every figure and alert to this JSON file")
    m.set_defaults(func=cmd_monitor)
