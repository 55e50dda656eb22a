"""Planted segments: a group of leads whose conversions follow signals of their own
(``generate_world(segment_signal=NAME)``, ``leadscore generate --segment-signal NAME``).

A segment is the leads whose true value of one leads column (``country``) is among a few
values. Inside it, buying shows in pricing-page views: how many pricing pages a lead viewed in
the eight weeks before its deal closed weighs heavily on whether the deal is won, the same for
every kind of lead, while demo requests, page views, email clicks and downloads say nothing
(fit neither, at strength 1 and above; those events of its leads are handed to other leads of the segment at random). Outside
it, the reverse: pricing-page views carry no conversion effect (they are handed to other leads
outside at random) and everything else weighs as in the plain world. A moved event keeps its
type and lands at a random time in its new lead's life, so the count of events stays; every
lead and which deals close are those of the seed without the option, and the win rates on
each side stay near the plain world's.

``SEGMENTS`` holds each segment's definition for tests and trainers: the column, the values
as the features read them (``leadscore.features.explicit.categorical_value``), the signal
and the quiet types; ``in_segment`` marks a leads table's members by that column.
"""

from __future__ import annotations

from collections.abc import Callable
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
    read it; ``signal`` the event type that drives conversion inside the segment only,
    ``quiet`` the types that mark buying outside it only."""

    name: str
    column: str
    members: tuple[str, ...]
    values: tuple[str, ...]
    signal: str
    quiet: tuple[str, ...]  # event types that mark buying outside the segment only
    codes: tuple[int, ...]  # the members' indices in the generator's own list


#: Event types that say nothing of buying inside a segment (they do outside it).
QUIET = ("demo_request", "page_view", "email_click", "content_download")


def _country_segment(name: str, members: tuple[str, ...]) -> Segment:
    rows = [r for r in _COUNTRIES if r[0] in members]
    spelled = pd.Series([v for r in rows for v in (r[0], *r[3])], dtype="object")
    values = tuple(sorted(set(categorical_value(spelled, "country").dropna())))
    codes = tuple(i for i, r in enumerate(_COUNTRIES) if r[0] in members)
    return Segment(name, "country", members, values, "pricing_page_view", QUIET, codes)


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


def planted_log_odds(
    s: SimpleNamespace,
    z_plain: np.ndarray,
    cand: np.ndarray,
    eng_of: Callable[[np.ndarray], np.ndarray],
    counts: tuple[np.ndarray, ...],
    rest: np.ndarray,
) -> np.ndarray:
    """A win's log-odds with the segment planted (``_outcomes`` gives the plain world's,
    ``z_plain``, its engagement weighing ``eng_of`` and the terms that stay, ``rest``).

    ``counts`` are the demo requests, pricing-page views, webinars or downloads and forms of
    the eight weeks before the close. Outside the segment the views' term goes. Inside it,
    at strength ``k``, a demo request weighs nothing (its events there are scattered), the
    lead's fit and three views weigh ``1 - min(k, 1)`` of their usual and the views add ``1.6 k`` at two and ``1.2 k`` more
    at five, the same for every kind of lead: self-serve buyers who read the prices. Each
    side is shifted so its mean over the deals that may close is the plain world's, which
    keeps the win rates near the plain ones.
    """
    c_demo, c_price, c_learn, c_form = counts
    k = s.segment_strength
    q = min(k, 1.0)
    inside = np.isin(s.ctry, s.segment.codes)
    demo, price3 = 1.2 * (c_demo >= 1), 0.8 * (c_price >= 3)
    other = 0.4 * (c_learn >= 2) + 0.3 * (c_form >= 1)
    z_out = -1.8 + 0.6 * s.fit + eng_of(demo + other) + rest
    z_in = (
        -1.8
        + (1 - q) * 0.6 * s.fit
        + eng_of((1 - q) * price3 + other)
        + rest
        + k * (1.6 * (c_price >= 2) + 1.2 * (c_price >= 5))
    )
    z = np.where(inside, z_in, z_out)
    for side in (inside & cand, ~inside & cand):
        if side.any():
            z = np.where(side, z + np.mean(z_plain[side] - z[side]), z)
    return z


def scatter_signal(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """Make the segment's signal mean nothing outside it, and its ``quiet`` signal nothing
    inside it: each such event moves to a lead of the same side drawn at random (``_scatter``).
    The count of events stays, so every later draw of the seed is the same. Drawn from a
    generator of its own."""
    seg = s.segment
    if seg is None:
        return
    own = np.random.default_rng([s.seed, 20_261_206])
    inside = np.isin(s.ctry, seg.codes)
    for side, codes in ((~inside, (seg.signal,)), (inside, seg.quiet)):
        for code in codes:
            _scatter(own, s, side, _E[code])


def _scatter(own: np.random.Generator, s: SimpleNamespace, side: np.ndarray, code: int) -> None:
    """Events of type ``code`` of the leads in ``side`` handed to leads of ``side`` at random
    (more likely the longer its life, as browsing is), each at a time in its new lead's life
    that decays after creation like background browsing."""
    e_idx, e_t, e_code, created, life = _read(s, "e_idx e_t e_code created life")
    moved = np.flatnonzero((e_code == code) & side[e_idx])
    if not len(moved):
        return
    # Mass of browsing over each lead's life: a decaying part after creation plus a flat one.
    tau, a_dec, a_flat = 45.0, 0.12, 0.024
    dec_mass = a_dec * tau * (1 - np.exp(-life / tau))
    mass = np.where(side, (dec_mass + a_flat * life) * own.gamma(1.2, 1 / 1.2, s.n), 0.0)
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
