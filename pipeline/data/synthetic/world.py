"""Seeded, vectorised generator of a synthetic B2B lead-scoring world.

``generate_world`` returns the three contract tables (leads, events, outcomes). Behind them is a
latent model: every lead has a *fit* (seniority, company size, industry, country, email class,
department) and an *intent*; some leads enter a buying window, which drives a burst of
high-intent activity, and a window may close won or lost 2-16 weeks after it starts, with a win
probability that depends non-linearly on fit and recent engagement. The observed columns carry
the noise of a real CRM: free-text titles, spelling variants, missing values, bad emails and
duplicate events. Everything is numpy / pyarrow vectorised; no Python loop runs over leads or
events.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from leadscore.data.synthetic._behaviour import (
    _background_events,
    _buying_windows,
    _campaigns_and_negatives,
    _email_events,
    _event_arrays,
    _research_events,
    _web_sessions,
    _window_actions,
)
from leadscore.data.synthetic._draw import _Events, _horizon
from leadscore.data.synthetic._edits import edit_fields
from leadscore.data.synthetic._outcomes import _amounts, _final_events, _outcomes
from leadscore.data.synthetic._people import _companies, _creation_times, _fit_and_intent, _people
from leadscore.data.synthetic._records import _ids_titles_emails, _observed_leads, _stages, _tables
from leadscore.data.synthetic._vocab import DAY_S
from leadscore.data.synthetic.segments import retype_signal, segment_for

# The steps run in this order over one namespace of per-lead arrays (``_state``); each reads
# what earlier steps made. Every step draws from the one random generator, so the order is
# part of the seed's meaning.
_STEPS = (
    _creation_times,
    _companies,
    _people,
    _fit_and_intent,
    _buying_windows,
    _campaigns_and_negatives,
    _email_events,
    _web_sessions,
    _window_actions,
    _research_events,
    _background_events,
    _event_arrays,
    _outcomes,
    retype_signal,
    _final_events,
    _amounts,
    _ids_titles_emails,
    _observed_leads,
    _tables,
    _stages,
)


def generate_world(
    n_leads: int,
    seed: int = 0,
    start: str = "2024-01-01",
    end: str = "2025-12-31",
    *,
    drift: float = 0.0,
    interaction: float = 0.0,
    field_history: bool = False,
    segment_signal: str | None = None,
    segment_strength: float = 1.0,
) -> dict[str, pd.DataFrame]:
    """Generate leads, events, outcomes and funnel stages for ``n_leads`` leads created in
    [start, end].

    ``drift`` (0-2) makes the win rate climb across the history and company revenue grow
    beyond its earlier range, a win's odds rising with it (a linear model extrapolates
    that, trees stay flat); ``interaction`` (0-2) adds an exclusive-or effect of industry
    and lead source (trees find it, a linear model cannot). Both change outcomes (and
    drift the revenue column) only: the leads and their activity are those of the seed.
    ``field_history``: sales edit lead fields after deals close (``_edits.edit_fields``);
    the leads table holds the edited values and a ``field_history`` table the edits.
    ``segment_signal`` names a segment of ``segments.SEGMENTS`` (e.g. ``"europe"``): inside
    it buyers read the pricing pages and researchers do not, outside it price-shoppers do
    and buyers do not (``segments``), at ``segment_strength`` (0-2); only event types
    change: leads, events' leads and times, closes and wins stay the seed's.
    The same arguments always give identical tables.
    """
    if n_leads < 1:
        raise ValueError("n_leads must be at least 1")
    segment = segment_for(segment_signal)
    for name, value in (
        ("drift", drift),
        ("interaction", interaction),
        ("segment_strength", segment_strength),
    ):
        if not 0.0 <= value <= 2.0:
            raise ValueError(f"{name} must be between 0 and 2")
    rng = np.random.default_rng(seed)
    t0, span_s = _horizon(start, end)
    # Every time inside the steps is in days since t0.
    s = SimpleNamespace(t0=t0, span_s=span_s, horizon=span_s / DAY_S, n=int(n_leads), ev=_Events())
    s.drift, s.interaction = float(drift), float(interaction)
    s.seed, s.segment, s.segment_strength = seed, segment, float(segment_strength)
    for step in _STEPS:
        step(rng, s)
    tables = {"leads": s.leads, "events": s.events, "outcomes": s.outcomes, "stages": s.stages}
    # Drawn from a generator of its own: the world without edits stays the seed's.
    return edit_fields(tables, seed) if field_history else tables
