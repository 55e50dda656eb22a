"""Every chart leadscore draws: plain titles, labelled axes, percentages as %.

Charts are drawn from tables the caller has computed (evaluation tables, driver shares), so
this module holds no metric logic. Every chart function returns a
``matplotlib.figure.Figure`` (never shown); ``save_png`` writes one atomically and
``png_base64`` embeds one in a page, both closing it. The non-interactive Agg backend is
selected on import, so the charts render on servers and in CI without a display.
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import PercentFormatter, StrMethodFormatter  # noqa: E402

from leadscore.data.files import write_atomic  # noqa: E402

_GAINS_POINTS = 501  # points drawn per cumulative-gains curve, whatever the row count

MODEL_COLOR = "#1f6feb"
BASELINE_COLOR = "#f08c00"
FIT_COLOR = "#7048e8"
ENGAGEMENT_COLOR = "#1f6feb"


def _pct(decimals: int = 0) -> PercentFormatter:
    return PercentFormatter(xmax=1.0, decimals=decimals)


def rate_text(v: float) -> str:
    """A conversion rate or a bound of its interval as the pages print it: one decimal
    ("14.3%"); below 0.1%, its first significant digit ("0.07%", not "0.1%" or "0.0%"), so
    only none reads "0%"."""
    x = float(v) * 100
    if not math.isfinite(x):
        return "–"
    if x == 0:
        return "0%"
    if abs(x) < 0.1:
        return f"{x:.{-math.floor(math.log10(abs(x)))}f}%"
    return f"{x:.1f}%"


def png_base64(fig: Figure, dpi: int = 110) -> str:
    """The figure as base64 PNG text, for a ``data:`` URL; the figure is closed."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _outcomes(y: np.ndarray) -> np.ndarray:
    yy = np.asarray(y, dtype="float64")
    if yy.ndim != 1 or yy.size == 0:
        raise ValueError("y must be a non-empty one-dimensional array of 0/1 outcomes")
    return yy


def _scores_like(y: np.ndarray, p: np.ndarray, name: str) -> np.ndarray:
    pp = np.asarray(p, dtype="float64")
    if pp.shape != y.shape:
        raise ValueError(f"{name} has {pp.size} rows but y has {y.size}")
    return pp


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


def _curve_color(name: str, i: int) -> str:
    """The points model's orange and the model's blue, as every chart of the pages draws them."""
    low = name.lower()
    if "points" in low or "baseline" in low:
        return BASELINE_COLOR
    if "model" in low:
        return MODEL_COLOR
    return to_hex(plt.get_cmap("tab10")(i))


