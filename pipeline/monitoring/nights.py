"""The nights to monitor: one scores file, or every night of a score history (of each
night, its latest written file when several model versions scored it)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from leadscore.data.files import read_frame, require_numbers
from leadscore.errors import DataError
from leadscore.scoring.history import nightly_files
from leadscore.scoring.sinks import model_of_scores

#: What the monitor reads of each night (``leadscore.scoring.sinks.SCORE_COLUMNS`` subset).
COLUMNS = ("lead_id", "as_of", "probability", "score", "tier", "baseline_score", "model_version")


def _typed(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{where}: missing column(s) {', '.join(missing)} ({len(frame):,} rows; "
            "write it with leadscore score)"
        )
    if frame.empty:
        raise DataError(f"{where}: no scored rows (0 rows); nothing to monitor")
    out = require_numbers(frame[list(COLUMNS)], ("probability", "score", "baseline_score"), where)
    when = pd.to_datetime(out["as_of"], utc=True, errors="coerce")
    if when.isna().any():
        raise DataError(
            f"{where}: column as_of has {int(when.isna().sum()):,} missing or unreadable "
            f"time(s) of {len(out):,} rows"
        )
    out["as_of"] = when.astype("datetime64[ns, UTC]")
    for c in ("lead_id", "tier", "model_version"):
        out[c] = out[c].astype("string")
    return out


def read_scores_file(path: str | Path) -> pd.DataFrame:
    """One night's scores file from ``leadscore score`` (Parquet or CSV, or Spark's folder)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"scores {p}: does not exist")
    try:
        frame = pd.read_parquet(p) if p.is_dir() else read_frame(p)
    except (pa.ArrowException, OSError, ValueError) as err:
        raise DataError(f"scores {p}: cannot be read ({str(err).splitlines()[0]})") from None
    return _typed(frame, f"scores {p}")


def read_history_nights(folder: str | Path) -> pd.DataFrame:
    """Every kept night, oldest first. A file that cannot be read is one ``DataError``
    naming it (the history itself is left as it is)."""
    files = nightly_files(folder)
    if not files:
        raise DataError(f"history: {folder} holds no kept nights (score with --history first)")
    frames = []
    for part in files:
        where = f"history: {part.parent.name}/{part.name}"
        try:
            table = pq.read_table(part, columns=list(COLUMNS))
        except (pa.ArrowException, OSError, KeyError) as err:
            raise DataError(f"{where} cannot be read ({str(err).splitlines()[0]})") from None
        frames.append(_typed(table.to_pandas(), where))
    return pd.concat(frames, ignore_index=True)


def scored_by(scores: str | Path | None, history: str | Path | None) -> str | None:
    """The registry URI (``models:/name/N``) of the model that scored the latest night of a
    scores file or a history, or None (the caller then names the champion)."""
    if history is None:
        return model_of_scores(scores) if scores is not None else None
    try:
        files = nightly_files(history)
    except DataError:
        return None
    return model_of_scores(files[-1]) if files else None
