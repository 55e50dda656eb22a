"""Does routing win more deals? The treated arm of an experiment against its control arm,
from the hand-off log and the outcomes: pure functions on frames.

- **The unit is the lead**, at the first night it entered the experiment (either arm). A
  lead's arm is fixed by its id and the experiment's name, so a lead handed off again on a
  later night is not counted twice; its conversion is a won deal closing within the
  horizon after that first night, read as the monitor reads realised conversions
  (``label_snapshots``: won in ``(night, night + horizon]``, unknown while the horizon has
  not passed by the data's end).
- **The uplift** is relative: treated conversion rate over control's, less one, with the
  MOVER-R interval of the ratio (``leadscore.metrics.proportions.mover_ratio``); the
  difference in rates has Newcombe's interval beside it.
- **Power**: the chance the comparison tells apart a planned uplift, at the split and the
  control's expected conversion rate (its leads' probabilities) so far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leadscore.features.snapshots import label_snapshots
from leadscore.metrics.proportions import (
    effect_size,
    mover_ratio,
    newcombe_difference,
    power,
    treated_needed,
)

ARMS = ("treated", "control")
COLUMNS = [
    "treated_leads",
    "treated_conversions",
    "treated_rate",
    "control_leads",
    "control_conversions",
    "control_rate",
    "uplift",
    "uplift_low",
    "uplift_high",
    "difference",
    "difference_low",
    "difference_high",
]


@dataclass(frozen=True)
class Power:
    """How far the experiment is from its planned power."""

    uplift: float
    target: float
    alpha: float
    #: The control arm's expected conversion rate the power is computed at.
    control_rate: float
    achieved: float
    treated: int
    control: int
    #: Treated leads (with their share of control leads) the target needs at this split.
    treated_needed: float
    control_needed: float
    #: Leads already in the experiment, outcomes still to come.
    treated_waiting: int
    #: Nights of hand-offs more at the pace so far (treated leads a night), once the
    #: waiting leads count; 0 when they suffice, NaN when no pace is known.
    nights_more: float
    pace: float


@dataclass
class Experiment:
    name: str
    horizon_days: int
    data_end: pd.Timestamp
    alpha: float
    #: One row (``COLUMNS``) over every lead whose horizon has passed.
    overall: pd.DataFrame
    #: By the tier a lead had when it entered, best tier first.
    tiers: pd.DataFrame
    #: By the night a lead entered, oldest first.
    nights: pd.DataFrame
    power: Power
    #: Leads and nights entered but within their horizon of the data's end.
    waiting_leads: int
    waiting_nights: int
    first_night: pd.Timestamp
    last_night: pd.Timestamp
    notes: list[str] = field(default_factory=list)

    @property
    def counted(self) -> int:
        r = self.overall.iloc[0]
        return int(r["treated_leads"] + r["control_leads"])

    @property
    def covers_zero(self) -> bool:
        """Whether the uplift's interval still holds zero (or cannot be computed yet)."""
        r = self.overall.iloc[0]
        low, high = float(r["uplift_low"]), float(r["uplift_high"])
        return not (math.isfinite(low) and math.isfinite(high)) or low <= 0 <= high

    def verdict(self) -> str:
        """The finding in one sentence, plainly."""
        r = self.overall.iloc[0]
        if not self.counted:
            return (
                f"No lead of experiment {self.name} has reached the end of its "
                f"{self.horizon_days}-day horizon yet (data end {self.data_end:%Y-%m-%d}): "
                f"{self.waiting_leads:,} leads wait for their outcomes."
            )
        if not r["control_conversions"]:
            return (
                "No conversion in the control arm yet: the uplift cannot be estimated "
                f"({int(r['treated_conversions']):,} conversions of "
                f"{int(r['treated_leads']):,} treated leads)."
            )
        interval = f"95% interval {signed(r['uplift_low'])} to {signed(r['uplift_high'])}"
        if self.covers_zero:
            return (
                "The interval still covers zero: routing cannot yet be told from no effect "
                f"(uplift {signed(r['uplift'])}, {interval})."
            )
        way = "raised" if r["uplift"] > 0 else "lowered"
        return f"Routing {way} conversion by {abs(r['uplift']):.1%} ({interval})."

    def to_dict(self) -> dict[str, object]:
        """Every figure, for JSON (NaN as None, times as ISO dates)."""
        p = self.power
        return {
            "experiment": self.name,
            "horizon_days": self.horizon_days,
            "data_end": f"{self.data_end:%Y-%m-%d}",
            "first_night": f"{self.first_night:%Y-%m-%d}",
            "last_night": f"{self.last_night:%Y-%m-%d}",
            "alpha": self.alpha,
            "verdict": self.verdict(),
            "covers_zero": self.covers_zero,
            "waiting_leads": self.waiting_leads,
            "waiting_nights": self.waiting_nights,
            "notes": self.notes,
            "overall": records(self.overall)[0],
            "tiers": records(self.tiers),
            "nights": records(self.nights),
            "power": {k: _plain(v) for k, v in vars(p).items()},
        }


