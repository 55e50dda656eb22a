"""Quality by slice in a training run: each out-of-time row's slice value, the run's lines
and MLflow metrics on rows where one slice is bad; end to end, slices.csv logged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadscore.config import config_from_dict
from leadscore.training.slices import (
    find_column,
    run_slices,
    slice_lines,
    slice_metrics,
    slice_values,
)


def test_values_come_from_the_leads_table_normalised_else_from_the_table():
    leads = pd.DataFrame(
        {
            "lead_id": pd.Series(["a", "b", "c"], dtype="string"),
            "country": ["US", " usa", None],
            "region": ["EMEA", "emea ", "APAC"],
        }
    )
    table = pd.DataFrame(
        {
            "lead_id": pd.Series(["a", "b", "c", "z"], dtype="string"),
            "industry": pd.Categorical(["software", None, "other", "retail"]),
        }
    )
    rows = pd.DataFrame({"row": [3, 0, 1, 2], "lead_id": ["z", "a", "b", "c"]})
    values, absent = slice_values(
        rows, table, ["country", "region", "industry", "lead_source"], leads
    )
    # z is not in the leads table: missing; a blank is missing; spellings of a country meet.
    assert list(values["country"]) == ["missing", "united states", "united states", "missing"]
    assert list(values["region"]) == ["missing", "emea", "emea", "apac"]
    # industry is not a leads column here: the table's own level, by row.
    assert list(values["industry"]) == ["retail", "software", "missing", "other"]
    assert absent == ["lead_source"]
    # One string object per value, not per row: millions of out-of-time rows, few values.
    assert values["country"].dtype == object
    assert values["country"].iloc[1] is values["country"].iloc[2]
    assert values["country"].iloc[0] is values["country"].iloc[3]


def test_with_a_field_history_a_row_reads_the_value_in_force_at_its_period():
    jan, mar = (pd.Timestamp(d, tz="UTC") for d in ("2025-01-01", "2025-03-01"))
    leads = pd.DataFrame(
        {
            "lead_id": pd.Series(["a", "b"], dtype="string"),
            "created_at": pd.Timestamp("2024-12-01", tz="UTC"),
            "lead_source": ["sales referral", "web"],  # a's source as sales set it later
        }
    )
    history = pd.DataFrame(
        {
            "lead_id": pd.Series(["a", "a"], dtype="string"),
            "field": ["lead_source", "lead_source"],
            "value": ["web", "sales referral"],
            "changed_at": [
                pd.Timestamp("2024-12-01", tz="UTC"),
                pd.Timestamp("2025-02-01", tz="UTC"),
            ],
        }
    )
    rows = pd.DataFrame(
        {"row": [0, 1, 2], "lead_id": ["a", "a", "b"], "period": pd.Series([jan, mar, jan])}
    )
    values, _ = slice_values(rows, rows[["lead_id"]], ["lead_source"], leads, history)
    assert list(values["lead_source"]) == ["web", "sales referral", "web"]
    without, _ = slice_values(rows, rows[["lead_id"]], ["lead_source"], leads)
    assert list(without["lead_source"]) == ["sales referral", "sales referral", "web"]


def test_a_flat_file_column_is_found_under_its_own_spelling():
    table = pd.DataFrame(
        {"Lead Source": pd.Categorical(["Google", None]), "lead source": ["x", "y"], "Country": 1}
    )
    assert find_column("country", table.columns) == "Country"
    assert find_column("Lead Source", table.columns) == "Lead Source"  # itself first
    assert find_column("lead_source", table.columns) is None  # two spell it so: neither
    rows = pd.DataFrame({"row": [1, 0], "lead_id": ["b", "a"]})
    values, absent = slice_values(rows, table.drop(columns="lead source"), ["lead_source"], None)
    assert list(values.columns) == ["Lead Source"] and absent == []
    assert list(values["Lead Source"]) == ["missing", "Google"]


def bad_slice_rows(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Out-of-time rows of two countries: in "de" the model ranks well and is calibrated,
    in "fr" its ranking is reversed (the points sheet's is not) and it predicts twice what
    happens; "it" has too few conversions to judge."""
    rng = np.random.default_rng(seed)
    country = np.repeat(["de", "fr", "it"], [3000, 3000, 60])
    n = len(country)
    p = rng.uniform(0.01, 0.2, n)
    y = (rng.random(n) < p).astype("float64")
    p_model = np.where(country == "fr", 0.21 - p, p)  # reversed ranking, same mean
    p_model = np.where(country == "fr", 2 * p_model, p_model)  # and twice too high
    rows = pd.DataFrame(
        {
            "row": np.arange(n),
            "lead_id": [f"l{i}" for i in range(n)],
            "label": y,
            "p_model": p_model,
            "p_baseline": np.clip(p + rng.normal(0, 0.02, n), 0, 1),
            "tier": np.where(p_model > 0.15, "A", "D"),
        }
    )
    table = pd.DataFrame({"lead_id": rows["lead_id"], "country": country})
    return rows, table


