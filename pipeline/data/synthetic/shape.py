"""Reshape a generated world so it looks like another CRM's export.

``generate_world`` makes one shape of data. Speed and defaults must not be tuned to it, so
``reshape`` changes what other exports differ in, all vectorised and seeded:

- event types outside the contract's list (``extra_types``, a ``extra_share`` of events
  more, drawn near existing activity so busy leads get more of them);
- spelling variants of the contract's types (``Email Click``, ``EMAIL_CLICK``,
  ``email-click``, `` email_click ``) for a ``variant_share`` of events;
- events dated before their lead was created (``early_share``; the contract drops them,
  counted);
- more leads closed by the end (``closed_share`` of all leads: disqualified as lost some
  weeks after creation).

History length is ``generate_world``'s ``start`` and ``end``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Event types other CRMs log that the contract does not list.
EXTRA_TYPES = (
    "chat_started",
    "trial_login",
    "case_study_view",
    "social_click",
    "event_registered",
    "video_watched",
    "calendar_booked",
    "survey_completed",
)


@dataclass(frozen=True)
class Shape:
    extra_types: int = 0  # how many of EXTRA_TYPES appear
    extra_share: float = 0.0  # events of those types, as a share of the world's events
    variant_share: float = 0.0  # events whose type is spelled another way
    early_share: float = 0.0  # events dated before their lead's creation
    closed_share: float | None = None  # leads with an outcome by the end (None: as generated)

    def __post_init__(self) -> None:
        if not 0 <= self.extra_types <= len(EXTRA_TYPES):
            raise ValueError(f"extra_types must be 0-{len(EXTRA_TYPES)}")
        for name in ("extra_share", "variant_share", "early_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.closed_share is not None and not 0.0 <= self.closed_share <= 1.0:
            raise ValueError("closed_share must be between 0 and 1")


#: A second benchmark shape, unlike the default world on each axis above.
OTHER_CRM = Shape(
    extra_types=5, extra_share=0.15, variant_share=0.2, early_share=0.02, closed_share=0.44
)


def variants(event_type: str) -> list[str]:
    """Ways another system spells ``event_type``: 'Email Click', 'EMAIL_CLICK', ..."""
    words = event_type.split("_")
    return [
        " ".join(w.capitalize() for w in words),
        event_type.upper(),
        "-".join(words),
        f" {event_type} ",
    ]


def reshape(
    tables: dict[str, pd.DataFrame], shape: Shape, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """``tables`` (leads, events, outcomes) changed as ``shape`` says; the input is untouched.
    The same tables, shape and seed give the same result."""
    rng = np.random.default_rng([seed, 20_261_202])
    leads, events, outcomes = tables["leads"], tables["events"], tables["outcomes"]
    end = max(events["occurred_at"].max(), leads["created_at"].max())
    created = leads.set_index("lead_id")["created_at"]
    types = events["event_type"].astype("string")
    lead_id, when = events["lead_id"], events["occurred_at"]

    n_extra = int(round(shape.extra_share * len(events))) if shape.extra_types else 0
    if n_extra:
        near = rng.integers(0, len(events), n_extra)  # beside existing activity
        jitter = pd.to_timedelta(rng.exponential(2.0, n_extra), unit="D")
        names = np.array(EXTRA_TYPES[: shape.extra_types], dtype=object)
        lead_id = pd.concat([lead_id, lead_id.iloc[near]], ignore_index=True)
        when = pd.concat(
            [when, (when.iloc[near].reset_index(drop=True) + jitter).clip(upper=end)],
            ignore_index=True,
        )
        types = pd.concat(
            [types, pd.Series(names[rng.integers(0, len(names), n_extra)], dtype="string")],
            ignore_index=True,
        )

    n = len(types)
    spelled = rng.random(n) < shape.variant_share
    if spelled.any():
        # A table of each type's spellings, indexed by (type, variant): no loop over events.
        codes, known = pd.factorize(types[spelled])
        table = np.array([variants(t) for t in known], dtype=object)
        pick = rng.integers(0, table.shape[1], len(codes))
        types = types.copy()
        types[spelled] = table[codes, pick]

    early = rng.random(n) < shape.early_share
    if early.any():
        before = pd.to_timedelta(rng.uniform(0.01, 30.0, int(early.sum())), unit="D")
        born = created.reindex(lead_id[early]).reset_index(drop=True)
        when = when.copy()
        when[early] = (born - before).array

    out_events = pd.DataFrame(
        {"lead_id": lead_id.to_numpy(), "occurred_at": when.to_numpy(), "event_type": types}
    )
    out_events["lead_id"] = out_events["lead_id"].astype(events["lead_id"].dtype)
    out_events["event_type"] = out_events["event_type"].astype("category")
    out_events = out_events.sort_values("occurred_at", kind="stable", ignore_index=True)

    out_outcomes = outcomes
    if shape.closed_share is not None:
        out_outcomes = _close_more(leads, outcomes, shape.closed_share, end, rng)
    out = {"leads": leads, "events": out_events, "outcomes": out_outcomes}
    for name in ("stages", "field_history"):  # kept: the shapes change events and outcomes
        if name in tables:
            out[name] = tables[name]
    return out


def _close_more(
    leads: pd.DataFrame,
    outcomes: pd.DataFrame,
    share: float,
    end: pd.Timestamp,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Outcomes with open leads disqualified (lost, 1-20 weeks after creation) until about
    ``share`` of all leads are closed by ``end``; never fewer than generated."""
    open_ = leads.loc[~leads["lead_id"].isin(outcomes["lead_id"]), ["lead_id", "created_at"]]
    want = int(round(share * len(leads))) - len(outcomes)
    if want <= 0 or open_.empty:
        return outcomes
    delay = pd.to_timedelta(rng.uniform(7.0, 140.0, len(open_)), unit="D")
    closed_at = open_["created_at"].reset_index(drop=True) + delay
    can = np.flatnonzero((closed_at <= end).to_numpy())
    chosen = np.sort(rng.permutation(can)[: min(want, len(can))])
    extra = pd.DataFrame(
        {
            "lead_id": open_["lead_id"].to_numpy()[chosen],
            "closed_at": closed_at.iloc[chosen].to_numpy(),
            "won": False,
            "amount": np.nan,
        }
    )
    extra["lead_id"] = extra["lead_id"].astype(outcomes["lead_id"].dtype)
    extra["closed_at"] = (
        closed_at.iloc[chosen].reset_index(drop=True).astype(outcomes["closed_at"].dtype)
    )
    out = pd.concat([outcomes, extra], ignore_index=True)
    return out.sort_values("closed_at", kind="stable", ignore_index=True)
