"""The leakage guard (``leadscore.training.leakage``): hand-worked frames, a brute-force
reference for the pooled figures, and the X Education sample with its post-contact columns.

The hand-worked table: one fold, 200 rows learnt from (100 converted) and 100 judged (50
converted), every row its own lead.

- ``account_type`` is ``customer`` on every converted row, missing on the others: the
  ``customer`` cell (the filled one too) is 100% converted over 100 rows, and holds all 50
  judged conversions.
- ``promo_code`` is filled on 40 converted training rows (4 codes x 10) and 20 judged
  ones: no code has the 30 rows to mark on its own, but "filled" (40 rows, all converted)
  does, and holds 20 of the 50 judged conversions (40%). Its rates: each code
  (10 + 0.5) / 11, missing (60 + 0.5) / 161; judged, 20 conversions rank above all 50
  non-conversions and 30 tie with them: AUC (20*50 + 30*25) / 2500 = 0.70.
- ``source`` is ``partner`` on 31 training rows (30 converted: 96.8%) and 5 judged
  conversions (10%); ``web`` elsewhere: a small pure level, not flagged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from leadscore.config import LeakageConfig, load_config
from leadscore.errors import ConfigError, DataError
from leadscore.features.flat import flat_spec
from leadscore.features.spec import FeatureSpec
from leadscore.training.folds import Fold, Plan
from leadscore.training.leakage import (
    EXPORT_TIME_NAMES,
    EXPORT_TIME_RULE,
    Cells,
    check_feature,
    check_leakage,
    concordance,
    export_time_pattern,
    feature_cells,
    guard,
    lead_field,
    leave_out,
    name_patterns,
    row_groups,
)
from leadscore.training.sampling import SHARE

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
ROOT = Path(__file__).resolve().parents[2]


def _plan(train: np.ndarray, test: np.ndarray, out_of_time: bool = True) -> Plan:
    return Plan([Fold(1, train, test, "t", "r")], train | test, "all", "one fold", out_of_time)


def _spec(numeric: tuple[str, ...] = (), categorical: tuple[str, ...] = ()) -> FeatureSpec:
    """A flat file's spec with these columns."""
    return flat_spec(numeric, categorical)


def hand_table() -> tuple[pd.DataFrame, FeatureSpec, Plan]:
    """The table of the module docstring, its flat spec and its one-fold plan."""
    y = np.r_[np.ones(100), np.zeros(100), np.ones(50), np.zeros(50)]
    conv_train, conv_test = np.arange(100), np.arange(200, 250)
    account_type = np.where(y == 1, "customer", None)
    promo = np.full(300, None, dtype=object)
    promo[conv_train[:40]] = np.repeat(["spring", "fall", "trial", "team"], 10)
    promo[conv_test[:20]] = np.repeat(["spring", "fall"], 10)
    source = np.full(300, "web", dtype=object)
    source[conv_train[:30]] = "partner"
    source[100] = "partner"  # one training non-conversion: 30 of 31 converted
    source[conv_test[:5]] = "partner"
    visits = np.random.default_rng(0).poisson(3, 300).astype("float64")
    table = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(300)],
            "label": y,
            "account_type": account_type,
            "promo_code": promo,
            "source": source,
            "visits": visits,
        }
    )
    spec = _spec(("visits",), ("account_type", "promo_code", "source"))
    train = np.arange(300) < 200
    return table, spec, _plan(train, ~train)


def by_feature(check) -> pd.DataFrame:
    return check.table.set_index("feature")


def test_concordance_by_hand():
    # cell 0.2: 1 conversion, 3 not; cell 0.8: 2 conversions, 1 not.
    right, pairs = concordance(np.array([0.8, 0.2]), np.array([2.0, 1.0]), np.array([1.0, 3.0]))
    # 0.2: 1 x (0 below + 3 tied / 2) = 1.5; 0.8: 2 x (3 below + 1 tied / 2) = 7
    assert (right, pairs) == (8.5, 12.0)