def test_a_bad_slice_is_flagged_in_the_lines_and_the_metrics():
    rows, table = bad_slice_rows()
    cfg = config_from_dict({"evaluation": {"slices": ["country", "industry"]}})
    slices, notes = run_slices(table, rows, cfg)
    assert notes == [
        "quality by slice: column(s) not in the data, skipped: industry (evaluation.slices)"
    ]
    s = slices.set_index("value")
    assert sorted(s.index[:2]) == ["de", "fr"] and s.index[2] == "other"
    assert (s["column"] == "country").all()
    assert s.loc["other", "values"] == 1  # "it", pooled
    assert bool(s.loc["fr", "loses_to_points"]) and bool(s.loc["fr", "miscalibrated"])
    assert not bool(s.loc["de", "loses_to_points"]) and not bool(s.loc["de", "miscalibrated"])
    # Conversions per tier, in the configured order, the rest tier last.
    assert [c for c in slices.columns if c.startswith("conversions_")][-1] == "conversions_D"
    assert (s["leads_A"] + s["leads_D"] == s["leads"]).all()

    lines = slice_lines(slices, cfg)
    assert len(lines) == 2  # the summary, one flagged slice
    assert lines[0] == (
        "  quality by slice: 2 judged (country 2), 1 flagged; 1 value with fewer than 20 "
        "conversions pooled into other (slices.csv)"
    )
    assert lines[1].startswith("  slice flagged: country = fr (")
    assert "model ROC AUC" in lines[1] and "realised" in lines[1]

    logged = slice_metrics(slices)
    assert logged["slices_judged"] == 2 and logged["slices_flagged"] == 1
    assert logged["slice.country.fr.flagged"] == 1 and "slice.country.de.flagged" not in logged
    assert logged["slice.country.de.roc_auc"] > logged["slice.country.de.baseline_roc_auc"]
    assert logged["slice.country.fr.roc_auc"] < logged["slice.country.fr.baseline_roc_auc"]
    assert not any(".other." in k for k in logged)  # not judged: not logged


def test_metrics_are_kept_to_the_largest_judged_slices_and_names_made_safe():
    slices = pd.DataFrame(
        {
            "column": "country",
            "value": ["united states", "a/b", "c"],
            "judged": True,
            "model_roc_auc": [0.8, 0.7, 0.6],
            "baseline_roc_auc": [0.7, 0.7, 0.7],
            "realised_over_expected": [1.0, 1.1, 0.9],
            "loses_to_points": [False, False, True],
            "miscalibrated": False,
        }
    )
    logged = slice_metrics(slices, limit=1)
    assert "slice.country.united_states.roc_auc" in logged
    assert not any("a_b" in k for k in logged)  # beyond the limit, not flagged
    assert logged["slice.country.c.flagged"] == 1  # beyond the limit, but flagged


