"""Fuzzed data folders: whatever the bytes, ``validate`` answers with counted decisions or
one fatal line, never a traceback (``main`` lets anything but a leadscore error escape)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.cli import main

COLUMNS = {
    "leads": ["lead_id", "created_at", "email", "job_title", "employees", "annual_revenue"],
    "events": ["lead_id", "occurred_at", "event_type"],
    "outcomes": ["lead_id", "closed_at", "won", "amount"],
}
TIMES = ["2024-01-05T10:00:00Z", "2024-13-45", "", "yesterday", "2025-02-01", "1e9"]
IDS = ["L1", "L2", "L3", "", " L1 ", "l1"]

cell = st.one_of(
    st.sampled_from(TIMES + IDS + ["true", "maybe", "about 50", "1.250,5", "-3", "nan", "inf"]),
    st.text(max_size=12),  # control characters, quotes, delimiters, any script
    st.binary(max_size=8).map(lambda b: b.decode("latin-1")),
    st.just("x" * 5000),  # a huge cell
)


@st.composite
def table(draw, name: str) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return b""  # an empty file
    known = draw(st.lists(st.sampled_from(COLUMNS[name]), unique=True))
    extra = draw(st.lists(st.text(min_size=1, max_size=6), max_size=2))
    header = draw(st.permutations(known + extra))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    rows = draw(
        st.lists(st.lists(cell, min_size=len(header), max_size=len(header) + 1), max_size=12)
    )
    lines = [delimiter.join(header)] + [delimiter.join(r) for r in rows]
    encoding = draw(st.sampled_from(["utf-8", "cp1252", "utf-16"]))
    return "\n".join(lines).encode(encoding, errors="replace")


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples on every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(leads=table("leads"), events=table("events"), outcomes=table("outcomes"))
def test_validate_never_gives_a_traceback(leads, events, outcomes):
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for name, data in (("leads", leads), ("events", events), ("outcomes", outcomes)):
            (d / f"{name}.csv").write_bytes(data)
        code = main(["validate", "--data", str(d)])
    assert code in (0, 2)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(leads=table("leads"), events=table("events"), outcomes=table("outcomes"))
def test_features_and_train_never_give_a_traceback(leads, events, outcomes):
    """The streamed path (the engine's scan of the events) and training answer fuzzed
    folders with a result or one fatal line too."""
    import os

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for name, data in (("leads", leads), ("events", events), ("outcomes", outcomes)):
            (d / f"{name}.csv").write_bytes(data)
        out = str(d / "features.parquet")
        code = main(["features", "--data", str(d), "--as-of", "2024-06-01", "--out", out])
        assert code in (0, 2)
        old = os.environ.get("MLFLOW_TRACKING_URI")
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{d}/mlflow.db"
        try:
            assert main(["train", "--data", str(d)]) in (0, 2)
        finally:
            if old is None:
                os.environ.pop("MLFLOW_TRACKING_URI")
            else:
                os.environ["MLFLOW_TRACKING_URI"] = old
