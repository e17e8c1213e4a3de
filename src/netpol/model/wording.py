"""Phrases several layers print the same way."""

from __future__ import annotations

from collections.abc import Sequence


def first_few(items: Sequence[str], limit: int) -> str:
    """``a, b, c and 2 more``: the first ``limit`` items, and how many are left out."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
