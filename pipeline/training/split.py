"""Time-based splits with an embargo: how training, early stopping, calibration and test
snapshots are chosen so that no training label reaches into the period a model is judged on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from leadscore.errors import DataError


@dataclass(frozen=True)
class TimeSplit:
    """Snapshot dates per role, oldest first; ``embargoed`` ones are used for nothing."""

    train: list[pd.Timestamp]
    early_stopping: list[pd.Timestamp]
    calibration: list[pd.Timestamp]
    test: list[pd.Timestamp]
    embargoed: list[pd.Timestamp] = field(default_factory=list)

    def describe(self) -> dict[str, str]:
        def span(ds: list[pd.Timestamp]) -> str:
            return f"{ds[0]:%Y-%m-%d}..{ds[-1]:%Y-%m-%d} ({len(ds)})" if ds else "none"

        return {
            "train": span(self.train),
            "early_stopping": span(self.early_stopping),
            "calibration": span(self.calibration),
            "test": span(self.test),
            "embargoed": ", ".join(f"{d:%Y-%m-%d}" for d in self.embargoed) or "none",
        }


def _label_ends_by(d: pd.Timestamp, horizon: pd.Timedelta, start: pd.Timestamp) -> bool:
    # The label window is (d, d + horizon]; it must not pass the next slice's first snapshot.
    return d + horizon <= start


def time_split(
    dates: list[pd.Timestamp],
    horizon_days: int,
    n_test: int,
    n_calibration: int,
    n_early_stopping: int,
) -> TimeSplit:
    """Split snapshot dates by time: ... train | embargo | early stop | embargo | calibration | test.

    Calibration and test are the most recent snapshots. Training and early-stopping snapshots
    keep only those whose label window ends by the start of the following slice.
    """
    ds = sorted(dates)
    horizon = pd.Timedelta(days=horizon_days)
    need = n_test + n_calibration + 1
    if len(ds) < need:
        raise DataError(
            f"training: {len(ds)} labelled snapshot date(s); a time split needs at least {need} "
            f"({n_test} test + {n_calibration} calibration + training), plus the {horizon_days}-day embargo"
        )
    test = ds[-n_test:]
    calibration = ds[-(n_test + n_calibration) : -n_test]
    earlier = [
        d for d in ds[: -(n_test + n_calibration)] if _label_ends_by(d, horizon, calibration[0])
    ]
    early_stopping = earlier[-n_early_stopping:] if len(earlier) > n_early_stopping else []
    train = [
        d for d in earlier if not early_stopping or _label_ends_by(d, horizon, early_stopping[0])
    ]
    if not train:
        raise DataError(
            f"training: no snapshot date is old enough for its {horizon_days}-day label window to end "
            f"before calibration starts on {calibration[0]:%Y-%m-%d}; provide more history"
        )
    used = set(train) | set(early_stopping) | set(calibration) | set(test)
    return TimeSplit(train, early_stopping, calibration, test, [d for d in ds if d not in used])
