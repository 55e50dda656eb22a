"""The HTML report: one small world trained once, reports built from its MLflow run."""

from __future__ import annotations

import base64
import re
from types import SimpleNamespace

import mlflow
import pandas as pd
import pytest

from leadscore.errors import DataError, RegistryError
from leadscore.model import registered
from leadscore.reporting import drivers
from leadscore.reporting import render as report_mod
from leadscore.reporting.render import build_report

# Every test here reads a model trained and scored once for the module (end to end).
pytestmark = pytest.mark.slow

SECTIONS = (
    "What drives the score",
    "Conversion by score band",
    "Model vs the points model",
    "Can the score be read as a chance?",
)
SCORES_SECTION = "Today's leads by tier"
APPENDIX = "For analysts: how the model was built and tested"
AS_OF = "2025-12-01"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """3,000 leads, an events model trained and registered in a private store, and its scores."""
    from leadscore.config import config_from_dict
    from leadscore.data.files import write_tables
    from leadscore.data.load import load_data
    from leadscore.data.synthetic.world import generate_world
    from leadscore.data.validate import require_valid
    from leadscore.scoring.batch import score_tables
    from leadscore.training.run import train_events

    root = tmp_path_factory.mktemp("report")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
    mp.chdir(root)  # artifacts (./mlruns) land in the temporary folder
    try:
        write_tables(generate_world(3000, seed=3), root / "data")
        cfg = config_from_dict(
            {"model": {"num_boost_round": 200}, "training": {"min_positives": 10}}
        )
        loaded = load_data(root / "data", cfg.columns.model_dump())
        tables = require_valid(loaded)
        summary = train_events(tables, cfg, None, say=lambda _m: None)
        model = registered.load_registered("models:/leadscore@champion")
        scores_path = root / "scores.parquet"
        score_tables(
            tables,
            loaded.rejects,
            model.scorer,
            model.settings,
            f"leadscore/{summary.version}",
            pd.Timestamp(AS_OF, tz="UTC"),
            scores_path,
        )
        yield SimpleNamespace(
            root=root,
            tables=tables,
            cfg=cfg,
            summary=summary,
            model=model,
            scores_path=scores_path,
            scores=pd.read_parquet(scores_path),
            mp=mp,
        )
    finally:
        mlflow.set_tracking_uri(None)  # forget the private store (MLflow keeps it globally)
        mp.undo()


@pytest.fixture(scope="module")
def full_report(world) -> str:
    out = world.root / "out" / "report.html"
    path = build_report(None, str(world.scores_path), str(out))
    assert path == out
    return out.read_text(encoding="utf-8")


