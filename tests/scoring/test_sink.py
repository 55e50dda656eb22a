"""Scores written chunk by chunk: the file holds every chunk in order, or the empty table."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.scoring.sinks import SCORE_COLUMNS, SEGMENT, NightSink, ScoreSink, place


def chunk(ids: list[str]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame(
        {
            "lead_id": pd.array(ids, dtype="string"),
            "as_of": pd.Series(pd.Timestamp("2025-06-01", tz="UTC"), index=range(n)),
            "probability": [0.25] * n,
            "score": [25] * n,
            "tier": ["warm"] * n,
            "baseline_score": [10.0] * n,
            "baseline_tier": ["cold"] * n,
            "top_reasons": pd.array([None] * n, dtype="string"),  # all missing in one chunk
            "model_version": ["m/1"] * n,
        }
    )


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_chunks_are_appended_in_order(tmp_path, suffix):
    path = tmp_path / f"s{suffix}"
    sink = ScoreSink(path, csv=suffix == ".csv")
    first = chunk(["a", "b"])
    first["top_reasons"] = pd.array(["x; y", "z"], dtype="string")
    sink.add(first)
    sink.add(chunk(["c"]))
    sink.close()
    back = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    assert back["lead_id"].tolist() == ["a", "b", "c"] and sink.rows == 3
    assert back["top_reasons"].iloc[:2].tolist() == ["x; y", "z"]
    assert pd.isna(back["top_reasons"].iloc[2])
    if suffix == ".parquet":
        assert str(back["as_of"].dtype) == "datetime64[us, UTC]" or "UTC" in str(
            back["as_of"].dtype
        )


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_no_chunk_gives_the_empty_table(tmp_path, suffix):
    path = tmp_path / f"s{suffix}"
    sink = ScoreSink(path, csv=suffix == ".csv")
    sink.close()
    back = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    assert list(back.columns) == list(SCORE_COLUMNS) and back.empty


def test_a_scores_file_names_the_model_that_wrote_it(tmp_path):
    from leadscore.scoring.sinks import model_of_scores

    frame = pd.DataFrame({"lead_id": ["a", "b"], "model_version": ["x-flat/4", "x-flat/4"]})
    frame.to_csv(tmp_path / "s.csv", index=False)
    frame.to_parquet(tmp_path / "s.parquet")
    assert model_of_scores(tmp_path / "s.csv") == "models:/x-flat/4"
    assert model_of_scores(tmp_path / "s.parquet") == "models:/x-flat/4"
    frame.assign(model_version="runs:/abc/model").to_csv(tmp_path / "r.csv", index=False)
    assert model_of_scores(tmp_path / "r.csv") is None  # not a registry version
    assert model_of_scores(tmp_path / "missing.csv") is None


def _night(segment: bool) -> pd.DataFrame:
    """Ten leads of a segment scoring high, ten of the pooled model's scoring low."""
    import numpy as np

    p = np.r_[np.linspace(0.9, 0.05, 10), np.linspace(0.9, 0.05, 10) / 100]
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(20)],
            "probability": p,
            "score": p * 100,
            "margin": np.zeros(20),
        }
    )
    if segment:
        frame[SEGMENT] = ["europe"] * 10 + [""] * 10
    return frame


def test_a_night_with_tier_segments_cuts_tiers_within_each_and_never_writes_them(tmp_path):
    from leadscore.config import TierConfig

    tiers = TierConfig(shares={"A": 0.1, "B": 0.2, "C": 0.3}, rest="D")
    placed = place(_night(True), tiers)
    assert list(placed["tier"]) == list("ABBCCCDDDD") * 2
    assert list(placed["rank"]) == list(range(1, 21))  # ranks stay the night's
    assert SEGMENT not in placed and "margin" not in placed
    assert list(place(_night(False), tiers)["tier"][10:]) == ["C", "C"] + ["D"] * 8
    # The night written chunk by chunk gets the same tiers.
    sink = NightSink(tmp_path / "night.parquet")
    night = _night(True)
    sink.add(night.iloc[:7].assign(model_version="v"))
    sink.add(night.iloc[7:].assign(model_version="v"))
    parts = pd.concat(list(sink.placed(tiers)), ignore_index=True)
    assert list(parts["tier"]) == list("ABBCCCDDDD") * 2 and SEGMENT not in parts