def signed(v: float) -> str:
    """A relative uplift as the pages print it: ``+12.3%``, ``-4.0%``, ``–`` when unknown."""
    return f"{float(v):+.1%}" if math.isfinite(float(v)) else "–"


def _plain(v: object) -> object:
    if isinstance(v, pd.Timestamp):
        return f"{v:%Y-%m-%d}"
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(float(v)) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def entries(log: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[str]]:
    """One row per lead of experiment ``name``: the first night it entered (``as_of``), its
    arm, tier and probability then. Notes count the log rows left out."""
    notes = []
    mine = log[(log["experiment"] == name).fillna(False).to_numpy()]
    first = mine.sort_values(["handed_off_at", "lead_id"], kind="stable").drop_duplicates("lead_id")
    both = mine.groupby("lead_id")["arm"].nunique()
    twice = int((both > 1).sum())
    if twice:
        notes.append(
            f"{twice:,} {'lead appears' if twice == 1 else 'leads appear'} in both arms (the "
            "holdout share changed between nights): each counted in the arm it entered first"
        )
    out = pd.DataFrame(
        {
            "lead_id": first["lead_id"].to_numpy(),
            "as_of": first["handed_off_at"].to_numpy(),
            "arm": first["arm"].to_numpy(),
            "tier": first["tier"].fillna("–").to_numpy(),
            "probability": first["probability"].to_numpy("float64"),
        }
    )
    return out.reset_index(drop=True), notes