def test_a_leaky_column_is_flagged_an_honest_one_is_not():
    table, spec, plan = hand_table()
    check = check_leakage(table, spec, plan, LeakageConfig())
    t = by_feature(check)
    assert t.loc["account_type", ["single_auc", "marked_share"]].tolist() == [1.0, 1.0]
    assert t.loc["account_type", "marked_cells"] == "customer; filled"
    assert t.loc["promo_code", "single_auc"] == pytest.approx(0.70)
    assert t.loc["promo_code", "marked_share"] == pytest.approx(0.40)
    assert t.loc["promo_code", "marked_cells"] == "filled"
    assert t.loc["source", "marked_share"] == pytest.approx(0.10)
    assert t.loc["source", "marked_cells"] == "partner"
    assert check.left_out == ["account_type", "promo_code"] and check.kept == []
    assert not t.loc["visits", "flagged"]
    assert check.lines() == [
        "leakage guard: account_type left out: alone ranks the held-out rows with ROC AUC 1.000; "
        "filled almost only for converted leads: 100% of the converted leads' held-out rows "
        "hold a value on which 95%+ converted",
        "leakage guard: promo_code left out: filled almost only for converted leads: 40% of "
        "the converted leads' held-out rows hold a value on which 95%+ converted",
    ]
    assert check.rows == "each backtest fold's out-of-time test rows"


def test_rows_sampled_before_the_build_count_for_the_rows_they_stand_for():
    table, spec, plan = hand_table()
    # The one non-converted "partner" row in training stands for 3: 30 of 33 converted is
    # under 95%, so "partner" no longer marks conversions.
    table[SHARE] = 1.0
    table.loc[100, SHARE] = 1 / 3
    t = by_feature(check_leakage(table, spec, plan, LeakageConfig()))
    assert t.loc["source", "marked_share"] == 0.0 and t.loc["source", "marked_cells"] == ""
    assert t.loc["account_type", "marked_share"] == 1.0  # the leak stays a leak


def test_each_rule_has_its_bound_and_can_be_turned_off():
    table, spec, plan = hand_table()
    only_auc = check_leakage(table, spec, plan, LeakageConfig(max_marked_share=None))
    assert only_auc.left_out == ["account_type"]
    higher = check_leakage(table, spec, plan, LeakageConfig(max_marked_share=0.5))
    assert higher.left_out == ["account_type"]
    # source's 10% flags once the bound is that low
    low = check_leakage(table, spec, plan, LeakageConfig(max_marked_share=0.1))
    assert low.left_out == ["account_type", "promo_code", "source"]
    # with 41 rows needed, "filled" (40 rows) no longer marks promo_code's wins
    support = check_leakage(table, spec, plan, LeakageConfig(min_rows=41))
    assert by_feature(support).loc["promo_code", "marked_share"] == 0.0


def test_allow_features_keeps_a_flagged_feature_and_names_unknown_ones():
    table, spec, plan = hand_table()
    check = check_leakage(table, spec, plan, LeakageConfig(), allow=["promo_code", "nope"])
    assert check.left_out == ["account_type"] and check.kept == ["promo_code"]
    assert check.unknown_allowed == ("nope",)
    lines = check.lines()
    assert lines[1].startswith("leakage guard: promo_code kept (training.allow_features): ")
    assert lines[2] == (
        "leakage guard: training.allow_features names no feature of this table: nope"
    )


def test_guard_leaves_the_flagged_columns_out_of_the_table_and_the_spec():
    table, spec, plan = hand_table()
    said: list[str] = []
    out, new_spec, check = guard(table, spec, plan, load_config(), said.append)
    assert said == [f"  {line}" for line in check.lines()] and len(said) == 2
    assert new_spec.feature_columns == ["visits", "source"]
    assert new_spec.left_out == ("account_type", "promo_code")
    assert list(out.columns) == ["lead_id", "label", "source", "visits"]
    assert FeatureSpec.from_dict(new_spec.to_dict()) == new_spec
    same_table, same_spec = leave_out(table, spec, [])
    assert same_table is table and same_spec is spec


def test_guard_refuses_to_leave_out_every_feature():
    table, spec, plan = hand_table()
    only = leave_out(table, spec, ["promo_code", "source", "visits"])
    with pytest.raises(DataError, match=r"flags all 1 features \(300 rows\); name the ones"):
        guard(*only, plan, load_config(), lambda _m: None)


def test_a_base_rate_above_purity_marks_nothing():
    """When 96% of the leads convert, every large level is 95% converted: not a leak."""
    n = 1000
    table = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "label": (np.arange(n) % 25 != 0).astype(float),
            "x": np.where(np.arange(n) % 2 == 0, "a", "b"),
        }
    )
    spec = _spec(categorical=("x",))
    train = np.arange(n) < 700
    check = check_leakage(table, spec, _plan(train, ~train), LeakageConfig())
    assert by_feature(check).loc["x", "marked_share"] == 0.0 and check.left_out == []


