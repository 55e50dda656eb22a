"""Planted segments: a group of leads whose conversions follow signals of their own
(``generate_world(segment_signal=NAME)``, ``leadscore generate --segment-signal NAME``).

A segment is the leads whose true value of one leads column (``country``) is among a few
values. On its two sides different leads read the pricing pages. Inside it, buyers read
prices and researchers do not: page views of leads with a buying window (won, lost or
never closed) become pricing-page views, and pricing-page views of leads with a research
burst (activity like buying that leads nowhere) become page views. Outside it, the reverse:
buyers ask sales for a quote and price-shoppers compare prices, so buyers' pricing-page
views become page views and researchers' page views become pricing-page views. Against the
rest of a lead's activity a pricing-page view marks a buyer inside and a lead that will not
buy outside: one weight for the views over every lead (a pooled linear model) ranks neither
side well, while a model of the segment's own leads, or one that splits on the column, can.
At ``segment_strength`` ``k`` (0-2) each such view changes type with probability ``k / 2``;
at 0 the world is the seed's.

Only event types change, after the outcomes are drawn and from a generator of their own:
every lead, every event's lead and time, which deals close and which are won are those of
the seed without the option (the funnel stages, read from the events, follow the new types).

``SEGMENTS`` holds each segment's definition for tests and trainers: the column, the values
as the features read them (``leadscore.features.explicit.categorical_value``), the signal
and the type it trades with; ``in_segment`` marks a leads table's members by that column.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd

from leadscore.data.synthetic._vocab import _COUNTRIES, _E
from leadscore.features.explicit import categorical_value


@dataclass(frozen=True)
class Segment:
    """One planted segment: leads whose ``column`` is one of ``members`` (canonical
    spellings); ``values`` are every spelling the generator writes for them, as the features
    read it; ``signal`` the event type that marks buyers inside the segment and leads that
    will not buy outside it, ``partner`` the type it trades places with."""

    name: str
    column: str
    members: tuple[str, ...]
    values: tuple[str, ...]
    signal: str
    partner: str
    codes: tuple[int, ...]  # the members' indices in the generator's own list


def _country_segment(name: str, members: tuple[str, ...]) -> Segment:
    rows = [r for r in _COUNTRIES if r[0] in members]
    spelled = pd.Series([v for r in rows for v in (r[0], *r[3])], dtype="object")
    values = tuple(sorted(set(categorical_value(spelled, "country").dropna())))
    codes = tuple(i for i, r in enumerate(_COUNTRIES) if r[0] in members)
    return Segment(name, "country", members, values, "pricing_page_view", "page_view", codes)


#: The segments ``segment_signal`` can name.
SEGMENTS: dict[str, Segment] = {
    # About half the leads: the American countries of the generator's list.
    "americas": _country_segment("americas", ("United States", "Canada", "Brazil", "Mexico")),
    # About 30% of leads: the European countries of the generator's list.
    "europe": _country_segment(
        "europe",
        ("United Kingdom", "Germany", "France", "Netherlands", "Spain", "Poland", "Russia"),
    ),
}


def in_segment(leads: pd.DataFrame, segment: Segment | str) -> np.ndarray:
    """Which rows of ``leads`` belong to ``segment`` by its column as the features read it
    (a lead whose column is blank is outside)."""
    seg = SEGMENTS[segment] if isinstance(segment, str) else segment
    value = categorical_value(leads[seg.column].reset_index(drop=True), seg.column)
    return value.isin(seg.values).fillna(False).to_numpy(dtype=bool)


def segment_for(name: str | None) -> Segment | None:
    """The segment ``name`` names (None for None); a ValueError lists the known ones."""
    if name is None:
        return None
    if name not in SEGMENTS:
        raise ValueError(f"segment_signal must be one of {', '.join(SEGMENTS)} (got {name!r})")
    return SEGMENTS[name]


def retype_signal(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """Plant the segment (see the module's note): each view of a buyer or a researcher
    changes between ``signal`` and ``partner`` by its side, with probability
    ``segment_strength / 2``. Draws from a generator of its own and moves no event, so every
    later draw of the seed is the same."""
    seg = s.segment
    if seg is None:
        return
    own = np.random.default_rng([s.seed, 20_261_207])
    e_idx, e_code = s.e_idx, s.e_code.copy()
    signal, partner = _E[seg.signal], _E[seg.partner]
    inside = np.isin(s.ctry, seg.codes)[e_idx]
    buyer, researcher = s.has_win[e_idx], s.research[e_idx]
    hit = own.random(len(e_idx)) < s.segment_strength / 2
    # Who reads the prices: buyers inside the segment, researchers outside it.
    reads = np.where(inside, buyer, researcher)
    skips = np.where(inside, researcher, buyer)
    e_code[hit & (s.e_code == partner) & reads] = signal
    e_code[hit & (s.e_code == signal) & skips] = partner
    s.e_code = e_code
