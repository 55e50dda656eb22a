"""Owners: who takes hand-offs, for which territory, and how many per run.

An owners file is YAML or CSV. YAML::

    territory_by: country          # or industry: the leads column territories are read from
    owners:
      - {owner: Ana, email: ana@example.com, territories: [US, CA], capacity: 20}
      - {owner: Bo, territories: [US, CA], capacity: 10}
      - {owner: Cy, capacity: 15}  # no territories: every value no one else lists

CSV: one row per owner, columns ``owner``, ``capacity``, optional ``email`` and one
territory column named for the leads column it matches (``country`` or ``industry``),
several values separated by ``;``.

Owners listing the same territories form a team and share its leads round-robin. Teams
must not overlap (a value belongs to one team), so routing never has to choose between
teams; owners with no territories take every value no one else lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadscore.errors import ConfigError

TERRITORY_FIELDS = ("country", "industry")


class Owner(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    owner: Annotated[str, Field(min_length=1)]
    capacity: Annotated[int, Field(ge=0)]
    email: str | None = None
    territories: tuple[str, ...] = ()


class OwnersFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    territory_by: Literal["country", "industry"] | None = None
    owners: Annotated[list[Owner], Field(min_length=1)]


@dataclass(frozen=True)
class Team:
    """Owners sharing one set of territories (empty: the catch-all team)."""

    territories: frozenset[str]
    owners: tuple[Owner, ...]

    @property
    def capacity(self) -> int:
        return sum(o.capacity for o in self.owners)


@dataclass(frozen=True)
class Owners:
    territory_by: str | None
    teams: tuple[Team, ...]

    @property
    def capacity(self) -> int:
        return sum(t.capacity for t in self.teams)

    def team_of(self) -> dict[str, int]:
        """Territory value (folded) -> index of its team; the catch-all team under ``""``
        when there is one."""
        out = {value: i for i, t in enumerate(self.teams) for value in t.territories}
        for i, t in enumerate(self.teams):
            if not t.territories:
                out[""] = i
        return out


def fold(value: object) -> str:
    """A territory value compared without case or surrounding spaces."""
    return "" if value is None or pd.isna(value) else str(value).strip().casefold()


def parse_owners(raw: object, source: str) -> Owners:
    """Validated owners; a bad file is one ``ConfigError`` naming the key or owner."""
    try:
        parsed = OwnersFile.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"owners {source}: {where}: {first['msg']}") from None
    names = [o.owner for o in parsed.owners]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"owners {source}: owner {twice[0]!r} is listed twice")
    listed = any(o.territories for o in parsed.owners)
    if listed and parsed.territory_by is None:
        raise ConfigError(
            f"owners {source}: territories are given but not territory_by (country or industry)"
        )
    teams: dict[frozenset[str], list[Owner]] = {}
    for o in parsed.owners:
        teams.setdefault(frozenset(fold(t) for t in o.territories if fold(t)), []).append(o)
    seen: dict[str, str] = {}
    for territories, members in teams.items():
        for value in sorted(territories):
            if value in seen:
                raise ConfigError(
                    f"owners {source}: territory {value!r} is given to {seen[value]} and to "
                    f"{members[0].owner} with other territories; owners sharing a territory "
                    "must list the same territories (one team per territory)"
                )
            seen[value] = members[0].owner
    return Owners(
        territory_by=parsed.territory_by if listed else None,
        teams=tuple(Team(k, tuple(v)) for k, v in teams.items()),
    )


def _from_csv(path: Path) -> dict:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    known = {"owner", "capacity", "email", *TERRITORY_FIELDS}
    unknown = [c for c in frame.columns if c not in known]
    if unknown:
        raise ConfigError(
            f"owners {path.name}: unknown column {unknown[0]!r} ({len(frame)} rows; columns: "
            "owner, capacity, email and one of country or industry)"
        )
    by = [c for c in TERRITORY_FIELDS if c in frame.columns]
    if len(by) > 1:
        raise ConfigError(
            f"owners {path.name}: give territories by country or by industry, not both"
        )
    owners = []
    for row in frame.to_dict("records"):  # an owners file is a handful of rows
        entry: dict = {"owner": row.get("owner", "").strip(), "capacity": row.get("capacity", "")}
        if row.get("email", "").strip():
            entry["email"] = row["email"].strip()
        if by:
            entry["territories"] = [t.strip() for t in row[by[0]].split(";") if t.strip()]
        owners.append(entry)
    return {"territory_by": by[0] if by else None, "owners": owners}


def load_owners(path: str | Path) -> Owners:
    """Read an owners file (``.yaml``/``.yml`` or ``.csv``)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"owners: file {p} does not exist")
    if p.suffix.lower() == ".csv":
        try:
            raw = _from_csv(p)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
            raise ConfigError(f"owners {p.name}: cannot be read as CSV ({err})") from None
    elif p.suffix.lower() in (".yaml", ".yml"):
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise ConfigError(
                f"owners {p.name}: not valid YAML ({str(err).splitlines()[0]})"
            ) from None
    else:
        raise ConfigError(f"owners: {p.name} is neither .yaml nor .csv")
    return parse_owners(raw, p.name)
