"""The two public-data adapters on small samples of the real files (tests/samples/README.md).

Maven CRM: ``leadscore import`` (pipeline/data/importer.py + configs/maven_crm.import.yaml) ->
contract folder -> features and training with no events. X Education: flat mode with
configs/x_education.yaml, whose cleaning rules are counted. Expected counts are worked out
here from the raw sample with plain pandas, independently of the code under test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from leadscore import cli
from leadscore.config import FlatConfig, config_from_dict, load_config
from leadscore.data.clean import CleanReport, clean_flat, map_values, set_placeholders
from leadscore.data.importer import import_tables, load_import_config, run_import
from leadscore.data.validate import validate_tables
from leadscore.errors import ConfigError, DataError

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parents[1] / "samples"
MAVEN = DATA / "maven_crm"
LEADS_CSV = DATA / "x_education" / "Leads.csv"
MAVEN_IMPORT = ROOT / "configs" / "maven_crm.import.yaml"
MAVEN_CFG = ROOT / "configs" / "maven_crm.yaml"
X_CFG = ROOT / "configs" / "x_education.yaml"
X_LEAKS_CFG = ROOT / "configs" / "x_education_with_leaks.yaml"

POST_CONTACT = [
    "Tags",
    "Lead Quality",
    "Last Activity",
    "Last Notable Activity",
    "Lead Profile",
    "Asymmetrique Activity Index",
    "Asymmetrique Profile Index",
    "Asymmetrique Activity Score",
    "Asymmetrique Profile Score",
]


@pytest.fixture
def with_import():
    """The CLI, whose ``leadscore import`` runs the importer."""
    return cli.main


def _fast(path: Path):
    """The config at ``path`` with a smaller, single-threaded LightGBM (fast on a busy machine)."""
    raw = yaml.safe_load(path.read_text())
    raw.setdefault("model", {}).setdefault("params", {})["num_threads"] = 1
    raw["model"]["num_boost_round"] = 300
    return config_from_dict(raw)


def _lines(report: CleanReport, rule: str) -> dict[str, int]:
    return {r["column"]: r["count"] for r in report.lines if r["rule"] == rule}


@pytest.fixture(scope="module")
def maven():
    return run_import(MAVEN_IMPORT, MAVEN)


@pytest.fixture(scope="module")
def pipeline_sample() -> pd.DataFrame:
    return pd.read_csv(MAVEN / "sales_pipeline.csv")


# --------------------------------------------------------------------------- Maven: import


def test_maven_import_counts_every_rule(maven, pipeline_sample):
    p = pipeline_sample
    accounts = pd.read_csv(MAVEN / "accounts.csv")
    engaged = p["engage_date"].notna()
    kept = engaged & p["account"].notna()
    rep = maven.report

    assert _lines(rep, "value_map") == {
        "pipeline.product": int((p["product"] == "GTXPro").sum()),
        "accounts.sector": int((accounts["sector"] == "technolgy").sum()),
        "accounts.office_location": int((accounts["office_location"] == "Philipines").sum()),
    }
    assert _lines(rep, "drop") == {
        "engage_date": int((~engaged).sum()),
        "account": int((engaged & p["account"].isna()).sum()),
    }
    joins = {r["column"]: r["note"] for r in rep.lines if r["rule"] == "join"}
    assert f"{int(p['account'].isna().sum())} have no account" in joins["accounts on account"]
    assert "0 name one not in products" in joins["products on product"]  # GTXPro was mapped first
    status = next(r for r in rep.lines if r["rule"] == "status")
    stage = p.loc[kept, "deal_stage"]
    assert status["count"] == int(stage.isin(["Won", "Lost"]).sum())
    assert f"open {int((stage == 'Engaging').sum())} (no outcome)" in status["note"]
    assert maven.rows_in == len(p)
    assert len(maven.tables["leads"]) == int(kept.sum())


def test_maven_import_meets_the_contract(maven, pipeline_sample):
    leads, events, outcomes = (maven.tables[n] for n in ("leads", "events", "outcomes"))
    report = validate_tables(maven.tables)
    assert not report.fatal and report.tables is not None
    assert report.counts["leads"].dropped == 0 and report.counts["outcomes"].dropped == 0
    # events: none in this export -> an empty, typed table
    assert len(events) == 0 and list(events.columns) == ["lead_id", "occurred_at", "event_type"]

    p = pipeline_sample.set_index("opportunity_id")
    stage = p.loc[leads["lead_id"], "deal_stage"].to_numpy()
    # closed deals are outcomes (Won -> won), open ones have none
    assert set(outcomes["lead_id"]) == set(leads["lead_id"][np.isin(stage, ["Won", "Lost"])])
    won = outcomes.set_index("lead_id")["won"]
    assert won.eq(p.loc[won.index, "deal_stage"].eq("Won")).all()
    assert not set(outcomes["lead_id"]) & set(leads["lead_id"][stage == "Engaging"])
    closed = outcomes.set_index("lead_id")
    assert (
        closed["closed_at"] == pd.to_datetime(p.loc[closed.index, "close_date"], utc=True)
    ).all()
    assert (closed["amount"] == p.loc[closed.index, "close_value"].astype(float)).all()
    # firmographics joined on and normalised
    assert "technolgy" not in set(leads["industry"]) and "technology" in set(leads["industry"])
    assert "GTXPro" not in set(leads["product"]) and "GTX Pro" in set(leads["product"])
    acme = leads[leads["account"] == "Acme Corporation"]
    if len(acme):
        assert acme["annual_revenue"].iloc[0] == pytest.approx(1100.04e6)
    # outcome fields never become lead attributes
    assert not {"deal_stage", "close_date", "close_value"} & set(leads.columns)


def test_import_cli_writes_a_folder_validate_accepts(tmp_path, with_import, capsys):
    main = with_import
    out = tmp_path / "maven"
    args = ["import", "--config", str(MAVEN_IMPORT), "--source", str(MAVEN), "--out", str(out)]
    assert main([*args, "--format", "csv"]) == 0
    text = capsys.readouterr().out
    assert "value_map: pipeline.product:" in text and "drop: account:" in text
    assert (out / "events.csv").read_text().strip() == "lead_id,occurred_at,event_type"
    assert (out / "import_report.csv").is_file()
    assert main(["validate", "--data", str(out)]) == 0
    # writing again as Parquet replaces the CSV tables (never both in one folder)
    assert main([*args, "--format", "parquet"]) == 0
    assert (out / "leads.parquet").is_file() and not (out / "leads.csv").exists()
    assert main(["validate", "--data", str(out)]) == 0


def test_import_bad_input_is_one_line(tmp_path, with_import, capsys):
    src = tmp_path / "src"
    src.mkdir()
    for f in ("accounts.csv", "products.csv", "sales_teams.csv"):
        (src / f).write_bytes((MAVEN / f).read_bytes())
    p = pd.read_csv(MAVEN / "sales_pipeline.csv").head(50)
    p.loc[3, "deal_stage"] = "Negotiation"  # a stage the config does not list
    p.to_csv(src / "sales_pipeline.csv", index=False)
    args = [
        "import",
        "--config",
        str(MAVEN_IMPORT),
        "--source",
        str(src),
        "--out",
        str(tmp_path / "o"),
    ]
    assert with_import(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "status not listed" in err and "'Negotiation' x1" in err

    p.loc[3, "deal_stage"] = "Won"
    p.to_csv(src / "sales_pipeline.csv", index=False)
    accounts = pd.read_csv(MAVEN / "accounts.csv")
    pd.concat([accounts, accounts.head(1)]).to_csv(src / "accounts.csv", index=False)
    with pytest.raises(DataError, match="key 'account' repeats 1 value"):
        import_tables(MAVEN_IMPORT, src)
    with pytest.raises(DataError, match="does not exist"):
        import_tables(MAVEN_IMPORT, tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="'joins.0.colum' is not a known setting"):
        load_import_config(
            {
                "sources": {"a": {"file": "a.csv"}},
                "base": "a",
                "joins": [{"source": "a", "key": "k", "colum": 1}],
                "leads": {"columns": {"lead_id": "id", "created_at": "d"}},
            }
        )
    with pytest.raises(ConfigError, match="not listed under sources"):
        load_import_config(
            {"sources": {}, "base": "a", "leads": {"columns": {"lead_id": "i", "created_at": "d"}}}
        )


def test_import_generic_rules(tmp_path):
    """The importer on a made-up export: every rule's count, and what is dropped and why."""
    pd.DataFrame(
        {
            "id": ["1", "2", "3", "4", "5", "5", "6"],
            "acct": ["a", None, "zz", "b", "a", "a", "a"],
            "created": ["2024-01-01", "2024-01-02", "2024-01-03", "01/04/2024"]
            + ["2024-01-05"] * 3,
            "stage": ["Won", "open", "LOST", "won", "Won", "lost", "Test"],
            "closed": [
                "2024-02-01",
                None,
                "2023-12-01",
                "2024-02-01",
                "2024-02-05",
                "2024-03-01",
                None,
            ],
        }
    ).to_csv(tmp_path / "opps.csv", index=False)
    pd.DataFrame({"acct": ["a", "b", None], "size": ["10", "n/a", "7"]}).to_csv(
        tmp_path / "acc.csv", index=False
    )
    cfg = {
        "sources": {"o": {"file": "opps.csv"}, "a": {"file": "acc.csv"}},
        "base": "o",
        "placeholders": ["n/a"],
        "joins": [{"source": "a", "key": "acct"}],
        "drop_rows": [{"column": "stage", "values": ["test"], "reason": "test records"}],
        "leads": {
            "columns": {"lead_id": "id", "created_at": "created", "employees": "size"},
            "types": {"employees": "number"},
        },
        "outcomes": {
            "status": "stage",
            "won": ["Won"],
            "lost": ["Lost"],
            "open": ["Open"],
            "closed_at": "closed",
        },
    }
    result = run_import(cfg, tmp_path)
    notes = {(r["rule"], r["column"]): r for r in result.report.lines}
    assert notes[("placeholder", "a.size")]["count"] == 1
    join = notes[("join", "a on acct")]["note"]
    assert join.startswith(
        "5 rows matched, 1 have no acct, 1 name one not in a ('zz' x1)"
    )  # blank keys never pair
    assert notes[("drop", "stage")]["count"] == 1  # the "Test" record
    assert notes[("drop", "created_at")]["count"] == 1  # 01/04/2024 is not ISO 8601
    assert "closed before created" in notes[("drop", "closed_at")]["note"]  # lead 3
    assert "repeats an earlier lead id" in notes[("drop", "lead_id")]["note"]  # the second 5
    leads, outcomes = result.tables["leads"], result.tables["outcomes"]
    assert leads["lead_id"].tolist() == ["1", "2", "5"]
    assert leads["employees"].tolist()[0] == 10.0 and np.isnan(leads["employees"].tolist()[1])
    assert outcomes["lead_id"].tolist() == ["1", "5"] and outcomes["won"].tolist() == [True, True]
    assert [p.line() for p in validate_tables(result.tables).problems] == [
        "events: table is empty (0 rows)"
    ]


