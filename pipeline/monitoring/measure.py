"""Every measure of ``leadscore monitor`` over a set of nights, as one ``Monitor``.

The nights' features are rebuilt from the data folder with the model's own feature code
(point in time: a night's features use nothing after its ``as_of``), then binned on the
training reference; outcomes in the same folder give each night's labels once its horizon
has passed. Reading happens here; every figure comes from the pure functions of
``drift``, ``realised`` and ``alerts``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leadscore.config import EvaluationConfig, MonitorConfig
from leadscore.data.contract import Tables
from leadscore.data.views import data_end
from leadscore.features.snapshots import label_snapshots
from leadscore.handoff.experiment import Experiment
from leadscore.io.ids import is_in
from leadscore.io.source import EventSource
from leadscore.model.reference import Reference
from leadscore.model.registered import LeadScoreModel
from leadscore.model.tiers import tier_order
from leadscore.monitoring import drift, realised
from leadscore.monitoring.alerts import (
    Alert,
    drift_alerts,
    realised_alerts,
    slice_alerts,
    slice_drift_alerts,
)
from leadscore.reporting.wording import plural
from leadscore.scoring.batch import check_columns, check_stages, scoring_features
from leadscore.training.slices import slice_values

Say = Callable[[str], None]


@dataclass
class Monitor:
    model_version: str
    reference_rows: int
    horizon_days: int
    data_end: pd.Timestamp
    #: One row per night: as_of, model_version, leads, expected, mean_probability,
    #: expected_roc_auc (before outcomes), psi_probability.
    nights: pd.DataFrame
    #: One row per night and tier: leads, share, share_reference, expected.
    tiers: pd.DataFrame
    #: The latest night's input drift, one row per feature (``drift.FEATURE_COLUMNS``).
    features: pd.DataFrame
    #: The probability's PSI above which a night's scores have drifted.
    probability_threshold: float
    #: PSI per night (as_of, feature, psi) of the features ``drift.chart_features`` picks
    #: from the latest night: the largest movers, every drifted one, the most important.
    feature_psi: pd.DataFrame
    #: One row per night whose horizon has passed (``realised.NIGHT_COLUMNS``).
    realised: pd.DataFrame
    #: The latest such night, by tier.
    realised_tiers: pd.DataFrame
    #: The latest such night, by slice (``realised.SLICE_COLUMNS``; ``evaluation.slices``).
    realised_slices: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=realised.SLICE_COLUMNS)
    )
    #: The latest night's score drift by slice against the model's earlier nights
    #: (``drift.SLICE_COLUMNS``; ``evaluation.slices``, ``monitor.min_leads`` rows a slice).
    slice_drift: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=drift.SLICE_COLUMNS)
    )
    alerts: list[Alert] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The hand-off's experiment, when the history's hand-off log holds a control arm.
    experiment: Experiment | None = None

    @property
    def latest(self) -> pd.Timestamp:
        return pd.Timestamp(self.nights["as_of"].iloc[-1])

    @property
    def drifted(self) -> list[str]:
        """The latest night's drifted features, largest PSI first."""
        return [str(f) for f in self.features.loc[self.features["drifted"].astype(bool), "feature"]]

    def to_json(self) -> str:
        """Every figure, for other tools: plain JSON (NaN as null, times as ISO dates)."""

        def records(frame: pd.DataFrame) -> list[dict[str, object]]:
            out = []
            for row in frame.to_dict("records"):
                clean: dict[str, object] = {}
                for k, v in row.items():
                    if isinstance(v, pd.Timestamp):
                        v = f"{v:%Y-%m-%d}"
                    elif isinstance(v, (float, np.floating)):
                        v = None if not math.isfinite(float(v)) else float(v)
                    elif isinstance(v, np.integer):
                        v = int(v)
                    clean[k] = v
                out.append(clean)
            return out

        return json.dumps(
            {
                "model_version": self.model_version,
                "reference_rows": self.reference_rows,
                "horizon_days": self.horizon_days,
                "data_end": f"{self.data_end:%Y-%m-%d}",
                "latest_night": f"{self.latest:%Y-%m-%d}",
                "drifted_features": self.drifted,
                "probability_threshold": self.probability_threshold,
                "ok": not self.alerts,
                "alerts": [a.to_dict() for a in self.alerts],
                "notes": self.notes,
                "nights": records(self.nights),
                "tiers": records(self.tiers),
                "features": records(self.features),
                "feature_psi": records(self.feature_psi),
                "realised": records(self.realised),
                "realised_tiers": records(self.realised_tiers),
                "experiment": self.experiment.to_dict() if self.experiment else None,
                "realised_slices": records(self.realised_slices),
                "slice_drift": records(self.slice_drift),
            },
            indent=2,
        )


