"""MLflow: the tracking store, registry look-ups and the champion alias.

With no ``MLFLOW_TRACKING_URI`` the store is a local SQLite file, ``mlflow.db`` in the
working folder (MLflow's own default); the variable points it at a server instead. This
module knows MLflow, not leadscore's model: packaging a model as a pyfunc and loading it
back live in ``leadscore.model.registered``. Everything MLflow cannot answer becomes a
one-line :class:`~leadscore.errors.RegistryError`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from leadscore.errors import RegistryError

CHAMPION = "champion"
DEFAULT_URI = "sqlite:///mlflow.db"
URI_FORMS = "give models:/NAME@ALIAS, models:/NAME/VERSION or runs:/RUN_ID/model"


def tracking_uri() -> str:
    """The store in use: ``MLFLOW_TRACKING_URI`` if set, else the local SQLite default."""
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI


# MLflow retries a failing HTTP request 7 times with a doubling back-off, so a server that
# went away holds a job for minutes. Batch jobs should fail fast and say why: 2 retries, 1 s
# and 2 s apart. The per-request timeout stays MLflow's (a slow upload is not a dead server;
# a dead one is caught by ``check_reachable`` first). A user's own setting wins.
HTTP_LIMITS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
}
REACH_TIMEOUT_S = 5.0


def quiet() -> None:
    """Keep MLflow's own chatter (progress bars, INFO lines) out of batch-job output, and
    bound its HTTP retries (``HTTP_LIMITS``)."""
    for key, value in HTTP_LIMITS.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    # Logging a Python object model is what we intend; MLflow warns about it every time.
    logging.getLogger("mlflow.pyfunc").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def check_reachable(uri: str | None = None) -> None:
    """A tracking server (``http(s)://``) must answer its health check within a few
    seconds; otherwise one ``RegistryError`` line naming the URI (without credentials),
    before any work is done. TLS follows MLflow's own settings (``MLFLOW_TRACKING_INSECURE_TLS``,
    ``MLFLOW_TRACKING_SERVER_CERT_PATH``, ``MLFLOW_TRACKING_CLIENT_CERT_PATH``,
    ``REQUESTS_CA_BUNDLE``). Other stores (SQLite, files, Databricks) are not probed."""
    import urllib.parse

    import requests

    uri = uri or tracking_uri()
    if not uri.startswith(("http://", "https://")):
        return
    parts = urllib.parse.urlsplit(uri)
    shown = parts._replace(
        netloc=parts.hostname + (f":{parts.port}" if parts.port else "")
    ).geturl()
    verify: bool | str = True
    if os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true":
        verify = False
    elif os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH"):
        verify = os.environ["MLFLOW_TRACKING_SERVER_CERT_PATH"]
    cert = os.environ.get("MLFLOW_TRACKING_CLIENT_CERT_PATH") or None
    try:
        answer = requests.get(
            uri.rstrip("/") + "/health", timeout=REACH_TIMEOUT_S, verify=verify, cert=cert
        )
    except (requests.RequestException, OSError, ValueError) as err:
        reason = type(err).__name__
        detail = str(err).replace(uri, shown)
        reason = f"{reason}: {detail[:160]}" if detail else reason
    else:
        if answer.status_code < 500:  # it answers (a proxy may guard /health): it is there
            return
        reason = f"HTTP {answer.status_code}"
    raise RegistryError(
        f"tracking server {shown} cannot be reached ({reason}); start it or fix MLFLOW_TRACKING_URI"
    )


LOCK_WAIT_S = 300.0


@contextmanager
def store_lock() -> Iterator[None]:
    """One training run at a time writes to a local SQLite store: a second waits (up to
    ``LOCK_WAIT_S``) instead of racing the first through the store's creation, the
    registry and the champion alias. A store that still fails is one ``RegistryError``
    line. Servers and other stores order their own writes."""
    uri = tracking_uri()
    if not uri.startswith("sqlite:///"):
        yield
        return
    try:
        import fcntl
    except ImportError:  # not POSIX: SQLite's own locking only
        yield
        return
    import time

    from sqlalchemy.exc import OperationalError

    db = Path(uri[len("sqlite:///") :])
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.with_name(db.name + ".lock"), "a") as handle:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RegistryError(
                        f"MLflow store {db} is busy: another run has held it for "
                        f"{LOCK_WAIT_S:.0f} s; try again when it has finished"
                    ) from None
                time.sleep(0.5)
        try:
            repair_interrupted_migration(db)
            yield
        except OperationalError as err:
            raise RegistryError(f"MLflow store {db} failed ({first_line(err)})") from None
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def repair_interrupted_migration(db: Path) -> list[str]:
    """Undo what a run killed while MLflow created or upgraded the store left behind, and
    say which tables it touched.

    SQLite upgrades a table by copying it to ``_alembic_tmp_<name>``, dropping ``<name>``
    and renaming the copy; SQLite commits each of those steps on its own, so a kill between
    them leaves the copy, and every later run then fails on it. With the store's lock held
    no upgrade is under way: a copy beside its table is dropped (the upgrade runs again), a
    copy without one is renamed into place (the table had already been dropped)."""
    import sqlite3

    if not db.is_file():
        return []
    touched = []
    with closing(sqlite3.connect(db)) as con:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for tmp in sorted(n for n in names if n.startswith("_alembic_tmp_")):
            table = tmp[len("_alembic_tmp_") :]
            if table in names:
                con.execute(f'DROP TABLE "{tmp}"')
            else:
                con.execute(f'ALTER TABLE "{tmp}" RENAME TO "{table}"')
            touched.append(table)
        con.commit()
    return touched


def setup(experiment: str) -> None:
    """Point MLflow at the store and the experiment a training run logs to."""
    quiet()
    check_reachable()
    mlflow.set_tracking_uri(tracking_uri())
    mlflow.set_experiment(experiment)


def connect_existing() -> None:
    """Point MLflow at the store for reading; a local SQLite store must already exist.

    MLflow would silently create an empty store, and then report every model as missing.
    """
    quiet()
    uri = tracking_uri()
    check_reachable(uri)
    if uri.startswith("sqlite:///"):
        path = Path(uri[len("sqlite:///") :])
        if not path.is_file():
            raise RegistryError(
                f"no MLflow store at {path} (tracking URI {uri}); train a model first or set MLFLOW_TRACKING_URI"
            )
    mlflow.set_tracking_uri(uri)


def models_there(shown: int = 10) -> str:
    """What the store registers, as a hint for a model that was not found."""
    try:
        names = sorted(m.name for m in MlflowClient().search_registered_models())
    except MlflowException:
        names = []
    if not names:
        return "the store registers no model: `leadscore train` registers one"
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return (
        f"the store registers {', '.join(names[:shown])}{more} (`leadscore models list`; "
        "--model models:/NAME@champion, or the config whose tracking.registered_model_name "
        "trained it)"
    )


def first_line(err: BaseException) -> str:
    """An exception's message cut to its first line (MLflow's run to many)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


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