# --------------------------------------------------------------------------- Maven: training


def test_maven_features_and_training_work_without_events(maven):
    from leadscore.training.dataset import feature_table, training_table
    from leadscore.training.fit import train_on_table
    from leadscore.training.folds import time_folds

    cfg = _fast(MAVEN_CFG)
    tables = validate_tables(maven.tables).tables
    feats = feature_table(
        tables, cfg, [pd.Timestamp("2017-06-01", tz="UTC"), pd.Timestamp("2017-12-01", tz="UTC")]
    )
    assert {"industry", "product", "annual_revenue", "days_since_created"} <= set(feats.columns)
    assert feats["events_total"].eq(0).all()

    tt = training_table(tables, cfg)
    dates = sorted(pd.Timestamp(d) for d in tt.frame["as_of"].unique())
    assert dates[0] >= pd.Timestamp("2017-03-01", tz="UTC")  # closes are complete from then on
    t = cfg.training
    plan = time_folds(
        tt.frame["as_of"], tt.frame["label"].to_numpy(), t.horizon_days, cadence=t.cadence
    )
    result = train_on_table(tt.frame, tt.spec, plan, cfg)
    metrics = set(result.evaluation.comparison["metric"])
    assert {"roc_auc", "pr_auc", "brier", "log_loss", "ece"} <= metrics
    assert not any(
        "baseline rules skipped" in n for n in result.notes
    )  # every rule's column exists


