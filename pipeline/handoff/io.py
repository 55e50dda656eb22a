"""Hand-off input and output: the night's scores, each lead's territory, the hand-off log
and the CRM-import CSV.

The log keeps every hand-off beside the score history, one file per night
(``<history>/handoffs/as_of=YYYY-MM-DD.parquet``; a rerun of a night replaces its file), so
that a lead handed off this week is not handed off again tomorrow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from leadscore.data.files import read_frame, require_numbers, to_arrow, write_atomic
from leadscore.errors import DataError
from leadscore.scoring.history import nightly_files

NEEDED = ("lead_id", "probability", "score", "tier")
LOG = "handoffs"
#: What the log keeps of each listed lead, besides its arm, night and experiment.
LOG_COLUMNS = ("lead_id", "owner", "tier", "probability")


def is_history(path: Path) -> bool:
    return path.is_dir() and any(path.glob("as_of=*/*.parquet"))


def read_night(path: str | Path) -> tuple[pd.DataFrame, str]:
    """The scores to hand off and where they came from: a scores file (Parquet or CSV), a
    Parquet folder (Spark's), or a score history (its latest night; of that night's latest
    written file when several model versions scored it)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"scores {p}: does not exist")
    source = str(p)
    try:
        if is_history(p):
            part = nightly_files(p)[-1]
            frame, source = pq.read_table(part).to_pandas(), f"{p} ({part.parent.name}/{part.name})"
        elif p.is_dir():
            frame = pd.read_parquet(p)
        else:
            frame = read_frame(p)
    except (pa.ArrowException, OSError) as err:
        raise DataError(f"scores {p}: cannot be read ({str(err).splitlines()[0]})") from None
    missing = [c for c in NEEDED if c not in frame.columns]
    if missing:
        raise DataError(
            f"scores {p}: missing column(s) {', '.join(missing)} ({len(frame):,} rows; "
            "write it with leadscore score)"
        )
    out = require_numbers(frame, ("probability", "score"), f"scores {p}")
    out["lead_id"] = out["lead_id"].astype("string")
    twice = int(out["lead_id"].duplicated().sum())
    if twice:
        raise DataError(
            f"scores {p}: column lead_id has {twice:,} repeated value(s) of {len(out):,} rows "
            "(hand off one night's scores)"
        )
    if "as_of" in out:
        out["as_of"] = pd.to_datetime(out["as_of"], utc=True, errors="coerce")
    return out, source


def night_of(scores: pd.DataFrame) -> pd.Timestamp:
    """The night the scores are of (their latest as_of; today when they carry none)."""
    if "as_of" in scores and scores["as_of"].notna().any():
        return pd.Timestamp(scores["as_of"].max()).normalize()
    return pd.Timestamp.now(tz="UTC").normalize()


def log_path(history: str | Path, night: pd.Timestamp) -> Path:
    return Path(history) / LOG / f"as_of={night:%Y-%m-%d}.parquet"


def recent_handoffs(history: str | Path, night: pd.Timestamp, days: int) -> set[str]:
    """Leads handed off less than ``days`` before ``night`` (that night itself excluded, so a
    rerun replaces its own list rather than excluding it)."""
    folder = Path(history) / LOG
    if days <= 0 or not folder.is_dir():
        return set()
    found: set[str] = set()
    for part in sorted(folder.glob("as_of=*.parquet")):
        day = pd.Timestamp(part.stem.removeprefix("as_of="), tz="UTC")
        if night - pd.Timedelta(days=days) < day < night:
            try:
                found |= set(pq.read_table(part, columns=["lead_id"]).column(0).to_pylist())
            except (pa.ArrowException, OSError) as err:
                raise DataError(
                    f"hand-off log {part}: cannot be read ({str(err).splitlines()[0]}); move it aside"
                ) from None
    return {str(x) for x in found}


def read_logs(history: str | Path) -> pd.DataFrame:
    """Every night's hand-off log, oldest first: ``lead_id``, ``arm``, ``handed_off_at``,
    ``experiment``, ``tier``, ``probability`` (the last three missing in a log written
    without them). One ``DataError`` naming the folder when it holds no log, or the file
    that cannot be read."""
    folder = Path(history) / LOG
    parts = sorted(folder.glob("as_of=*.parquet")) if folder.is_dir() else []
    if not parts:
        raise DataError(
            f"hand-off log: {folder} holds no hand-off lists (hand off with --history first)"
        )
    frames = []
    for part in parts:
        try:
            frame = pq.read_table(part).to_pandas()
        except (pa.ArrowException, OSError) as err:
            raise DataError(
                f"hand-off log {part}: cannot be read ({str(err).splitlines()[0]}); move it aside"
            ) from None
        missing = [c for c in ("lead_id", "arm", "handed_off_at") if c not in frame]
        if missing:
            raise DataError(
                f"hand-off log {part}: missing column(s) {', '.join(missing)} "
                f"({len(frame):,} rows; write it with leadscore handoff)"
            )
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    for c in ("experiment", "tier"):
        out[c] = out[c].astype("string") if c in out else pd.Series(pd.NA, out.index, "string")
    out["probability"] = pd.to_numeric(out.get("probability", np.nan), errors="coerce")
    out["lead_id"] = out["lead_id"].astype("string")
    out["arm"] = out["arm"].astype("string")
    out["handed_off_at"] = pd.to_datetime(out["handed_off_at"], utc=True)
    return out


def write_log(
    history: str | Path,
    night: pd.Timestamp,
    rows: pd.DataFrame,
    control: pd.DataFrame | None = None,
    experiment: str | None = None,
) -> Path:
    """The night's hand-off log: each lead handed off (``arm`` treated) and, with a holdout,
    each held back (``arm`` control), with its tier and probability that night and the
    ``experiment`` its arm was drawn for (empty on a night without a holdout)."""
    kept = [c for c in LOG_COLUMNS if c in rows]
    keep = rows[kept].assign(arm="treated")
    if control is not None and len(control):
        keep = pd.concat([keep, control[kept].assign(arm="control")])
    keep = keep.assign(handed_off_at=night, experiment=experiment)
    keep["experiment"] = keep["experiment"].astype("string")
    return write_atomic(
        log_path(history, night),
        lambda tmp: pq.write_table(to_arrow(keep), tmp),
    )


def write_list(rows: pd.DataFrame, out: str | Path) -> Path:
    """The hand-off list as CSV (UTF-8, a header row, one lead per row), atomically."""
    p = Path(out)
    if p.suffix.lower() != ".csv":
        raise DataError(f"handoff: --out {p.name} must be a .csv file (the CRM-import shape)")
    return write_atomic(p, lambda tmp: rows.to_csv(tmp, index=False, encoding="utf-8"))
