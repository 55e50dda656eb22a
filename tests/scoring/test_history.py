"""Score history: one file per night and model version, reruns replace it, a lead's
trajectory in night order, point in time, and a damaged file named in one line."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.cli import main
from leadscore.errors import DataError
from leadscore.scoring.history import partition_path, partitions, read_history, record


def scores(as_of: str, values: dict[str, float], version: str = "leadscore/1") -> pd.DataFrame:
    ids = list(values)
    return pd.DataFrame(
        {
            "lead_id": pd.array(ids, dtype="string"),
            "as_of": pd.Timestamp(as_of, tz="UTC"),
            "score": list(values.values()),
            "tier": ["A" if v >= 20 else "C" for v in values.values()],
            "top_reasons": [f"+ reason of {i}" for i in ids],
            "model_version": version,
        }
    )


def keep(tmp_path, frame: pd.DataFrame) -> None:
    out = tmp_path / "out.parquet"
    frame.to_parquet(out, index=False)
    record(tmp_path / "history", out, frame["as_of"].iloc[0], frame["model_version"].iloc[0])


def test_reruns_replace_their_night_and_nights_add_up(tmp_path):
    keep(tmp_path, scores("2025-06-01", {"a": 10.0, "b": 30.0}))
    keep(tmp_path, scores("2025-06-01", {"a": 12.0, "b": 30.0}))  # the night rerun
    keep(tmp_path, scores("2025-06-02", {"a": 25.0}))
    keep(tmp_path, scores("2025-06-02", {"a": 24.0}, "leadscore/2"))  # a second model
    assert [
        p.relative_to(tmp_path / "history").as_posix() for p in partitions(tmp_path / "history")
    ] == [
        "as_of=2025-06-01/leadscore-1.parquet",
        "as_of=2025-06-02/leadscore-1.parquet",
        "as_of=2025-06-02/leadscore-2.parquet",
    ]
    a = read_history(tmp_path / "history", lead="a")
    assert a["score"].tolist() == [12.0, 25.0, 24.0]
    assert a["model_version"].tolist() == ["leadscore/1", "leadscore/1", "leadscore/2"]
    assert len(read_history(tmp_path / "history")) == 4


def test_a_run_reads_only_earlier_nights(tmp_path):
    keep(tmp_path, scores("2025-06-01", {"a": 10.0}))
    keep(tmp_path, scores("2025-06-02", {"a": 25.0}))
    earlier = read_history(tmp_path / "history", before=pd.Timestamp("2025-06-02", tz="UTC"))
    assert earlier["score"].tolist() == [10.0]


def test_a_damaged_file_is_named_and_the_rest_untouched(tmp_path):
    keep(tmp_path, scores("2025-06-01", {"a": 10.0}))
    keep(tmp_path, scores("2025-06-02", {"a": 25.0}))
    bad = partition_path(tmp_path / "history", pd.Timestamp("2025-06-02"), "leadscore/1")
    bad.write_bytes(b"not parquet")
    with pytest.raises(
        DataError, match=r"as_of=2025-06-02/leadscore-1.parquet cannot be read .*other 1 file"
    ):
        read_history(tmp_path / "history")
    assert read_history(tmp_path / "history", before=pd.Timestamp("2025-06-02", tz="UTC"))[
        "score"
    ].tolist() == [10.0]


def test_history_command_prints_a_trajectory(tmp_path, capsys):
    keep(tmp_path, scores("2025-06-01", {"a": 10.0}))
    keep(tmp_path, scores("2025-06-02", {"a": 25.0}))
    capsys.readouterr()
    assert main(["history", "--history", str(tmp_path / "history"), "--lead", "a"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [
        "2025-06-01  score  10.0  tier C  leadscore/1  + reason of a",
        "2025-06-02  score  25.0  tier A  leadscore/1  + reason of a",
    ]
    assert main(["history", "--history", str(tmp_path / "history"), "--lead", "zz"]) == 2
    assert "no kept scores for lead 'zz'" in capsys.readouterr().err


def test_score_change_and_tier_since_by_hand():
    from leadscore.scoring.history import carry

    night = pd.Timestamp("2025-06-02", tz="UTC")
    previous = pd.DataFrame(
        {
            "lead_id": pd.array(["a", "b"], dtype="string"),
            "score": [10.0, 30.0],
            "tier": ["C", "A"],
            "tier_since": pd.to_datetime(["2025-05-01", "2025-05-15"], utc=True),
        }
    )
    tonight = scores("2025-06-02", {"a": 25.0, "b": 31.2, "c": 5.0})
    out = carry(tonight, previous)
    assert out["score_change"].tolist()[:2] == [15.0, 1.2] and pd.isna(out["score_change"][2])
    assert out["tier_since"].tolist() == [night, pd.Timestamp("2025-05-15", tz="UTC"), night]
    # The history exists but holds no earlier night: every lead entered its tier tonight.
    first = carry(tonight, previous.iloc[:0])
    assert first["score_change"].isna().all() and (first["tier_since"] == night).all()
    # No history at all: nothing is known.
    unknown = carry(tonight, None)
    assert unknown["score_change"].isna().all() and unknown["tier_since"].isna().all()


def test_bin_counts_are_kept_beside_the_night_and_a_rerun_without_drops_them(tmp_path):
    from types import SimpleNamespace

    import numpy as np

    from leadscore.scoring.history import bins_path, read_bins
    from leadscore.scoring.night import keep_night

    night = scores("2025-06-01", {"a": 10.0, "b": 30.0})
    out = tmp_path / "out.parquet"
    night.to_parquet(out, index=False)
    history = str(tmp_path / "history")
    when = pd.Timestamp("2025-06-01", tz="UTC")
    counted = SimpleNamespace(out=out, bin_counts={"x": np.array([1, 1, 0])})
    keep_night(history, counted, when, "leadscore/1")
    assert read_bins(history, when, "leadscore/1")["x"].tolist() == [1, 1, 0]
    keep_night(history, SimpleNamespace(out=out, bin_counts=None), when, "leadscore/1")
    assert not bins_path(history, when, "leadscore/1").exists()
    assert read_bins(history, when, "leadscore/1") is None
    assert len(partitions(history)) == 1
