"""Calico selector expressions as data (``role == 'db' && has(app)``).

The parser lives in ``netpol.load.calico_selector``, evaluation in
``netpol.engine.selectors``. ``text`` keeps the expression as written, for messages.
"""

from __future__ import annotations

from dataclasses import dataclass

# comparison operators of the Calico selector language
EQUALS, NOT_EQUALS = "==", "!="
STARTS_WITH, ENDS_WITH, CONTAINS = "starts with", "ends with", "contains"
COMPARISONS = (EQUALS, NOT_EQUALS, STARTS_WITH, ENDS_WITH, CONTAINS)


@dataclass(frozen=True, slots=True)
class AllOf:
    """``all()``: every endpoint (also the value of an empty selector)."""


@dataclass(frozen=True, slots=True)
class GlobalOnly:
    """``global()``: non-namespaced endpoints only, so never a pod."""


@dataclass(frozen=True, slots=True)
class HasLabel:
    key: str


@dataclass(frozen=True, slots=True)
class Compare:
    """``key == 'v'``, ``key != 'v'`` (true when absent), ``key starts with 'v'`` ..."""

    key: str
    operator: str  # one of COMPARISONS
    value: str


@dataclass(frozen=True, slots=True)
class InSet:
    """``key in {'a', 'b'}``; ``not in`` is true when the label is absent."""

    key: str
    values: frozenset[str]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expression


@dataclass(frozen=True, slots=True)
class And:
    left: Expression
    right: Expression


@dataclass(frozen=True, slots=True)
class Or:
    left: Expression
    right: Expression


Expression = AllOf | GlobalOnly | HasLabel | Compare | InSet | Not | And | Or


@dataclass(frozen=True, slots=True)
class CalicoSelector:
    """A parsed Calico selector and the text it was parsed from."""

    expression: Expression
    source_text: str = "all()"

    def text(self) -> str:
        return self.source_text

    @property
    def is_empty(self) -> bool:
        return isinstance(self.expression, AllOf)

    def keys(self) -> frozenset[str]:
        return expression_keys(self.expression)


ALL = CalicoSelector(AllOf())


def expression_keys(expression: Expression) -> frozenset[str]:
    """Every label key the expression reads (what endpoint classes must tell apart)."""
    if isinstance(expression, HasLabel | Compare | InSet):
        return frozenset({expression.key})
    if isinstance(expression, Not):
        return expression_keys(expression.operand)
    if isinstance(expression, And | Or):
        return expression_keys(expression.left) | expression_keys(expression.right)
    return frozenset()
