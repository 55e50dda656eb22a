"""Who scores tomorrow: the new model, the points sheet, or the champion that is there now.

Every candidate is judged on the same rows: the tournament's judged folds (their out-of-time
test rows). The new model is a candidate only if it beats the points sheet there; otherwise
the points sheet stands in its place, so a model that cannot beat a spreadsheet of points is
never promoted. The current champion is judged by its recipe (its kind and settings) re-run
through the same folds, so it is never judged on rows it learned from (``training.run``).

The publish rule, in the spirit of Dynamics 365's (which publishes a retrained model at 95% or
more of the active one's accuracy): the candidate learned from fresher labels, so it takes
over unless it is worse than the champion beyond chance (the 95% paired bootstrap interval of
their difference lies wholly on the worse side), and at once when the champion's data is older
than ``training.max_model_age_days``. A retrain on unchanged data ties, and takes over.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore import metrics
from leadscore.words import counted


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
    # The candidate's lead over the champion, with its 95% paired interval (NaN: no champion).
    difference: float = float("nan")
    difference_low: float = float("nan")
    difference_high: float = float("nan")

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


def figure(y: np.ndarray, p: np.ndarray, metric: str) -> float:
    return metrics.metric_value(y, p, metric)


def decide(
    rows: pd.DataFrame,
    metric: str,
    champion_p: np.ndarray | None,
    champion_version: str | None,
    *,
    basis: str = "",
    too_old: str | None = None,
    in_time: bool = True,
    seed: int = 0,
) -> Decision:
    """The decision on ``rows`` (the judged folds' test rows: fold, label, p_model,
    p_baseline); ``champion_p``: the champion's probabilities on the same rows, if there is
    one, got as ``basis`` says; ``too_old``: why the champion's data is past its age, if it is;
    ``in_time``: the folds are in time order (an unordered flat file's folds all count)."""
    folds = sorted(rows["fold"].unique().tolist())
    y = rows["label"].to_numpy(dtype="float64")
    m = figure(y, rows["p_model"].to_numpy(), metric)
    p = figure(y, rows["p_baseline"].to_numpy(), metric)
    candidate = "model" if beats(m, p, metric) else "points"
    which = f"the latest {counted(len(folds), 'fold')}" if in_time else f"every fold ({len(folds)})"
    on = f"on {which}, {len(rows):,} rows"
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
    mine = rows["p_model" if candidate == "model" else "p_baseline"].to_numpy()
    r = metrics.compare(y, mine, champion_p, n_boot=200, seed=seed).set_index("metric").loc[metric]
    diff, lo, hi = float(r["difference"]), float(r["difference_low"]), float(r["difference_high"])
    higher = metrics.HIGHER_IS_BETTER[metric]
    worse_beyond_chance = (hi < 0) if higher else (lo > 0)
    who = "model" if candidate == "model" else "points sheet"
    figures = f"{value:.4f} vs {c:.4f}, difference {diff:+.4f} [{lo:+.4f}, {hi:+.4f}]"
    judged = f"champion v{champion_version}{f' ({basis})' if basis else ''}"
    if too_old is not None:
        promote, verdict = True, f"the {who} takes over from {judged}: {too_old} ({figures})"
    elif worse_beyond_chance:
        promote, verdict = False, f"{judged} stays: the {who} is worse beyond chance ({figures})"
    elif beats(value, c, metric):
        promote, verdict = True, f"the {who} beats {judged} ({figures})"
    else:
        promote = True
        verdict = f"the {who} takes over from {judged}: not worse beyond chance ({figures})"
    return Decision(
        metric, folds, len(rows), m, p, c, candidate, promote, f"{lead}; {verdict}", diff, lo, hi
    )
