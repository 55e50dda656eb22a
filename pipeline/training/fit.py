"""Training: baseline and model on the same rows, calibration, honest evaluation.

Stages are plain functions over frames; ``training.run`` wires them and hands the results to
MLflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leadscore.config import Config
from leadscore.errors import DataError
from leadscore.features.spec import FeatureSpec
from leadscore.model.baseline import missing_columns, score_baseline
from leadscore.model.scorer import Calibrator, LeadScorer, choose_calibration
from leadscore.model.tiers import assign_tiers, to_score
from leadscore.training import evaluate
from leadscore.training.split import TimeSplit

ROLES = ("train", "early_stopping", "calibration", "test")
MIN_CALIBRATION_POSITIVES = 10


@dataclass
class Evaluation:
    """Model and baseline side by side on the same held-out rows."""

    comparison: pd.DataFrame
    bands: pd.DataFrame
    tiers: pd.DataFrame
    capacity: pd.DataFrame
    reliability: pd.DataFrame
    rows: (
        pd.DataFrame
    )  # period, label, p_model, p_baseline, score, baseline_score, tier, baseline_tier


@dataclass
class TrainResult:
    scorer: LeadScorer
    baseline_calibrator: Calibrator
    evaluation: Evaluation
    importance: pd.DataFrame
    counts: pd.DataFrame
    split: dict[str, str]
    notes: list[str] = field(default_factory=list)
    # Up to 5,000 held-out feature rows (seeded sample): the report explains the model on them.
    test_sample: pd.DataFrame | None = None


def split_table(frame: pd.DataFrame, cfg: Config) -> tuple[TimeSplit, pd.Series]:
    """The time split of a stacked training table by its snapshot dates, and each row's role."""
    from leadscore.training.split import time_split

    dates = sorted(frame["as_of"].unique())
    t = cfg.training
    split = time_split(
        [pd.Timestamp(d) for d in dates],
        t.horizon_days,
        t.test_snapshots,
        t.calibration_snapshots,
        t.early_stopping_snapshots,
    )
    return split, roles_from_split(frame["as_of"], split)


def roles_from_split(period: pd.Series, split: TimeSplit) -> pd.Series:
    """Each row's role from its snapshot date; embargoed rows get ``None``."""
    role = pd.Series(None, index=period.index, dtype="object")
    for name in ROLES:
        role[period.isin(getattr(split, name)).to_numpy()] = name
    return role


def role_counts(role: pd.Series, label: pd.Series, period: pd.Series) -> pd.DataFrame:
    rows = []
    for name in ROLES:
        m = (role == name).to_numpy()
        rows.append(
            {
                "slice": name,
                "rows": int(m.sum()),
                "positives": int(label[m].sum()),
                "periods": int(period[m].nunique()),
            }
        )
    return pd.DataFrame(rows)


def check_enough_positives(counts: pd.DataFrame, cfg: Config) -> list[str]:
    """Refuse to train when too few conversions would make the model or its calibration a guess.

    Training needs ``training.min_positives`` won deals (default 40, the low end of what the
    large CRM vendors ask for: below it a model of dozens of features overfits and its
    probabilities cannot be checked); calibration needs at least 10 to fit a curve, and the
    test slice at least one to be evaluated at all.
    """
    c = counts.set_index("slice")
    fit_pos = int(c.loc["train", "positives"] + c.loc["early_stopping", "positives"])
    need = cfg.training.min_positives
    if fit_pos < need:
        raise DataError(
            f"training: only {fit_pos} conversions in the training snapshots (need at least {need}, "
            f"training.min_positives); add history or widen training.horizon_days"
        )
    if c.loc["calibration", "positives"] < MIN_CALIBRATION_POSITIVES:
        raise DataError(
            f"training: only {int(c.loc['calibration', 'positives'])} conversions in the calibration slice "
            f"(need {MIN_CALIBRATION_POSITIVES}); raise training.calibration_snapshots"
        )
    if c.loc["test", "positives"] < 1:
        raise DataError(
            "training: no conversion in the test slice, so nothing can be evaluated; raise training.test_snapshots"
        )
    notes = []
    if fit_pos < 2 * need:
        notes.append(f"few conversions to learn from ({fit_pos}); treat the figures with care")
    if c.loc["test", "positives"] < 30:
        notes.append(
            f"only {int(c.loc['test', 'positives'])} conversions in the test slice: wide confidence intervals"
        )
    return notes


def make_scorer(spec: FeatureSpec, cfg: Config) -> LeadScorer:
    return LeadScorer(spec, cfg.model)


