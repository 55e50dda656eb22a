"""The generator's drift and interaction shapes: what they change and what they keep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.data.synthetic.world import generate_world

N = 6000


@pytest.fixture(scope="module")
def worlds() -> dict[str, dict[str, pd.DataFrame]]:
    return {
        "plain": generate_world(N, seed=4),
        "drift": generate_world(N, seed=4, drift=1.5),
        "interaction": generate_world(N, seed=4, interaction=1.5),
    }


def win_rate_by_half(world: dict[str, pd.DataFrame]) -> tuple[float, float]:
    """Won leads per lead created, in the first and second half of the history."""
    leads, outcomes = world["leads"], world["outcomes"]
    won = leads["lead_id"].isin(outcomes.loc[outcomes["won"], "lead_id"]).to_numpy()
    late = (leads["created_at"] >= leads["created_at"].quantile(0.5)).to_numpy()
    return float(won[~late].mean()), float(won[late].mean())


def test_the_shapes_keep_the_leads_and_their_activity(worlds):
    plain = worlds["plain"]
    for name in ("drift", "interaction"):
        other = worlds[name]
        pd.testing.assert_frame_equal(other["events"], plain["events"])
        keep = [c for c in plain["leads"].columns if c != "annual_revenue"]
        pd.testing.assert_frame_equal(other["leads"][keep], plain["leads"][keep])
        closed = plain["outcomes"]["lead_id"]
        assert other["outcomes"]["lead_id"].sort_values().tolist() == sorted(closed.tolist())


def test_drift_grows_revenue_beyond_its_early_range_and_lifts_the_win_rate(worlds):
    plain, drift = worlds["plain"], worlds["drift"]
    created = drift["leads"]["created_at"]
    first = (created < created.quantile(0.25)).to_numpy()
    last = (created >= created.quantile(0.75)).to_numpy()
    revenue = drift["leads"]["annual_revenue"].to_numpy()
    # ten to the power 1.5 over the history: about 18 times between the quarters' middles,
    # and the largest revenues are past anything seen early
    assert np.nanmedian(revenue[last]) > 8 * np.nanmedian(revenue[first])
    assert np.nanmax(revenue[last]) > np.nanmax(revenue[first])
    before, after = win_rate_by_half(plain)
    d_before, d_after = win_rate_by_half(drift)
    assert d_after / d_before > 1.3 * after / before


def test_the_interaction_is_an_exclusive_or_of_industry_and_source(worlds):
    rates = {}
    for name in ("plain", "interaction"):
        w = worlds[name]
        leads = w["leads"]
        won = leads["lead_id"].isin(w["outcomes"].loc[w["outcomes"]["won"], "lead_id"])
        names = sorted(leads["industry"].dropna().str.strip().str.lower().unique())
        assert len(names) >= 8
        closed = leads["lead_id"].isin(w["outcomes"]["lead_id"])
        rates[name] = float(won[closed].mean())
    # same closes, and the exclusive or moves wins in both directions: the overall rate
    # stays near the plain world's while single leads change
    assert abs(rates["interaction"] - rates["plain"]) < 0.1
    a, b = worlds["plain"]["outcomes"], worlds["interaction"]["outcomes"]
    assert (a["won"].to_numpy() != b["won"].to_numpy()).sum() > 50


def test_the_same_arguments_give_the_same_world():
    a = generate_world(500, seed=9, drift=1.0, interaction=0.5)
    b = generate_world(500, seed=9, drift=1.0, interaction=0.5)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])


@pytest.mark.parametrize("arg", ["drift", "interaction"])
def test_shape_strengths_out_of_range_are_refused(arg):
    with pytest.raises(ValueError, match=arg):
        generate_world(10, **{arg: 2.5})