def test_a_constant_feature_ranks_at_half_whatever_the_folds_base_rates():
    """Folds learn different base rates: rows of different folds are never compared."""
    n = 400
    y = np.r_[np.zeros(100), np.ones(10), np.zeros(90), np.ones(60), np.zeros(40), np.ones(100)]
    table = pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)], "label": y, "c": 1.0})
    spec = _spec(numeric=("c",))
    block = np.arange(n) // 100
    folds = [
        Fold(k, block < k, block == k, f"{k}", "before") for k in (1, 2, 3)
    ]  # rolling: each learns from the blocks before it
    plan = Plan(folds, np.ones(n, bool), "all", "rolling", True)
    assert by_feature(check_leakage(table, spec, plan, LeakageConfig())).loc[
        "c", "single_auc"
    ] == pytest.approx(0.5)


def test_a_number_has_a_cell_for_zero_and_one_for_missing():
    cells = feature_cells(pd.Series([0.0, np.nan, 1.0, 2.0, 0.0, 5.0]), categorical=False)
    zero, missing = len(cells.names) - 2, len(cells.names) - 1
    assert cells.names[-2:] == ["0", "missing"]
    assert cells.code[[0, 4]].tolist() == [zero, zero] and cells.code[1] == missing
    assert cells.filled.tolist() == [True] * (len(cells.names) - 2) + [False, False]
    text = feature_cells(pd.Series(["a", None, "missing", "b"]), categorical=True)
    assert text.names == ["a", "b", "missing"] and text.code.tolist() == [0, 2, 2, 1]
    assert text.filled.tolist() == [True, True, False]
    levels = ["a", "b", "other", "missing"]  # the table's categoricals: the spec's levels
    coded = feature_cells(pd.Series(pd.Categorical(["a", None, "missing", "b"], levels)), True)
    assert coded.names == levels and coded.code.tolist() == [0, 3, 3, 1]
    assert coded.filled.tolist() == [True, True, True, False]


def _brute_force(code, y, won, plan, cfg: LeakageConfig, names, filled):
    """The pooled figures, fold by fold and row by row, with plain pandas and sklearn."""
    right = pairs = marked = judged = 0.0
    for f in plan.folds:
        tr = pd.DataFrame({"c": code[f.train], "y": y[f.train], "w": won[f.train]})
        base = tr["y"].mean()
        stats = tr.groupby("c").agg(n=("y", "size"), pos=("y", "sum"), won=("w", "sum"))
        rate = (stats["pos"] + base) / (stats["n"] + 1)
        score = pd.Series(code[f.test]).map(rate).fillna(base).to_numpy()
        yt = y[f.test]
        if 0 < yt.sum() < len(yt):
            p, n = yt.sum(), len(yt) - yt.sum()
            right += roc_auc_score(yt, score) * p * n
            pairs += p * n
        judged += won[f.test].sum()
        if tr["w"].mean() >= cfg.purity:
            continue
        own = stats.index[(stats["n"] >= cfg.min_rows) & (stats["won"] >= cfg.purity * stats["n"])]
        mark = np.isin(code[f.test], own)
        in_filled = filled[code[f.train]]
        if (
            in_filled.sum() >= cfg.min_rows
            and won[f.train][in_filled].sum() >= cfg.purity * in_filled.sum()
        ):
            mark |= filled[code[f.test]]
        marked += won[f.test][mark].sum()
    return right / pairs, marked / judged


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    levels=st.integers(1, 6),
    n_folds=st.integers(1, 3),
)
def test_pooled_figures_match_a_brute_force_reference(seed, levels, n_folds):
    rng = np.random.default_rng(seed)
    n = 240
    code = rng.integers(0, levels, n)
    y = (rng.random(n) < np.linspace(0.1, 0.99, levels)[code]).astype(float)
    y[:2] = [0.0, 1.0]
    lead = rng.integers(0, 150, n)
    won = pd.Series(y).groupby(lead).transform("max").to_numpy()
    block = np.arange(n) * (n_folds + 1) // n
    folds = [Fold(k, block < k, block == k, f"{k}", "b") for k in range(1, n_folds + 1)]
    plan = Plan(folds, np.ones(n, bool), "all", "rolling", True)
    cfg = LeakageConfig(min_rows=5)
    filled = np.arange(levels) > 0
    cells = Cells(code.astype(np.int64), [str(i) for i in range(levels)], filled)
    auc, share, _ = check_feature(cells, row_groups(plan, y, won), cfg)
    want_auc, want_share = _brute_force(code, y, won, plan, cfg, cells.names, filled)
    assert auc == pytest.approx(want_auc, abs=1e-9)
    assert share == pytest.approx(want_share, abs=1e-9)


