"""The generator's state: one namespace of per-lead arrays (``s``) that the steps read and add
to. The order of the steps is fixed: every step draws from the one random generator, so a
reordering would change every table."""

from __future__ import annotations

from types import SimpleNamespace


def _read(s: SimpleNamespace, names: str) -> list:
    return [getattr(s, name) for name in names.split()]


def _write(s: SimpleNamespace, **arrays: object) -> None:
    vars(s).update(arrays)