def compare(frame: pd.DataFrame, by: list[str], alpha: float = 0.05) -> pd.DataFrame:
    """Per group of ``by`` (one row over all when empty): each arm's leads, conversions and
    rate, the relative uplift and the difference with their intervals. ``frame`` has
    ``arm`` and a 0/1 ``label`` per lead."""
    keys = by or ["all"]
    grouped = frame.assign(all=0).groupby([*keys, "arm"], observed=True)["label"]
    counts = grouped.agg(["size", "sum"]).unstack("arm", fill_value=0)
    if not by:
        counts = counts.reindex([0], fill_value=0)
    out = pd.DataFrame(index=counts.index)
    for arm in ARMS:
        for what, col in (("size", "leads"), ("sum", "conversions")):
            have = (what, arm) in counts
            out[f"{arm}_{col}"] = counts[(what, arm)].astype("int64") if have else 0
    nt, xt = out["treated_leads"].to_numpy(), out["treated_conversions"].to_numpy()
    nc, xc = out["control_leads"].to_numpy(), out["control_conversions"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["treated_rate"], out["control_rate"] = xt / nt, xc / nc
    ratio, low, high = mover_ratio(xt, nt, xc, nc, alpha)
    out["uplift"], out["uplift_low"], out["uplift_high"] = ratio - 1, low - 1, high - 1
    d, dl, dh = newcombe_difference(xt, nt, xc, nc, alpha)
    out["difference"], out["difference_low"], out["difference_high"] = d, dl, dh
    out = out.reset_index() if by else out.reset_index(drop=True)
    return out[[*by, *COLUMNS]]


def _pace(lead: pd.DataFrame) -> float:
    """Treated leads entering a night: over the nights after the first when there are
    several (the first night brings every lead already at the bar), else the first's."""
    per_night = lead[lead["arm"] == "treated"].groupby("as_of").size()
    nights = lead["as_of"].nunique()
    if nights >= 2:
        first = lead["as_of"].min()
        return float(per_night.drop(first, errors="ignore").sum() / (nights - 1))
    return float(per_night.sum()) if nights else math.nan


def planned_power(
    labelled: pd.DataFrame,
    waiting: pd.DataFrame,
    uplift: float,
    target: float,
    alpha: float,
) -> Power:
    """The power to detect ``uplift`` with the leads counted so far, and what reaching
    ``target`` still takes at the split and pace so far."""
    arm = labelled["arm"]
    treated, control = int((arm == "treated").sum()), int((arm == "control").sum())
    p = labelled.loc[arm == "control", "probability"]
    # The control's expected rate; its realised one when the log keeps no probability.
    p0 = float(p.mean()) if p.notna().all() and len(p) else float("nan")
    if not math.isfinite(p0):
        p0 = float(labelled.loc[arm == "control", "label"].mean()) if control else float("nan")
    entered_treated = treated + int((waiting["arm"] == "treated").sum())
    entered_control = control + int((waiting["arm"] == "control").sum())
    h = float(effect_size(min(p0 * (1 + uplift), 1.0), p0)) if math.isfinite(p0) else math.nan
    if entered_treated and entered_control and math.isfinite(h) and h:
        ratio = entered_control / entered_treated
        need = treated_needed(h, target, ratio, alpha)
    else:
        ratio, need = math.nan, math.nan
    achieved = float(power(h, treated, control / treated, alpha)) if treated and control else 0.0
    pace = _pace(pd.concat([labelled, waiting]))
    more = max(need - entered_treated, 0.0) / pace if pace else math.nan
    return Power(
        uplift=uplift,
        target=target,
        alpha=alpha,
        control_rate=p0,
        achieved=achieved if math.isfinite(h) else math.nan,
        treated=treated,
        control=control,
        treated_needed=need,
        control_needed=need * ratio,
        treated_waiting=entered_treated - treated,
        nights_more=float(math.ceil(more)) if math.isfinite(more) else math.nan,
        pace=pace,
    )


def measure_experiment(
    log: pd.DataFrame,
    outcomes: pd.DataFrame,
    data_end: pd.Timestamp,
    horizon_days: int,
    name: str,
    uplift: float,
    target: float = 0.8,
    alpha: float = 0.05,
) -> Experiment:
    """Experiment ``name`` of the hand-off ``log`` (``io.read_logs``) against the
    ``outcomes`` table, as known at ``data_end``: figures over the leads whose horizon has
    passed; power for a relative ``uplift`` at ``target`` power and level ``alpha``.
    ``ValueError`` when the log holds no lead of the experiment's control arm."""
    lead, notes = entries(log, name)
    if not (lead["arm"] == "control").any():
        raise ValueError(f"no lead of experiment {name} in the control arm")
    lead["label"] = label_snapshots(lead, outcomes, horizon_days, data_end).to_numpy()
    known = lead["label"].notna().to_numpy()
    labelled, waiting = lead[known], lead[~known]
    order = (
        labelled.groupby("tier")["probability"].mean().sort_values(ascending=False).index.tolist()
    )
    tiers = compare(labelled, ["tier"], alpha)
    tiers = tiers.set_index("tier").loc[order].reset_index() if len(order) else tiers
    nights = compare(labelled, ["as_of"], alpha).sort_values("as_of", ignore_index=True)
    return Experiment(
        name=name,
        horizon_days=horizon_days,
        data_end=pd.Timestamp(data_end),
        alpha=alpha,
        overall=compare(labelled, [], alpha),
        tiers=tiers,
        nights=nights,
        power=planned_power(labelled, waiting, uplift, target, alpha),
        waiting_leads=len(waiting),
        waiting_nights=int(waiting["as_of"].nunique()),
        first_night=pd.Timestamp(lead["as_of"].min()),
        last_night=pd.Timestamp(lead["as_of"].max()),
        notes=notes,
    )


def experiment_names(log: pd.DataFrame) -> list[str]:
    """The experiments whose control arm the log holds, latest first."""
    control = log[(log["arm"] == "control").to_numpy() & log["experiment"].notna().to_numpy()]
    latest = control.groupby("experiment")["handed_off_at"].max().sort_values(ascending=False)
    return [str(n) for n in latest.index]
