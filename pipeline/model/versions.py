"""The registered versions of a model, and moving its champion alias by hand.

``list_versions`` gives each version with its backtest metrics, training window and
aliases; ``promote`` points the champion alias at a version and ``rollback`` back at the
champion before the current one. Every move is recorded as tags on the version it lands
on (who, when, why, and which version held the alias before), so the registry itself is
the audit trail; ``score`` and ``report`` follow the alias.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from leadscore import tracking
from leadscore.errors import RegistryError

METRICS = ("model_roc_auc", "model_pr_auc", "baseline_roc_auc", "model_brier")
PREVIOUS = "champion.previous"  # the version that held the alias before this one took it
KIND = "leadscore.kind"  # "model" or "points sheet", set when the version is registered


@dataclass(frozen=True)
class VersionRow:
    version: str
    created: str
    aliases: tuple[str, ...]
    kind: str  # the LightGBM model or the points sheet
    window: str
    metrics: dict[str, float]
    moved: str  # the last promote/rollback recorded on it

    def line(self) -> str:
        figures = ", ".join(f"{k.removeprefix('model_')} {v:.4f}" for k, v in self.metrics.items())
        aliases = f" [{', '.join(self.aliases)}]" if self.aliases else ""
        moved = f"; {self.moved}" if self.moved else ""
        return (
            f"v{self.version}{aliases} {self.created} {self.kind}: {figures}; {self.window}{moved}"
        )


def _client() -> MlflowClient:
    tracking.connect_existing()
    return MlflowClient()


def _versions(client: MlflowClient, name: str) -> list:
    try:
        found = client.search_model_versions(f"name='{name.replace(chr(39), '')}'")
    except MlflowException as err:
        raise RegistryError(
            f"registry {tracking.tracking_uri()}: {tracking.first_line(err)}"
        ) from None
    if not found:
        raise RegistryError(
            f"no versions of model {name!r} in {tracking.tracking_uri()}; train one first"
        )
    return sorted(found, key=lambda v: int(v.version))


def list_versions(name: str) -> list[VersionRow]:
    """Every version of ``name``, oldest first."""
    client = _client()
    found = _versions(client, name)
    # Searches do not return aliases; the registered model maps them to versions.
    aliases: dict[str, list[str]] = {}
    for alias, version in (client.get_registered_model(name).aliases or {}).items():
        aliases.setdefault(str(version), []).append(alias)
    rows = []
    for v in found:
        try:
            run = client.get_run(v.run_id) if v.run_id else None
        except MlflowException:
            run = None
        metrics = {k: run.data.metrics[k] for k in METRICS if run and k in run.data.metrics}
        tags = run.data.tags if run else {}
        created = pd.Timestamp(int(v.creation_timestamp), unit="ms", tz="UTC")
        moved = v.tags.get("champion.why", "")
        if moved:
            moved = f"{v.tags.get('champion.by', '?')} at {v.tags.get('champion.at', '?')}: {moved}"
        rows.append(
            VersionRow(
                version=str(v.version),
                created=f"{created:%Y-%m-%d %H:%M}",
                aliases=tuple(sorted(aliases.get(str(v.version), []))),
                kind=v.tags.get(KIND, "model"),
                window=tags.get("deploy.window", "training window not recorded"),
                metrics=metrics,
                moved=moved,
            )
        )
    return rows


def record_move(
    client: MlflowClient, name: str, version: str, why: str, previous: str | None
) -> None:
    """Tags on ``version``: who moved the alias to it, when, why, and from which version."""
    stamp = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        who = getpass.getuser()
    except (OSError, KeyError):  # a container user without a passwd entry
        who = "unknown"
    tags = {"champion.by": who, "champion.at": stamp, "champion.why": why}
    if previous is not None:
        tags[PREVIOUS] = previous
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def promote(name: str, version: str, why: str = "promoted by hand") -> tuple[str | None, str]:
    """Point the champion alias at ``version``; (the version it left, the version)."""
    client = _client()
    known = {str(v.version) for v in _versions(client, name)}
    version = version.removeprefix("v")
    if version not in known:
        raise RegistryError(
            f"model {name!r} has no version {version} (versions: {', '.join(sorted(known, key=int))})"
        )
    before = tracking.champion_version(name)
    if before == version:
        return before, version
    client.set_registered_model_alias(name, tracking.CHAMPION, version)
    record_move(client, name, version, why, before)
    return before, version


def rollback(name: str, why: str = "rolled back by hand") -> tuple[str, str]:
    """Point the champion alias back at the version that held it before the current one;
    (the version it left, the version it returned to)."""
    client = _client()
    _versions(client, name)
    current = tracking.champion_version(name)
    if current is None:
        raise RegistryError(f"model {name!r} has no champion to roll back from")
    mv = client.get_model_version(name, current)
    previous = mv.tags.get(PREVIOUS)
    if previous is None and mv.run_id:  # a version promoted by training records it on its run
        try:
            previous = client.get_run(mv.run_id).data.tags.get(PREVIOUS) or None
        except MlflowException:
            previous = None
    if not previous:
        raise RegistryError(
            f"model {name!r} v{current} records no earlier champion to roll back to"
        )
    client.set_registered_model_alias(name, tracking.CHAMPION, previous)
    # The version returned to keeps its own record of what came before it.
    record_move(client, name, previous, f"{why} (from v{current})", None)
    return current, previous
