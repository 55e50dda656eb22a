"""The monitor as one self-contained HTML page in the report's style (inline CSS, charts as
base64 PNG, no scripts), from a ``Monitor``: figures formatted here, laid out by
``templates/monitor.html.j2`` with autoescaping on."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from leadscore import charts
from leadscore.config import MonitorConfig
from leadscore.data.files import write_atomic
from leadscore.monitoring import drift
from leadscore.monitoring.experiment_page import ExperimentView, experiment_view
from leadscore.monitoring.html import render
from leadscore.monitoring.measure import Monitor
from leadscore.reporting.wording import plural, rate

Rows = list[list[str]]


@dataclass
class MonitorPage:
    title: str
    headline: str
    facts: list[tuple[str, str]]
    alerts: list[str]
    notes: list[str]
    tiers: Rows
    nights: Rows
    features: Rows
    #: Features measured on the latest night; ``features`` lists the ``table_largest`` and
    #: every drifted one (``listed_features``).
    feature_count: int
    table_largest: int
    #: The PSI chart's choice (``drift.chart_features``), for its caption.
    chart_largest: int
    top_features: int
    realised: Rows
    realised_tiers: Rows
    realised_slices: Rows
    realised_night: str
    #: The latest night's score drift by slice, with the rules its caption names.
    slice_drift: Rows
    min_leads: int
    psi_alert: float
    charts: dict[str, str]
    generated: str
    experiment: ExperimentView | None = None


def _n(v: float, digits: int = 1) -> str:
    return "–" if v is None or not math.isfinite(float(v)) else f"{float(v):,.{digits}f}"


def _pct(v: float, digits: int = 1) -> str:
    return "–" if v is None or not math.isfinite(float(v)) else f"{float(v):.{digits}%}"


def _day(v) -> str:
    return f"{pd.Timestamp(v):%Y-%m-%d}"


#: The drift table lists this many features with the largest PSI (every drifted one besides).
TABLE_LARGEST = 15


def listed_features(features: pd.DataFrame, largest: int = TABLE_LARGEST) -> pd.DataFrame:
    """The rows of the latest night's drift table (largest PSI first) the page lists: the
    ``largest`` first ones and every drifted one, which a higher threshold than its
    neighbours' can put further down."""
    keep = (np.arange(len(features)) < largest) | features["drifted"].astype(bool).to_numpy()
    return features[keep]


def _verdict(r) -> str:
    if not r.judged:
        return "too few to judge"
    said = [
        w
        for w, on in (("points better", r.loses_to_points), ("miscalibrated", r.miscalibrated))
        if on
    ]
    return "; ".join(said) or "–"


def slice_rows(slices: pd.DataFrame) -> Rows:
    """The latest realised night by slice, as the page prints it."""
    return [
        [
            _group(r),
            f"{r.leads:,}",
            f"{_n(r.expected)} ({_n(r.expected_low)}–{_n(r.expected_high)})",
            f"{r.realised:,.0f}",
            _n(r.ratio, 2),
            _n(r.roc_auc_model, 3),
            _n(r.roc_auc_points, 3),
            _verdict(r),
        ]
        for r in slices.itertuples()
    ]


def _group(r) -> str:
    return (
        f"{r.column}: other ({r.values:,} values)"
        if r.value == "other"
        else f"{r.column}: {r.value}"
    )


def slice_drift_rows(slices: pd.DataFrame) -> Rows:
    """The latest night's score drift by slice, as the page prints it."""
    return [
        [
            _group(r),
            f"{r.leads:,}",
            f"{r.baseline_leads:,}",
            _pct(r.share_baseline) + " → " + _pct(r.share),
            # Two decimals: lead probabilities are often around 1%, and so are their moves.
            f"{_pct(r.mean_probability_baseline, 2)} → {_pct(r.mean_probability, 2)}",
            "–" if not math.isfinite(r.mean_shift) else f"{r.mean_shift * 100:+.2f} pts",
            _n(r.psi, 3),
            "drifted" if r.drifted else ("–" if r.judged else "too few to judge"),
        ]
        for r in slices.itertuples()
    ]


