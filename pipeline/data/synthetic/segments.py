"""Planted segments: a group of leads whose conversions follow a signal that means nothing for
the other leads (``generate_world(segment_signal=NAME)``, ``leadscore generate
--segment-signal NAME``).

A segment is the leads whose true value of one leads column is among a few values. Inside it,
how many pricing pages a lead viewed in the eight weeks before its deal closed weighs heavily
on whether the deal is won, and a demo request weighs less (at strength 1, nothing); outside
it, pricing-page views carry no conversion effect at all: the world's pricing-page views of
those leads are handed to leads of the same group at random (as many of them, each at a time
in its new lead's life), so a lead's views say nothing of its buying. Every other event, every
lead and which deals close are those of the seed without the option; only who wins changes.

``SEGMENTS`` holds each segment's definition for tests and trainers: the column, the values
as the features read them (``leadscore.features.explicit.categorical_value``) and the
signal; ``in_segment`` marks a leads table's members by that column.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd

from leadscore.data.synthetic._state import _read, _write
from leadscore.data.synthetic._vocab import _COUNTRIES, _E
from leadscore.features.explicit import categorical_value


@dataclass(frozen=True)
class Segment:
    """One planted segment: leads whose ``column`` is one of ``members`` (canonical
    spellings); ``values`` are every spelling the generator writes for them, as the features
    read it; ``signal`` the event type that drives conversion inside the segment only."""

    name: str
    column: str
    members: tuple[str, ...]
    values: tuple[str, ...]
    signal: str
    codes: tuple[int, ...]  # the members' indices in the generator's own list


def _country_segment(name: str, members: tuple[str, ...]) -> Segment:
    rows = [r for r in _COUNTRIES if r[0] in members]
    spelled = pd.Series([v for r in rows for v in (r[0], *r[3])], dtype="object")
    values = tuple(sorted(set(categorical_value(spelled, "country").dropna())))
    codes = tuple(i for i, r in enumerate(_COUNTRIES) if r[0] in members)
    return Segment(name, "country", members, values, "pricing_page_view", codes)


#: The segments ``segment_signal`` can name.
SEGMENTS: dict[str, Segment] = {
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


def engagement_points(
    s: SimpleNamespace,
    c_demo: np.ndarray,
    c_price: np.ndarray,
    c_learn: np.ndarray,
    c_form: np.ndarray,
) -> np.ndarray:
    """The engagement part of a win's log-odds before the lead's kind weighs it, from the
    counts of the eight weeks before the close: a demo request, three pricing-page views,
    two webinars or downloads and a form. With a segment, inside it the pricing-page views
    add ``1.6 k`` at two and ``1.2 k`` more at five (less their mean) while a demo request
    weighs ``1 - k`` of its usual (``k`` the strength; nothing from 1 on); outside it the
    views add nothing."""
    demo, price3 = (c_demo >= 1), 0.8 * (c_price >= 3)
    learn, form = 0.4 * (c_learn >= 2), 0.3 * (c_form >= 1)
    seg = s.segment
    if seg is None:  # the plain world's sum, in its order (the same bits for a seed)
        return 1.2 * demo + price3 + learn + form
    k = s.segment_strength
    inside = np.isin(s.ctry, seg.codes)
    lost = min(k, 1.0)  # the share of the demo's weight taken away inside
    boost = k * (1.6 * (c_price >= 2) + 1.2 * (c_price >= 5) - _BOOST_MEAN) + lost * _DEMO_MEAN
    demo_w = np.where(inside, 1.2 * (1.0 - lost), 1.2)
    return demo_w * demo + np.where(inside, price3 + boost, _PRICE3_MEAN) + learn + form


# Means over the closing deals of the plain world (30,000 leads, seeds 1 and 2: 0.41 of them
# with three pricing-page views, 0.53 with two, 0.26 with five, 0.42 with a demo request), put
# back where a term is taken away so the win rates stay near the plain world's.
_PRICE3_MEAN = 0.8 * 0.41
_BOOST_MEAN = 1.6 * 0.53 + 1.2 * 0.26
_DEMO_MEAN = 1.2 * 0.42


def scatter_signal(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """Outside the segment, pricing-page views carry nothing: each such view moves to a lead
    outside the segment drawn at random (more likely the longer its life, as browsing is),
    at a time in that lead's life, decaying after creation like background browsing. The
    count of events stays, so every later draw of the seed is the same. Drawn from a
    generator of its own."""
    seg = s.segment
    if seg is None:
        return
    e_idx, e_t, e_code, created, life = _read(s, "e_idx e_t e_code created life")
    own = np.random.default_rng([s.seed, 20_261_206])
    outside = ~np.isin(s.ctry, seg.codes)
    moved = np.flatnonzero((e_code == _E[seg.signal]) & outside[e_idx])
    if not len(moved) or not outside.any():
        return
    # Mass of browsing over each lead's life: a decaying part after creation plus a flat one.
    tau, a_dec, a_flat = 45.0, 0.12, 0.024
    dec_mass = a_dec * tau * (1 - np.exp(-life / tau))
    mass = np.where(outside, (dec_mass + a_flat * life) * own.gamma(1.2, 1 / 1.2, s.n), 0.0)
    lead = own.choice(s.n, size=len(moved), p=mass / mass.sum()).astype(e_idx.dtype)
    u = own.random(len(moved))
    lf = life[lead]
    is_dec = own.random(len(moved)) < dec_mass[lead] / np.maximum(
        dec_mass[lead] + a_flat * lf, 1e-12
    )
    t_dec = -tau * np.log1p(-u * (1 - np.exp(-lf / tau)))
    e_idx, e_t = e_idx.copy(), e_t.copy()
    e_idx[moved] = lead
    e_t[moved] = created[lead] + np.where(is_dec, t_dec, u * lf)
    _write(s, e_idx=e_idx, e_t=e_t)
