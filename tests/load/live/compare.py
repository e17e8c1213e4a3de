"""Comparing clusters built from different sources (live, files, a snapshot)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import Any

from netpol.model.source import GENERATED


def sourceless(value: Any) -> Any:
    """``value`` with every ``source`` in it, rules' and peers' too, made GENERATED."""
    if is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: sourceless(getattr(value, f.name)) for f in fields(value) if f.init}
        if "source" in changes:
            changes["source"] = GENERATED
        return replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(sourceless(v) for v in value)
    return value