def test_train_refuses_too_few_conversions_events(tmp_path, maven, monkeypatch, capsys):
    from leadscore.data.importer import write_import

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    write_import(maven.tables, tmp_path / "data")
    raw = yaml.safe_load(MAVEN_CFG.read_text())
    raw["training"]["min_positives"] = 100_000
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    assert (
        cli.main(["train", "--data", str(tmp_path / "data"), "--config", str(tmp_path / "c.yaml")])
        == 2
    )
    err = capsys.readouterr().err
    assert (
        "conversions in the labelled snapshots (need at least 100000, training.min_positives)"
        in err
    )
    assert not (tmp_path / "mlruns").exists()  # refused before anything was logged


# --------------------------------------------------------------------------- X Education


@pytest.fixture(scope="module")
def leads_raw() -> pd.DataFrame:
    from leadscore.data.files import read_frame

    return read_frame(LEADS_CSV)


def _expected_clean(raw: pd.DataFrame, cfg) -> tuple[dict, dict, set, int]:
    """Placeholders, mapping hits, constant columns and repeated rows, by plain pandas."""
    f = cfg.flat
    body = raw.drop(columns=[c for c in f.exclude if c in raw.columns])
    marks = {p.lower() for p in f.placeholders}
    placeholders = {}
    for c in body.columns:
        if (
            c in ("Prospect ID", "Converted")
            or body[c].dtype != object
            and not pd.api.types.is_string_dtype(body[c])
        ):
            continue
        n = int(body[c].str.strip().str.lower().isin(marks).sum())
        if n:
            placeholders[c] = n
            body[c] = body[c].mask(body[c].str.strip().str.lower().isin(marks))
    mapped = {}
    for c, m in f.value_map.items():
        low = {k.lower(): v for k, v in m.items()}
        new = body[c].map(
            lambda v, low=low: low.get(str(v).strip().lower(), v) if pd.notna(v) else v
        )
        mapped[c] = int((new != body[c]).sum() - (new.isna() & body[c].isna()).sum())
        body[c] = new
    constant = {
        c for c in body.columns if c not in ("Prospect ID", "Converted") and body[c].nunique() <= 1
    }
    body = body.drop(columns=list(constant))
    repeats = int(body.drop(columns="Prospect ID").duplicated().sum())
    return placeholders, mapped, constant, repeats


