"""The generic checks of a CRD's OpenAPI schema, with apiextensions-apiserver's messages
(``should be less than or equal to 1000``, ``should have at least 1 items``, ``Too many``)."""

from __future__ import annotations

from netpol.load.yamldoc import LocatedMap
from netpol.validate.report import Report


def schema_object(r: Report, value: object, path: str, null_ok: bool = False) -> LocatedMap | None:
    """A mapping; null is an error where the schema has an object (a list item), unless
    ``null_ok`` (an optional field, where null means absent)."""
    if value is None and not null_ok:
        r.bad_request(path, "must be a mapping (an object), not null")
        return None
    return r.mapping(value, path)


def in_range(r: Report, path: str, value: int, low: int, high: int) -> None:
    """``minimum``/``maximum``."""
    if value < low:
        r.invalid(path, value, f"should be greater than or equal to {low}")
    elif value > high:
        r.invalid(path, value, f"should be less than or equal to {high}")


def min_items(r: Report, path: str, items: list[object], raw: object) -> None:
    """``minItems: 1`` on a list that is present."""
    if isinstance(raw, list) and not items:
        r.invalid(path, 0, "should have at least 1 items")


def max_items(r: Report, path: str, items: list[object], most: int, why: str = "") -> None:
    """``maxItems``; ``why`` is appended to the message when the limit needs explaining."""
    if len(items) > most:
        r.add("TooMany", path, f"must have at most {most} items{why}", len(items))
