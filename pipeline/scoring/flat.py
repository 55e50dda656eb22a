"""``leadscore score --flat FILE``: new rows of a flat export scored by a flat-mode model.

One output row per input row, keyed by the file's id column; a row without an id cannot be
scored and goes to the rejects file, so ``in = scored + rejected``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.data.clean import clean_flat
from leadscore.data.files import read_frame, with_file_lines
from leadscore.errors import DataError
from leadscore.features.flat import flat_features
from leadscore.model.kind import Scorer
from leadscore.model.settings import ModelSettings
from leadscore.scoring.batch import ScoreSummary, score_frame
from leadscore.scoring.sinks import SCORE_COLUMNS, place, write_rejects, write_scores


def score_flat_file(
    path: str | Path,
    scorer: Scorer,
    settings: ModelSettings,
    version: str,
    out: str | Path,
    say,
) -> ScoreSummary:
    """``leadscore score --flat FILE``: one output row per input row, keyed by the id column."""
    t0 = time.perf_counter()
    raw = read_frame(path)
    id_col = settings.id_column
    if id_col not in raw.columns:
        raise DataError(
            f"flat file: id column {id_col!r} the model was trained with is not in {Path(path).name} ({len(raw)} rows)"
        )
    flat_cfg = settings.flat
    assert id_col is not None and flat_cfg is not None  # ModelSettings: set for flat models
    # Scoring keeps every row: only the value rules apply (placeholders, mappings).
    cleaned, _ = clean_flat(
        raw,
        flat_cfg.model_copy(update={"drop_constant": False, "duplicates": "keep", "exclude": []}),
        [id_col],
    )
    ids = cleaned[id_col].astype("string")
    bad = ids.isna().to_numpy()
    feats = flat_features(cleaned[~bad].reset_index(drop=True), scorer.spec)
    feats.insert(0, "lead_id", ids[~bad].to_numpy())
    placed = place(
        score_frame(feats, scorer, settings.baseline, settings.explain.top_reasons, version),
        settings.tiers,
    )
    # A flat file has no moment and no history: no as_of, score_change or tier_since.
    scores = placed[[c for c in SCORE_COLUMNS if c in placed.columns and c != "as_of"]]
    out_path = write_scores(scores, out)
    rejects = pd.DataFrame(
        {
            "lead_id": ids[bad].to_numpy(),
            "row": np.flatnonzero(bad) + 1,
            "reason": f"missing id ({id_col})",
        }
    )
    rejects = with_file_lines(rejects, path, len(raw))
    rejects_path = write_rejects(rejects, out_path) if len(rejects) else None
    return ScoreSummary(
        len(raw),
        len(scores),
        len(rejects),
        None,
        out_path,
        rejects_path,
        time.perf_counter() - t0,
        {},
        {},
    )