def test_x_education_rules_counted(leads_raw):
    from leadscore.training.flat import prepare_flat

    cfg = load_config(X_CFG)
    data = prepare_flat(leads_raw, cfg, "Converted")
    rep = data.report
    placeholders, mapped, constant, repeats = _expected_clean(leads_raw, cfg)

    assert set(_lines(rep, "exclude")) == {"Lead Number", *POST_CONTACT}
    assert _lines(rep, "placeholder") == placeholders and placeholders["City"] > 0
    assert _lines(rep, "value_map") == mapped
    src = leads_raw["Lead Source"]
    assert (
        mapped["Lead Source"]
        == int(src.isin(["google", "welearnblog_Home", "Live Chat"]).sum())
        > 0
    )
    assert set(_lines(rep, "constant")) == constant and "Magazine" in constant
    assert _lines(rep, "duplicates") == {"(row)": repeats} and repeats > 0
    assert "kept (duplicates: keep)" in next(
        r["note"] for r in rep.lines if r["rule"] == "duplicates"
    )
    # the table: every row kept, no leaky or constant column among the features
    assert len(data.table) == len(leads_raw)
    assert int(data.table["label"].sum()) == int(leads_raw["Converted"].astype(int).sum())
    features = set(data.spec.feature_columns)
    assert not features & {"Lead Number", *POST_CONTACT, *constant}
    assert {"Lead Origin", "Lead Source", "Total Time Spent on Website"} <= features
    # the same lines reach the run's notes (train_flat prints and logs report.text())
    assert any(line.startswith("placeholder: City: ") for line in rep.text())