def test_x_education_post_contact_columns_are_flagged_on_the_sample():
    """The 400-row sample with the post-contact columns kept: Tags (the sales team's status)
    and, by their names, Lead Quality, Last Activity and Last Notable Activity are left
    out; no column configs/x_education.yaml keeps is. Lead Profile and the Asymmetrique
    indices (X Education's own, no CRM's standard fields) are not: the config's
    flat.exclude keeps them out."""
    from leadscore.data.files import read_frame
    from leadscore.training.flat import flat_plan, prepare_flat

    raw = read_frame(SAMPLES / "x_education" / "Leads.csv")
    leaky_cfg = load_config(ROOT / "configs" / "x_education_with_leaks.yaml")
    data = prepare_flat(raw, leaky_cfg, "Converted")
    plan = flat_plan(data.table, leaky_cfg)
    check = check_leakage(data.table, data.spec, plan, leaky_cfg.training.leakage)
    assert "Tags" in check.left_out
    named = ["Lead Quality", "Last Activity", "Last Notable Activity"]
    assert set(named) <= set(check.left_out)
    t = by_feature(check)
    assert t.loc[named, "export_time"].all() and t["export_time"].sum() == 4  # Tags too
    assert (t.loc[named, "rule"].str.endswith(EXPORT_TIME_RULE)).all()
    assert not t.loc[["Lead Profile", "Asymmetrique Activity Index"], "flagged"].any()
    assert check.rows == "each backtest fold's held-out folds (not out of time)"
    honest_cfg = load_config(ROOT / "configs" / "x_education.yaml")
    honest = prepare_flat(raw, honest_cfg, "Converted")
    assert set(check.left_out).isdisjoint(honest.spec.feature_columns)
    honest_plan = flat_plan(honest.table, honest_cfg)
    kept = check_leakage(honest.table, honest.spec, honest_plan, honest_cfg.training.leakage)
    assert kept.left_out == []


def _leaky_config(tmp_path: Path, **training) -> Path:
    """configs/x_education_with_leaks.yaml with one quick model kind (and ``training``)."""
    import yaml

    raw = yaml.safe_load((ROOT / "configs" / "x_education_with_leaks.yaml").read_text())
    raw["model"] = {"kind": "logistic"}
    if training:
        raw["training"] = training
    path = tmp_path / "leaky.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.slow
def test_train_says_logs_and_leaves_out_what_the_guard_flags(tmp_path, monkeypatch, capsys):
    """``train`` on the X Education sample with its post-contact columns: one line for Tags
    and one for Lead Quality (by its name), the run's tag and leakage.csv, a model that
    neither uses nor needs the columns; with ``training.allow_features: [Tags]`` the line
    says it is kept."""
    import mlflow

    from leadscore.cli import main
    from leadscore.model.registered import load_registered

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    sample = SAMPLES / "x_education" / "Leads.csv"
    argv = ["train", "--flat", str(sample), "--label", "Converted"]
    assert main([*argv, "--config", str(_leaky_config(tmp_path))]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "leakage guard: Tags" in x)
    assert line.startswith(
        "  leakage guard: Tags left out: filled almost only for converted leads: "
    )
    assert line.endswith(
        "% of the converted leads' held-out rows hold a value on which 95%+ converted; "
        + EXPORT_TIME_RULE
    )
    assert (
        "  leakage guard: Lead Quality left out: named like a field sales edits after contact, "
        "and no field_history for it"
    ) in out.splitlines()
    run = mlflow.search_runs(experiment_names=["leadscore-x-education"], output_format="list")[0]
    assert run.data.tags["leakage.left_out"].split(", ")[0] == "Tags"
    assert "Lead Quality" in run.data.tags["leakage.left_out"].split(", ")
    logged = pd.read_csv(
        mlflow.artifacts.download_artifacts(f"runs:/{run.info.run_id}/leakage.csv")
    ).set_index("feature")
    assert logged.loc["Tags", ["flagged", "kept"]].tolist() == [True, False]
    assert logged.loc["Lead Quality", ["export_time", "flagged", "kept"]].tolist() == [
        True,
        True,
        False,
    ]
    model = load_registered("models:/leadscore-x-education-with-leaks-flat/1")
    for column in ("Tags", "Lead Quality"):
        assert column in model.scorer.spec.left_out
        assert column not in model.scorer.spec.feature_columns
    new = pd.read_csv(sample).head(20).drop(columns=["Converted", "Tags"])
    new.to_csv(tmp_path / "new.csv", index=False)
    score = ["score", "--flat", str(tmp_path / "new.csv"), "--out", str(tmp_path / "s.csv")]
    assert main([*score, "--config", str(_leaky_config(tmp_path))]) == 0
    assert len(pd.read_csv(tmp_path / "s.csv")) == 20
    capsys.readouterr()

    kept = _leaky_config(tmp_path, allow_features=["Tags"])
    assert main([*argv, "--config", str(kept)]) == 0
    assert "  leakage guard: Tags kept (training.allow_features): filled almost only" in (
        capsys.readouterr().out
    )