def reliability_plot(
    tables: dict[str, pd.DataFrame],
    predictions: dict[str, np.ndarray] | None = None,
    n_bins: int = 10,
) -> Figure:
    """Predicted chance against actual conversion rate, per equal-count bin, for each curve.

    ``tables``: per curve, its ``reliability_table`` (mean_predicted, observed_rate).
    Points on the dashed diagonal mean "when we said 20%, 20% converted". With
    ``predictions`` (per curve, the predicted probabilities behind it) a histogram underneath
    shows how many leads got each predicted chance, one outline per curve, named in its
    legend; leads beyond the axis are counted in its last bar, which the legend says.
    """
    if not tables:
        raise ValueError("tables is empty")
    preds = {name: np.asarray(p, dtype="float64") for name, p in (predictions or {}).items()}
    top = max(max(t["mean_predicted"].max(), t["observed_rate"].max()) for t in tables.values())
    upper = float(min(1.0, max(top * 1.1, 0.01)))
    fmt = _pct(1 if upper < 0.1 else 0)
    xlabel = f"Predicted chance of converting ({n_bins} groups of similar leads per line)"

    if preds:
        fig, (ax, hist) = plt.subplots(
            2, 1, figsize=(7, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
        )
    else:
        fig, ax = plt.subplots(figsize=(7, 5.6))
    ax.plot([0, upper], [0, upper], ls="--", color="grey", lw=1, label="Perfectly calibrated")
    for i, (name, t) in enumerate(tables.items()):
        color = _curve_color(name, i)
        ax.plot(t["mean_predicted"], t["observed_rate"], marker="o", label=name, color=color)
    ax.set_xlim(0, upper)
    ax.set_ylim(0, upper)
    ax.set_ylabel("Leads that actually converted")
    ax.set_title("Do predicted chances match what happened?")
    ax.yaxis.set_major_formatter(fmt)
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    if not preds:
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_formatter(fmt)
        fig.tight_layout()
        return fig

    bins = np.linspace(0, upper, 31)
    for i, (name, p) in enumerate(preds.items()):
        beyond = int((p > upper).sum())
        label = f"{name}: leads per chance" + (
            f" ({beyond:,} above {upper:.1%} in the last bar)" if beyond else ""
        )
        hist.hist(
            np.clip(p, 0, upper),
            bins=bins,
            histtype="step",
            linewidth=1.5,
            color=_curve_color(name, i),
            label=_mpl_text(label),
        )
    hist.set_xlabel(xlabel)
    hist.set_ylabel("Leads")
    hist.xaxis.set_major_formatter(fmt)
    hist.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    hist.legend(loc="upper right", fontsize=8, frameon=False)
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
    yy = _outcomes(y)
    grid = np.linspace(0.0, 1.0, _GAINS_POINTS)
    base_rate = yy.mean()

    fig, ax = plt.subplots(figsize=(7, 5.5))
    for i, (name, p) in enumerate(curves.items()):
        gains = _gains(yy, _scores_like(yy, p, name), grid)
        ax.plot(grid, gains, label=name, color=_curve_color(name, i))
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
    """Conversion rate per score band (bars), from ``metrics.band_table``.

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


# --- the review for sales ---------------------------------------------------------------


def _style(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=10)


def _mpl_text(text: str) -> str:
    """Text as matplotlib draws it literally (a ``$`` would start math mode)."""
    return str(text).replace("$", r"\$")


def drivers_chart(imp: pd.DataFrame, basis: str = "shap", top: int = 12) -> Figure:
    """Share of the score's movement per driver (``reporting`` drivers table), fit vs engagement."""
    frame = imp.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8.2, 0.34 * len(frame) + 1.0))
    colors = [FIT_COLOR if s == "fit" else ENGAGEMENT_COLOR for s in frame["side"]]
    labels = [_mpl_text(x) for x in frame["label"]]
    bars = ax.barh(labels, frame["share"], color=colors, height=0.68)
    ax.bar_label(bars, labels=[f"{v * 100:.0f}%" for v in frame["share"]], padding=3, fontsize=9)
    ax.xaxis.set_major_formatter(_pct())
    ax.set_xlim(0, float(frame["share"].max()) * 1.15 if len(frame) else 1)
    ax.set_xlabel(
        "Share of the score's total movement"
        if basis == "shap"
        else "Share of the model's total importance (training gain)"
    )
    ax.grid(axis="x", alpha=0.3)
    _style(ax)
    sides = set(frame["side"])
    if len(sides) > 1:
        from matplotlib.patches import Patch

        ax.legend(
            handles=[
                Patch(color=ENGAGEMENT_COLOR, label="engagement (what the lead did)"),
                Patch(color=FIT_COLOR, label="fit (who the lead is)"),
            ],
            loc="lower right",
            frameon=False,
            fontsize=9,
        )
    fig.tight_layout()
    return fig


def band_chart(bands: pd.DataFrame) -> Figure:
    """Conversion rate per score band, each bar labelled with its rate and lead count.

    The figure widens with the number of bands and long band names take two lines, so no
    two labels overlap (a test measures their extents)."""
    rates = bands["conversion_rate"].fillna(0.0).to_numpy(dtype="float64")
    # A long name ("top 93.7-100%") goes on two lines, so it fits under its own bar.
    names = [x.replace(" ", "\n", 1) if len(x) > 8 else x for x in bands["band"].astype(str)]
    n = max(len(names), 1)
    fig, ax = plt.subplots(figsize=(max(8.0, 0.95 * n + 1.5), 4.6))
    bars = ax.bar(names, rates, color="#2b8a3e", width=0.7)
    labels = [
        f"{rate_text(r)}\n{_count(n_)} leads" if n_ else "no leads"
        for r, n_ in zip(rates, bands["leads"], strict=True)
    ]
    ax.bar_label(bars, labels=labels, fontsize=8, padding=2)
    ax.set_ylim(0, max(float(rates.max()) if rates.size else 0.0, 0.01) * 1.3)
    ax.yaxis.set_major_formatter(_pct())
    ax.set_xlabel("Band of the score, best first")
    ax.set_ylabel("Leads that converted")
    ax.grid(axis="y", alpha=0.3)
    _style(ax)
    fig.tight_layout()
    return fig


def _count(n: float) -> str:
    """A lead count short enough to sit over a bar: 950, 12.8k, 1.2M."""
    n = int(n)
    if n < 10_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:.1f}k" if n < 100_000 else f"{n / 1000:.0f}k"
    return f"{n / 1_000_000:.1f}M"


