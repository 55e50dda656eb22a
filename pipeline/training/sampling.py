"""Which non-converted rows a fit learns from, decided before any feature is built.

Each fit (a backtest fold, or the deployed model) keeps at most
``model.max_negatives_per_positive`` non-converted rows per conversion, never fewer than
``model.min_negatives_kept``, chosen by a seeded draw per (lead, snapshot); the kept ones
weigh for those left out. ``row_shares`` works out, from the snapshots and labels alone,
the share of each row any fit will keep, so ``training_table`` builds features only for
rows some fit can use: every conversion, every row a fold tests or holds out (evaluation
and calibration read them all, unthinned), and of the rest the draws under the largest
share a fit that learns from them keeps. ``thin`` then makes each fit's choice with the
same draws, so a row a fit would keep was always built, and weighs each kept row by its
true chance of being kept.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from leadscore.config import Config
from leadscore.training.folds import Plan, fit_holdout, lead_hashes

#: The column of a training table holding each row's share kept before features were
#: built (absent: every row was built).
SHARE = "sample_share"


def draws(keys: pd.DataFrame, seed: int) -> np.ndarray:
    """Each row's draw in [0, 1): a seeded hash of its lead and snapshot (the same draw for
    the same row whatever the table's order or column types)."""
    cols = {"lead_id": keys["lead_id"].astype("string")}
    if "as_of" in keys:
        when = pd.to_datetime(keys["as_of"], utc=True).astype("datetime64[ns, UTC]")
        cols["as_of"] = when.astype("int64")
    frame = pd.DataFrame(cols)
    h = pd.util.hash_pandas_object(frame, index=False, hash_key=f"{seed:016d}"[-16:]).to_numpy()
    return (h % np.uint64(1_000_000)).astype("float64") / 1e6


class RowHashes:
    """A table's seeded row hashes, each computed at most once (hashing every lead id costs
    about a tenth of a second a million rows, and every fit reads them): ``lead``, the
    holdout's (``folds.lead_hashes``), and ``draw``, the sampling draws (``draws``)."""

    def __init__(self, keys: pd.DataFrame, seed: int) -> None:
        self.keys, self.seed = keys, seed

    @classmethod
    def of(cls, keys: pd.DataFrame, seed: int, known: RowHashes | None = None) -> RowHashes:
        """``known`` when it is of this very table and seed, else new hashes of ``keys``."""
        if known is not None and known.keys is keys and known.seed == seed:
            return known
        return cls(keys, seed)

    @cached_property
    def lead(self) -> np.ndarray:
        return lead_hashes(self.keys["lead_id"], self.seed)

    @cached_property
    def draw(self) -> np.ndarray:
        return draws(self.keys, self.seed)


def negatives_kept(positives: float, cfg: Config) -> float | None:
    """How many non-converted rows a fit with ``positives`` conversions keeps at most
    (None: every one)."""
    m = cfg.model
    if m.max_negatives_per_positive is None:
        return None
    return max(m.max_negatives_per_positive * positives, float(m.min_negatives_kept))


def keep_share(positives: float, negatives: float, cfg: Config) -> float:
    """The share of its non-converted rows one fit keeps (1.0: all of them)."""
    keep = negatives_kept(positives, cfg)
    if keep is None or not positives:
        return 1.0
    return 1.0 if negatives <= keep else keep / negatives


def thin(
    table: pd.DataFrame,
    y: np.ndarray,
    rows: np.ndarray,
    keep: float | None,
    seed: int,
    hashes: RowHashes | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` with their non-converted ones cut to about ``keep`` by the rows' draws, and
    each row's weight: one over its chance of being kept (1.0 for conversions).

    Rows sampled before the table was built (``SHARE``) count for the rows they stand for,
    so the share is taken of the full count; a row kept under a smaller share than this
    fit's weighs by that smaller share. ``hashes``: the table's, when already made.
    """
    built = table[SHARE].to_numpy("float64") if SHARE in table else np.ones(len(table))
    negative = rows & (y == 0)
    positives = float(y[rows].sum())
    negatives = float((1.0 / built[negative]).sum())
    share = 1.0
    if keep is not None and positives and negatives > keep:
        share = keep / negatives
    chance = np.minimum(built, share)
    if share < 1.0:
        rows = rows & ((y == 1) | (RowHashes.of(table, seed, hashes).draw < share))
    return rows, np.where(y == 1, 1.0, 1.0 / chance)


def fit_rows(
    plan: Plan, lead_id: pd.Series, y: np.ndarray, seed: int, hashed: np.ndarray | None = None
) -> list[np.ndarray]:
    """The rows each fit learns from: each fold's training rows less its holdout, then the
    deployed model's (``hashed``: the ids' ``folds.lead_hashes``, when already computed)."""
    h = lead_hashes(lead_id, seed) if hashed is None else hashed
    held = [fit_holdout(lead_id, y, f.train, seed, h) for f in plan.folds]
    return [f.train & ~hold for f, hold in zip(plan.folds, held, strict=True)] + [plan.deploy]


def row_shares(
    keys: pd.DataFrame, y: np.ndarray, plan: Plan, cfg: Config, hashes: RowHashes | None = None
) -> np.ndarray:
    """Per row, the share of rows like it that the table must hold: 1.0 for conversions and
    for rows a fold tests or holds out; for the rest, the largest share kept by a fit that
    learns from them (``keep_share``)."""
    seed = cfg.model.seed
    hashes = RowHashes.of(keys, seed, hashes)
    out = np.zeros(len(y))
    for rows in fit_rows(plan, keys["lead_id"], y, seed, hashes.lead):
        share = keep_share(float(y[rows].sum()), float((rows & (y == 0)).sum()), cfg)
        out = np.maximum(out, np.where(rows, share, 0.0))
    needed = y == 1
    for f in plan.folds:
        needed |= f.test | fit_holdout(keys["lead_id"], y, f.train, seed, hashes.lead)
    out[needed | (out == 0)] = 1.0  # a row no fit learns from is kept as it is
    return out


def sampled(keys: pd.DataFrame, y: np.ndarray, plan: Plan, cfg: Config) -> np.ndarray:
    """Each row's share if the table holds it, else 0: the rows to build features for."""
    hashes = RowHashes(keys, cfg.model.seed)
    shares = row_shares(keys, y, plan, cfg, hashes)
    kept = (shares >= 1.0) | (hashes.draw < shares)
    return np.where(kept, shares, 0.0)