def _quality_table() -> tuple[pd.DataFrame, FeatureSpec, Plan]:
    """120 leads, one fold (72 learnt from, 48 judged), 1 in 4 converted; ``Lead Quality``
    cycles through three values, so every 12 leads hold each value 4 times, once converted:
    every value converts at 25%, its rows all score alike and rank at 0.5."""
    n = 120
    table = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "label": (np.arange(n) % 4 == 0).astype(float),
            "Lead Quality": np.array(["High", "Low", "Medium"], dtype=object)[np.arange(n) % 3],
            "visits": (np.arange(n) % 5).astype("float64"),
        }
    )
    train = np.arange(n) < 72
    return table, _spec(("visits",), ("Lead Quality",)), _plan(train, ~train)


def test_a_field_named_like_one_sales_edit_is_flagged_by_its_name_alone():
    table, spec, plan = _quality_table()
    check = check_leakage(table, spec, plan, LeakageConfig())
    t = by_feature(check)
    # Its figures are those of an honest column: every value converts alike.
    assert t.loc["Lead Quality", "single_auc"] == pytest.approx(0.5)
    assert t.loc["Lead Quality", "marked_share"] == 0.0
    assert t.loc["Lead Quality", "export_time"] and not t.loc["visits", "export_time"]
    assert check.left_out == ["Lead Quality"]
    assert check.lines() == [
        "leakage guard: Lead Quality left out: named like a field sales edits after contact, "
        "and no field_history for it"
    ]
    off = check_leakage(table, spec, plan, LeakageConfig(export_time_names=[]))
    assert off.left_out == [] and not by_feature(off)["export_time"].any()


def test_allow_features_keeps_a_field_flagged_by_its_name():
    table, spec, plan = _quality_table()
    check = check_leakage(table, spec, plan, LeakageConfig(), allow=["Lead Quality"])
    assert check.left_out == [] and check.kept == ["Lead Quality"]
    assert check.lines()[0].startswith("leakage guard: Lead Quality kept (training.allow_features)")


def _events_spec(history: tuple[str, ...] = ()) -> FeatureSpec:
    """An events spec reading the lead columns ``lead_quality`` and ``lead_source``, with
    funnel stages."""
    return FeatureSpec(
        event_types=(),
        windows_days=(30,),
        half_life_days=14.0,
        negative_event_types=(),
        dedupe_events=False,
        categorical=("lead_source",),
        numeric=(),
        extra_categorical=("lead_quality",),
        stages=("mql", "sql"),
        history_fields=history,
    )


