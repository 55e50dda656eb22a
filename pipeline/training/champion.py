"""Who scores tomorrow: the new model, the points sheet, or the champion that is there now.

Every candidate is judged on the same rows: the backtest's latest folds (their out-of-time
test rows). The new model is a candidate only if it beats the points sheet there; otherwise
the points sheet stands in its place, so a model that cannot beat a spreadsheet of points is
never promoted. The candidate then takes the champion alias only if it beats the current
champion on those same rows (the champion may have learned from some of them: the
comparison leans its way, never the new model's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore import metrics


@dataclass(frozen=True)
class Decision:
    metric: str
    folds: list[int]
    rows: int
    model_value: float
    points_value: float
    champion_value: float | None
    candidate: str  # "model" or "points"
    promote: bool
    reason: str

    @property
    def candidate_value(self) -> float:
        return self.model_value if self.candidate == "model" else self.points_value


def beats(new: float, old: float, metric: str) -> bool:
    """Whether ``new`` is strictly better than ``old`` on ``metric``."""
    if np.isnan(new):
        return False
    if np.isnan(old):
        return True
    return new > old if metrics.HIGHER_IS_BETTER[metric] else new < old


def latest_folds(rows: pd.DataFrame, n: int) -> list[int]:
    return sorted(rows["fold"].unique().tolist())[-n:]


def figure(y: np.ndarray, p: np.ndarray, metric: str) -> float:
    return float(metrics.point_metrics(y, p)[metric])


def decide(
    rows: pd.DataFrame,
    metric: str,
    champion_p: np.ndarray | None,
    champion_version: str | None,
) -> Decision:
    """The decision on ``rows`` (the latest folds' test rows: label, p_model, p_baseline);
    ``champion_p``: the current champion's probabilities on the same rows, if there is one."""
    folds = sorted(rows["fold"].unique().tolist())
    y = rows["label"].to_numpy(dtype="float64")
    m = figure(y, rows["p_model"].to_numpy(), metric)
    p = figure(y, rows["p_baseline"].to_numpy(), metric)
    candidate = "model" if beats(m, p, metric) else "points"
    on = f"on the latest {len(folds)} fold(s), {len(rows):,} rows"
    lead = (
        f"{metric} model {m:.4f} vs points sheet {p:.4f} {on}"
        if candidate == "model"
        else f"the model does not beat the points sheet ({metric} {m:.4f} vs {p:.4f} {on})"
    )
    if champion_p is None:
        return Decision(
            metric, folds, len(rows), m, p, None, candidate, True, f"{lead}; first champion"
        )
    c = figure(y, champion_p, metric)
    value = m if candidate == "model" else p
    promote = beats(value, c, metric)
    who = "model" if candidate == "model" else "points sheet"
    verdict = (
        f"the {who} beats champion v{champion_version} ({value:.4f} vs {c:.4f})"
        if promote
        else f"champion v{champion_version} stays ({c:.4f} vs the {who}'s {value:.4f})"
    )
    return Decision(metric, folds, len(rows), m, p, c, candidate, promote, f"{lead}; {verdict}")