def tier_chart(model: pd.DataFrame, base: pd.DataFrame) -> Figure:
    """Conversion rate per model tier beside the points model's MQL / SQL status."""
    fig, axes = plt.subplots(
        1, 2, figsize=(9.5, 3.9), sharey=True, gridspec_kw={"width_ratios": [len(model), len(base)]}
    )
    top = max(model["conversion_rate"].max(), base["conversion_rate"].max(), 0.01)
    for ax, frame, color, title in (
        (axes[0], model, MODEL_COLOR, "Model tiers"),
        (axes[1], base, BASELINE_COLOR, "Points model status"),
    ):
        rates = frame["conversion_rate"].fillna(0.0)
        bars = ax.bar([_mpl_text(t) for t in frame["tier"]], rates, color=color, width=0.62)
        labels = [
            f"{rate_text(r)}\n{int(n):,} leads" if n else "no leads"
            for r, n in zip(rates, frame["leads"], strict=True)
        ]
        ax.bar_label(bars, labels=labels, fontsize=8.5, padding=2)
        ax.set_title(title, fontsize=11)
        ax.set_ylim(0, top * 1.3)
        ax.yaxis.set_major_formatter(_pct())
        ax.grid(axis="y", alpha=0.3)
        _style(ax)
    axes[0].set_ylabel("Leads that converted")
    fig.tight_layout()
    return fig


def _nights_axis(ax, nights: pd.Series) -> None:
    ax.set_xticks(list(nights))
    ax.set_xticklabels([f"{pd.Timestamp(d):%Y-%m-%d}" for d in nights], rotation=30, ha="right")
    ax.set_xlabel("Night scored")


#: Colours of the named features on the PSI chart: neither the probability's blue nor the
#: threshold's red, so no line reads as one of those.
_FEATURE_COLORS = ["#f08c00", "#2b8a3e", "#7048e8", "#a61e4d", "#0c8599", "#5c940d", "#862e9c"]
#: With more named features than colours, each round of the colours takes the next marker.
_FEATURE_MARKERS = ["s", "^", "D", "v", "P", "X", "*"]
_CONTEXT_COLOR = "#adb5bd"
#: A PSI chart whose largest value passes this many times the threshold is drawn on a scale
#: logarithmic above the threshold.
_PSI_LOG_FROM = 8
_THRESHOLD_COLOR = "#c92a2a"


def _own_threshold(threshold: float, floor: float) -> bool:
    """Whether a line has a threshold of its own (its spread at training) above the floor."""
    return bool(np.isfinite(threshold)) and threshold > floor * (1 + 1e-9)


def _psi_label(name: str, threshold: float, floor: float) -> str:
    own = _own_threshold(threshold, floor)
    return _mpl_text(name) + (f" (threshold {threshold:.3f}, dotted)" if own else "")


