"""The generator's planted segment: pricing-page views drive wins inside it and carry nothing
outside it; everything else stays the seed's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.cli.data import SEGMENT_NAMES
from leadscore.data.synthetic.segments import SEGMENTS, in_segment
from leadscore.data.synthetic.world import generate_world

N = 10_000
SEED = 3


@pytest.fixture(scope="module")
def worlds() -> dict[str, dict[str, pd.DataFrame]]:
    return {
        "plain": generate_world(N, seed=SEED),
        "segment": generate_world(N, seed=SEED, segment_signal="europe"),
    }


def lead_figures(world: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per lead: in the segment, outside it (country known), won, closed, pricing-page views
    (all, and in the first 60 days after creation), and whether 120 days of life passed."""
    leads, events, outcomes = world["leads"], world["events"], world["outcomes"]
    ids = leads["lead_id"]
    views = events[events["event_type"] == "pricing_page_view"].merge(
        leads[["lead_id", "created_at"]], on="lead_id"
    )
    early = views[views["occurred_at"] - views["created_at"] <= pd.Timedelta(days=60)]
    inside = in_segment(leads, "europe")
    return pd.DataFrame(
        {
            "inside": inside,
            "outside": ~inside & leads["country"].notna().to_numpy(),
            "won": ids.isin(outcomes.loc[outcomes["won"], "lead_id"]).to_numpy(),
            "closed": ids.isin(outcomes["lead_id"]).to_numpy(),
            "views": views.groupby("lead_id").size().reindex(ids, fill_value=0).to_numpy(),
            "early": early.groupby("lead_id").size().reindex(ids, fill_value=0).to_numpy(),
            "old": (
                leads["created_at"] <= leads["created_at"].max() - pd.Timedelta(days=120)
            ).to_numpy(),
        }
    )


def outside_gap(f: pd.DataFrame) -> float:
    """Outside the segment, among leads at least 120 days old: the win rate of those with a
    pricing-page view in their first 60 days less that of those without one."""
    base = f["outside"] & f["old"]
    return (
        f.loc[base & (f["early"] >= 1), "won"].mean()
        - f.loc[base & (f["early"] == 0), "won"].mean()
    )


def inside_gap(f: pd.DataFrame) -> float:
    """Inside the segment, among closed deals: the won share with five or more pricing-page
    views less that with one or none."""
    closed = f["inside"] & f["closed"]
    return (
        f.loc[closed & (f["views"] >= 5), "won"].mean()
        - f.loc[closed & (f["views"] <= 1), "won"].mean()
    )


def test_outside_the_segment_pricing_views_carry_no_conversion_effect(worlds):
    plain, segment = lead_figures(worlds["plain"]), lead_figures(worlds["segment"])
    # About 2,700 leads on each side at a win rate near 6%: one standard error of the gap is
    # about 0.0065, so 0.025 is nearly four of them. In the plain world, where views come with
    # buying, the same gap is about 0.05 (the bound can fail).
    assert abs(outside_gap(segment)) < 0.025
    assert outside_gap(plain) > 0.025


def test_inside_the_segment_converters_view_far_more_pricing_pages(worlds):
    plain, segment = lead_figures(worlds["plain"]), lead_figures(worlds["segment"])
    inside = segment[segment["inside"]]
    assert (
        inside.loc[inside["won"], "views"].mean() > 2 * inside.loc[~inside["won"], "views"].mean()
    )
    # The same closed deals and the same draws in both worlds: the planted effect widens the
    # gap between many and few views by 0.16 or more (six seeds tried).
    assert inside_gap(segment) > inside_gap(plain) + 0.05


def test_the_rest_of_the_world_is_the_seeds(worlds):
    plain, segment = worlds["plain"], worlds["segment"]
    pd.testing.assert_frame_equal(segment["leads"], plain["leads"])
    assert len(segment["events"]) == len(plain["events"])
    moved = ["pricing_page_view", *SEGMENTS["europe"].quiet]
    keys = ["occurred_at", "lead_id", "event_type"]
    others = [
        w["events"][~w["events"]["event_type"].isin(moved)]
        .sort_values(keys, kind="stable")
        .reset_index(drop=True)
        for w in (plain, segment)
    ]
    pd.testing.assert_frame_equal(others[1], others[0])
    assert segment["outcomes"]["lead_id"].tolist() == plain["outcomes"]["lead_id"].tolist()
    assert (segment["outcomes"]["won"] != plain["outcomes"]["won"]).sum() > 20
    # the win rates inside and outside stay near the plain world's (about 5% each)
    for side in ("inside", "outside"):
        a, b = (lead_figures(w) for w in (plain, segment))
        assert abs(a.loc[a[side], "won"].mean() - b.loc[b[side], "won"].mean()) < 0.01


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
    assert (seg.column, seg.signal) == ("country", "pricing_page_view")
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
