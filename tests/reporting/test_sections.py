"""The review's section data: hand-made run tables in, words and figures worked out by hand out."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from leadscore.config import TierConfig, defaults
from leadscore.model.settings import ModelSettings
from leadscore.reporting import (
    appendix,
    blocks,
    calibration,
    conversion,
    drivers,
    header,
    today,
    versus,
)
from leadscore.reporting.accounts import accounts_section
from leadscore.reporting.inputs import RunTables
from leadscore.reporting.render import Page, render
from leadscore.reporting.wording import (
    Segment,
    b,
    join_rich,
    period_words,
    plain,
    rich,
    split_range,
    tier_ranges,
)
from leadscore.scoring.accounts import roll_up
from leadscore.tracking import ModelRef

TIERS = TierConfig(cutoffs={"A": 25, "B": 10, "C": 3}, rest="D")


def comparison(**rows: tuple[float, float, float, float]) -> pd.DataFrame:
    """metric -> (model, baseline, difference_low, difference_high)."""
    out = []
    for metric, (m, base, lo, hi) in rows.items():
        out.append(
            {
                "metric": metric,
                "model": m,
                "model_low": m - 0.01,
                "model_high": m + 0.01,
                "baseline": base,
                "baseline_low": base - 0.01,
                "baseline_high": base + 0.01,
                "difference": m - base,
                "difference_low": lo,
                "difference_high": hi,
                "better": "model" if m > base else "baseline",
            }
        )
    return pd.DataFrame(out).set_index("metric")


def run_tables(**extra) -> RunTables:
    settings = ModelSettings.for_events(defaults()).model_copy(update={"tiers": TIERS})
    fields = dict(
        ref=ModelRef("models:/leadscore@champion", "leadscore", "3", "abc123", ["champion"]),
        settings=settings,
        model=None,
        started=datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc),
        tags={
            "backtest.method": "rolling backtest: 2 fold(s) of 1 snapshot(s)",
            "deploy.window": "2024-02-01..2025-10-01 (21)",
        },
        cadence="monthly",
        comparison=comparison(roc_auc=(0.9, 0.8, 0.05, 0.15), capture_at_10=(0.5, 0.4, 0.0, 0.2)),
    )
    fields.update(extra)
    return RunTables(**fields)


# --- wording ------------------------------------------------------------------------------


def test_tier_ranges_read_from_the_cut_offs():
    assert tier_ranges(TIERS) == {
        "A": "score 25 or more",
        "B": "score 10 to under 25",
        "C": "score 3 to under 10",
        "D": "score below 3",
    }


def test_periods_and_split_ranges():
    assert period_words("events", "monthly", 2, "").over == "over the 2 test months"
    assert period_words("events", "7", 1, "").each == "at each 7-day snapshot"
    assert period_words("flat", None, 4, "").each == "in each fold"
    assert period_words("flat", None, 4, "").over == "over the 4 backtest folds"
    assert split_range("2025-09-01 (1)") == ("2025-09-01", "2025-09-01", 1)
    assert split_range("2025-09-01..2025-10-01 (2)") == ("2025-09-01", "2025-10-01", 2)
    assert split_range("none") is None


def test_rich_text_joins_with_and():
    text = join_rich([[b("x")], [b("y")], [b("z")]])
    assert plain(text) == "x, y and z"
    assert [s.kind for s in text] == ["b", "text", "b", "text", "b"]
    assert rich("a ", b(1), [Segment("!")]) == [Segment("a "), Segment("1", "b"), Segment("!")]


# --- blocks -------------------------------------------------------------------------------


def test_reasons_are_split_by_sign():
    cell = blocks.reasons("+ viewed the pricing page; - unsubscribed; odd")
    assert cell.items == (("up", "viewed the pricing page"), ("down", "unsubscribed"), ("", "odd"))
    assert blocks.reasons(None).items == ()


def test_table_classes_are_decided_per_cell():
    t = blocks.table(["a", "b"], [[blocks.text(1), blocks.text(2)]], {1}, highlight={(0, 1)})
    assert [cls for cls, _ in t.head] == ["", "num"]
    assert [cls for cls, _ in t.body[0]] == ["", "num hl"]


# --- sections -----------------------------------------------------------------------------


def test_a_clear_auc_gap_says_the_model_ranks_better():
    v = versus.versus_section(run_tables(), period_words("events", "monthly", 2, ""))
    words = plain(v.key)
    assert words.startswith("The model ranks leads better than the points model: AUC 0.90 vs 0.80.")
    assert "hold 50% of all conversions; the points model's top 10% hold 40%." in words
    verdicts = [row[-1][1].text for row in v.metrics.body]
    assert verdicts == ["Model better", "No clear difference"]  # capture's interval touches 0


def test_an_interval_across_zero_is_no_clear_difference():
    run = run_tables(comparison=comparison(roc_auc=(0.81, 0.80, -0.02, 0.04)))
    v = versus.versus_section(run, period_words("events", "monthly", 2, ""))
    assert "about equally well" in plain(v.key)


def test_capacity_sentence_names_the_pick_and_the_biggest_gap():
    cap = pd.DataFrame(
        {
            "capacity": [50, 100, 200],
            "model_conversions": [10, 18, 30],
            "baseline_conversions": [9, 15, 21],
            "best_possible": [20, 30, 40],
            "extra_conversions": [1, 3, 9],
            "periods": [2, 2, 2],
        }
    )
    run = run_tables(capacity=cap)
    v = versus.versus_section(run, versus.capacity_period(run))
    assert plain(v.capacity_key) == (
        "If your team can work the top 100 leads each month, over the 2 test months the model's "
        "list holds 18 conversions and the points model's 15 (at most 30 were possible). The "
        "biggest gap is at 200 leads each month: the model finds 9 more (30 vs 21)."
    )


def _rank_bands(rates, leads):
    conv = [round(r * n) for r, n in zip(rates, leads, strict=True)]
    return pd.DataFrame(
        {
            "band": [f"band {i}" for i in range(len(rates))],
            "score_low": np.arange(len(rates), 0, -1, dtype="float64"),
            "score_high": np.arange(len(rates), 0, -1, dtype="float64") + 0.9,
            "leads": leads,
            "conversions": conv,
            "conversion_rate": rates,
            "rate_low": [r / 2 for r in rates],
            "rate_high": [min(1.0, r * 2) for r in rates],
            "share_of_conversions": [c / sum(conv) for c in conv],
            "approach": "model",
        }
    )


def test_bands_headline_says_only_what_the_table_shows():
    falls = conversion.conversion_section(
        run_tables(bands=_rank_bands([0.3, 0.1, 0.01], [10, 90, 900]))
    )
    assert plain(falls.key) == (
        "Leads in the band 0 of scores converted at 30.0% (10 leads), against 1.0% in the "
        "bottom band (band 2, 900 leads). Conversion falls at every step down the table."
    )
    assert len(falls.bands.body) == 3
    # The shape: a thin band above a better one. The headline must not claim a rise.
    bumpy = conversion.band_headline(_rank_bands([0.057, 0.123, 0.011], [35, 2340, 171434]))
    assert plain(bumpy).endswith(
        "Conversion falls from the top band to the bottom one, though not at every step "
        "(1 of 2 steps down the table go up; see the intervals)."
    )
    flat = conversion.band_headline(_rank_bands([0.01, 0.02], [100, 100]))
    assert plain(flat).endswith("Conversion does not fall from the top band to the bottom one.")


@pytest.mark.parametrize(
    ("ece", "verdict"), [(0.002, "That is small next to"), (0.02, "That is large next to")]
)
def test_calibration_sentence_compares_the_error_with_the_base_rate(ece, verdict):
    comp = comparison(ece=(ece, 0.03, -1, 1))
    folds = pd.DataFrame({"test_rows": [600, 400], "test_positives": [25, 15]})
    c = calibration.calibration_section(run_tables(comparison=comp, folds=folds))
    words = plain(c.key)
    assert f"off by {ece * 100:.2f} percentage points" in words
    assert verdict in words and "4.0%" in words


def test_the_funnel_stage_is_engagement_in_the_split_and_the_chart():
    """Two leads: the stage moves each score by 0.5 + 0.1 (either way), seniority by 0.4: the
    funnel stage is 0.6 of 1.0 of the movement, so 60% engagement and 40% fit."""
    from matplotlib.colors import to_rgba

    from leadscore import charts
    from leadscore.features.spec import FeatureSpec

    spec = FeatureSpec((), (7,), 7.0, (), True, (), (), stages=("lead", "sql"))
    contrib = pd.DataFrame(0.0, index=[0, 1], columns=[*spec.feature_columns, "bias"])
    contrib["current_stage"] = [0.5, -0.5]
    contrib["days_in_stage"] = [0.1, -0.1]
    contrib["seniority"] = [0.4, 0.4]
    scorer = SimpleNamespace(spec=spec, contributions=lambda rows: contrib)
    imp, basis = drivers.drivers(scorer, pd.DataFrame(index=[0, 1]))
    top = imp.set_index("label").loc[["Funnel stage", "Seniority (from job title)"]]
    assert top["side"].tolist() == ["engagement", "fit"]
    assert top["share"].tolist() == pytest.approx([0.6, 0.4])
    split = drivers.drivers_section(run_tables(), imp, basis).split
    assert plain(split.sentence) == (
        "60% of the score comes from engagement (what the lead did: visits, emails, demo "
        "requests, funnel stage) and 40% from fit (who the lead is: seniority, company size, "
        "industry, country)."
    )
    assert (split.engagement_width, split.fit_width) == ("60.0%", "40.0%")
    assert drivers.drivers_section(run_tables(), imp, basis).left_out is None
    guarded = drivers.drivers_section(run_tables(leakage=_leakage()), imp, basis)
    assert plain(guarded.left_out).startswith("Left out of the score: Tags. ")
    ax = charts.drivers_chart(imp.head(2)).axes[0]
    colours = dict(zip([t.get_text() for t in ax.get_yticklabels()], ax.patches, strict=False))
    assert colours["Funnel stage"].get_facecolor() == to_rgba(charts.ENGAGEMENT_COLOR)
    assert colours["Seniority (from job title)"].get_facecolor() == to_rgba(charts.FIT_COLOR)


# --- today's leads ------------------------------------------------------------------------


def scores_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": ["a", "b", "c", "d", "e", "f"],
            "score": [40.0, 30.0, 12.0, 5.0, 1.0, 0.5],
            "probability": [0.4, 0.3, 0.12, 0.05, 0.01, 0.005],
            "tier": ["A", "A", "B", "C", "D", "D"],
            "baseline_tier": ["SQL", "nurture", "MQL", "nurture", "SQL", "nurture"],
            "top_reasons": ["+ x", "+ y", "- z", "+ w", "- v", "- u"],
            "model_version": "leadscore/3",
        }
    )


def test_todays_key_counts_the_top_tier_and_its_expected_conversions():
    t = today.todays_leads(run_tables(), scores_frame())
    assert plain(t.key) == (
        "2 leads (33.3%) are in tier A; the model expects about 1 of them to become a won deal "
        "within 90 days, out of about 1 across all 6 leads."
    )
    assert t.other_model is None
    # b (A vs nurture) and e (D vs SQL) differ; a, c, d and f match.
    assert t.changed == (
        "2 leads (33.3%) get a different priority from the model than from the points model "
        "(SQL matched with the top tier, MQL with the second, nurture with the rest)."
    )


def test_disagreement_names_qualified_leads_ranked_last_and_nurtured_ones_ranked_first():
    t = today.todays_leads(run_tables(), scores_frame())
    assert plain(t.disagree_key) == (
        "Of the leads the points model qualifies, the model ranks 1 of 2 SQL and 0 of 1 MQL in "
        "tier D (score below 3): check them before calling. Of the 3 leads the points model "
        "leaves in nurture, the model puts 1 in tier A or B: leads worth a call that the "
        "points model misses."
    )
    # the SQL lead in tier D and the nurtured one in tier A are highlighted
    rows = {row[0][1].parts[0].text: [cls for cls, _ in row] for row in t.cross.body}
    assert "hl" in rows["SQL"][-2] and "hl" in rows["nurture"][1]


def test_scores_of_another_model_are_flagged():
    frame = scores_frame().assign(model_version="leadscore/2")
    t = today.todays_leads(run_tables(), frame)
    assert t.other_model == (
        "These scores come from leadscore/2; the rest of this report describes leadscore/3."
    )


def page_of(run: RunTables, scores: pd.DataFrame, **sections) -> Page:
    """A page of hand-made sections: the header, drivers, versus, calibration, today's leads
    and accounts; ``sections`` replace any of them (or add the appendix)."""
    fields = dict(
        header=header.Header("leadscore v3", run.outcome, "A = x", [("Model", "v3")], []),
        drivers=drivers.Drivers("what", rich("key"), None, blocks.Image("AAAA", "alt"), "note"),
        conversion=None,
        versus=versus.versus_section(run, period_words("events", "monthly", 2, "")),
        calibration=calibration.Calibration(),
        funnel=None,
        today=today.todays_leads(run, scores),
        accounts=accounts_section(
            roll_up(scores.assign(probability=0.1), pd.Series(["Acme"] * len(scores))).accounts
        ),
        appendix=None,
        generated="now",
        run_id="abc",
        uri="models:/leadscore@champion",
        store="sqlite:///mlflow.db",
    )
    fields.update(sections)
    return Page(**fields)


def test_the_page_escapes_what_it_is_given():
    run = run_tables()
    hostile = scores_frame().assign(lead_id=["<script>x</script>", "b", "c", "d", "e", "f"])
    page = page_of(
        run,
        hostile,
        header=header.Header("leadscore v3", run.outcome, "A = x", [("Model", "<b>v3</b>")], []),
        accounts=accounts_section(
            roll_up(hostile.assign(probability=0.1), pd.Series(["<i>Acme</i>"] * 6)).accounts
        ),
    )
    html = render(page)
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "&lt;b&gt;v3&lt;/b&gt;" in html
    assert "<i>Acme</i>" not in html and "&lt;i&gt;Acme&lt;/i&gt;" in html
    assert 'font: 15px/1.55 -apple-system, "Segoe UI"' in html  # the stylesheet is not escaped


def _folds() -> pd.DataFrame:
    """Two backtest folds, the model ahead in the second only."""
    return pd.DataFrame(
        {
            "test": ["2025-09-01 (1)", "2025-10-01 (1)"],
            "train": ["2024-02-01..2025-06-01 (17)", "2024-02-01..2025-07-01 (18)"],
            "test_rows": [600, 400],
            "test_positives": [25, 15],
            **{
                f"{side}_roc_auc{end}": [a + d, b + d]
                for side, (a, b) in (("model", (0.80, 0.90)), ("baseline", (0.85, 0.70)))
                for end, d in (("", 0.0), ("_low", -0.05), ("_high", 0.05))
            },
            "mean_predicted_model": [0.04, 0.035],
            "realised": [25 / 600, 15 / 400],
        }
    )


def _board() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "contestant": ["logistic", "points sheet"],
            "role": ["kind", "points"],
            "winner": [True, False],
            "roc_auc_latest": [0.9, 0.7],
            "roc_auc_all": [0.85, 0.78],
            "predicted_latest": [0.035, 0.04],
            "realised_latest": [0.0375] * 2,
            "lead": [np.nan, 0.2],
            "lead_low": [np.nan, 0.1],
            "lead_high": [np.nan, 0.3],
            "rows_latest": [400] * 2,
            "conversions_latest": [15] * 2,
            "metric": ["roc_auc"] * 2,
            "judged_folds": ["2"] * 2,
        }
    )


def test_the_technical_notes_are_in_the_appendix_after_the_sales_sections():
    note = "account features: roc_auc 0.9201 with, 0.9210 without [-0.0058, +0.0010]"
    run = run_tables(
        folds=_folds(),
        tournament=_board(),
        notes=[note],
        tags={
            "backtest.method": "rolling backtest: 2 fold(s) of 1 snapshot(s) "
            "(set by the history: training.backtest)",
            "champion.reason": "roc_auc model 0.9000 vs points sheet 0.7000; first champion",
            "champion.decision": "promoted",
        },
    )
    html = render(page_of(run, scores_frame(), appendix=appendix.appendix_section(run)))
    heads = re.findall(r"<h2>([^<]+)</h2>", html)
    assert heads == [
        "What drives the score",
        "Model vs the points model",
        "Can the score be read as a chance?",
        "Today's leads by tier",
        "Accounts most likely to convert",
        "For analysts: how the model was built and tested",
    ]
    start = html.index(">For analysts: how the model was built and tested</h2>")
    body, end = html[:start], html[start:]
    for technical in (
        ">How the estimate was made</h3>",
        "(set by the history: training.backtest)",
        "the model ranked leads better than the points sheet in <b>1 of 2</b>",
        ">Which kind of model</h3>",
        "Champion decision (promoted): roc_auc model 0.9000 vs points sheet 0.7000",
        ">Notes from training</h3>",
        "[-0.0058, +0.0010]",
    ):
        assert technical not in body and technical in end, technical


def test_a_run_without_notes_or_folds_has_no_appendix():
    assert appendix.appendix_section(run_tables()) is None
    assert appendix.appendix_section(run_tables(notes=["x"])) == appendix.Appendix(["x"], None)


def test_when_the_points_sheet_scores_the_body_says_so():
    """Which model scores the leads is for sales: it stays in the header, not the appendix."""
    points = run_tables(model=SimpleNamespace(scorer=SimpleNamespace(kind="points")))
    note = header.champion_note(points)
    assert note == (
        "The points sheet beat the model on the most recent test periods, so it is the points "
        "sheet that scores your leads: their chances come from its points, their reasons from "
        "its rules."
    )
    assert header.champion_note(run_tables(model=SimpleNamespace(scorer=object()))) is None
    head = header.Header("leadscore v3", points.outcome, "A = x", [], [], champion_note=note)
    html = render(
        page_of(points, scores_frame(), header=head, appendix=appendix.Appendix(["x"], None))
    )
    assert html.index(note) < html.index(">For analysts: how the model was built and tested<")


def test_a_band_without_conversions_shows_an_interval_above_zero():
    # 0 conversions of 5,259 leads: the Clopper-Pearson 95% upper bound is
    # 1 - 0.025 ** (1 / 5259) = 0.000701, i.e. 0.07%; 1 of 5,274 converts at 0.019%.
    bands = _rank_bands([0.35, 1 / 5274, 0.0], [526, 5274, 5259])
    bands["conversions"] = [575, 1, 0]
    bands["rate_low"] = [0.311, 4.8e-6, 0.0]
    bands["rate_high"] = [0.394, 0.00106, 1 - 0.025 ** (1 / 5259)]
    bands["share_of_conversions"] = [575 / 576, 1 / 576, 0.0]
    section = conversion.conversion_section(run_tables(bands=bands))
    cells = [[c.text for _, c in row][4:] for row in section.bands.body]
    assert cells == [
        ["35.0%", "31.1%-39.4%", "over 99%"],
        ["0.02%", "0.0005%-0.1%", "under 1%"],
        ["0%", "0%-0.07%", "0%"],
    ]
    assert plain(section.key).endswith(
        "against 0% in the bottom band (band 2, 5,259 leads). Conversion falls at every step "
        "down the table."
    )
    # Two bands without conversions: 0% to 0% is no fall.
    level = conversion.band_headline(_rank_bands([0.3, 0.01, 0.0, 0.0], [10, 90, 900, 900]))
    assert plain(level).endswith(
        "Conversion never rises down the table: it falls at 2 of 3 steps and stays level at 1 step."
    )


def _said(rows: list[tuple[str, int, float, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["band", "leads", "predicted", "conversions"])
    return frame.assign(observed=frame["conversions"] / frame["leads"])


def test_high_scores_that_promise_more_than_happened_are_named():
    said = _said(
        [
            ("0-10", 9000, 0.01, 90),
            ("10-20", 300, 0.14, 45),  # 15% against 14%: on the mark
            ("20-30", 100, 0.25, 24),
            ("30-40", 100, 0.35, 25),
            ("40-50", 100, 0.45, 30),
        ]
    )
    # From 10: 400 leads, predicted (42 + 25 + 35 + 45) / 400 = 36.75%, converted 124 / 400 =
    # 31.0%; 5.75 points against a standard error of sqrt(.3675 * .6325 / 400) = 2.41 points:
    # 2.39 errors, under 2.58. From 20: 300 leads, predicted 35.0%, converted 79 / 300 = 26.3%;
    # 8.67 points against 2.75: 3.15 errors, and 25% of the prediction.
    assert plain(calibration.high_scores_gap(said)) == (
        " From a score of 20 up, though, fewer converted than predicted: 35.0% predicted, "
        "26.3% converted (300 held-out leads); read those scores as a ranking more than as an "
        "exact chance."
    )
    on_the_mark = said.assign(conversions=[90, 42, 25, 35, 45])
    assert calibration.high_scores_gap(on_the_mark) is None  # every range as predicted
    assert calibration.high_scores_gap(said.iloc[:1]) is None  # too few high scores


# --- quality by slice ---------------------------------------------------------------------


def _slices() -> pd.DataFrame:
    """Three lead sources: web fine, partner ranked better by the points model and
    over-predicted, and the rest pooled, too few to judge."""
    return pd.DataFrame(
        {
            "column": "lead_source",
            "value": ["web", "partner", "other"],
            "values": [1, 1, 4],
            "leads": [4000, 1500, 300],
            "conversions": [200, 40, 6],
            "judged": [True, True, False],
            **{
                f"{side}_roc_auc{end}": [a + d, b + d, c + d]
                for side, (a, b, c) in (
                    ("model", (0.80, 0.60, 0.70)),
                    ("baseline", (0.75, 0.72, 0.70)),
                )
                for end, d in (("", 0.0), ("_low", -0.03), ("_high", 0.03))
            },
            "expected": [190.0, 80.4, 5.0],
            "expected_low": [163.0, 63.0, 0.6],
            "expected_high": [217.0, 97.8, 9.4],
            "realised_over_expected": [200 / 190, 40 / 80.4, 6 / 5],
            "loses_to_points": [False, True, False],
            "miscalibrated": [False, True, False],
            "leads_A": [400, 100, 20],
            "conversions_A": [80, 5, 2],
            "leads_D": [3600, 1400, 280],
            "conversions_D": [120, 35, 4],
        }
    )


def _leakage() -> pd.DataFrame:
    """leakage.csv as training logs it: one feature left out, one kept, one not flagged."""
    return pd.DataFrame(
        {
            "feature": ["Tags", "Lead Quality", "TotalVisits"],
            "single_auc": [0.922, 0.971, 0.57],
            "marked_share": [0.712, 0.0, 0.0],
            "marked_cells": ["will revert after reading the email", np.nan, np.nan],
            "rule": [
                "filled almost only for converted leads: 71% of the converted leads' held-out "
                "rows hold a value on which 95%+ converted",
                "alone ranks the held-out rows with ROC AUC 0.971",
                np.nan,
            ],
            "flagged": [True, True, False],
            "kept": [False, True, False],
        }
    )


def test_a_flagged_group_is_said_in_sales_words_and_detailed_in_the_appendix():
    run = run_tables(slices=_slices(), slice_min_conversions=20)
    said = plain(versus.versus_section(run, period_words("events", "monthly", 2, "")).groups)
    assert said == (
        "In 1 group of leads the model falls short: lead source partner, where the points "
        "model ranks its leads better and 40 converted against 80 the model expected. The "
        "appendix shows every group."
    )
    html = render(page_of(run, scores_frame(), appendix=appendix.appendix_section(run)))
    start = html.index(">For analysts: how the model was built and tested</h2>")
    body, end = html[:start], html[start:]
    assert "the points model ranks its leads better" in body
    for technical in (">Quality by group of leads</h3>", "paired bootstrap", "Too few to judge"):
        assert technical not in body and technical in end, technical
    table = end[end.index('<table class="slices">') :]
    assert "lead source: other (4 values)" in table
    assert "A 5/100 · D 35/1,400" in table
    assert "Points better; miscalibrated" in table and table.count("No flag") == 1
    assert "<b>2 groups</b> with at least 20 conversions judged, <b>1 flagged</b>" in end


def test_without_a_flag_the_body_says_no_group_falls_short():
    quiet = _slices().assign(loses_to_points=False, miscalibrated=False)
    said = plain(
        versus.versus_section(
            run_tables(slices=quiet), period_words("events", "monthly", 2, "")
        ).groups
    )
    assert said.startswith("By lead source: in none of the 2 groups of leads with enough")
    assert (
        versus.versus_section(run_tables(), period_words("events", "monthly", 2, "")).groups is None
    )


def test_a_slice_value_spelled_like_a_missing_one_is_read_back_as_text(tmp_path):
    from leadscore.reporting.inputs import _tables

    frame = _slices().assign(value=["NA", "none", "other"])
    frame.loc[2, "model_roc_auc"] = np.nan
    frame.to_csv(tmp_path / "slices.csv", index=False)
    pd.DataFrame({"metric": ["roc_auc"]}).to_csv(tmp_path / "evaluation.csv", index=False)
    read = _tables(
        {"slices.csv": tmp_path / "slices.csv", "evaluation.csv": tmp_path / "evaluation.csv"}
    )["slices"]
    assert list(read["value"]) == ["NA", "none", "other"]
    assert np.isnan(read.loc[2, "model_roc_auc"]) and read["loses_to_points"].dtype == bool


def test_left_out_features_get_one_plain_sentence_in_the_body_and_figures_in_the_appendix():
    from leadscore.reporting.leakage import left_out_sentence

    assert plain(left_out_sentence(_leakage())) == (
        "Left out of the score: Tags. On its own it picked out the leads that converted almost "
        "perfectly, which usually means it is filled in after the sale: a new lead does not "
        "have it yet."
    )
    both = _leakage().assign(kept=False)
    assert plain(left_out_sentence(both)).startswith(
        "Left out of the score: Tags and Lead Quality. On their own each picked out"
    )
    assert left_out_sentence(_leakage().assign(flagged=False)) is None
    assert left_out_sentence(None) is None
    from leadscore.training.leakage import EXPORT_TIME_RULE

    named = pd.DataFrame(
        {
            "feature": ["Last Activity", "Lead Quality"],
            "single_auc": [0.727, 0.800],
            "marked_share": [0.0, 0.05],
            "marked_cells": [np.nan, np.nan],
            "export_time": [True, True],
            "rule": [EXPORT_TIME_RULE, EXPORT_TIME_RULE],
            "flagged": [True, True],
            "kept": [False, False],
        }
    )
    assert plain(left_out_sentence(named.iloc[:1])) == (
        "Left out of the score: Last Activity. Sales fill it in after contacting a lead, and "
        "the data holds its value as of the export, not as it was when the lead was new."
    )
    mixed = plain(left_out_sentence(pd.concat([_leakage(), named], ignore_index=True)))
    assert mixed.startswith("Left out of the score: Tags. On its own it picked out")
    assert mixed.endswith(
        "yet. Also left out: Last Activity and Lead Quality. Sales fill them in after "
        "contacting a lead, and the data holds their value as of the export, not as it was "
        "when the lead was new."
    )

    run = run_tables(leakage=_leakage(), tags={"leakage.rows": "each backtest fold's rows"})
    drivers_ = drivers.Drivers(
        "what",
        rich("key"),
        None,
        blocks.Image("AAAA", "alt"),
        "note",
        left_out_sentence(_leakage()),
    )
    html = render(
        page_of(run, scores_frame(), drivers=drivers_, appendix=appendix.appendix_section(run))
    )
    start = html.index(">For analysts: how the model was built and tested</h2>")
    body, end = html[:start], html[start:]
    assert "<p>Left out of the score: <b>Tags</b>. On its own" in body
    assert (
        "The leakage guard checked 3 features on each backtest fold&#39;s rows: 2 flagged." in end
    )
    assert "kept (training.allow_features)" in end and "left out of the model" in end
    assert "0.922" in end and "71%" in end and "0.922" not in body


def test_a_guard_that_flagged_nothing_says_so_in_the_appendix_only():
    quiet = _leakage().assign(flagged=False, kept=False)
    section = appendix.appendix_section(run_tables(leakage=quiet))
    assert section.leakage.key == "The leakage guard checked 3 features: none flagged."
    assert section.leakage.table is None


def _segments() -> pd.DataFrame:
    """segments.csv as training logs it: one segment kept, one judged and not, one too small."""
    return pd.DataFrame(
        {
            "segment": ["europe", "americas", "asia"],
            "values": ["de, fr, uk", "ca, us", "jp"],
            "out_of_time_rows": [9000, 12000, 800],
            "conversions": [310, 420, 12],
            "learning_conversions": [900, 1300, 40],
            "folds": [4, 4, 3],
            "judged": [True, True, False],
            "segment_model": [0.861, 0.902, float("nan")],
            "pooled_model": [0.822, 0.905, float("nan")],
            "points_sheet": [0.701, 0.77, float("nan")],
            "kept": [True, False, False],
            "why": [
                "its own model is ahead of every pooled kind beyond chance",
                "not clearly ahead of lightgbm",
                "not judged: 12 conversions in its out-of-time rows (segments.min_conversions 100)",
            ],
        }
    )


def test_the_appendix_names_the_segments_with_a_model_of_their_own():
    run = run_tables(segments=_segments(), tags={"segments.column": "region"})
    section = appendix.appendix_section(run)
    assert section.segments.key.startswith(
        "Leads were cut into 3 segments by region; 2 had enough conversions to be judged, "
        "and europe has a model of its own."
    )
    html = render(page_of(run, scores_frame(), appendix=section))
    end = html[html.index(">For analysts: how the model was built and tested</h2>") :]
    assert ">Segments with a model of their own</h3>" in end
    assert "0.861" in end and "own model" in end and "pooled model" in end and "n/a" in end
    none_kept = appendix.appendix_section(run_tables(segments=_segments().assign(kept=False)))
    assert "and the pooled model serves every one." in none_kept.segments.key
    assert appendix.appendix_section(run_tables(notes=["x"])).segments is None
