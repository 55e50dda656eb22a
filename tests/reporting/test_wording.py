"""Words and numbers as the pages print them: counts agree with their nouns, differences
never read as a signed zero."""

from __future__ import annotations

from leadscore.reporting.wording import (
    METRICS,
    plurals,
    rate,
    rate_interval,
    share,
    span_words,
)


def test_counts_written_with_s_in_brackets_agree_with_their_noun():
    assert plurals("rolling backtest: 4 fold(s) of 1 snapshot(s)") == (
        "rolling backtest: 4 folds of 1 snapshot"
    )
    assert plurals("on the latest 2 fold(s), 27,859 rows") == "on the latest 2 folds, 27,859 rows"
    assert plurals("over 1,200 row(s) and 0 night(s)") == "over 1,200 rows and 0 nights"
    assert plurals("column(s) a, b") == "column(s) a, b"  # no count: left as written


def test_a_difference_that_rounds_to_zero_keeps_its_first_digit():
    auc = METRICS["roc_auc"].difference
    assert auc(-0.0031) == "-0.003"
    assert auc(-0.0003) == "-0.0003"  # not "-0.000"
    assert auc(0.00024) == "+0.0002"
    assert auc(0.0) == "+0.000" and auc(-0.0) == "+0.000"
    share = METRICS["capture_at_10"].difference  # percentage points, no decimals
    assert share(0.1) == "+10 pts"
    assert share(-0.003) == "-0.3 pts"


def test_small_rates_keep_a_significant_digit_and_only_none_reads_zero():
    assert [rate(v) for v in (0.143, 0.0057, 0.00019, 0.0)] == ["14.3%", "0.6%", "0.02%", "0%"]
    assert rate_interval(0.0, 0.000701) == "0%-0.07%"  # never "0.0%-0.0%"
    assert [share(v) for v in (0.0, 1 / 576, 0.32, 575 / 576, 1.0)] == [
        "0%",
        "under 1%",
        "32%",
        "over 99%",
        "100%",
    ]


def test_a_fold_span_reads_in_words():
    assert span_words("2024-01-02..2025-04-02 (16)") == "2024-01-02 to 2025-04-02 (16 snapshots)"
    assert span_words("2025-07-02 (1)") == "2025-07-02"
    assert span_words("2025-07-02 (3)") == "2025-07-02 (3 snapshots)"
    assert span_words("rows 1,601-2,000") == "rows 1,601-2,000"