def test_no_slice_column_in_the_data_says_so_and_prints_nothing():
    rows, table = bad_slice_rows()
    cfg = config_from_dict({})
    slices, notes = run_slices(table.drop(columns="country"), rows, cfg)
    assert slices.empty and slice_lines(slices, cfg) == [] and slice_metrics(slices) == {}
    assert notes == [
        "quality by slice: column(s) not in the data, skipped: lead_source, country, "
        "industry (evaluation.slices)"
    ]


def test_an_unknown_evaluation_key_is_named():
    from leadscore.errors import ConfigError

    with pytest.raises(ConfigError, match="'evaluation.slice_min' is not a known setting"):
        config_from_dict({"evaluation": {"slice_min": 3}})


@pytest.mark.slow
def test_a_training_run_prints_logs_and_flags_a_bad_slice(tmp_path, monkeypatch):
    """A real run on a small world, its model's predictions turned around (1 - p) in its
    largest lead source before the slices are judged: the run prints the flag, and MLflow
    holds slices.csv and the slice's metrics."""
    from mlflow import MlflowClient

    from leadscore.data.synthetic.world import generate_world
    from leadscore.data.validate import require_valid, validate_tables
    from leadscore.training import fit
    from leadscore.training.run import train_events

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    world = require_valid(validate_tables(generate_world(6_000, seed=11)))
    judged = fit.run_slices
    worst = {}

    def with_a_bad_slice(table, rows, cfg, tiers=None, leads=None, history=None):
        source = slice_values(rows, table, ["lead_source"], leads, history)[0]["lead_source"]
        worst["source"] = source.value_counts().index[0]
        bad = (source == worst["source"]).to_numpy()
        rows = rows.assign(p_model=np.where(bad, 1 - rows["p_model"], rows["p_model"]))
        return judged(table, rows, cfg, tiers, leads, history)

    monkeypatch.setattr(fit, "run_slices", with_a_bad_slice)
    said: list[str] = []
    cfg = config_from_dict(
        {"model": {"kind": "logistic"}, "evaluation": {"slices": ["lead_source", "region"]}}
    )
    summary = train_events(world, cfg, None, say=said.append)

    printed = "\n".join(said)
    assert "note: quality by slice: column(s) not in the data, skipped: region" in printed
    assert f"  slice flagged: lead_source = {worst['source']} (" in printed
    summary_line = next(line for line in said if line.startswith("  quality by slice:"))
    assert "0 flagged" not in summary_line
    client = MlflowClient()
    names = {a.path for a in client.list_artifacts(summary.run_id)}
    assert "slices.csv" in names
    logged = pd.read_csv(client.download_artifacts(summary.run_id, "slices.csv", str(tmp_path)))
    row = logged[(logged["column"] == "lead_source") & (logged["value"] == worst["source"])]
    assert bool(row["loses_to_points"].iloc[0]) and bool(row["miscalibrated"].iloc[0])
    metrics = client.get_run(summary.run_id).data.metrics
    key = "slice.lead_source." + str(worst["source"]).replace(" ", "_")
    assert metrics[f"{key}.flagged"] == 1.0 and metrics["slices_flagged"] >= 1


def test_a_leads_column_with_no_value_or_numbers_gives_missing_and_text():
    leads = pd.DataFrame(
        {"lead_id": ["a", "b"], "country": [None, None], "employees": [5.0, np.nan]}
    )
    rows = pd.DataFrame({"row": [0, 1, 0], "lead_id": ["a", "b", "z"]})
    values, absent = slice_values(
        rows, pd.DataFrame({"x": [1, 2]}), ["country", "employees"], leads
    )
    assert list(values["country"]) == ["missing", "missing", "missing"]
    assert list(values["employees"]) == ["5.0", "missing", "missing"]
    assert absent == []
