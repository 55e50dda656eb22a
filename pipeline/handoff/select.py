"""Which scored leads are handed off tonight, and to whom: pure functions on frames.

Every scored lead ends in exactly one place, so ``in = handed off + excluded``:

1. below the bar: not in the tiers handed off (by default the best tier of the night);
2. handed off recently: in the hand-off log within the recent period;
3. no owner: its territory is covered by no owner (only with owners);
4. over capacity: above the bar but past the team's or the run's capacity.

Leads are taken best first: by probability, then score, ties by ``lead_id`` so that a rerun
gives the same list. Within a team, owners take leads round-robin in the order the owners
file lists them; an owner whose capacity is used up is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.handoff.owners import Owners, fold

BELOW_BAR = "below the bar"
RECENT = "handed off recently"
NO_OWNER = "no owner for its territory"
OVER_CAPACITY = "over capacity"
HANDED_OFF = "handed off"
CONTROL = "held back (control)"
OUTCOMES = (HANDED_OFF, CONTROL, BELOW_BAR, RECENT, NO_OWNER, OVER_CAPACITY)


@dataclass(frozen=True)
class OwnerLoad:
    owner: str
    capacity: int
    leads: int
    expected: float


@dataclass(frozen=True)
class Handoff:
    #: One row per handed-off lead, best first, in the CRM-import shape.
    rows: pd.DataFrame
    #: Every scored lead with its outcome (``OUTCOMES``), in input order.
    decisions: pd.DataFrame
    counts: dict[str, int]
    owners: list[OwnerLoad]
    expected: float
    bar: str
    #: The leads held back as the control arm (``--holdout``), in the list's shape.
    control: pd.DataFrame | None = None

    def lines(self, recent_days: int) -> list[str]:
        c = self.counts
        total = sum(c.values())
        held = f"held back (control) {c[CONTROL]:,} + " if self.control is not None else ""
        out = [
            f"in {total:,} = handed off {c[HANDED_OFF]:,} + {held}below the bar {c[BELOW_BAR]:,} + "
            f"handed off in the last {recent_days} days {c[RECENT]:,} + no owner for the "
            f"territory {c[NO_OWNER]:,} + over capacity {c[OVER_CAPACITY]:,}",
            f"handed off {c[HANDED_OFF]:,} leads ({self.bar}), "
            f"{self.expected:,.1f} expected conversions",
        ]
        out += [
            f"  {o.owner}: {o.leads:,} of {o.capacity:,}, {o.expected:,.1f} expected conversions"
            for o in self.owners
        ]
        if c[OVER_CAPACITY]:
            out.append(f"left out for lack of capacity: {c[OVER_CAPACITY]:,} leads above the bar")
        return out


def control_arm(lead_id: pd.Series, experiment: str, share: float) -> np.ndarray:
    """Whether each lead is in the control arm of ``experiment``: a stable hash of the
    experiment's name and the lead's id, under ``share``. A lead stays in its arm on every
    night, and another experiment draws its arms afresh."""
    if share <= 0:
        return np.zeros(len(lead_id), bool)
    keys = experiment + "\x1f" + pd.Series(lead_id, dtype="string").fillna("")
    h = pd.util.hash_pandas_object(keys, index=False).to_numpy()
    return (h >> np.uint64(11)).astype("float64") / 2.0**53 < share


def best_first(scores: pd.DataFrame) -> np.ndarray:
    """Row positions best first: the night's rank when the file has one (ties on
    probability ordered by the model's raw score), else probability, then score,
    descending; ties by lead_id."""
    if "rank" in scores:
        return np.lexsort(
            (scores["lead_id"].astype(str).to_numpy(), scores["rank"].to_numpy("int64"))
        )
    return np.lexsort(
        (
            scores["lead_id"].astype(str).to_numpy(),
            -scores["score"].to_numpy("float64"),
            -scores["probability"].to_numpy("float64"),
        )
    )


def tier_order(scores: pd.DataFrame) -> list[str]:
    """The night's tiers best first, by the highest score each holds."""
    best = scores.groupby(scores["tier"].astype(str), sort=False)["score"].max()
    return list(best.sort_values(ascending=False, kind="stable").index)