def evaluate_rows(rows: pd.DataFrame, cfg: Config, n_boot: int = 200) -> Evaluation:
    """All the held-out comparisons, from a frame of (period, label, p_model, p_baseline, ...)."""
    y = rows["label"].to_numpy(dtype="float64")
    comparison = evaluate.compare(
        y,
        rows["p_model"].to_numpy(),
        rows["p_baseline"].to_numpy(),
        n_boot=n_boot,
        seed=cfg.model.seed,
    )
    bands = pd.concat(
        [
            evaluate.band_table(y, rows["score"].to_numpy()).assign(approach="model"),
            evaluate.band_table(y, rows["baseline_score"].to_numpy()).assign(approach="baseline"),
        ],
        ignore_index=True,
    )
    tiers = pd.concat(
        [
            evaluate.tier_table(y, rows["tier"]).assign(approach="model"),
            evaluate.tier_table(y, rows["baseline_tier"]).assign(approach="baseline"),
        ],
        ignore_index=True,
    )
    capacity = evaluate.capacity_table(
        y, rows["p_model"].to_numpy(), rows["p_baseline"].to_numpy(), rows["period"]
    )
    reliability = pd.concat(
        [
            evaluate.reliability_table(y, rows["p_model"].to_numpy()).assign(approach="model"),
            evaluate.reliability_table(y, rows["p_baseline"].to_numpy()).assign(
                approach="baseline"
            ),
        ],
        ignore_index=True,
    )
    return Evaluation(comparison, bands, tiers, capacity, reliability, rows)


def fit_and_evaluate(
    table: pd.DataFrame,
    role: pd.Series,
    period: pd.Series,
    spec: FeatureSpec,
    cfg: Config,
    split_description: dict[str, str],
) -> TrainResult:
    """Fit baseline mapping and model on their slices; evaluate both on the test slice.

    It reads top to bottom as the recipe (check counts, fit, calibrate, map the baseline,
    score the test rows, evaluate), each step a call; split, the slices would travel as a
    dozen arguments.
    """
    label = table["label"].astype("float64")
    counts = role_counts(role, label, period)
    notes = check_enough_positives(counts, cfg)
    absent = missing_columns(table.columns, cfg.baseline)
    if absent:
        notes.append(f"baseline rules skipped, columns not in the data: {', '.join(absent)}")

    def rows(name: str) -> np.ndarray:
        return (role == name).to_numpy()

    X = table[spec.feature_columns]
    y = label.to_numpy()
    scorer = make_scorer(spec, cfg)
    tr, es, cal, te = (rows(r) for r in ROLES)
    scorer.fit(
        X[tr],
        y[tr],
        X[es] if es.any() else None,
        y[es] if es.any() else None,
        refit=cfg.model.refit,
    )
    scorer.calibrate(X[cal], y[cal], period[cal].to_numpy())

    base = score_baseline(table, cfg.baseline)
    b_score = base["baseline_score"].to_numpy()
    b_method, _ = choose_calibration(
        b_score[cal], y[cal], period[cal].to_numpy(), cfg.model.calibration
    )
    # The baseline's points get their own probability mapping on the same calibration slice,
    # so Brier and log loss compare the two approaches fairly.
    base_cal = Calibrator(b_method).fit(b_score[cal], y[cal])

    p_model = scorer.predict_proba(X[te])
    score = to_score(p_model)
    test_rows = pd.DataFrame(
        {
            "lead_id": table.loc[te, "lead_id"].to_numpy(),
            "period": period[te].to_numpy(),
            "label": y[te],
            "p_model": p_model,
            "p_baseline": base_cal.predict(b_score[te]),
            "score": score,
            "baseline_score": b_score[te],
            "tier": assign_tiers(score, cfg.tiers),
            "baseline_tier": base["baseline_tier"].to_numpy()[te],
        }
    )
    evaluation = evaluate_rows(test_rows, cfg)
    notes.append(f"calibration: model {scorer.calibration_method_}, baseline {b_method}")
    test_table = table.loc[te].reset_index(drop=True)
    sample = test_table.sample(
        n=min(5000, len(test_table)), random_state=cfg.model.seed
    ).sort_index()
    return TrainResult(
        scorer, base_cal, evaluation, scorer.importance(), counts, split_description, notes, sample
    )


def beats(new: float, old: float, metric: str) -> bool:
    """Whether ``new`` is strictly better than ``old`` on ``metric``."""
    if np.isnan(new):
        return False
    if np.isnan(old):
        return True
    return new > old if evaluate.HIGHER_IS_BETTER[metric] else new < old
