"""Counts in words: "1 fold", "4 folds". The one place a printed count agrees with its noun,
so every layer's lines read the same."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` with ``noun`` in agreement (``plural`` when adding "s" is wrong)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