def above_bar(
    scores: pd.DataFrame, tiers: list[str] | None, min_score: float | None
) -> tuple[np.ndarray, str]:
    """Who is above the bar, and the bar in words. With neither ``tiers`` nor
    ``min_score``, the bar is the night's best tier."""
    if min_score is not None:
        return scores["score"].to_numpy("float64") >= min_score, f"score {min_score:g} or more"
    if not tiers:
        order = tier_order(scores)
        tiers = order[:1]
    in_tier = scores["tier"].astype(str).isin(tiers).to_numpy()
    return in_tier, f"tier {', '.join(tiers)}"


def _slots(owners: tuple, capacity: int) -> np.ndarray:
    """Owner index for each slot of a team, round-robin: each owner in turn while it has
    capacity left; at most ``capacity`` slots."""
    caps = np.array([o.capacity for o in owners], dtype=np.int64)
    who = np.repeat(np.arange(len(caps)), caps)
    turn = np.concatenate([np.arange(c) for c in caps]) if len(caps) else np.array([], int)
    return who[np.lexsort((who, turn))][:capacity]


def _teams(
    n: int, limit: int, owners: Owners | None, territory: pd.Series | None
) -> tuple[np.ndarray, np.ndarray]:
    """Each lead's team (-1: no owner covers its territory) and each team's capacity; without
    owners, one team of ``limit``."""
    if owners is None:
        return np.zeros(n, dtype=np.int64), np.array([limit], dtype=np.int64)
    routed = owners.territory_by is not None
    if routed and territory is None:
        raise ValueError(f"owners are split by {owners.territory_by}: give each lead's value")
    values = (
        pd.Series(territory).map(fold).to_numpy(dtype=object) if routed else np.full(n, "", object)
    )
    of = owners.team_of()
    team = pd.Series(values).map(of).fillna(of.get("", -1)).to_numpy(dtype=np.int64)
    return team, np.array([t.capacity for t in owners.teams], dtype=np.int64)


def _owners_of(
    chosen: np.ndarray,
    chosen_rank: np.ndarray,
    team: np.ndarray,
    owners: Owners | None,
    p: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, list[OwnerLoad]]:
    """Each chosen lead's owner and email (round-robin within its team by rank), and each
    owner's load."""
    owner_name = np.full(len(chosen), "", dtype=object)
    owner_email = np.full(len(chosen), "", dtype=object)
    loads: list[OwnerLoad] = []
    if owners is None:
        return owner_name, owner_email, loads
    for t_index, t in enumerate(owners.teams):
        mine = team[chosen] == t_index
        who = _slots(t.owners, t.capacity)[chosen_rank[mine]]
        owner_name[mine] = np.array([o.owner for o in t.owners], dtype=object)[who]
        owner_email[mine] = np.array([o.email or "" for o in t.owners], dtype=object)[who]
    for t in owners.teams:
        for o in t.owners:
            got = owner_name == o.owner
            loads.append(
                OwnerLoad(o.owner, o.capacity, int(got.sum()), float(p[chosen][got].sum()))
            )
    return owner_name, owner_email, loads


