"""One registered model for several segments: each row scored by its segment's own model, or
by the pooled model when its segment has none (``training.segments`` decides which).

The segment is read from one categorical feature column (``column``), whose values map to
segment names (``routes``). Every model reads the same feature spec, so the rows arrive
as for any kind and batch, Spark, ``spark_udf`` and ``serve`` route them the same way.

The models' raw scores are on different scales (each has its own calibrator), so this kind's
margin is the log-odds of the routed model's calibrated probability: ``calibrated`` is then
the logistic function, and ``margin`` keeps the probabilities' order across segments. A row's
contributions are its own model's, with the ``bias`` moved so that they add up to that
margin: the reasons are those of the model that scored the row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logit

from leadscore.errors import ModelError
from leadscore.model.calibrator import EPS, Calibrator
from leadscore.model.kind import Scorer

#: The pooled model's folder inside a saved segmented model; segment k's is ``segment_k``.
POOLED = "pooled"


class SegmentedScorer:
    """The pooled model and the segments' own models, routed by ``column``'s value.

    Built by training from fitted scorers, never fitted itself: ``fit`` and ``create`` are
    not part of it, so ``model.kind`` cannot name it.
    """

    kind = "segmented"

    def __init__(
        self,
        pooled: Scorer,
        column: str,
        routes: dict[str, str],
        models: dict[str, Scorer],
        tiers_by: str = "overall",
    ) -> None:
        """``routes``: a feature value -> its segment's name; ``models``: segment name ->
        its model (segments without one are served by ``pooled``); ``tiers_by``:
        ``overall`` (tiers cut over every lead) or ``segment`` (within each model's leads)."""
        if tiers_by not in ("overall", "segment"):
            raise ModelError(f"segments: tiers by {tiers_by!r}; overall or segment")
        unknown = sorted(set(models) - set(routes.values()))
        if unknown:
            raise ModelError(
                f"segments {', '.join(unknown)} have a model but no value routes to it"
            )
        if column not in pooled.spec.categories:
            raise ModelError(f"segments: {column!r} is not a categorical feature of the model")
        self.pooled, self.column = pooled, column
        self.routes, self.models = dict(routes), dict(models)
        self.tiers_by = tiers_by
        self.spec = pooled.spec
        self.calibrator_ = Calibrator("logit")
        self.calibration_method_ = pooled.calibration_method_
        self.best_iteration_ = pooled.best_iteration_
        self.complete_columns_ = list(pooled.complete_columns_)

    # --- routing --------------------------------------------------------------------------
    def segment_of(self, X: pd.DataFrame) -> np.ndarray:
        """Each row's segment name, or None where the pooled model serves it."""
        value = X[self.column].astype("object").astype(str).to_numpy()
        served = {v: s for v, s in self.routes.items() if s in self.models}
        segment = pd.Series(value).map(served)
        return segment.astype("object").where(segment.notna(), None).to_numpy(dtype=object)

    def tier_segments(self, X: pd.DataFrame) -> np.ndarray | None:
        """Each row's tier group when tiers are cut per segment (its model's segment, ""
        for the pooled model's rows); None when they are cut over every lead."""
        if self.tiers_by != "segment":
            return None
        segment = self.segment_of(X)
        return np.where(pd.isna(segment), "", segment).astype(str)

    def parts(self, X: pd.DataFrame) -> Iterator[tuple[Scorer, np.ndarray]]:
        """Each model with the positions of the rows it scores (models without rows left out)."""
        segment = self.segment_of(X)
        pooled = pd.isna(segment)
        if pooled.any():
            yield self.pooled, np.flatnonzero(pooled)
        for name, model in self.models.items():
            mine = np.flatnonzero(segment == name)
            if len(mine):
                yield model, mine

    def _gather(self, X: pd.DataFrame, each: Callable[[Scorer, pd.DataFrame], Any]) -> np.ndarray:
        out = np.empty(len(X), dtype="float64")
        for model, rows in self.parts(X):
            out[rows] = each(model, X.iloc[rows])
        return out

    # --- scores ---------------------------------------------------------------------------
    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Each row's probability from the model of its segment."""
        return self._gather(X, lambda model, rows: model.predict_proba(rows))

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        """The log-odds of ``predict_proba``: one scale for every segment."""
        return logit(np.clip(self.predict_proba(X), EPS, 1 - EPS))

    def calibrated(self, margin: np.ndarray) -> np.ndarray:
        return self.calibrator_.predict(margin)

    def probability_from(self, contributions: pd.DataFrame, X: pd.DataFrame) -> np.ndarray:
        return self.calibrated(contributions.sum(axis=1).to_numpy())

    def contributions(
        self,
        X: pd.DataFrame,
        threads: int = 2,
        groups: dict[str, str] | None = None,
        helpers_after: Future | None = None,
    ) -> pd.DataFrame:
        """Each row's own model's contributions, ``bias`` moved so that the row adds up to
        ``margin`` (the model's other columns, and so the reasons, unchanged)."""
        parts = []
        for model, rows in self.parts(X):
            part = X.iloc[rows]
            c = model.contributions(part, threads, groups, helpers_after)
            target = logit(np.clip(model.probability_from(c, part), EPS, 1 - EPS))
            c["bias"] = c["bias"].to_numpy() + (target - c.sum(axis=1).to_numpy())
            parts.append(c.set_axis(rows, axis=0))
        if not parts:  # no rows: the pooled model gives the columns
            return self.pooled.contributions(X, threads, groups, helpers_after)
        out = pd.concat(parts).sort_index()
        return out.set_axis(X.index, axis=0)

    def prepare(self, rows: int) -> None:
        for model in (self.pooled, *self.models.values()):
            model.prepare(rows)

    def importance(self) -> pd.DataFrame:
        """The pooled model's: it serves every segment without a model of its own."""
        return self.pooled.importance()

    # --- persistence ----------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        d = Path(folder)
        d.mkdir(parents=True, exist_ok=True)
        self.pooled.save(d / POOLED)
        names = list(self.models)
        for k, name in enumerate(names):
            self.models[name].save(d / f"segment_{k}")
        meta = {
            "kind": self.kind,
            "column": self.column,
            "routes": self.routes,
            "segments": names,
            "tiers_by": self.tiers_by,
        }
        (d / "scorer.json").write_text(json.dumps(meta, indent=2))
        return d

    @classmethod
    def load_with(cls, folder: str | Path, load: Callable[[Path], Scorer]) -> SegmentedScorer:
        """The model ``save`` wrote, its parts read by ``load`` (the kinds' registry)."""
        d = Path(folder)
        meta = json.loads((d / "scorer.json").read_text())
        models = {name: load(d / f"segment_{k}") for k, name in enumerate(meta["segments"])}
        tiers_by = meta.get("tiers_by", "overall")
        return cls(load(d / POOLED), meta["column"], meta["routes"], models, tiers_by)