def build_monitor_page(m: Monitor, cfg: MonitorConfig, generated: datetime) -> MonitorPage:
    """Every figure the monitor's template lays out, in reading order.

    It is long because the page is: one dataclass filled field by field.
    """
    latest = m.tiers[m.tiers["as_of"] == m.latest] if len(m.tiers) else m.tiers
    pics: dict[str, str] = {}
    if len(m.tiers):
        pics["tiers"] = charts.png_base64(charts.tier_share_chart(m.tiers))
    if len(m.features):
        drawn = drift.chart_features(m.features, cfg.top_features)
        pics["psi"] = charts.png_base64(
            charts.psi_chart(m.feature_psi, drawn, m.nights, cfg.psi_alert, m.probability_threshold)
        )
    if len(m.realised):
        pics["realised"] = charts.png_base64(charts.realised_chart(m.realised))
    top = listed_features(m.features)
    return MonitorPage(
        title=f"Nightly monitor: {m.model_version}",
        headline=(
            f"{plural(len(m.alerts), 'alert')} on the latest night"
            if m.alerts
            else "No alert on the latest night"
        ),
        facts=[
            ("Latest night", _day(m.latest)),
            ("Nights", f"{len(m.nights):,}"),
            ("Model", m.model_version),
            ("Training reference", f"{m.reference_rows:,} out-of-time rows"),
            ("Data ends", _day(m.data_end)),
            ("Horizon", f"{m.horizon_days} days"),
        ],
        alerts=[a.line() for a in m.alerts],
        notes=m.notes,
        tiers=[
            [str(r.tier), f"{r.leads:,}", _pct(r.share), _pct(r.share_reference), _n(r.expected)]
            for r in latest.itertuples()
        ],
        nights=[
            [
                _day(r.as_of),
                str(r.model_version),
                f"{r.leads:,}",
                _n(r.expected),
                _pct(r.mean_probability),
                _n(r.expected_roc_auc, 3),
                _n(r.psi_probability, 3),
            ]
            for r in m.nights.itertuples()
        ],
        features=[
            [
                str(r.feature),
                str(r.importance_rank),
                _n(r.psi, 3),
                _n(r.threshold, 3),
                "yes" if r.drifted else "no",
                _pct(r.missing_reference) + " → " + _pct(r.missing_now),
                # A numeric feature keeps no levels (drift.FEATURE_COLUMNS: NaN).
                "– (numeric)"
                if not math.isfinite(r.outside_now)
                else _pct(r.outside_reference) + " → " + _pct(r.outside_now),
            ]
            for r in top.itertuples()
        ],
        feature_count=len(m.features),
        table_largest=TABLE_LARGEST,
        chart_largest=drift.CHART_LARGEST,
        top_features=cfg.top_features,
        realised=[
            [
                _day(r.as_of),
                f"{r.leads:,}",
                _n(r.expected),
                f"{r.realised:,.0f}",
                _n(r.ratio, 2),
                _n(r.roc_auc_model, 3),
                _n(r.roc_auc_points, 3),
            ]  # fmt: skip
            for r in m.realised.itertuples()
        ],
        realised_tiers=[
            [
                str(r.tier),
                f"{r.leads:,}",
                _n(r.expected),
                f"{r.realised:,.0f}",
                rate(r.realised_rate),
            ]  # fmt: skip
            for r in m.realised_tiers.itertuples()
        ],
        realised_slices=slice_rows(m.realised_slices),
        realised_night=_day(m.realised["as_of"].iloc[-1]) if len(m.realised) else "",
        slice_drift=slice_drift_rows(m.slice_drift),
        min_leads=cfg.min_leads,
        psi_alert=cfg.psi_alert,
        charts=pics,
        generated=f"{generated:%Y-%m-%d %H:%M UTC}",
        experiment=experiment_view(m.experiment) if m.experiment else None,
    )


def render_monitor(page: MonitorPage) -> str:
    return render("monitor.html.j2", page)


def write_monitor(m: Monitor, cfg: MonitorConfig, out: str | Path) -> Path:
    """The page, written atomically to ``out`` (a folder gets ``monitor.html``)."""
    html = render_monitor(build_monitor_page(m, cfg, datetime.now(tz=timezone.utc)))
    target = Path(out)
    if target.is_dir():
        target = target / "monitor.html"
    return write_atomic(target, lambda p: p.write_text(html, encoding="utf-8"))