def _score_drift(
    scores: pd.DataFrame, reference: Reference | None, version: str, order: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    nights, tiers = [], []
    for as_of, night in scores.groupby("as_of", sort=True):
        p = night["probability"].to_numpy("float64")
        versions = night["model_version"].dropna().unique()
        same = reference is not None and len(versions) == 1 and versions[0] == version
        nights.append(
            {
                "as_of": as_of,
                "model_version": ", ".join(map(str, versions)),
                "leads": len(night),
                "expected": float(p.sum()),
                "mean_probability": float(p.mean()) if len(p) else float("nan"),
                "expected_roc_auc": realised.expected_auc(p, night["score"].to_numpy("float64")),
                "psi_probability": drift.score_psi(reference, p) if same else float("nan"),
            }
        )
        if reference is not None:
            t = drift.tier_shares(reference, night["tier"], p, order)
            tiers.append(t.assign(as_of=as_of))
    tier_frame = (
        pd.concat(tiers, ignore_index=True)
        if tiers
        else pd.DataFrame(
            columns=["tier", "leads", "share", "share_reference", "expected", "as_of"]
        )
    )
    return pd.DataFrame(nights), tier_frame[["as_of", *[c for c in tier_frame if c != "as_of"]]]


def fits(counts: dict[str, np.ndarray], reference: Reference, rows: int) -> bool:
    """Whether kept counts are of this reference's bins and of all ``rows`` of the night
    (else the night's features are built again)."""
    if not counts:
        return False
    for bins in reference.features:
        c = counts.get(bins.name)
        if c is None or len(c) != len(bins.shares) + 1 or int(np.sum(c)) != rows:
            return False
    return True


def _input_drift(
    scores: pd.DataFrame,
    nights: pd.DataFrame,
    known: np.ndarray,
    tables: Tables,
    events: EventSource | pd.DataFrame | None,
    model: LeadScoreModel,
    cfg: MonitorConfig,
    say: Say,
    kept: dict[pd.Timestamp, dict[str, np.ndarray]] | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each feature's drift on the latest ``monitor.feature_nights`` nights: from the bin
    counts scoring kept where they fit, else from features built again. Returns the latest
    night's table and the PSI per night of the features the PSI chart draws."""
    reference, spec = model.settings.reference, model.scorer.spec
    check_columns(tables.leads, model.scorer)
    check_stages(tables, model.scorer)
    features = pd.DataFrame(columns=drift.FEATURE_COLUMNS)
    measured = []
    for as_of in nights["as_of"].iloc[-cfg.feature_nights :]:
        tonight = known & (scores["as_of"] == as_of).to_numpy()
        counts = (kept or {}).get(as_of)
        if counts is not None and fits(counts, reference, int((scores["as_of"] == as_of).sum())):
            night = drift.drift_from_counts(reference, counts, cfg.psi_alert)
            rows = int(next(iter(counts.values())).sum()) if counts else 0
            how = "kept when the night was scored"
        else:
            snaps = scores.loc[tonight, ["lead_id", "as_of"]].reset_index(drop=True)
            feats = scoring_features(tables, snaps, spec, events)
            night = drift.feature_drift(reference, feats, cfg.psi_alert)
            rows, how = len(snaps), "features built again"
        say(f"  {as_of:%Y-%m-%d}: input drift of {len(night)} features over {rows:,} leads ({how})")
        measured.append(night.assign(as_of=as_of))
        features = night
    drawn = set(drift.chart_features(features, cfg.top_features)["feature"])
    every = pd.concat(measured, ignore_index=True)
    feature_psi = every.loc[every["feature"].isin(drawn), ["as_of", "feature", "psi"]]
    return features, feature_psi.reset_index(drop=True)


def _outcomes_so_far(
    scores: pd.DataFrame,
    known: np.ndarray,
    tables: Tables,
    events: EventSource | pd.DataFrame | None,
    horizon: int,
    order: list[str],
) -> tuple[pd.Timestamp, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The data's end, realised against expected conversions per night whose horizon has
    passed, and per tier for the latest of those nights, whose labelled rows come last."""
    end = data_end(tables, events if isinstance(events, EventSource) else None)
    labelled = scores[known].reset_index(drop=True)
    labelled["label"] = label_snapshots(labelled, tables.outcomes, horizon, end).to_numpy()
    real = realised.realised_by_night(labelled)
    real_tiers = pd.DataFrame(columns=["tier", "leads", "expected", "realised", "realised_rate"])
    last = labelled.iloc[:0]
    if len(real):
        last = labelled[labelled["as_of"] == real["as_of"].iloc[-1]].reset_index(drop=True)
        real_tiers = realised.realised_by_tier(last, order)
    return end, real, real_tiers, last


def _realised_slices(
    last: pd.DataFrame,
    leads: pd.DataFrame,
    evaluation: EvaluationConfig,
    cfg: MonitorConfig,
    notes: list[str],
) -> tuple[pd.DataFrame, list[Alert]]:
    """The latest realised night (``last``) by slice of ``evaluation.slices``, values read
    from the leads table as training reads them, with its per-slice alerts."""
    if not len(last):
        return pd.DataFrame(columns=realised.SLICE_COLUMNS), []
    rows = pd.DataFrame({"row": np.arange(len(last)), "lead_id": last["lead_id"].to_numpy()})
    values, absent = slice_values(rows, last.iloc[:, :0], list(evaluation.slices), leads)
    _absent_note(absent, notes)
    slices = realised.realised_by_slice(
        last, values, evaluation.slice_min_conversions, cfg.calibration_factor
    )
    night = f"{pd.Timestamp(last['as_of'].iloc[0]):%Y-%m-%d}"
    return slices, slice_alerts(slices[slices["judged"].astype(bool)], night, cfg)


def _absent_note(absent: list[str], notes: list[str]) -> None:
    """One note for the slice columns the leads table lacks, however many sections cut."""
    note = (
        f"by slice: column(s) not in the leads table, skipped: {', '.join(absent)} "
        "(evaluation.slices)"
    )
    if absent and note not in notes:
        notes.append(note)


def _slice_drift(
    scores: pd.DataFrame,
    known: np.ndarray,
    leads: pd.DataFrame,
    version: str,
    evaluation: EvaluationConfig,
    cfg: MonitorConfig,
    notes: list[str],
) -> tuple[pd.DataFrame, list[Alert]]:
    """The latest night's score drift by slice of ``evaluation.slices`` (``drift.slice_drift``)
    with its per-slice alerts (PSI above ``monitor.psi_alert``).

    The baseline of a slice is the same slice on every earlier night scored by ``version``,
    pooled. The training reference keeps no lead's slice values, only each feature's and
    the probability's bins over all rows, so it cannot say how one lead source's scores
    were spread; the night's overall scores are no baseline either, since a slice differs
    from the rest by design (a referral scores higher than a cold list every night). The
    model's own earlier nights are the slice as this model saw it, pooled like the
    reference pools its training periods (a shift that grew over many nights shows in
    part). A slice needs ``monitor.min_leads`` rows on the night (values with fewer pooled
    into "other", counted) and as many on its baseline, the rule the night's own drift
    alerts use: on fewer a PSI is mostly noise. Nights of another version, and rows whose
    lead the leads table lacks, are left out; one night alone has no baseline (a note)."""
    empty = pd.DataFrame(columns=drift.SLICE_COLUMNS)
    latest = scores["as_of"].max()
    mine = known & (scores["model_version"] == version).fillna(False).to_numpy(dtype=bool)
    tonight = mine & (scores["as_of"] == latest).to_numpy()
    earlier = mine & (scores["as_of"] < latest).to_numpy()
    if not tonight.any() or not earlier.any():
        notes.append(
            f"drift by slice: the latest night was not scored by {version}, not measured"
            if not tonight.any()
            else f"drift by slice: no earlier night scored by {version} to compare the latest "
            "with (a history of two nights or more: --history)"
        )
        return empty, []
    used = scores[tonight | earlier]
    # A lead scored on many nights is read once: its slice values are the leads table's.
    at, ids = pd.factorize(used["lead_id"])
    each = pd.DataFrame({"row": np.arange(len(ids)), "lead_id": np.asarray(ids)})
    values, absent = slice_values(each, each.iloc[:, :0], list(evaluation.slices), leads)
    _absent_note(absent, notes)
    if values.columns.empty:
        return empty, []
    # As categories, the lead's values spread to its nights as integers.
    values = values.astype("category").iloc[at].reset_index(drop=True)
    now = (used["as_of"] == latest).to_numpy()
    p = used["probability"].to_numpy("float64")
    table = drift.slice_drift(
        p[now], values[now], p[~now], values[~now], cfg.min_leads, cfg.psi_alert
    )
    return table, slice_drift_alerts(table, f"{pd.Timestamp(latest):%Y-%m-%d}")


def measure(
    scores: pd.DataFrame,
    tables: Tables,
    events: EventSource | pd.DataFrame | None,
    model: LeadScoreModel,
    version: str,
    cfg: MonitorConfig,
    say: Say = lambda _m: None,
    kept: dict[pd.Timestamp, dict[str, np.ndarray]] | None = None,
    evaluation: EvaluationConfig | None = None,
) -> Monitor:
    """The monitor of ``scores`` (one or more nights) against ``model``'s reference, with
    outcomes and features from ``tables`` (``events``: their event source). ``kept``: the
    rows per reference bin that scoring kept for some nights (``history.read_bins``); the
    other nights' features are built again. ``evaluation``: the slices of the latest
    realised night and of the latest night's score drift (default: the default slices)."""
    settings = model.settings
    reference = settings.reference
    order = tier_order(settings.tiers)
    notes: list[str] = []
    nights, tiers = _score_drift(scores, reference, version, order)
    other = nights[nights["psi_probability"].isna()] if reference is not None else nights.iloc[:0]
    if len(other):
        notes.append(
            f"{plural(len(other), 'night')} scored by another model version than {version}: "
            f"{'its' if len(other) == 1 else 'their'} score drift is not measured against "
            "its reference"
        )
    known = is_in(scores["lead_id"], tables.leads["lead_id"])
    if not known.all():
        notes.append(
            f"{int((~known).sum()):,} scored rows name leads not in the data folder's leads "
            "table: left out of input drift and realised performance"
        )
    features = pd.DataFrame(columns=drift.FEATURE_COLUMNS)
    feature_psi = pd.DataFrame(columns=["as_of", "feature", "psi"])
    if reference is None:
        notes.append(
            f"model {version} was trained without a reference: no drift measures (retrain it)"
        )
    else:
        features, feature_psi = _input_drift(
            scores, nights, known, tables, events, model, cfg, say, kept
        )
    horizon = int(settings.horizon_days or 0)
    end, real, real_tiers, last = _outcomes_so_far(scores, known, tables, events, horizon, order)
    real_slices, by_slice = _realised_slices(
        last, tables.leads, evaluation or EvaluationConfig(), cfg, notes
    )
    pending = int(nights["as_of"].nunique()) - len(real)
    if pending:
        notes.append(
            f"{plural(pending, 'night')} within {'its' if pending == 1 else 'their'} "
            f"{horizon}-day horizon of the data's end "
            f"({end:%Y-%m-%d}): outcomes not known yet, expected conversions only"
        )
    slices_drift, drift_by_slice = _slice_drift(
        scores, known, tables.leads, version, evaluation or EvaluationConfig(), cfg, notes
    )
    p_threshold = drift.score_threshold(reference, cfg.psi_alert) if reference else cfg.psi_alert
    alerts = [*_alerts(nights, features, real, p_threshold, cfg, notes), *drift_by_slice, *by_slice]
    quiet = quiet_drift(features, cfg.top_features)
    if quiet:
        notes.append(quiet)
    return Monitor(
        model_version=version,
        reference_rows=reference.rows if reference is not None else 0,
        horizon_days=horizon,
        data_end=end,
        nights=nights,
        tiers=tiers,
        features=features,
        probability_threshold=p_threshold,
        feature_psi=feature_psi,
        realised=real,
        realised_tiers=real_tiers,
        realised_slices=real_slices,
        slice_drift=slices_drift,
        alerts=alerts,
        notes=notes,
    )


#: A note names at most this many drifted features.
NOTE_NAMES = 5


def quiet_drift(features: pd.DataFrame, top_features: int) -> str | None:
    """A note for the drifted features outside the ``top_features`` most important, which
    the page marks drifted but which raise no alert; None when there are none."""
    if not len(features):
        return None
    quiet = features[
        features["drifted"].astype(bool) & (features["importance_rank"] > top_features)
    ]
    if not len(quiet):
        return None
    names = [str(f) for f in quiet["feature"]]
    shown = ", ".join(names[:NOTE_NAMES]) + (
        f" and {len(names) - NOTE_NAMES:,} more" if len(names) > NOTE_NAMES else ""
    )
    return (
        f"{plural(len(names), 'feature')} drifted outside the {top_features} most important "
        f"({shown}): marked in the drift table, without an alert (monitor.top_features)"
    )


def _alerts(
    nights: pd.DataFrame,
    features: pd.DataFrame,
    real: pd.DataFrame,
    p_threshold: float,
    cfg: MonitorConfig,
    notes: list[str],
) -> list:
    """Realised-performance alerts, and drift alerts when the latest night has enough leads
    to tell (else a note says why there are none)."""
    alerts = realised_alerts(real, cfg)
    latest = f"{pd.Timestamp(nights['as_of'].iloc[-1]):%Y-%m-%d}"
    latest_leads = int(nights["leads"].iloc[-1])
    if latest_leads >= cfg.min_leads:
        psi_now = float(nights["psi_probability"].iloc[-1])
        return [*drift_alerts(latest, features, psi_now, p_threshold, cfg), *alerts]
    notes.append(
        f"the latest night has {latest_leads:,} leads, fewer than monitor.min_leads "
        f"({cfg.min_leads}): its drift is shown but raises no alert (too few to tell)"
    )
    return alerts
