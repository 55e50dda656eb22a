"""Scores written chunk by chunk: the file holds every chunk in order, or the empty table."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.scoring.sinks import SCORE_COLUMNS, ScoreSink


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
