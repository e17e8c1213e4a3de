"""Label selector matching (spec 2.1): all requirements ANDed, exact string values."""

from __future__ import annotations

from collections.abc import Mapping

from netpol.model.expressions import (
    ENDS_WITH,
    EQUALS,
    NOT_EQUALS,
    STARTS_WITH,
    AllOf,
    And,
    CalicoSelector,
    Compare,
    Expression,
    GlobalOnly,
    HasLabel,
    InSet,
    Not,
    Or,
)
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
    if not selector.match_expressions:
        return True  # most selectors: skip building a generator for nothing
    return all(requirement_holds(r, labels) for r in selector.match_expressions)


def first_mismatch(selector: LabelSelector, labels: Mapping[str, str]) -> Requirement | None:
    """The first requirement that ``labels`` fail, for explanations; None when they match."""
    for req in selector.requirements():
        if not requirement_holds(req, labels):
            return req
    return None


def selector_holds(selector: LabelSelector | CalicoSelector, labels: Mapping[str, str]) -> bool:
    """A Kubernetes label selector or a Calico selector expression, over ``labels``."""
    if isinstance(selector, CalicoSelector):
        return expression_holds(selector.expression, labels)
    return matches(selector, labels)


def expression_holds(expression: Expression, labels: Mapping[str, str]) -> bool:
    """Calico's selector semantics: ``!=`` and ``not in`` hold when the label is absent."""
    match expression:
        case AllOf():
            return True
        case GlobalOnly():
            return False  # only non-namespaced endpoints, never a pod
        case HasLabel(key):
            return key in labels
        case Compare(key, operator, value):
            return _compare(labels.get(key), operator, value)
        case InSet(key, values, negated):
            found = labels.get(key)
            inside = found is not None and found in values
            return not inside if negated else inside
        case Not(operand):
            return not expression_holds(operand, labels)
        case And(left, right):
            return expression_holds(left, labels) and expression_holds(right, labels)
        case Or(left, right):
            return expression_holds(left, labels) or expression_holds(right, labels)
    raise TypeError(f"not a selector expression: {expression!r}")  # pragma: no cover


def _compare(found: str | None, operator: str, value: str) -> bool:
    if operator == NOT_EQUALS:
        return found != value
    if found is None:
        return False
    if operator == EQUALS:
        return found == value
    if operator == STARTS_WITH:
        return found.startswith(value)
    if operator == ENDS_WITH:
        return found.endswith(value)
    return value in found  # contains