def psi_chart(
    feature_psi: pd.DataFrame,
    drawn: pd.DataFrame,
    nights: pd.DataFrame,
    floor: float,
    probability_threshold: float,
) -> Figure:
    """PSI per night of the probability (blue) and of the features in ``drawn``
    (``monitoring.drift.chart_features``): the named ones in colour, each with its own
    threshold dotted in its colour when higher than ``floor`` (the configured threshold,
    dashed red), the other important ones in grey. The legend names every line, a dotted
    threshold in the entry of its line."""
    per_night = {name: one for name, one in feature_psi.groupby("feature", sort=False)}
    named = drawn[drawn["named"] & drawn["feature"].isin(list(per_night))]
    context = [f for f in drawn.loc[~drawn["named"], "feature"] if f in per_night]
    # A night of many drifted features has a long legend: below the chart, in columns.
    entries = len(named) + bool(context) + 2
    beside = entries <= 14
    height = 4.2 if beside else 4.2 + 0.2 * math.ceil(entries / 3)
    fig, ax = plt.subplots(figsize=(9 if beside else 10, height), layout="constrained")
    tops: list[float] = [floor]

    def line(one: pd.DataFrame, label: str | None, **style) -> None:
        ax.plot(pd.to_datetime(one["as_of"], utc=True), one["psi"], label=label, **style)
        tops.extend(one["psi"])

    def own_threshold(value: float, color: str) -> None:
        if _own_threshold(value, floor):
            ax.axhline(value, color=color, linestyle=":", linewidth=1.2)
            tops.append(value)

    for i, name in enumerate(context):
        label = f"{len(context)} more of the most important (not drifted)" if i == 0 else None
        line(per_night[name], label, color=_CONTEXT_COLOR, marker=".", linewidth=1)
    for i, r in enumerate(named.itertuples()):
        color = _FEATURE_COLORS[i % len(_FEATURE_COLORS)]
        marker = _FEATURE_MARKERS[i // len(_FEATURE_COLORS) % len(_FEATURE_MARKERS)]
        label = _psi_label(str(r.feature), float(r.threshold), floor)
        line(per_night[r.feature], label, color=color, marker=marker)
        own_threshold(float(r.threshold), color)
    probability = nights.rename(columns={"psi_probability": "psi"})
    label = _psi_label("probability", probability_threshold, floor)
    line(probability, label, color=MODEL_COLOR, marker="o", linewidth=2)
    own_threshold(probability_threshold, MODEL_COLOR)
    label = f"threshold {floor:g} (monitor.psi_alert)"
    ax.axhline(floor, color=_THRESHOLD_COLOR, linestyle="--", linewidth=1, label=label)
    top = max(float(np.nanmax(tops)), 0.1)
    if top > _PSI_LOG_FROM * floor:
        # One large PSI (8.7) would flatten the threshold and every other line onto zero:
        # linear up to the threshold, logarithmic above it.
        ax.set_yscale("symlog", linthresh=floor, linscale=1.0)
        ax.set_ylim(0, top * 1.5)
        ticks = [t for t in (0, floor, 0.5, 1, 2, 5, 10, 20, 50, 100) if t <= top * 1.5]
        ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
        ax.minorticks_off()
        ax.set_ylabel(f"PSI against training (log scale above {floor:g})")
    else:
        ax.set_ylim(0, top * 1.15)
        ax.set_ylabel("PSI against training")
    _nights_axis(ax, pd.to_datetime(nights["as_of"], utc=True))
    where = "outside right center" if beside else "outside lower center"
    fig.legend(frameon=False, fontsize=9, loc=where, ncols=1 if beside else 3)
    ax.grid(axis="y", alpha=0.3)
    _style(ax)
    return fig


#: Colours of the tiers, best first: blues darkening towards the best, then teal, violet and
#: grey; no red, which the pages keep for thresholds and alerts.
TIER_COLORS = ["#0b3d91", "#1f6feb", "#74a9f7", "#0c8599", "#7048e8", "#868e96"]
_TIER_MARKERS = ["o", "s", "^", "D", "v", "P"]


def tier_share_chart(tiers: pd.DataFrame) -> Figure:
    """Each tier's share of the night's open leads (solid) against training (dashed)."""
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, (name, one) in enumerate(tiers.groupby("tier", sort=False)):
        when = pd.to_datetime(one["as_of"], utc=True)
        color, marker = TIER_COLORS[i % len(TIER_COLORS)], _TIER_MARKERS[i % len(_TIER_MARKERS)]
        ax.plot(when, one["share"], color=color, marker=marker, label=_mpl_text(str(name)))
        ax.plot(when, one["share_reference"], color=color, linestyle="--", linewidth=1)
    ax.yaxis.set_major_formatter(_pct())
    ax.set_ylabel("Share of open leads (dashed: training)")
    _nights_axis(ax, pd.to_datetime(tiers["as_of"], utc=True).drop_duplicates())
    ax.legend(frameon=False, fontsize=9, title="tier", loc="center left", bbox_to_anchor=(1, 0.5))
    ax.grid(axis="y", alpha=0.3)
    _style(ax)
    fig.tight_layout()
    return fig


def realised_chart(nights: pd.DataFrame) -> Figure:
    """Per night whose outcomes are known: expected against realised conversions, and the
    realised ROC AUC of the model beside the points model's."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.9))
    when = pd.to_datetime(nights["as_of"], utc=True)
    left.plot(when, nights["expected"], color=MODEL_COLOR, marker="o", label="expected")
    left.plot(when, nights["realised"], color="#2b8a3e", marker="s", label="realised")
    left.set_ylabel("Conversions")
    left.set_ylim(0, max(float(nights[["expected", "realised"]].max().max()), 1.0) * 1.2)
    right.plot(when, nights["roc_auc_model"], color=MODEL_COLOR, marker="o", label="model")
    right.plot(when, nights["roc_auc_points"], color=BASELINE_COLOR, marker="s", label="points")
    right.set_ylabel("Realised ROC AUC")
    right.set_ylim(0.4, 1.0)
    for ax in (left, right):
        _nights_axis(ax, when)
        ax.legend(frameon=False, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        _style(ax)
    fig.tight_layout()
    return fig