def test_x_education_leak_variant_and_duplicates_rule(leads_raw):
    from leadscore.training.flat import prepare_flat

    leaky = prepare_flat(leads_raw, load_config(X_LEAKS_CFG), "Converted")
    assert {"Tags", "Lead Quality", "Last Activity"} <= set(leaky.spec.feature_columns)
    assert set(_lines(leaky.report, "exclude")) == {"Lead Number"}
    # the two configs differ only in what they exclude (and the registry name)
    a, b = load_config(X_CFG).model_dump(), load_config(X_LEAKS_CFG).model_dump()
    a["flat"]["exclude"] = b["flat"]["exclude"]
    a["tracking"]["registered_model_name"] = b["tracking"]["registered_model_name"]
    assert a == b

    raw = yaml.safe_load(X_CFG.read_text())
    raw["flat"]["duplicates"] = "drop"
    dropped = prepare_flat(leads_raw, config_from_dict(raw), "Converted")
    n = _lines(dropped.report, "duplicates")["(row)"]
    assert len(dropped.table) == len(leads_raw) - n and n > 0


def test_x_education_trains_on_sample(leads_raw):
    from leadscore.training.fit import train_on_table
    from leadscore.training.flat import flat_plan, prepare_flat

    cfg = _fast(X_CFG)
    data = prepare_flat(leads_raw, cfg, "Converted")
    plan = flat_plan(data.table, cfg)
    assert "stratified at random" in plan.how
    result = train_on_table(data.table, data.spec, plan, cfg)
    # Do Not Call is "Yes" in 2 of the 9,240 leads: constant (dropped) in the sample
    skipped = [n for n in result.notes if "baseline rules skipped" in n]
    assert skipped == ["baseline rules skipped, columns not in the data: Do Not Call"]
    assert result.evaluation.comparison.set_index("metric").loc["roc_auc", "baseline"] > 0.5
    # Quality by slice from the file's own columns, found under their own spelling; the
    # export has no industry.
    assert set(result.slices["column"]) == {"Lead Source", "Country"}
    assert "quality by slice: column(s) not in the data, skipped: industry" in " ".join(
        result.notes
    )
    judged = result.slices[result.slices["judged"]]
    assert (judged["conversions"] >= cfg.evaluation.slice_min_conversions).all()
    by_column = result.slices.groupby("column")[["leads", "conversions"]].sum()
    assert (by_column["leads"] == len(result.evaluation.rows)).all()
    assert (by_column["conversions"] == result.evaluation.rows["label"].sum()).all()


def test_train_refuses_too_few_conversions_flat(tmp_path, leads_raw, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    y = leads_raw["Converted"].astype(int)
    few = pd.concat([leads_raw[y == 0], leads_raw[y == 1].head(25)])  # 25 conversions in all
    few.to_csv(tmp_path / "few.csv", index=False)
    argv = [
        "train",
        "--flat",
        str(tmp_path / "few.csv"),
        "--label",
        "Converted",
        "--config",
        str(X_CFG),
    ]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("leadscore: error: training: only ") and "need at least 40" in err
    assert not (tmp_path / "mlruns").exists()


# --------------------------------------------------------------------------- rule helpers


def test_value_rules_count_what_they_change():
    s = pd.Series(["google", "Google", " GOOGLE", None, "Bing"])
    out, n = map_values(s, {"google": "Google"})
    assert n == 2 and out.tolist()[:3] == ["Google"] * 3 and out.iloc[4] == "Bing"
    out, n = set_placeholders(pd.Series(["Select", "x", " select ", None]), ["select"])
    assert n == 2 and out.isna().tolist() == [True, False, True, True]
    assert set_placeholders(pd.Series([1.0, 2.0]), ["select"])[1] == 0


def test_duplicates_rule_counts_near_duplicates_either_way():
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "src": ["Google", "google", "Select", None],
            "y": ["1", "1", "0", "0"],
        }
    )
    for rule, rows in (("keep", 4), ("drop", 2)):
        cfg = FlatConfig(
            placeholders=["select"], value_map={"src": {"google": "Google"}}, duplicates=rule
        )
        out, rep = clean_flat(frame, cfg, ["id", "y"])
        assert len(out) == rows and _lines(rep, "duplicates") == {"(row)": 2}
        assert _lines(rep, "value_map") == {"src": 1} and _lines(rep, "placeholder") == {"src": 1}


def test_configs_load():
    for path in (MAVEN_CFG, X_CFG, X_LEAKS_CFG):
        load_config(path)
    imp = load_import_config(MAVEN_IMPORT)
    assert imp.base == "pipeline" and imp.outcomes is not None and imp.events is None
