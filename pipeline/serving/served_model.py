"""The registered model as MLflow serves it: raw leads in, or the engineered columns.

MLflow loads this file as the model's code ("models from code"), so a registered version
answers both ways with one object:

- rows of the engineered feature columns (what ``spark_udf`` sends in a Spark night) give
  ``probability`` and ``score``, as ``LeadScoreModel`` does;
- rows of raw leads, as ``leadscore serve`` takes them (the contract's lead fields under the
  names the model was trained with, ``events`` and ``stages`` as lists of objects, and an
  optional ``as_of``), are turned into features by the batch's own code
  (``leadscore.scoring.online``) and give the answer's columns: ``probability``, ``score``,
  ``tier``, ``fit_grade``, ``baseline_score``, ``baseline_tier``, ``top_reasons`` and
  ``model_version``.

So ``mlflow models serve -m models:/leadscore@champion`` answers a raw lead with the same
score and reasons as the night's batch at the same ``as_of``. Tiers cut on a night's ranks
start where the model's latest tested period put them (``Reference.tier_floors``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from leadscore.errors import LeadscoreError
from leadscore.model.registered import LeadScoreModel
from leadscore.scoring.online import ANSWER_COLUMNS, parse_request, score_request

#: Columns of a raw lead that hold lists of rows.
NESTED = ("events", "stages")


def _records(frame: pd.DataFrame) -> list[dict]:
    """The rows as request objects: missing values left out, nested rows as lists."""
    out = []
    for row in frame.to_dict(orient="records"):  # the request's few leads
        lead = {}
        for key, value in row.items():
            if key in NESTED:
                if isinstance(value, str):  # a list sent as JSON text
                    value = json.loads(value)
                lead[key] = list(value) if isinstance(value, list | tuple | np.ndarray) else []
            elif value is not None and not (np.isscalar(value) and pd.isna(value)):
                lead[key] = value.isoformat() if isinstance(value, pd.Timestamp) else value
        out.append(lead)
    return out


class ServedModel(LeadScoreModel):
    """``LeadScoreModel`` that also answers raw leads (see the module's note)."""

    def load_context(self, context: Any) -> None:
        super().load_context(context)
        self.version = self.version or _version_of(Path(context.artifacts["settings"]))

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        features = self.scorer.spec.feature_columns
        if set(features) <= set(model_input.columns):
            return super().predict(context, model_input, params)
        try:
            return self.score_raw(model_input)
        except LeadscoreError as err:  # the scoring server answers 400 with this one line
            raise MlflowException(str(err), error_code=INVALID_PARAMETER_VALUE) from None

    def score_raw(self, leads: pd.DataFrame) -> pd.DataFrame:
        """Raw leads scored, one ``as_of`` at a time (rows without one: now, UTC)."""
        now = pd.Timestamp.now(tz="UTC")
        rows = _records(leads.dropna(axis=1, how="all"))
        moments = [str(r.pop("as_of", "") or "") for r in rows]
        floors = dict(self.settings.reference.tier_floors) if self.settings.reference else {}
        columns = self.settings.columns.model_dump()
        parts = []
        for moment in dict.fromkeys(moments):
            picked = [r for r, m in zip(rows, moments, strict=True) if m == moment]
            request = parse_request({"as_of": moment or None, "leads": picked}, now)
            # Raw leads come alone: no folder to find their history or colleagues in.
            parts.append(score_request(self, request, columns, None, floors))
        out = pd.concat(parts).set_index("lead_id").loc[[str(r["lead_id"]) for r in rows]]
        out = out.reset_index()[ANSWER_COLUMNS]
        out["as_of"] = out["as_of"].map(lambda t: t.isoformat())
        return out


def _version_of(settings: Path) -> str:
    """``name/N`` of the registered version these artifacts belong to, read from the model's
    MLmodel file and the registry; the logged model's id when the registry cannot say."""
    mlmodel = next((p / "MLmodel" for p in settings.parents if (p / "MLmodel").exists()), None)
    if mlmodel is None:
        return ""
    meta = mlflow.models.Model.load(str(mlmodel))
    try:
        found = mlflow.MlflowClient().search_model_versions(f"run_id='{meta.run_id}'")
        # A run logs the model and the points sheet: the version is the one of this model.
        matched = [v for v in found if v.source == f"models:/{meta.model_id}"]
        if matched:
            return f"{matched[0].name}/{matched[0].version}"
    except Exception:  # noqa: BLE001 - a server without a registry still serves scores
        pass
    return meta.model_id or meta.run_id or ""


mlflow.models.set_model(ServedModel())