def _list_rows(
    picked: pd.DataFrame,
    owner_name: np.ndarray,
    owner_email: np.ndarray,
    owners: Owners | None,
    territory: pd.Series | None,
    chosen: np.ndarray,
) -> pd.DataFrame:
    """The hand-off list in the CRM-import shape, best first."""
    rows = pd.DataFrame(
        {
            "lead_id": picked["lead_id"].astype(str).to_numpy(),
            "owner": owner_name,
            "owner_email": owner_email,
            "priority": np.arange(1, len(picked) + 1),
            "tier": picked["tier"].astype(str).to_numpy(),
            "score": picked["score"].to_numpy("float64"),
            "probability": np.round(picked["probability"].to_numpy("float64"), 4),
        }
    )
    for extra in ("fit_grade", "baseline_tier"):
        if extra in picked:
            rows[extra] = picked[extra].astype(str).to_numpy()
    if owners is not None and owners.territory_by is not None:
        rows[owners.territory_by] = pd.Series(territory).iloc[chosen].astype("string").to_numpy()
    rows["reasons"] = (
        picked["top_reasons"].astype(str).to_numpy() if "top_reasons" in picked else ""
    )
    if "as_of" in picked:
        rows["scored_at"] = (
            pd.to_datetime(picked["as_of"], utc=True).dt.strftime("%Y-%m-%d").to_numpy()
        )
    if "model_version" in picked:
        rows["model_version"] = picked["model_version"].astype(str).to_numpy()
    return rows


def route(
    scores: pd.DataFrame,
    capacity: int | None,
    owners: Owners | None = None,
    territory: pd.Series | None = None,
    recent: set[str] | frozenset[str] = frozenset(),
    tiers: list[str] | None = None,
    min_score: float | None = None,
    holdout: float = 0.0,
    experiment: str = "leadscore",
) -> Handoff:
    """The hand-off of ``scores`` (one night's scores file): at most ``capacity`` leads
    (with owners: at most their capacities too), routed by ``territory`` (each lead's
    value of the owners' ``territory_by`` column, aligned with ``scores``).

    With ``holdout``, the leads of ``experiment``'s control arm (``control_arm``) that would
    have been handed off are held back: not routed, not counting against capacity, and
    listed in ``control`` for the hand-off log, so routing can be judged against them."""
    if capacity is None and owners is None:
        raise ValueError("give a capacity or owners with capacities")
    n = len(scores)
    limit = min(
        capacity if capacity is not None else np.iinfo(np.int64).max,
        owners.capacity if owners is not None else np.iinfo(np.int64).max,
    )
    bar, bar_words = above_bar(scores, tiers, min_score)
    lead = scores["lead_id"].astype(str).to_numpy()
    was_recent = (
        np.isin(lead, np.array(sorted(recent), dtype=object)) if recent else np.zeros(n, bool)
    )
    team, team_capacity = _teams(n, limit, owners, territory)
    covered = team >= 0

    order = best_first(scores)
    eligible = order[(bar & ~was_recent & covered)[order]]  # best first
    in_control = control_arm(scores["lead_id"], experiment, holdout)[eligible]
    pool = eligible[~in_control]
    rank = pd.Series(team[pool]).groupby(team[pool]).cumcount().to_numpy()
    fits = rank < team_capacity[team[pool]]
    chosen = pool[fits][:limit]
    # Held back: the control arm's leads ranked above the last lead handed off, the ones
    # routing would have reached.
    reach = int(np.flatnonzero(np.isin(eligible, chosen)).max()) + 1 if len(chosen) else 0
    held = eligible[:reach][in_control[:reach]]

    outcome = np.full(n, OVER_CAPACITY, dtype=object)
    outcome[~covered] = NO_OWNER
    outcome[was_recent] = RECENT
    outcome[~bar] = BELOW_BAR
    outcome[chosen] = HANDED_OFF
    outcome[held] = CONTROL

    p = scores["probability"].to_numpy("float64")
    owner_name, owner_email, loads = _owners_of(chosen, rank[fits][:limit], team, owners, p)
    rows = _list_rows(scores.iloc[chosen], owner_name, owner_email, owners, territory, chosen)
    kept = [k for k in OUTCOMES if k != CONTROL or holdout > 0]
    counts = {k: int((outcome == k).sum()) for k in kept}
    decisions = pd.DataFrame({"lead_id": lead, "outcome": outcome})
    control = None
    if holdout > 0:
        blank = np.full(len(held), "", dtype=object)
        control = _list_rows(scores.iloc[held], blank, blank, owners, territory, held)
    return Handoff(rows, decisions, counts, loads, float(p[chosen].sum()), bar_words, control)
