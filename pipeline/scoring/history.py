"""Score history: every nightly run's scores kept, one Parquet file per run, so a lead's
score can be followed over time.

Layout: ``<folder>/as_of=YYYY-MM-DD/<model>-<version>.parquet`` (a Hive-style partition
that DuckDB, Spark and pyarrow read as one dataset). A rerun for the same ``as_of`` and
model version replaces its file atomically, so reruns never duplicate a night.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from leadscore.data.files import write_atomic
from leadscore.errors import DataError


def partition_path(folder: str | Path, as_of: pd.Timestamp, version: str) -> Path:
    """Where the run of ``version`` at ``as_of`` is kept."""
    name = re.sub(r"[^0-9A-Za-z._]+", "-", version).strip("-") or "model"
    return Path(folder) / f"as_of={as_of:%Y-%m-%d}" / f"{name}.parquet"


def record(folder: str | Path, scores: Path, as_of: pd.Timestamp, version: str) -> Path:
    """Keep a scores output (a Parquet file or folder, or a CSV file) in the history."""
    try:
        table = (
            pa.Table.from_pandas(
                pd.read_csv(scores, dtype={"lead_id": "string"}), preserve_index=False
            )
            if scores.suffix == ".csv"
            else pq.read_table(scores)
        )
    except (pa.ArrowException, OSError, ValueError) as err:
        raise DataError(f"history: the scores {scores.name} cannot be read ({err})") from None
    target = partition_path(folder, as_of, version)
    return write_atomic(target, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def bins_path(folder: str | Path, as_of: pd.Timestamp, version: str) -> Path:
    """Where the run's rows per reference bin are kept, beside its scores."""
    return partition_path(folder, as_of, version).with_suffix(".bins.json")


def record_bins(
    folder: str | Path, as_of: pd.Timestamp, version: str, counts: dict[str, np.ndarray]
) -> Path:
    """Keep a run's rows per bin of each reference feature (for ``leadscore monitor``)."""
    text = json.dumps(
        {"version": version, "counts": {k: [int(x) for x in v] for k, v in counts.items()}}
    )
    target = bins_path(folder, as_of, version)
    return write_atomic(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_bins(
    folder: str | Path, as_of: pd.Timestamp, version: str
) -> dict[str, np.ndarray] | None:
    """A run's kept rows per bin, or None when none were kept (or the file is unreadable:
    the monitor then builds the night's features again)."""
    path = bins_path(folder, as_of, version)
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        return {k: np.asarray(v, dtype="int64") for k, v in stored["counts"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def partitions(folder: str | Path, before: pd.Timestamp | None = None) -> list[Path]:
    """The history's files in as_of order (then by name); with ``before``, only the runs
    strictly before that moment (a run reads no history from its own night or later)."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"history: folder {root} does not exist")
    found = []
    for part in sorted(root.glob("as_of=*/*.parquet")):
        day = pd.Timestamp(part.parent.name.removeprefix("as_of="), tz="UTC")
        if before is None or day < before:
            found.append(part)
    return found


def nightly_files(folder: str | Path, before: pd.Timestamp | None = None) -> list[Path]:
    """One file per kept night, oldest night first: of a night several model versions
    scored, the latest written (then the last by name)."""
    latest: dict[str, Path] = {}
    for part in partitions(folder, before):
        night = part.parent.name
        if night not in latest or (part.stat().st_mtime_ns, part.name) > (
            latest[night].stat().st_mtime_ns,
            latest[night].name,
        ):
            latest[night] = part
    return [latest[night] for night in sorted(latest)]


def read_history(
    folder: str | Path, lead: str | None = None, before: pd.Timestamp | None = None
) -> pd.DataFrame:
    """The kept scores (of one lead, with ``lead``), oldest run first. A file that cannot
    be read is one ``DataError`` naming it; the others are untouched."""
    frames = []
    parts = partitions(folder, before)
    for part in parts:
        try:
            table = pq.read_table(part, filters=[("lead_id", "=", lead)] if lead else None)
        except (pa.ArrowException, OSError) as err:
            raise DataError(
                f"history: {part.parent.name}/{part.name} cannot be read ({str(err).splitlines()[0]}); "
                f"the other {len(parts) - 1} file(s) are untouched: move it aside or rerun that night"
            ) from None
        frames.append(table.to_pandas())
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["as_of", "model_version"], kind="stable", ignore_index=True)


def previous_night(folder: str | Path, as_of: pd.Timestamp) -> pd.DataFrame:
    """The scores of the latest kept night before ``as_of`` (``lead_id``, ``score``,
    ``tier``, ``tier_since``); of its latest written file when several model versions scored
    that night. Empty when the history holds no earlier night (or does not exist yet)."""
    empty = pd.DataFrame(
        {
            "lead_id": pd.Series([], dtype="string"),
            "score": pd.Series([], dtype="float64"),
            "tier": pd.Series([], dtype="string"),
            "tier_since": pd.Series([], dtype="datetime64[ns, UTC]"),
        }
    )
    if not Path(folder).is_dir():
        return empty
    nights = nightly_files(folder, before=as_of)
    if not nights:
        return empty
    part = nights[-1]
    try:
        table = pq.read_table(part)
    except (pa.ArrowException, OSError) as err:
        raise DataError(
            f"history: {part.parent.name}/{part.name} cannot be read ({str(err).splitlines()[0]})"
        ) from None
    frame = table.to_pandas()
    if "tier_since" not in frame:  # kept before the column existed: the night itself
        frame["tier_since"] = frame["as_of"]
    night_of = pd.to_datetime(frame["as_of"], utc=True).astype("datetime64[ns, UTC]")
    since = pd.to_datetime(frame["tier_since"], utc=True).astype("datetime64[ns, UTC]")
    frame["tier_since"] = since.fillna(night_of)  # unknown: at least since that night
    frame["lead_id"] = frame["lead_id"].astype("string")
    return frame[["lead_id", "score", "tier", "tier_since"]]


def carry(scores: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """``scores`` with ``score_change`` (since the previous night; missing for a lead new
    to the list) and ``tier_since`` (when the lead entered its tier: the previous night's
    when the tier is unchanged, else tonight). Without a history (``previous`` None) both
    are missing: nothing is known of earlier nights."""
    out = scores.copy()
    n = len(out)
    if previous is None:
        out["score_change"] = np.full(n, np.nan)
        out["tier_since"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns, UTC]")
        return out
    at = pd.Index(previous["lead_id"].astype("string")).get_indexer(out["lead_id"].astype("string"))
    seen = at >= 0
    prev_score = np.where(
        seen,
        previous["score"].to_numpy("float64")[np.maximum(at, 0)] if len(previous) else 0.0,
        np.nan,
    )
    # + 0.0: an unchanged score is 0.0, not -0.0 (rounding keeps the sign of a tiny negative).
    out["score_change"] = np.round(out["score"].to_numpy("float64") - prev_score, 1) + 0.0
    tonight = pd.to_datetime(out["as_of"], utc=True).astype("datetime64[ns, UTC]")
    if len(previous):
        prev_tier = previous["tier"].astype(str).to_numpy()[np.maximum(at, 0)]
        prev_since = previous["tier_since"].array.take(np.maximum(at, 0))
        same = seen & (prev_tier == out["tier"].astype(str).to_numpy())
        since = pd.Series(prev_since, index=out.index).where(same, tonight)
    else:
        since = tonight
    out["tier_since"] = since.astype("datetime64[ns, UTC]")
    return out
