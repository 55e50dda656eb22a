"""Any folder the contract allows runs every command: what training saw is what scoring needs.

The leads table needs only ``lead_id`` and ``created_at``. A contract column that is absent,
or entirely missing, when the model is trained is not one of its inputs, so the same folder
(and any later night of it) scores, reports, monitors and hands off.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from leadscore.cli import main
from leadscore.data.files import write_tables
from leadscore.data.synthetic.world import generate_world
from leadscore.features.spec import fit_spec

OPTIONAL_LEAD_COLUMNS = (
    "email",
    "job_title",
    "industry",
    "country",
    "lead_source",
    "employees",
    "annual_revenue",
)


@pytest.fixture(scope="module")
def world() -> dict[str, pd.DataFrame]:
    return generate_world(2500, seed=11)


def _folder(tmp_path: Path, world: dict, keep_leads: list[str] | None = None, **extra) -> Path:
    tables = {k: v.copy() for k, v in world.items()}
    leads = tables["leads"]
    if keep_leads is not None:
        leads = leads[[c for c in leads.columns if c in keep_leads]]
    for name, values in extra.items():
        leads = leads.assign(**{name: values})
    tables["leads"] = leads
    data = tmp_path / "data"
    write_tables(tables, data, fmt="parquet")
    return data


def _run(argv: list[str]) -> int:
    return main([str(a) for a in argv])


def _every_command(tmp_path: Path, data: Path) -> None:
    out, history = tmp_path / "out", tmp_path / "history"
    out.mkdir()
    assert _run(["validate", "--data", data]) == 0
    assert _run(["train", "--data", data]) == 0
    for night in ("2025-12-01", "2026-01-01"):
        scores = out / f"scores-{night}.parquet"
        argv = ["score", "--data", data, "--as-of", night, "--out", scores, "--history", history]
        assert _run(argv) == 0
    scores = out / "scores-2026-01-01.parquet"
    assert _run(["report", "--scores", scores, "--out", out / "report.html"]) == 0
    argv = ["monitor", "--history", history, "--data", data, "--out", out / "monitor.html"]
    assert _run(argv) in (0, 3)  # 3: an alert, which is a finding, not a failure
    argv = ["handoff", "--scores", scores, "--capacity", 50, "--out", out / "handoff.csv"]
    assert _run(argv) == 0
    assert pd.read_parquet(scores)["probability"].between(0, 1).all()


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)


@pytest.mark.slow
def test_only_the_required_lead_columns(tmp_path, world, store):
    data = _folder(tmp_path, world, keep_leads=["lead_id", "created_at"])
    _every_command(tmp_path, data)


@pytest.mark.slow
def test_extra_unknown_columns_are_carried_and_ignored(tmp_path, world, store):
    n = len(world["leads"])
    data = _folder(tmp_path, world, crm_owner_note=["x"] * n, crm_score=range(n))
    _every_command(tmp_path, data)
    (tmp_path / "accounts").mkdir()
    scores = tmp_path / "out" / "scores-2026-01-01.parquet"
    argv = ["accounts", "--scores", scores, "--data", data, "--out", tmp_path / "a.parquet"]
    assert _run(argv) == 0


@pytest.mark.slow
@pytest.mark.parametrize("dropped", OPTIONAL_LEAD_COLUMNS)
def test_each_optional_lead_column_removed(tmp_path, world, store, dropped):
    keep = [c for c in world["leads"].columns if c != dropped]
    data = _folder(tmp_path, world, keep_leads=keep)
    assert _run(["train", "--data", data]) == 0
    out = tmp_path / "s.parquet"
    assert _run(["score", "--data", data, "--as-of", "2026-01-01", "--out", out]) == 0
    assert len(pd.read_parquet(out)) > 0


def _spec(leads: pd.DataFrame, cfg):
    f = cfg.features
    return fit_spec(
        leads,
        pd.DataFrame({"lead_id": [], "occurred_at": [], "event_type": []}),
        pd.Timestamp("2030-01-01", tz="UTC"),
        event_types=[],
        max_event_types=f.max_event_types,
        windows_days=f.windows_days,
        half_life_days=f.half_life_days,
        negative_event_types=[],
        dedupe_events=False,
        categorical=f.explicit.categorical,
        numeric=f.explicit.numeric,
        extra=[],
        max_categories=f.explicit.max_categories,
    )


def test_absent_or_empty_columns_are_not_model_inputs(cfg, tiny_tables):
    leads = tiny_tables.leads.drop(columns=["industry"]).assign(
        country=None, employees=float("nan")
    )
    spec = _spec(leads, cfg)
    assert "industry" not in spec.categorical and "country" not in spec.categorical
    assert "employees" not in spec.numeric
    assert "industry" not in spec.feature_columns and "employees_band" not in spec.feature_columns
    assert set(spec.lead_columns) <= set(leads.columns)


def test_the_spec_names_the_lead_columns_it_needs(cfg, tiny_tables):
    spec = _spec(tiny_tables.leads, cfg)
    e = cfg.features.explicit
    have = [c for c in (*e.categorical, *e.numeric) if c in tiny_tables.leads]
    assert list(spec.lead_columns) == have