def test_a_field_history_for_the_field_lifts_the_name_rule():
    """With a field history, each row reads the value as it was: not flagged. Without it, the
    field and the flag of its absence are; columns built from events or stages, whatever
    their names, are never judged by name."""
    n = 120
    y = (np.arange(n) % 4 == 0).astype(float)
    table = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "label": y,
            "lead_quality": np.array(["hot", "cold", "warm"], dtype=object)[np.arange(n) % 3],
            "lead_source_missing": (np.arange(n) % 2).astype("float64"),
            "current_stage": np.array(["mql", "sql"], dtype=object)[np.arange(n) % 2],
        }
    )
    train = np.arange(n) < 80
    plan = _plan(train, ~train)
    spec = _events_spec()
    assert lead_field("lead_quality", spec) == "lead_quality"
    assert lead_field("lead_source_missing", spec) == "lead_source"
    assert lead_field("current_stage", spec) is None  # from the stages table, point in time
    assert lead_field("days_since_last_event", spec) is None
    extra = LeakageConfig(export_time_names=["builtin", "lead source", "*stage*"])
    without = check_leakage(table, spec, plan, extra)
    assert "current_stage" in list(without.table["feature"])
    assert sorted(without.left_out) == ["lead_quality", "lead_source_missing"]
    read_as_it_was = _events_spec(history=("lead_quality", "lead_source"))
    assert check_leakage(table, read_as_it_was, plan, extra).left_out == []


def test_export_time_names_match_whatever_the_spelling():
    builtin = name_patterns(["builtin"])
    assert builtin == name_patterns(EXPORT_TIME_NAMES)
    for name in (
        "Lead Quality",
        "lead_quality",
        "LEADQUALITYCODE",
        "Last Notable Activity",
        "LastActivityDate",
        "hs_lead_status",
        "Lead Status",
        "Tags",
        "OwnerId",
        "hubspot_owner_id",
        "notes_last_contacted",
        "Call Disposition",
        "Lost Reason",
        "lifecyclestage",
    ):
        assert export_time_pattern(name, builtin) is not None, name
    # The contract's lead fields, the lead's own opt-outs, and form answers are not.
    for name in (
        "lead_source",
        "job_title",
        "industry",
        "country",
        "email",
        "employees",
        "annual_revenue",
        "Do Not Call",
        "Do Not Email",
        "Lead Origin",
        "Lead Profile",
        "How would you like to be contacted",
        "Homeowner",
        "current_stage",
        "employment_status",
    ):
        assert export_time_pattern(name, builtin) is None, name
    mine = name_patterns(["builtin", "Lead Profile", "asymmetrique*"])
    assert export_time_pattern("Asymmetrique Activity Index", mine) == "asymmetrique*"
    assert export_time_pattern("lead_profile", mine) == "leadprofile"
    assert export_time_pattern("Lead Quality", name_patterns(["Lead Profile"])) is None


def test_export_time_names_are_validated(tmp_path):
    assert LeakageConfig().export_time_names == ["builtin"]
    assert load_config().training.leakage.export_time_names == ["builtin"]
    with pytest.raises(ValueError, match="'--' is no name pattern"):
        LeakageConfig(export_time_names=["--"])
    with pytest.raises(ValueError, match="no name pattern"):
        LeakageConfig(export_time_names=["*"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  leakage:\n    export_time_names: [' _ ']\n")
    with pytest.raises(ConfigError, match="export_time_names"):
        load_config(bad)
    off = tmp_path / "off.yaml"
    off.write_text("training:\n  leakage:\n    export_time_names: []\n")
    assert load_config(off).training.leakage.export_time_names == []


def test_the_spec_names_the_fields_a_field_history_gives_as_they_were(tiny_tables, tmp_path):
    """``spec_for`` records the lead fields the history changes; the guard reads it there, so
    a feature table built elsewhere carries it too."""
    import dataclasses

    from leadscore.training.dataset import spec_for

    leads = tiny_tables.leads.assign(lead_status=["open", "open", "working"])
    history = pd.DataFrame(
        {
            "lead_id": pd.Series(["a"], dtype="string"),
            "field": ["lead_status"],
            "value": ["working"],
            "changed_at": pd.to_datetime(["2024-02-01"], utc=True),
        }
    )
    path = tmp_path / "c.yaml"
    path.write_text("features:\n  explicit:\n    extra: [lead_status]\n")
    cfg = load_config(path)
    cutoff = pd.Timestamp("2024-03-31", tz="UTC")
    plain = spec_for(dataclasses.replace(tiny_tables, leads=leads), cfg, cutoff)
    assert plain.history_fields == () and "lead_status" in plain.extra_categorical
    tables = dataclasses.replace(tiny_tables, leads=leads, field_history=history)
    spec = spec_for(tables, cfg, cutoff)
    assert spec.history_fields == ("lead_status",)
    assert FeatureSpec.from_dict(spec.to_dict()) == spec
