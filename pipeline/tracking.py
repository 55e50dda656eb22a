"""MLflow: runs, the registered model, and the champion alias.

With no ``MLFLOW_TRACKING_URI`` the store is a local SQLite file, ``mlflow.db`` in the
working folder (MLflow's own default); the variable points it at a server instead.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from leadscore.data.contract import DataError
from leadscore.model.scorer import LeadScorer

CHAMPION = "champion"
DEFAULT_URI = "sqlite:///mlflow.db"


def tracking_uri() -> str:
    """The store in use: ``MLFLOW_TRACKING_URI`` if set, else the local SQLite default."""
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI


def quiet() -> None:
    """Keep MLflow's own chatter (progress bars, INFO lines) out of batch-job output."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    # Logging a Python object model is what we intend; MLflow warns about it every time.
    logging.getLogger("mlflow.pyfunc").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def setup(experiment: str) -> None:
    quiet()
    mlflow.set_tracking_uri(tracking_uri())
    mlflow.set_experiment(experiment)


class LeadScoreModel(mlflow.pyfunc.PythonModel):
    """The registered model: feature rows in, calibrated probabilities out.

    ``unwrap_python_model().scorer`` gives the ``LeadScorer`` (spec, SHAP contributions);
    ``settings`` holds the config sections scoring needs (baseline, tiers, explain).
    """

    def load_context(self, context: Any) -> None:
        self.scorer = LeadScorer.load(context.artifacts["scorer"])
        self.settings = json.loads(Path(context.artifacts["settings"]).read_text())

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        p = self.scorer.predict_proba(model_input)
        return pd.DataFrame({"probability": p, "score": np.round(p * 100.0, 1)})


def signature_frame(X: pd.DataFrame, scorer: LeadScorer) -> pd.DataFrame:
    """Feature rows as the model's signature declares them: strings and doubles.

    Counts are cast to float64 deliberately: MLflow rejects int64 input for a double column.
    """
    out = scorer.frame(X)
    for c in out.columns:
        if c in scorer.spec.categories:
            out[c] = out[c].astype("object").astype(str)
        else:
            out[c] = out[c].astype("float64")
    return out


REQUIREMENTS = [
    f"{name}=={__import__(mod).__version__}"
    for name, mod in (
        ("mlflow", "mlflow"),
        ("lightgbm", "lightgbm"),
        ("scikit-learn", "sklearn"),
        ("pandas", "pandas"),
        ("numpy", "numpy"),
        ("joblib", "joblib"),
        ("pyarrow", "pyarrow"),
        ("duckdb", "duckdb"),
    )
]


def log_model(
    scorer: LeadScorer, settings: dict[str, Any], example: pd.DataFrame, registered_name: str
) -> tuple[str, str]:
    """Log the calibrated model as an MLflow pyfunc model and register it; (model uri, version)."""
    with tempfile.TemporaryDirectory() as tmp:
        scorer_dir = scorer.save(Path(tmp) / "scorer")
        settings_path = Path(tmp) / "settings.json"
        settings_path.write_text(json.dumps(settings, indent=2, default=str))
        ex = signature_frame(example.head(5), scorer)
        out = pd.DataFrame({"probability": scorer.predict_proba(ex), "score": np.zeros(len(ex))})
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=LeadScoreModel(),
            artifacts={"scorer": str(scorer_dir), "settings": str(settings_path)},
            signature=infer_signature(ex, out),
            input_example=ex,
            pip_requirements=REQUIREMENTS,
            registered_model_name=registered_name,
        )
    version = str(info.registered_model_version)
    return info.model_uri, version


def champion_version(name: str) -> str | None:
    """The version holding the champion alias, or None (first model, or no registry entry)."""
    try:
        return str(MlflowClient().get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None


def set_champion(name: str, version: str) -> None:
    MlflowClient().set_registered_model_alias(name, CHAMPION, version)


def resolve_model_uri(uri: str | None, name: str) -> str:
    """``--model`` as given, or the registry's champion of ``name``."""
    return uri or f"models:/{name}@{CHAMPION}"


def load_registered(uri: str) -> LeadScoreModel:
    """Load a registered model's Python object; a one-line error when it cannot be found."""
    quiet()
    mlflow.set_tracking_uri(tracking_uri())
    try:
        return mlflow.pyfunc.load_model(uri).unwrap_python_model()
    except (MlflowException, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(f"model {uri}: cannot be loaded from {tracking_uri()} ({first})") from None


def version_of(uri: str, name: str) -> str:
    """The registry version a models:/ URI points to (or the URI itself when not a registry URI)."""
    client = MlflowClient()
    if uri.startswith("models:/"):
        ref = uri[len("models:/") :]
        model, _, rest = ref.partition("@")
        if rest:
            return f"{model}/{client.get_model_version_by_alias(model, rest).version}"
        model, _, version = ref.partition("/")
        return f"{model}/{version}"
    return uri
