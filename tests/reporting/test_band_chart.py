"""The conversion-by-band chart: no label sits on another, however many bands and leads."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from leadscore import charts  # noqa: E402


def _bands(n: int) -> pd.DataFrame:
    names = ["top 1%"] + [f"top {k}.{k % 10}-{k + 7}.{(k + 3) % 10}%" for k in range(1, n - 1)]
    names.append("top 93.7-100%")
    return pd.DataFrame(
        {
            "band": names,
            "leads": [525 + 1_279 * k for k in range(n)],
            "conversion_rate": [0.4 / (k + 1) for k in range(n)],
        }
    )


def _overlapping(boxes) -> list[tuple[int, int]]:
    return [
        (i, j)
        for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2)
        if a.width and b.width and a.overlaps(b)
    ]


@pytest.mark.parametrize("n", [3, 8, 12, 16])
def test_band_names_and_bar_labels_never_overlap(n):
    fig = charts.band_chart(_bands(n))
    fig.canvas.draw()
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    ticks = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
    above = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(ticks) == n and len(above) == n
    assert _overlapping(ticks) == []
    assert _overlapping(above) == []
    assert _overlapping(ticks + above) == []


def test_lead_counts_are_short_over_the_bars():
    assert [charts._count(v) for v in (950, 12_794, 250_000, 1_234_567)] == [
        "950",
        "12.8k",
        "250k",
        "1.2M",
    ]
