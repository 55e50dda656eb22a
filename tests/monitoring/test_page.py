"""The monitor page and JSON from a hand-made ``Monitor``: every row as wide as its
table's header, every figure where it belongs, valid JSON."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import matplotlib.pyplot as plt
import pandas as pd

from leadscore import charts
from leadscore.config import MonitorConfig
from leadscore.monitoring.alerts import Alert
from leadscore.monitoring.drift import chart_features
from leadscore.monitoring.measure import Monitor
from leadscore.monitoring.page import build_monitor_page, listed_features, render_monitor

N1, N2 = pd.Timestamp("2025-06-01", tz="UTC"), pd.Timestamp("2025-07-01", tz="UTC")


def monitor() -> Monitor:
    nights = pd.DataFrame(
        {
            "as_of": [N1, N2],
            "model_version": ["leadscore/3", "leadscore/3"],
            "leads": [100, 120],
            "expected": [5.0, 6.5],
            "mean_probability": [0.05, 0.054],
            "expected_roc_auc": [0.812, 0.808],
            "psi_probability": [0.01, float("nan")],
        }
    )
    tiers = pd.DataFrame(
        {
            "as_of": [N1, N1, N2, N2],
            "tier": ["A", "B", "A", "B"],
            "leads": [10, 90, 12, 108],
            "share": [0.1, 0.9, 0.1, 0.9],
            "share_reference": [0.05, 0.95, 0.05, 0.95],
            "expected": [3.0, 2.0, 4.0, 2.5],
        }
    )
    features = pd.DataFrame(
        {
            "feature": ["lead_source", "opens_30d"],
            "importance_rank": [4, 1],
            "psi": [1.9, 0.02],
            "threshold": [0.25, 0.31],
            "drifted": [True, False],
            "missing_reference": [0.0, 0.1],
            "missing_now": [0.0, 0.12],
            "outside_reference": [0.01, float("nan")],
            "outside_now": [0.3, float("nan")],
        }
    )
    feature_psi = pd.DataFrame(
        {"as_of": [N1, N2], "feature": ["opens_30d"] * 2, "psi": [0.01, 0.02]}
    )
    realised = pd.DataFrame(
        {
            "as_of": [N1],
            "leads": [100],
            "expected": [5.0],
            "realised": [7.0],
            "ratio": [1.4],
            "mean_predicted": [0.05],
            "realised_rate": [0.07],
            "roc_auc_model": [0.79],
            "roc_auc_points": [0.7],
        }
    )
    realised_tiers = pd.DataFrame(
        {
            "tier": ["A", "B"],
            "leads": [10, 90],
            "expected": [3.0, 2.0],
            "realised": [4.0, 3.0],
            "realised_rate": [0.4, 3 / 90],
        }  # fmt: skip
    )
    alert = Alert("PSI of lead_source", "2025-07-01", 1.9, 0.25, "psi_alert")
    return Monitor(
        model_version="leadscore/3",
        reference_rows=5000,
        horizon_days=30,
        data_end=pd.Timestamp("2025-07-15", tz="UTC"),
        nights=nights,
        tiers=tiers,
        features=features,
        probability_threshold=0.25,
        feature_psi=feature_psi,
        realised=realised,
        realised_tiers=realised_tiers,
        alerts=[alert],
        notes=["a note"],
    )


def test_every_table_row_is_as_wide_as_its_header():
    html = render_monitor(
        build_monitor_page(monitor(), MonitorConfig(), datetime(2025, 7, 2, tzinfo=timezone.utc))
    )
    tables = re.findall(r"<table>(.*?)</table>", html, flags=re.S)
    assert len(tables) == 5
    for table in tables:
        head = len(re.findall(r"<th[ >]", table))
        rows = re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1], flags=re.S)
        assert rows and all(len(re.findall(r"<td[ >]", r)) == head for r in rows)
    assert "<h1>1 alert on the latest night</h1>" in html
    assert "PSI of lead_source on 2025-07-01 is 1.900, above the threshold 0.250" in html
    assert '<td class="num">0.808</td>' in html  # the latest night's expected ROC AUC
    assert "<th></th>" not in html and "<th>Drifted</th>" in html
    assert "<td>yes</td>" in html and "<td>no</td>" in html and "1.0% → 30.0%" in html
    assert '<td class="num">– (numeric)</td>' in html  # no levels to be outside of
    assert html.count("data:image/png;base64,") == 3


def test_json_is_valid_with_missing_figures_as_null():
    data = json.loads(monitor().to_json())
    assert data["nights"][1]["psi_probability"] is None
    assert data["nights"][0]["as_of"] == "2025-06-01"
    assert data["drifted_features"] == ["lead_source"]
    assert data["ok"] is False and data["alerts"][0]["setting"] == "psi_alert"
    assert data["features"][1]["outside_now"] is None


def test_a_model_without_a_reference_still_gets_its_page():
    m = monitor()
    m.tiers, m.features = m.tiers.iloc[:0], m.features.iloc[:0]
    m.feature_psi, m.alerts = m.feature_psi.iloc[:0], []
    html = render_monitor(build_monitor_page(m, MonitorConfig(), datetime.now(tz=timezone.utc)))
    assert "No alert on the latest night" in html
    assert "Not measured: the model has no training reference." in html


def test_every_line_of_the_psi_chart_is_in_its_legend_with_its_own_threshold():
    m = monitor()
    m.feature_psi = pd.DataFrame(
        {
            "as_of": [N1, N2, N1, N2],
            "feature": ["opens_30d", "opens_30d", "lead_source", "lead_source"],
            "psi": [0.01, 0.02, 0.4, 1.9],
        }
    )
    drawn = chart_features(m.features.assign(threshold=[0.5, 0.31]), top_features=10, largest=1)
    fig = charts.psi_chart(m.feature_psi, drawn, m.nights, 0.25, 0.3)
    ax = fig.axes[0]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "1 more of the most important (not drifted)",
        "lead_source (threshold 0.500, dotted)",
        "probability (threshold 0.300, dotted)",
        "threshold 0.25 (monitor.psi_alert)",
    ]
    # The lines out of the legend are the dotted thresholds of the labels that name one.
    unlabelled = [line for line in ax.get_lines() if line.get_label().startswith("_")]
    assert len(unlabelled) == 2 and all(line.get_linestyle() == ":" for line in unlabelled)
    assert ax.get_ylim()[1] > 1.9
    plt.close(fig)


def test_the_drift_table_lists_the_largest_and_every_drifted_feature():
    # Largest PSI first; "late" drifted past a low threshold below two that did not.
    table = pd.DataFrame(
        {
            "feature": ["a", "b", "late", "d"],
            "psi": [0.5, 0.4, 0.3, 0.2],
            "drifted": [False, False, True, False],
        }
    )
    assert listed_features(table, largest=1)["feature"].tolist() == ["a", "late"]
    m = monitor()
    html = render_monitor(build_monitor_page(m, MonitorConfig(), datetime.now(tz=timezone.utc)))
    assert "on the latest night: all 2 features, largest first" in html


def test_the_headline_counts_the_alerts_in_words():
    m = monitor()
    when = datetime(2025, 7, 2, tzinfo=timezone.utc)
    m.alerts = m.alerts * 2
    assert build_monitor_page(m, MonitorConfig(), when).headline == "2 alerts on the latest night"
    m.alerts = []
    assert build_monitor_page(m, MonitorConfig(), when).headline == "No alert on the latest night"


def test_no_tier_is_drawn_in_the_threshold_red():
    tiers = pd.DataFrame(
        {
            "as_of": [N1] * 6,
            "tier": list("ABCDEF"),
            "share": [0.05, 0.1, 0.15, 0.2, 0.2, 0.3],
            "share_reference": [0.05, 0.1, 0.15, 0.2, 0.2, 0.3],
        }
    )
    fig = charts.tier_share_chart(tiers)
    colors = {line.get_color() for line in fig.axes[0].get_lines()}
    assert colors == set(charts.TIER_COLORS)
    assert charts._THRESHOLD_COLOR not in colors and "#d62728" not in colors  # tab10 red
    plt.close(fig)


def test_drifted_features_outside_the_alerting_ones_are_noted():
    from leadscore.monitoring.measure import quiet_drift

    features = pd.DataFrame(
        {
            "feature": [f"f{i}" for i in range(9)],
            "importance_rank": [40, 3, 50, 60, 70, 80, 90, 100, 12],
            "drifted": [True, True, True, True, True, True, True, False, False],
        }
    )
    # f1 (rank 3) alerts; f0, f2..f6 (ranks 40-90) are drifted beyond the 10 most important.
    assert quiet_drift(features, 10) == (
        "6 features drifted outside the 10 most important (f0, f2, f3, f4, f5 and 1 more): "
        "marked in the drift table, without an alert (monitor.top_features)"
    )
    assert quiet_drift(features.iloc[[1, 7, 8]], 10) is None
    assert quiet_drift(features.iloc[[0, 1]], 10).startswith("1 feature drifted outside")


def test_one_large_psi_puts_the_chart_on_a_log_scale_above_the_threshold():
    m = monitor()
    drawn = chart_features(m.features, top_features=10, largest=1)

    def chart(psi: float):
        m.feature_psi = pd.DataFrame(
            {"as_of": [N1, N2], "feature": ["lead_source"] * 2, "psi": [0.4, psi]}
        )
        return charts.psi_chart(m.feature_psi, drawn, m.nights, 0.25, 0.25)

    big = chart(8.7)  # past 8 x 0.25 = 2.0
    assert big.axes[0].get_yscale() == "symlog"
    assert big.axes[0].get_ylabel() == "PSI against training (log scale above 0.25)"
    labels = [t.get_text() for t in big.axes[0].get_yticklabels()]
    assert labels == ["0", "0.25", "0.5", "1", "2", "5", "10"]  # plain numbers, up to 8.7 x 1.5
    small = chart(1.9)
    assert small.axes[0].get_yscale() == "linear"
    assert small.axes[0].get_ylabel() == "PSI against training"
    plt.close(big)
    plt.close(small)


def _experiment_log(tmp_path, holdout: bool = True):
    from leadscore.handoff.io import write_log

    rows = pd.DataFrame(
        {"lead_id": [f"t{i}" for i in range(8)], "owner": "", "tier": "A", "probability": 0.2}
    )
    control = pd.DataFrame(
        {"lead_id": [f"c{i}" for i in range(4)], "owner": "", "tier": "A", "probability": 0.2}
    )
    write_log(tmp_path, N1, rows, control if holdout else None, "e" if holdout else None)
    return pd.DataFrame(
        {
            "lead_id": ["t0", "t1", "t2", "c0"],
            "closed_at": N1 + pd.Timedelta(days=10),
            "won": True,
        }
    )


def test_the_monitor_measures_the_experiment_of_its_history(tmp_path):
    from leadscore.config import load_config
    from leadscore.data.contract import Tables
    from leadscore.monitoring.run import hand_off_experiment

    outcomes = _experiment_log(tmp_path)
    tables = Tables(leads=pd.DataFrame(), events=pd.DataFrame(), outcomes=outcomes)
    m = monitor()
    # The config names experiment leadscore, which has no control arm: the latest one is shown.
    x = hand_off_experiment(tmp_path, tables, m, load_config(None))
    assert x.name == "e" and x.horizon_days == 30 and x.data_end == m.data_end
    r = x.overall.iloc[0]
    assert (r["treated_leads"], r["treated_conversions"]) == (8, 3)
    assert (r["control_leads"], r["control_conversions"]) == (4, 1)
    assert hand_off_experiment(tmp_path / "none", tables, m, load_config(None)) is None
    bare = tmp_path / "bare"
    _experiment_log(bare, holdout=False)
    assert hand_off_experiment(bare, tables, m, load_config(None)) is None

    m.experiment = x
    html = render_monitor(build_monitor_page(m, MonitorConfig(), datetime.now(tz=timezone.utc)))
    assert "<h2>Experiment e: routed against held back</h2>" in html
    assert x.verdict() in html and "+50.0%" in html  # 3/8 against 1/4
    tables_html = re.findall(r"<table>(.*?)</table>", html, flags=re.S)
    assert len(tables_html) == 7  # the monitor's five, by tier and by night
    for table in tables_html:
        head = len(re.findall(r"<th[ >]", table))
        rows = re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1], flags=re.S)
        assert rows and all(len(re.findall(r"<td[ >]", r)) == head for r in rows)
    data = json.loads(m.to_json())
    assert data["experiment"]["verdict"] == x.verdict()
    assert data["experiment"]["overall"]["control_conversions"] == 1
    assert json.loads(monitor().to_json())["experiment"] is None


def test_the_latest_realised_night_by_slice_is_a_table_and_in_the_json():
    m = monitor()
    m.realised_slices = pd.DataFrame(
        {
            "column": ["lead_source", "lead_source"],
            "value": ["web", "other"],
            "values": [1, 3],
            "leads": [80, 20],
            "expected": [4.0, 1.0],
            "expected_low": [0.2, 0.0],
            "expected_high": [7.8, 2.9],
            "realised": [6.0, 1.0],
            "ratio": [1.5, 1.0],
            "roc_auc_model": [0.75, float("nan")],
            "roc_auc_model_low": [0.6, float("nan")],
            "roc_auc_model_high": [0.9, float("nan")],
            "roc_auc_points": [0.8, float("nan")],
            "roc_auc_points_low": [0.7, float("nan")],
            "roc_auc_points_high": [0.9, float("nan")],
            "roc_auc_difference_low": [-0.2, float("nan")],
            "roc_auc_difference_high": [0.1, float("nan")],
            "judged": [True, False],
            "loses_to_points": [False, False],
            "miscalibrated": [False, False],
        }
    )
    html = render_monitor(build_monitor_page(m, MonitorConfig(), datetime.now(tz=timezone.utc)))
    assert "<h3>By group of leads, night of 2025-06-01</h3>" in html
    table = html[html.index("By group of leads") :].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1], flags=re.S)
    assert len(rows) == 2 and all(len(re.findall(r"<td[ >]", r)) == 8 for r in rows)
    assert "<td>lead_source: other (3 values)</td>" in table
    assert '<td class="num">4.0 (0.2–7.8)</td>' in table and "<td>too few to judge</td>" in table
    data = json.loads(m.to_json())
    assert data["realised_slices"][1]["roc_auc_model"] is None
    assert data["realised_slices"][0]["value"] == "web"
    # Without one, no table.
    assert "By group of leads" not in render_monitor(
        build_monitor_page(monitor(), MonitorConfig(), datetime.now(tz=timezone.utc))
    )


def test_the_latest_night_s_drift_by_slice_is_a_table_and_in_the_json():
    m = monitor()
    m.slice_drift = pd.DataFrame(
        {
            "column": ["lead_source", "lead_source", "country"],
            "value": ["web", "other", "uk"],
            "values": [1, 4, 1],
            "leads": [900, 40, 940],
            "share": [900 / 940, 40 / 940, 1.0],
            "baseline_leads": [1800, 90, 1890],
            "share_baseline": [1800 / 1890, 90 / 1890, 1.0],
            "mean_probability": [0.08, 0.02, 0.077],
            "mean_probability_baseline": [0.05, 0.03, 0.049],
            "mean_shift": [0.03, -0.01, 0.028],
            "psi": [0.412, float("nan"), 0.2],
            "threshold": [0.25] * 3,
            "judged": [True, False, True],
            "drifted": [True, False, False],
        }
    )
    cfg = MonitorConfig(min_leads=500)
    html = render_monitor(build_monitor_page(m, cfg, datetime.now(tz=timezone.utc)))
    section = html[html.index('<section id="slice-drift">') :].split("</section>")[0]
    assert "fewer than 500 leads tonight" in section and "passes 0.25" in section
    rows = re.findall(r"<tr>(.*?)</tr>", section.split("</thead>")[1], flags=re.S)
    assert len(rows) == 3 and all(len(re.findall(r"<td[ >]", r)) == 8 for r in rows)
    assert "<td>lead_source: web</td>" in rows[0] and "<td>drifted</td>" in rows[0]
    assert '<td class="num">5.00% → 8.00%</td>' in rows[0] and "+3.00 pts" in rows[0]
    assert '<td class="num">95.2% → 95.7%</td>' in rows[0]  # share of the leads
    assert "<td>lead_source: other (4 values)</td>" in rows[1]
    assert "<td>too few to judge</td>" in rows[1] and '<td class="num">–</td>' in rows[1]
    assert "<td>–</td>" in rows[2]  # judged, not drifted
    data = json.loads(m.to_json())
    assert data["slice_drift"][0]["psi"] == 0.412 and data["slice_drift"][1]["psi"] is None
    # Without one, no section.
    assert "slice-drift" not in render_monitor(
        build_monitor_page(monitor(), MonitorConfig(), datetime.now(tz=timezone.utc))
    )
