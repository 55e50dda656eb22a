"""Evaluation charts for a sales audience: plain titles, labelled axes, percentages as %.

Every function returns a ``matplotlib.figure.Figure`` (never shown); ``save_png`` writes one
atomically and closes it. The non-interactive Agg backend is selected on import, so the
charts render on servers and in CI without a display.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from leadscore.data.io import write_atomic  # noqa: E402
from leadscore.training.evaluate import _labels, _scores, reliability_table  # noqa: E402

_GAINS_POINTS = 501  # points drawn per cumulative-gains curve, whatever the row count


def _pct(decimals: int = 0) -> PercentFormatter:
    return PercentFormatter(xmax=1.0, decimals=decimals)


def save_png(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Write ``fig`` as a PNG at ``path`` atomically (temp file beside it, then os.replace).

    The figure is closed afterwards, also when writing fails. Returns the path.
    """
    try:
        return write_atomic(
            path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
        )
    finally:
        plt.close(fig)


def reliability_plot(y: np.ndarray, curves: dict[str, np.ndarray], n_bins: int = 10) -> Figure:
    """Predicted chance against actual conversion rate, per equal-count bin, for each curve.

    Points on the dashed diagonal mean "when we said 20%, 20% converted". Underneath, a
    histogram shows how many leads got each predicted chance.
    """
    if not curves:
        raise ValueError("curves is empty")
    yy = _labels(y)
    tables = {name: reliability_table(yy, p, n_bins) for name, p in curves.items()}
    preds = {name: _scores(p, yy.size, name) for name, p in curves.items()}
    top = max(max(t["mean_predicted"].max(), t["observed_rate"].max()) for t in tables.values())
    upper = float(min(1.0, max(top * 1.1, 0.01)))

    fig, (ax, hist) = plt.subplots(
        2, 1, figsize=(7, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    ax.plot([0, upper], [0, upper], ls="--", color="grey", lw=1, label="Perfectly calibrated")
    for name, t in tables.items():
        ax.plot(t["mean_predicted"], t["observed_rate"], marker="o", label=name)
    ax.set_xlim(0, upper)
    ax.set_ylim(0, upper)
    ax.set_ylabel("Leads that actually converted")
    ax.set_title("Do predicted chances match what happened?")
    ax.yaxis.set_major_formatter(_pct(1 if upper < 0.1 else 0))
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)

    bins = np.linspace(0, upper, 31)
    for name, p in preds.items():
        hist.hist(np.clip(p, 0, upper), bins=bins, alpha=0.5, label=name)
    hist.set_xlabel(f"Predicted chance of converting ({n_bins} groups of similar leads per line)")
    hist.set_ylabel("Leads")
    hist.xaxis.set_major_formatter(_pct(1 if upper < 0.1 else 0))
    hist.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _gains(y: np.ndarray, score: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Share of conversions among the top ``grid`` share of leads (ties: earlier row first)."""
    order = np.argsort(-score, kind="stable")
    captured = np.concatenate(([0], np.cumsum(y[order])))
    k = np.round(grid * y.size).astype(np.int64)
    return captured[k] / max(captured[-1], 1)


def lift_plot(y: np.ndarray, curves: dict[str, np.ndarray]) -> Figure:
    """Cumulative gains: share of conversions captured against share of leads contacted.

    Leads are contacted from the highest score down. "Random order" is the diagonal;
    "Perfect ranking" contacts every converter first.
    """
    if not curves:
        raise ValueError("curves is empty")
    yy = _labels(y)
    grid = np.linspace(0.0, 1.0, _GAINS_POINTS)
    base_rate = yy.mean()

    fig, ax = plt.subplots(figsize=(7, 5.5))
    for name, p in curves.items():
        ax.plot(grid, _gains(yy, _scores(p, yy.size, name, probability=False), grid), label=name)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="Random order")
    if base_rate > 0:
        ax.plot([0, base_rate, 1], [0, 1, 1], ls=":", color="black", lw=1, label="Perfect ranking")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_formatter(_pct())
    ax.yaxis.set_major_formatter(_pct())
    ax.set_xlabel("Share of leads contacted (highest scores first)")
    ax.set_ylabel("Share of all conversions reached")
    ax.set_title("How many conversions you reach by calling the top-scored leads first")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def importance_plot(importance: pd.DataFrame, top: int = 20) -> Figure:
    """Horizontal bars of the ``top`` most important features, largest at the top.

    ``importance`` has columns ``feature`` and ``importance``.
    """
    missing = {"feature", "importance"} - set(importance.columns)
    if missing:
        raise ValueError(f"importance frame lacks column(s) {sorted(missing)}")
    if top < 1:
        raise ValueError("top must be at least 1")
    frame = importance.sort_values("importance", ascending=False, kind="stable").head(top)
    frame = frame.iloc[::-1]  # barh draws bottom-up

    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.32 * len(frame) + 1.2)))
    ax.barh(frame["feature"].astype(str), frame["importance"], color="tab:blue")
    ax.set_xlabel("Importance (higher = more influence on the score)")
    ax.set_ylabel("Lead attribute")
    ax.set_title(f"What drives the score: top {len(frame)} lead attributes")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def band_plot(band_table_frame: pd.DataFrame) -> Figure:
    """Conversion rate per score band (bars), from ``evaluate.band_table``.

    Each bar is labelled with its rate and the number of leads in the band.
    """
    need = {"band", "leads", "conversion_rate"}
    missing = need - set(band_table_frame.columns)
    if missing:
        raise ValueError(f"band table lacks column(s) {sorted(missing)}")
    frame = band_table_frame
    rates = frame["conversion_rate"].fillna(0.0).to_numpy(dtype=np.float64)

    fig, ax = plt.subplots(figsize=(8, 4.8))
    bars = ax.bar(frame["band"].astype(str), rates, color="tab:green")
    top = float(rates.max()) if rates.size else 0.0
    ax.set_ylim(0, max(top * 1.2, 0.01))
    decimals = 1 if top < 0.1 else 0
    ax.yaxis.set_major_formatter(_pct(decimals))
    labels = [
        f"{r:.{decimals}%}\n{int(n):,} leads" if n else "no leads"
        for r, n in zip(rates, frame["leads"], strict=True)
    ]
    ax.bar_label(bars, labels=labels, fontsize=8, padding=2)
    ax.set_xlabel("Lead score band (0-100)")
    ax.set_ylabel("Leads that converted")
    ax.set_title("Conversion rate by lead score band")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