def version_of(uri: str, name: str) -> str:
    """The registry version a models:/ URI points to (or the URI itself when not a registry URI)."""
    if uri.startswith("models:/"):
        ref = uri[len("models:/") :]
        model, _, rest = ref.partition("@")
        if rest:
            try:
                version = MlflowClient().get_model_version_by_alias(model, rest).version
            except MlflowException as err:
                raise RegistryError(f"model {uri}: not found ({first_line(err)})") from None
            return f"{model}/{version}"
        model, _, version = ref.partition("/")
        return f"{model}/{version}"
    return uri


@dataclass
class ModelRef:
    """Where a model URI leads: registry name and version, training run, aliases."""

    uri: str
    name: str
    version: str | None
    run_id: str
    aliases: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}" if self.version else self.name


def _registry_version(client: MlflowClient, uri: str) -> ModelVersion:
    ref = uri[len("models:/") :].strip("/")
    if "@" in ref:
        name, alias = ref.split("@", 1)
        return client.get_model_version_by_alias(name, alias)
    name, _, version = ref.rpartition("/")
    if not name:
        raise RegistryError(f"model {uri}: {URI_FORMS}")
    if version != "latest":
        return client.get_model_version(name, version)
    versions = client.search_model_versions(f"name='{name}'")
    if not versions:
        raise RegistryError(f"model {uri}: registered model {name!r} has no versions")
    return max(versions, key=lambda v: int(v.version))


def _aliases(client: MlflowClient, mv: ModelVersion) -> list[str]:
    found = list(getattr(mv, "aliases", None) or [])
    if found:
        return sorted(found)
    try:
        aliases = client.get_registered_model(mv.name).aliases.items()
    except MlflowException:
        return []
    return sorted(a for a, v in aliases if str(v) == str(mv.version))


def resolve_model(uri: str, registered_name: str) -> ModelRef:
    """The registry name, version and training run behind a model URI.

    Accepts ``models:/NAME@ALIAS``, ``models:/NAME/VERSION`` (or ``latest``) and
    ``runs:/RUN_ID/...``; anything MLflow cannot find is a one-line ``RegistryError``.
    """
    client = MlflowClient()
    try:
        if uri.startswith("models:/"):
            mv = _registry_version(client, uri)
            if not mv.run_id:
                raise RegistryError(f"model {uri}: version {mv.version} has no training run")
            return ModelRef(uri, mv.name, str(mv.version), mv.run_id, _aliases(client, mv))
        if uri.startswith("runs:/"):
            run_id = uri[len("runs:/") :].split("/")[0]
            client.get_run(run_id)
            for mv in client.search_model_versions(f"run_id='{run_id}'"):
                return ModelRef(uri, mv.name, str(mv.version), run_id, sorted(mv.aliases or []))
            return ModelRef(uri, registered_name, None, run_id)
    except MlflowException as err:
        raise RegistryError(
            f"model {uri}: not found in {tracking_uri()} ({first_line(err)})"
        ) from None
    raise RegistryError(f"model {uri}: {URI_FORMS}")


def get_run(ref: ModelRef) -> mlflow.entities.Run:
    """The training run behind a model."""
    try:
        return MlflowClient().get_run(ref.run_id)
    except MlflowException as err:
        raise RegistryError(
            f"model {ref.uri}: run {ref.run_id} not found ({first_line(err)})"
        ) from None


def download_artifacts(run_id: str, names: Iterable[str], folder: Path) -> dict[str, Path]:
    """Those of ``names`` the run logged, downloaded into ``folder`` (absent ones are skipped)."""
    client = MlflowClient()
    try:
        present = {Path(f.path).name for f in client.list_artifacts(run_id) if not f.is_dir}
    except (MlflowException, OSError) as err:
        raise RegistryError(
            f"run {run_id}: artifacts cannot be listed ({first_line(err)})"
        ) from None
    got: dict[str, Path] = {}
    for name in names:
        if name not in present:
            continue
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=name, dst_path=str(folder)
            )
        except (MlflowException, OSError):
            continue
        got[name] = Path(local)
    return got
