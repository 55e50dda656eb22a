"""The generator's planted segment: inside it buyers read the pricing pages and researchers
do not, outside it price-shoppers do and buyers do not; only event types change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.cli.data import SEGMENT_NAMES
from leadscore.data.synthetic.segments import SEGMENTS, in_segment
from leadscore.data.synthetic.world import generate_world

N = 10_000
SEED = 3
WEB = ["page_view", "pricing_page_view"]


@pytest.fixture(scope="module")
def worlds() -> dict[str, dict[str, pd.DataFrame]]:
    return {
        "plain": generate_world(N, seed=SEED),
        "segment": generate_world(N, seed=SEED, segment_signal="europe"),
    }


def pricing_shares(world: dict[str, pd.DataFrame], side: str) -> tuple[float, float]:
    """On one side of the segment (``inside``, or ``outside`` with a country), among leads
    with at least five web pages (page views and pricing-page views): the share of pricing
    pages among the pages of the leads that won, and of those that did not."""
    leads, events, outcomes = world["leads"], world["events"], world["outcomes"]
    ids = leads["lead_id"]
    web = events[events["event_type"].isin(WEB)]
    pages = web.groupby("lead_id").size().reindex(ids, fill_value=0).to_numpy()
    price = web[web["event_type"] == "pricing_page_view"].groupby("lead_id").size()
    price = price.reindex(ids, fill_value=0).to_numpy()
    won = ids.isin(outcomes.loc[outcomes["won"], "lead_id"]).to_numpy()
    inside = in_segment(leads, "europe")
    mine = inside if side == "inside" else ~inside & leads["country"].notna().to_numpy()
    busy = mine & (pages >= 5)
    return (
        price[busy & won].sum() / pages[busy & won].sum(),
        price[busy & ~won].sum() / pages[busy & ~won].sum(),
    )


def test_without_the_option_winners_read_prices_more_on_both_sides(worlds):
    # Buying-window sessions are 32% pricing pages, background browsing 4%: about 15% of a
    # winner's pages against 8% (three seeds tried: 0.14-0.18 against 0.08).
    for side in ("inside", "outside"):
        won, lost = pricing_shares(worlds["plain"], side)
        assert won > 1.5 * lost


def test_inside_the_segment_buyers_read_prices_and_researchers_do_not(worlds):
    # Half of buyers' page views become pricing pages and half of researchers' pricing
    # pages become page views: about 57% of a winner's pages against 19%.
    won, lost = pricing_shares(worlds["segment"], "inside")
    assert won > 0.45 and won > 2.5 * lost


def test_outside_the_segment_price_shoppers_read_prices_and_buyers_do_not(worlds):
    # The reverse: about 7% of a winner's pages against 16%, where the plain world has 15%
    # against 8% (three seeds tried).
    won, lost = pricing_shares(worlds["segment"], "outside")
    assert won < 0.7 * lost


def test_only_event_types_change(worlds):
    plain, segment = worlds["plain"], worlds["segment"]
    for name in ("leads", "outcomes"):
        pd.testing.assert_frame_equal(segment[name], plain[name])
    a, b = plain["events"], segment["events"]
    pd.testing.assert_frame_equal(b.drop(columns="event_type"), a.drop(columns="event_type"))
    changed = (a["event_type"] != b["event_type"]).to_numpy()
    assert changed.sum() > 1000
    assert a.loc[changed, "event_type"].isin(WEB).all()
    assert b.loc[changed, "event_type"].isin(WEB).all()


def test_at_strength_zero_the_world_is_the_seeds():
    plain = generate_world(800, seed=5)
    zero = generate_world(800, seed=5, segment_signal="americas", segment_strength=0.0)
    for name in plain:
        pd.testing.assert_frame_equal(zero[name], plain[name])


def test_off_by_default_and_the_same_arguments_give_the_same_world():
    plain = generate_world(800, seed=5)
    off = generate_world(800, seed=5, segment_signal=None, segment_strength=2.0)
    a = generate_world(800, seed=5, segment_signal="europe", segment_strength=1.5)
    b = generate_world(800, seed=5, segment_signal="europe", segment_strength=1.5)
    for name in plain:
        pd.testing.assert_frame_equal(off[name], plain[name])
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["events"].equals(plain["events"])


def test_the_definition_reads_the_leads_as_the_features_do():
    seg = SEGMENTS["europe"]
    assert (seg.column, seg.signal, seg.partner) == ("country", "pricing_page_view", "page_view")
    leads = pd.DataFrame(
        {"country": ["UK", " Deutschland", "Polska", "United States", None, "spain", "India"]}
    )
    assert in_segment(leads, seg).tolist() == [True, True, True, False, False, True, False]
    assert SEGMENT_NAMES == tuple(SEGMENTS)
    assert in_segment(leads, "americas").tolist() == [
        False,
        False,
        False,
        True,
        False,
        False,
        False,
    ]


def test_a_segment_the_generator_does_not_know_is_refused():
    with pytest.raises(ValueError, match="segment_signal must be one of americas, europe"):
        generate_world(10, segment_signal="mars")
    with pytest.raises(ValueError, match="segment_strength"):
        generate_world(10, segment_signal="europe", segment_strength=3.0)


def test_inside_share_is_about_three_in_ten(worlds):
    share = float(np.mean(in_segment(worlds["plain"]["leads"], "europe")))
    # The generator's country shares for the seven countries add to 0.31 (less 3% blank).
    assert 0.25 < share < 0.34
