"""Alert thresholds checked on the latest night (``monitor:`` in the config): each crossed
one is an ``Alert`` naming the measure, its value and the threshold."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

from leadscore.config import MonitorConfig


@dataclass(frozen=True)
class Alert:
    measure: str
    night: str
    value: float
    threshold: float
    setting: str
    against: str = "above the threshold"

    def line(self) -> str:
        digits = 3
        while digits < 6 and f"{self.value:.{digits}f}" == f"{self.threshold:.{digits}f}":
            digits += 1  # never "0.250, above the threshold 0.250"
        return (
            f"{self.measure} on {self.night} is {self.value:.{digits}f}, {self.against} "
            f"{self.threshold:.{digits}f} (monitor.{self.setting})"
        )

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "line": self.line()}


def drift_alerts(
    night: str,
    features: pd.DataFrame,
    probability_psi: float,
    probability_threshold: float,
    cfg: MonitorConfig,
) -> list[Alert]:
    """A drifted feature among the ``top_features`` most important (its PSI past
    ``psi_alert`` and its spread at training), or drifted probabilities."""
    out = []
    top = features[(features["importance_rank"] <= cfg.top_features) & features["drifted"]]
    for r in top.sort_values("importance_rank").itertuples():
        out.append(
            Alert(f"PSI of {r.feature}", night, float(r.psi), float(r.threshold), "psi_alert")
        )
    if math.isfinite(probability_psi) and probability_psi > probability_threshold:
        out.append(
            Alert(
                "PSI of the probability", night, probability_psi, probability_threshold, "psi_alert"
            )
        )
    return out


def realised_alerts(nights: pd.DataFrame, cfg: MonitorConfig) -> list[Alert]:
    """On the latest night with realised outcomes and at least ``min_conversions`` of them:
    calibration in the large off by more than ``calibration_factor`` either way, and (with
    ``auc_below_points``) the model's realised ROC AUC below the points model's."""
    enough = nights[nights["realised"] >= cfg.min_conversions]
    if enough.empty:
        return []
    last = enough.iloc[-1]
    night = f"{pd.Timestamp(last['as_of']):%Y-%m-%d}"
    out = []
    f = cfg.calibration_factor
    ratio = float(last["ratio"])
    if math.isfinite(ratio) and ratio > f:
        out.append(Alert("realised / expected conversions", night, ratio, f, "calibration_factor"))
    elif math.isfinite(ratio) and ratio < 1 / f:
        out.append(
            Alert(
                "realised / expected conversions",
                night,
                ratio,
                1 / f,
                "calibration_factor",
                "below the threshold",
            )
        )
    model, points = float(last["roc_auc_model"]), float(last["roc_auc_points"])
    if cfg.auc_below_points and math.isfinite(model) and math.isfinite(points) and model < points:
        out.append(
            Alert(
                "realised ROC AUC of the model",
                night,
                model,
                points,
                "auc_below_points",
                "below the points model's",
            )
        )
    return out


def slice_alerts(slices: pd.DataFrame, night: str, cfg: MonitorConfig) -> list[Alert]:
    """Per slice of the latest realised night (``realised.realised_by_slice``, which judges
    only slices with enough conversions): realised / expected conversions off by more than
    ``calibration_factor`` beyond chance, and (with ``auc_below_points``) the model's ROC
    AUC below the points model's beyond chance (their paired interval below zero)."""
    out = []
    f = cfg.calibration_factor
    for r in slices.itertuples():
        where = f"{r.column} = {r.value}"
        if r.miscalibrated:
            high = not r.ratio < 1  # NaN: conversions where none was expected
            out.append(
                Alert(
                    f"realised / expected conversions in {where}",
                    night,
                    float(r.ratio),
                    f if high else 1 / f,
                    "calibration_factor",
                    "above the threshold" if high else "below the threshold",
                )
            )
        if cfg.auc_below_points and r.loses_to_points:
            out.append(
                Alert(
                    f"realised ROC AUC of the model in {where}",
                    night,
                    float(r.roc_auc_model),
                    float(r.roc_auc_points),
                    "auc_below_points",
                    "below the points model's beyond chance",
                )
            )
    return out


def slice_drift_alerts(slices: pd.DataFrame, night: str) -> list[Alert]:
    """A slice of the latest night whose probabilities drifted (``drift.slice_drift``: its
    PSI against its baseline above ``psi_alert``, on enough rows to judge), named with its
    column, value and leads."""
    return [
        Alert(
            f"PSI of the probability in {r.column} = {r.value} ({r.leads:,} leads)",
            night,
            float(r.psi),
            float(r.threshold),
            "psi_alert",
        )
        for r in slices[slices["drifted"].astype(bool)].itertuples()
    ]
