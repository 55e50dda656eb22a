"""The registry of model kinds: name -> class, so a kind is one module plus one line here.

Training makes the configured kind (``model.kind``) through ``create``; the registered pyfunc
model loads a saved scorer back through ``load_scorer``, by the ``kind`` its ``scorer.json``
names. A kind follows the contract in ``leadscore.model.kind``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd

from leadscore.errors import ConfigError, ModelError
from leadscore.features.spec import FeatureSpec
from leadscore.model.bayes import NaiveBayesScorer
from leadscore.model.kind import Scorer
from leadscore.model.linear import LogisticScorer
from leadscore.model.points import PointsScorer
from leadscore.model.scorer import LeadScorer
from leadscore.model.segmented import SegmentedScorer

if TYPE_CHECKING:
    from leadscore.config import Config

K = TypeVar("K", bound=type)

_KINDS: dict[str, type] = {}


def register(cls: K) -> K:
    """Add a kind (a class following ``Scorer``) under its ``kind`` name; returns the class."""
    name = getattr(cls, "kind", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__name__} has no kind name (a class attribute `kind`)")
    missing = [m for m in CONTRACT if not callable(getattr(cls, m, None))]
    if missing:
        raise TypeError(f"{cls.__name__} lacks {', '.join(missing)} of the Scorer contract")
    _KINDS[name] = cls
    return cls


#: The methods a kind must have (those of ``Scorer``).
CONTRACT = tuple(
    m
    for m in Scorer.__dict__
    if not m.startswith("_") and callable(getattr(Scorer, m)) and m not in ("kind", "spec")
)


def names() -> list[str]:
    """The registered kinds, in the order they were added."""
    return list(_KINDS)


def kind_class(name: str) -> type:
    """The class registered as ``name``; a one-line error naming the setting otherwise."""
    try:
        return _KINDS[name]
    except KeyError:
        raise ConfigError(
            f"model.kind: unknown kind {name!r}; registered kinds: {', '.join(_KINDS)}"
        ) from None


def contestants(cfg: Config) -> list[str]:
    """The kinds training fits and judges: the config's ``model.kind``, or with ``auto`` the
    tournament's ``model.contestants`` (each checked against the registry, in order, once)."""
    wanted = cfg.model.contestants if cfg.model.kind == "auto" else [cfg.model.kind]
    for name in wanted:
        if name not in _KINDS:
            key = "model.contestants" if cfg.model.kind == "auto" else "model.kind"
            raise ConfigError(
                f"{key}: unknown kind {name!r}; registered kinds: {', '.join(_KINDS)}"
            )
    return list(dict.fromkeys(wanted))


def one_core(name: str) -> bool:
    """Whether the kind's fits use one core (a class's ``one_core``), so two of them can run
    side by side; kinds without it (LightGBM) use every core and run alone."""
    return bool(getattr(kind_class(name), "one_core", False))


def fit_rows(
    scorer: Scorer,
    X: pd.DataFrame,
    y: np.ndarray,
    rows: np.ndarray,
    weight: np.ndarray | None = None,
    valid_rows: np.ndarray | None = None,
) -> Scorer:
    """``scorer`` fitted on the rows of ``X`` at positions ``rows`` (``y``: every row's
    label; ``weight``: the chosen rows', in order), stopping early on those at
    ``valid_rows``. A kind that reads rows in place (a class's ``takes_rows``) gets ``X``
    and the positions, so it copies only the rows and columns it learns from; any other
    kind gets copies of the rows."""
    valid = None if valid_rows is None else (X, y[valid_rows])
    if getattr(type(scorer), "takes_rows", False):
        return scorer.fit(X, y[rows], weight, valid, rows=rows, valid_rows=valid_rows)
    if valid is not None and valid_rows is not None:
        valid = (X.iloc[valid_rows], valid[1])
    return scorer.fit(X.iloc[rows], y[rows], weight, valid)


def create(spec: FeatureSpec, cfg: Config, kind: str | None = None) -> Scorer:
    """An unfitted scorer of ``kind`` (default: the config's first contestant)."""
    return kind_class(kind or contestants(cfg)[0]).create(spec, cfg)


def load_scorer(folder: str | Path) -> Scorer:
    """The scorer saved in ``folder``, loaded by the kind its ``scorer.json`` names (files
    written before kinds were named hold a LightGBM model)."""
    name = json.loads((Path(folder) / "scorer.json").read_text()).get("kind", LeadScorer.kind)
    if name == SegmentedScorer.kind:  # built by training from scorers of the kinds below
        return SegmentedScorer.load_with(folder, load_scorer)
    if name not in _KINDS:
        raise ModelError(
            f"the saved scorer is of kind {name!r}, which this installation does not register "
            f"(registered: {', '.join(_KINDS)})"
        )
    return _KINDS[name].load(folder)


# The built-in kinds, one line each.
register(LeadScorer)
register(PointsScorer)
register(LogisticScorer)
register(NaiveBayesScorer)
