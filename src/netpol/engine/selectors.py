"""Label selector matching (spec 2.1): all requirements ANDed, exact string values."""

from __future__ import annotations

from collections.abc import Mapping

from netpol.model.selectors import LabelSelector, Requirement


def requirement_holds(req: Requirement, labels: Mapping[str, str]) -> bool:
    value = labels.get(req.key)
    if req.operator == "In":
        return value is not None and value in req.values
    if req.operator == "NotIn":
        return value is None or value not in req.values
    if req.operator == "Exists":
        return value is not None
    if req.operator == "DoesNotExist":
        return value is None
    raise ValueError(f"unknown selector operator {req.operator!r}")  # validated away: a bug


def matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """True when every requirement holds; the empty selector matches everything."""
    for key, value in selector.match_labels:
        if labels.get(key) != value:
            return False
    return all(requirement_holds(r, labels) for r in selector.match_expressions)


def first_mismatch(selector: LabelSelector, labels: Mapping[str, str]) -> Requirement | None:
    """The first requirement that ``labels`` fail, for explanations; None when they match."""
    for req in selector.requirements():
        if not requirement_holds(req, labels):
            return req
    return None
