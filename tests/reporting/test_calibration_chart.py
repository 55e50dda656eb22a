"""The calibration chart: the review's has one panel, whose lines are named and coloured as
the page names the two sides; training's histogram panel names each outline."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from leadscore import charts


def _table(predicted: list[float], observed: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"mean_predicted": predicted, "observed_rate": observed})


def test_the_review_chart_has_one_panel_with_both_sides_named_in_their_colours():
    tables = {
        "model": _table([0.01, 0.05, 0.2], [0.01, 0.06, 0.18]),
        "points model": _table([0.02, 0.1], [0.015, 0.12]),
    }
    fig = charts.reliability_plot(tables)
    (ax,) = fig.axes
    lines = {line.get_label(): line.get_color() for line in ax.get_lines()}
    assert lines == {
        "Perfectly calibrated": "grey",
        "model": charts.MODEL_COLOR,
        "points model": charts.BASELINE_COLOR,
    }
    assert ax.get_xlabel().startswith("Predicted chance of converting")
    plt.close(fig)


def test_the_histogram_panel_has_a_legend_that_counts_leads_beyond_the_axis():
    # The axis ends at 1.1 x the highest dot (0.2 -> 22%): the 0.9 falls beyond it.
    tables = {"model": _table([0.01, 0.2], [0.01, 0.2])}
    fig = charts.reliability_plot(tables, {"model": np.array([0.01, 0.02, 0.2, 0.9])})
    _, hist = fig.axes
    names = [t.get_text() for t in hist.get_legend().get_texts()]
    assert names == ["model: leads per chance (1 above 22.0% in the last bar)"]
    plt.close(fig)
