"""The registered model: a scorer of any kind and its settings packaged as an MLflow pyfunc model.

``log_model`` logs and registers one; ``load_registered`` loads it back as the Python object
(``.scorer`` and ``.settings``), so scoring, reports and the champion check use the very
object training built. Serving through ``mlflow.pyfunc`` gives calibrated probabilities.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.types.schema import AnyType, ColSpec, Schema

from leadscore import tracking
from leadscore.data.contract import OPTIONAL, REQUIRED
from leadscore.errors import ModelError, RegistryError
from leadscore.model.kind import Scorer
from leadscore.model.kinds import load_scorer
from leadscore.model.scorer import align
from leadscore.model.settings import ModelSettings
from leadscore.model.tiers import to_score


class LeadScoreModel(mlflow.pyfunc.PythonModel):
    """The registered model: feature rows in, calibrated probabilities out.

    ``unwrap_python_model().scorer`` gives the scorer (``leadscore.model.kind.Scorer``: spec,
    exact contributions);
    ``settings`` the ``ModelSettings`` it scores with (baseline, tiers, reasons, columns).
    """

    scorer: Scorer
    settings: ModelSettings
    version: str = ""  # ``name/N`` once looked up in the registry (``leadscore.load_model``)
    uri: str = ""  # the URI it was loaded from, once looked up

    def load_context(self, context: Any) -> None:
        self.scorer = load_scorer(context.artifacts["scorer"])
        self.settings = ModelSettings.from_json(Path(context.artifacts["settings"]).read_text())

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        p = self.scorer.predict_proba(model_input)
        return pd.DataFrame({"probability": p, "score": to_score(p)})


def signature_frame(X: pd.DataFrame, scorer: Scorer) -> pd.DataFrame:
    """Feature rows as the model's signature declares them: strings and doubles.

    Counts are cast to float64 deliberately: MLflow rejects int64 input for a double column.
    """
    out = align(X, scorer.spec)
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


#: The registered model's code, loaded by MLflow from its file ("models from code"): the
#: ``LeadScoreModel`` that also turns raw leads into features with the scoring layer's code.
#: Named by path, never imported here, so the model layer stays below scoring.
SERVED_CODE = Path(__file__).resolve().parents[1] / "serving" / "served_model.py"

#: What a served model answers per row; raw leads get every column, feature rows the first two.
ANSWER = {
    "probability": "double",
    "score": "double",
    "tier": "string",
    "fit_grade": "string",
    "baseline_score": "double",
    "baseline_tier": "string",
    "top_reasons": AnyType(),
    "model_version": "string",
    "lead_id": "string",
    "as_of": "string",
}


def signature(scorer: Scorer, columns: dict[str, dict[str, str]]) -> ModelSignature:
    """Both inputs a served model takes, every column optional: the engineered features
    (``spark_udf``) or a raw lead (its fields under the source's names, ``events`` and
    ``stages`` lists, ``as_of``); ``predict`` tells them apart by the feature columns."""
    spec = scorer.spec
    cols = {c: ("string" if c in spec.categories else "double") for c in spec.feature_columns}
    renamed = columns.get("leads", {})
    contract = {**REQUIRED["leads"], **OPTIONAL["leads"]}
    for c in (*contract, "account", *spec.lead_columns):
        if c not in cols:
            kind = contract.get(c, "string")
            cols[renamed.get(c, c)] = "double" if kind == "number" else "string"
    raw = {"events": AnyType(), "stages": AnyType(), "as_of": "string"}
    inputs = [ColSpec(t, name, required=False) for name, t in {**cols, **raw}.items()]
    outputs = [
        ColSpec(t, name, required=name in ("probability", "score")) for name, t in ANSWER.items()
    ]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def package_copy(into: Path) -> Path:
    """This package as one ``leadscore`` folder (its ``features`` subpackage inside), for a
    logged model's ``code_paths``: Spark executors that have MLflow but not leadscore can
    then unpickle and run the model."""
    import shutil

    from leadscore.features import spec

    root = into / "leadscore"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(Path(__file__).resolve().parents[1], root, ignore=skip)
    if not (root / "features" / "__init__.py").exists():  # an editable install keeps it apart
        shutil.copytree(Path(spec.__file__).resolve().parent, root / "features", ignore=skip)
    return root


def log_model(
    scorer: Scorer,
    settings: ModelSettings,
    example: pd.DataFrame,
    registered_name: str,
    artifact: str = "model",
) -> tuple[str, str]:
    """Log a scorer as an MLflow pyfunc model under ``artifact`` in the active run and
    register it; (model uri, version)."""
    with tempfile.TemporaryDirectory() as tmp:
        scorer_dir = scorer.save(Path(tmp) / "scorer")
        settings_path = Path(tmp) / "settings.json"
        settings_path.write_text(settings.to_json())
        ex = signature_frame(example.head(5), scorer)
        info = mlflow.pyfunc.log_model(
            name=artifact,
            python_model=str(SERVED_CODE),
            artifacts={"scorer": str(scorer_dir), "settings": str(settings_path)},
            signature=signature(scorer, settings.columns.model_dump()),
            input_example=ex,
            pip_requirements=REQUIREMENTS,
            code_paths=[str(package_copy(Path(tmp) / "code"))],
            registered_model_name=registered_name,
        )
    version = str(info.registered_model_version)
    kind = "points sheet" if scorer.kind == "points" else "model"
    MlflowClient().set_model_version_tag(registered_name, version, "leadscore.kind", kind)
    return info.model_uri, version


def load_registered(uri: str) -> LeadScoreModel:
    """Load a registered model's Python object; a one-line error when it cannot be found."""
    tracking.quiet()
    mlflow.set_tracking_uri(tracking.tracking_uri())
    try:
        return mlflow.pyfunc.load_model(uri).unwrap_python_model()
    except ModelError as err:
        raise ModelError(f"model {uri}: {err}") from None
    except (MlflowException, OSError) as err:
        raise RegistryError(
            f"model {uri}: cannot be loaded from {tracking.tracking_uri()} "
            f"({tracking.first_line(err)}); {tracking.models_there()}"
        ) from None