def _images(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


def test_report_is_one_self_contained_page(full_report):
    page = full_report
    assert page.startswith("<!DOCTYPE html>")
    assert 'src="http' not in page and "href=" not in page
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert "@import" not in page and "url(" not in page
    images = _images(page)
    assert len(images) >= 5
    assert all(img.startswith(b"\x89PNG\r\n\x1a\n") for img in images)


def test_report_sections_and_header(world, full_report):
    page = full_report
    for heading in (*SECTIONS, SCORES_SECTION):
        assert f">{heading}</h2>" in page.replace("&#x27;", "'")
    version = world.summary.version
    assert f"leadscore v{version}" in page
    assert "champion" in page
    assert "a score of 12 means a 12% chance" in page
    assert "won deal within 90 days" in page
    run = mlflow.MlflowClient().get_run(world.summary.run_id)
    test_from = run.data.tags["split.fold1.test"].split("..")[0].split(" ")[0]
    assert test_from in page  # the first backtest fold's test period
    # The technical detail closes the page, after every section for sales.
    heads = re.findall(r"<h2>([^<]+)</h2>", page)
    assert heads[-1] == APPENDIX and {*SECTIONS, SCORES_SECTION} <= set(heads[:-1])
    start = page.index(f">{APPENDIX}</h2>")
    for part in (
        ">How the estimate was made</h3>",
        ">Which kind of model</h3>",
        "Champion decision (promoted)",
        ">Notes from training</h3>",
    ):
        assert page.index(part) > start, part  # its first mention is in the appendix
    assert world.summary.run_id in page
    # The drivers sentence names three readable drivers; the comparison speaks in AUC.
    assert re.search(
        r"The three biggest drivers are <b>[^<_]+</b>, <b>[^<_]+</b> and <b>[^<_]+</b>", page
    )
    assert "AUC" in page and "If your team can work the top" in page
    assert "percentage points" in page  # the calibration sentence


def test_report_numbers_match_the_run(world, full_report):
    comp = world.summary.result.evaluation.comparison.set_index("metric")
    auc_m, auc_b = comp.loc["roc_auc", "model"], comp.loc["roc_auc", "baseline"]
    assert f"AUC {auc_m:.2f} vs {auc_b:.2f}" in full_report
    cap = world.summary.result.evaluation.capacity.set_index("capacity").loc[100]
    assert (
        f'top 100 each month</td><td class="num">{int(cap["model_conversions"]):,}<' in full_report
    )


def test_examples_per_tier_are_the_best_ranked(world, full_report):
    page = full_report
    assert "Example leads" in page
    scores = world.scores
    start = page.index("Example leads")
    shown = page[start:]
    for tier in sorted(scores["tier"].unique()):
        top = scores[scores["tier"] == tier].sort_values(["rank", "lead_id"], kind="stable")
        for lead in top["lead_id"].head(3):
            assert f">{lead}<" in shown
        left_out = top["lead_id"].iloc[3:10]
        assert not any(f">{lead}<" in shown[: shown.index("Where the model")] for lead in left_out)
    # Tier changes against the points model: the SQL / nurture cross table.
    assert "Where the model and the points model disagree" in page
    assert ">nurture</b>" in page


def test_report_without_scores_and_by_version(world, tmp_path):
    out = tmp_path / "plain.html"
    build_report(f"models:/leadscore/{world.summary.version}", None, str(out))
    page = out.read_text()
    for heading in SECTIONS:
        assert heading in page
    assert SCORES_SECTION not in page.replace("&#x27;", "'")
    assert "Example leads" not in page


def test_scores_as_csv_and_out_folder(world, tmp_path):
    csv = tmp_path / "scores.csv"
    world.scores.to_csv(csv, index=False)
    written = build_report(None, str(csv), str(tmp_path))
    assert written == tmp_path / "report.html"
    assert "Example leads" in written.read_text()


def test_flat_mode_model_says_converted(world, tmp_path, monkeypatch):
    real = registered.load_registered

    def as_flat(uri):
        m = real(uri)
        m.settings = m.settings.model_copy(
            update={"mode": "flat", "horizon_days": None, "id_column": "lead_id"}
        )
        return m

    monkeypatch.setattr(report_mod.registered, "load_registered", as_flat)
    out = tmp_path / "flat.html"
    build_report(None, None, str(out))
    page = out.read_text()
    assert "a lead converts" in page
    assert "within 90 days" not in page


def test_drivers_shap_and_gain(world):
    from leadscore.training.dataset import training_table

    scorer = world.model.scorer
    sample = training_table(world.tables, world.cfg).frame.sample(400, random_state=0)
    for rows, basis in ((sample, "shap"), (None, "gain")):
        imp, got = drivers.drivers(scorer, rows)
        assert got == basis
        assert imp["share"].sum() == pytest.approx(1.0)
        assert set(imp["side"]) <= {"fit", "engagement"}
        assert not imp["label"].str.contains("_").any()
        assert imp["share"].is_monotonic_decreasing


# --- bad input: one-line error, nothing written ---------------------------------------


@pytest.mark.parametrize(
    ("uri", "match"),
    [
        ("models:/nope@champion", "models:/nope@champion"),
        ("models:/leadscore/99", "models:/leadscore/99"),
        ("runs:/0123456789abcdef/model", "runs:/0123456789abcdef/model"),
        ("s3://bucket/model", "give models:/NAME@ALIAS"),
    ],
)
def test_unknown_model(world, tmp_path, uri, match):
    out = tmp_path / "r.html"
    with pytest.raises(RegistryError, match=re.escape(match)) as err:
        build_report(uri, None, str(out))
    assert "\n" not in str(err.value)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_unknown_registered_name(world, tmp_path):
    out = tmp_path / "r.html"
    with pytest.raises(RegistryError, match="models:/other@champion"):
        build_report(None, None, str(out), registered_name="other")
    assert not out.exists()


def test_missing_store(world, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/none/mlflow.db")
    out = tmp_path / "r.html"
    with pytest.raises(RegistryError, match="no MLflow store"):
        build_report(None, None, str(out))
    assert not out.exists() and not (tmp_path / "none").exists()


def test_scores_file_missing(world, tmp_path):
    out = tmp_path / "r.html"
    missing = tmp_path / "nowhere.parquet"
    with pytest.raises(DataError, match=re.escape(f"scores file {missing}: does not exist")):
        build_report(None, str(missing), str(out))
    assert not out.exists()


def test_scores_file_lacks_columns(world, tmp_path):
    bad = tmp_path / "bad.csv"
    world.scores.drop(columns=["tier", "top_reasons"]).to_csv(bad, index=False)
    out = tmp_path / "r.html"
    with pytest.raises(DataError, match=r"bad\.csv: missing column\(s\) tier, top_reasons") as err:
        build_report(None, str(bad), str(out))
    assert "\n" not in str(err.value)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_scores_file_with_text_scores(world, tmp_path):
    bad = tmp_path / "text.csv"
    frame = world.scores.copy()
    frame["score"] = frame["score"].astype(str)
    frame.loc[frame.index[:2], "score"] = "high"
    frame.to_csv(bad, index=False)
    with pytest.raises(DataError, match=r"text\.csv: column score has 2 non-numeric"):
        build_report(None, str(bad), str(tmp_path / "r.html"))
    assert not (tmp_path / "r.html").exists()
