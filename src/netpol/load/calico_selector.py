"""Calico's selector language -> ``model.expressions`` (``role == 'db' && has(app)``).

The grammar, as libcalico-go's selector parser reads it (``&&`` binds tighter than
``||``; ``!`` applies to the term after it)::

    or      := and ("||" and)*
    and     := unary ("&&" unary)*
    unary   := "!" unary | "(" or ")" | "all()" | "global()" | "has(" key ")"
             | key ("==" | "!=" | "contains" | "starts with" | "ends with") value
             | key ("in" | "not in") "{" [value ("," value)*] "}"
    value   := '...' | "..."      (no escapes: a value cannot hold its own quote)

The empty (or blank) selector is ``all()``.

Bounded for hostile input, so that every walk over the result (evaluation, printing,
hashing) stays far from Python's recursion limit: a chain of ``||`` or ``&&`` longer than
``LEFT_DEEP_CHAIN`` terms is built as a balanced tree (the same truth, a depth of log2 of
its length, so a 1,000-term chain evaluates), and the expression may nest at most
``MAX_SELECTOR_DEPTH`` levels (parentheses, ``!``, and the operators of a chain), which the
parser checks before it recurses deeper.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from netpol.model.expressions import (
    CONTAINS,
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

KEY = re.compile(r"[A-Za-z0-9_./-]+")
_SPACE = re.compile(r"\s*")
# operators after a key, longest first; the word operators need a space or a quote after
_OPERATORS = (
    (re.compile(r"=="), EQUALS),
    (re.compile(r"!="), NOT_EQUALS),
    (re.compile(r"contains\b"), CONTAINS),
    (re.compile(r"starts\s+with\b"), STARTS_WITH),
    (re.compile(r"ends\s+with\b"), ENDS_WITH),
    (re.compile(r"not\s+in\b"), "not in"),
    (re.compile(r"in\b"), "in"),
)
_CALLS: tuple[tuple[re.Pattern[str], Expression], ...] = (
    (re.compile(r"all\s*\(\s*\)"), AllOf()),
    (re.compile(r"global\s*\(\s*\)"), GlobalOnly()),
)
_HAS = re.compile(r"has\s*\(")
OPERATOR_LIST = "==, !=, in, not in, contains, starts with or ends with"
# Real selectors nest a few levels; the cap keeps every recursive walk of the tree shallow.
MAX_SELECTOR_DEPTH = 100
# Chains up to this many terms are grouped left to right, as written; longer ones balanced.
# selector_text never prints a longer chain, so printing then parsing gives the tree back.
LEFT_DEEP_CHAIN = 16


class SelectorError(ValueError):
    """The text is not a selector; ``position`` is the 0-based index of the problem."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.message = message
        self.position = position


def parse_selector(text: str) -> CalicoSelector:
    """The selector ``text`` says (kept as written, for messages); raises SelectorError."""
    if not text.strip():
        return CalicoSelector(AllOf(), text)
    return CalicoSelector(_Parser(text).parse(), text)


def parse_expression(text: str) -> Expression:
    return parse_selector(text).expression


class _Parser:
    """Recursive descent over the text; ``pos`` always points past the whitespace."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.nesting = 0  # "(" and "!" the parser is inside of
        self.depths: dict[int, int] = {}  # id(node) -> levels of the subtree, leaves 1
        self.skip()

    def parse(self) -> Expression:
        expression = self.or_()
        if self.pos < len(self.text):
            raise SelectorError(
                f"unexpected {self.shown()} after a complete expression (expected && or ||)",
                self.pos,
            )
        return expression

    # -- grammar -------------------------------------------------------------------------

    def or_(self) -> Expression:
        terms = [self.and_()]
        while self.take("||"):
            terms.append(self.and_())
        return self.chain(Or, terms)

    def and_(self) -> Expression:
        terms = [self.unary()]
        while self.take("&&"):
            terms.append(self.unary())
        return self.chain(And, terms)

    def chain(
        self, node: Callable[[Expression, Expression], Expression], terms: list[Expression]
    ) -> Expression:
        """``terms`` joined by ``node`` (And or Or): left to right when short, else balanced."""
        if len(terms) > LEFT_DEEP_CHAIN:
            half = len(terms) // 2
            return self.built(node(self.chain(node, terms[:half]), self.chain(node, terms[half:])))
        result = terms[0]
        for term in terms[1:]:
            result = self.built(node(result, term))
        return result

    def built(self, expression: Expression) -> Expression:
        """``expression``, once its depth is known to be within MAX_SELECTOR_DEPTH."""
        children: tuple[Expression, ...] = ()
        if isinstance(expression, Not):
            children = (expression.operand,)
        elif isinstance(expression, And | Or):
            children = (expression.left, expression.right)
        depth = 1 + max((self.depths.get(id(c), 1) for c in children), default=0)
        if depth > MAX_SELECTOR_DEPTH:
            self.too_deep()
        self.depths[id(expression)] = depth
        return expression

    def too_deep(self) -> None:
        raise SelectorError(f"selector nested deeper than {MAX_SELECTOR_DEPTH} levels", self.pos)

    def unary(self) -> Expression:
        if self.nesting >= MAX_SELECTOR_DEPTH:
            self.too_deep()
        self.nesting += 1
        try:
            return self.nested_or_term()
        finally:
            self.nesting -= 1

    def nested_or_term(self) -> Expression:
        if self.text.startswith("!", self.pos) and not self.text.startswith("!=", self.pos):
            self.advance(1)
            return self.built(Not(self.unary()))
        if self.take("("):
            opened = self.pos - 1
            inner = self.or_()
            if not self.take(")"):
                raise SelectorError(
                    f"expected ')' to close the '(' at position {opened}, found {self.shown()}",
                    self.pos,
                )
            return inner
        for pattern, node in _CALLS:
            if self.match(pattern):
                return node
        if self.match(_HAS):
            key = self.key("has(")
            if not self.take(")"):
                raise SelectorError(f"expected ')' after has({key}, found {self.shown()}", self.pos)
            return HasLabel(key)
        return self.comparison()

    def comparison(self) -> Expression:
        key = self.key("")
        start = self.pos
        operator = next((op for pattern, op in _OPERATORS if self.match(pattern)), None)
        if operator is None:
            raise SelectorError(
                f"expected an operator ({OPERATOR_LIST}) after the label key {key!r}, "
                f"found {self.shown()}",
                start,
            )
        if operator in ("in", "not in"):
            return InSet(key, self.value_set(), negated=operator == "not in")
        return Compare(key, operator, self.value())

    def value_set(self) -> frozenset[str]:
        if not self.take("{"):
            raise SelectorError(
                f"expected '{{' to start a set of values, found {self.shown()}", self.pos
            )
        values: list[str] = []
        if self.take("}"):
            return frozenset()
        while True:
            values.append(self.value())
            if self.take("}"):
                return frozenset(values)
            if not self.take(","):
                raise SelectorError(
                    f"expected ',' or '}}' in a set of values, found {self.shown()}", self.pos
                )

    def value(self) -> str:
        quote = self.text[self.pos : self.pos + 1]
        if quote not in ("'", '"'):
            raise SelectorError(
                f"expected a quoted value ('...' or \"...\"), found {self.shown()}", self.pos
            )
        end = self.text.find(quote, self.pos + 1)
        if end < 0:
            raise SelectorError("unterminated string: no closing quote", self.pos)
        value = self.text[self.pos + 1 : end]
        self.advance(end + 1 - self.pos)
        return value

    def key(self, after: str) -> str:
        found = KEY.match(self.text, self.pos)
        if found is None:
            expected = "a label key" if after else "a label key, '(', '!', has(), all() or global()"
            raise SelectorError(f"expected {expected}, found {self.shown()}", self.pos)
        self.advance(found.end() - self.pos)
        return found.group()

    # -- scanning ------------------------------------------------------------------------

    def skip(self) -> None:
        found = _SPACE.match(self.text, self.pos)
        assert found is not None  # \s* always matches
        self.pos = found.end()

    def advance(self, count: int) -> None:
        self.pos += count
        self.skip()

    def take(self, token: str) -> bool:
        if self.text.startswith(token, self.pos):
            self.advance(len(token))
            return True
        return False

    def match(self, pattern: re.Pattern[str]) -> bool:
        found = pattern.match(self.text, self.pos)
        if found is None:
            return False
        self.advance(found.end() - self.pos)
        return True

    def shown(self) -> str:
        """What stands at ``pos``, for messages: a short quoted excerpt or "the end"."""
        if self.pos >= len(self.text):
            return "the end of the selector"
        rest = self.text[self.pos :].split()[0] if self.text[self.pos :].split() else ""
        return repr(rest[:20])


def selector_text(expression: Expression) -> str:
    """Canonical text for ``expression``: parsing it gives ``expression`` back."""
    if isinstance(expression, AllOf):
        return "all()"
    if isinstance(expression, GlobalOnly):
        return "global()"
    if isinstance(expression, HasLabel):
        return f"has({expression.key})"
    if isinstance(expression, Compare):
        return f"{expression.key} {expression.operator} {_quoted(expression.value)}"
    if isinstance(expression, InSet):
        values = ", ".join(_quoted(v) for v in sorted(expression.values))
        return f"{expression.key} {'not in' if expression.negated else 'in'} {{{values}}}"
    # the parser groups left to right and && before ||: an operand is parenthesised
    # exactly when reading it bare would group it differently
    if isinstance(expression, Not):
        return "!" + _operand(expression.operand, bare=())
    return _chain_text(expression)


def _chain_text(expression: And | Or) -> str:
    """A run of the same operator down the left side, printed as one chain of at most
    LEFT_DEEP_CHAIN terms (a longer run starts with its rest in parentheses): the parser
    groups such a chain left to right, as the tree is."""
    kind = type(expression)
    bare: tuple[type, ...] = (And,) if kind is Or else ()
    rights: list[Expression] = []
    node: Expression = expression
    while isinstance(node, kind) and len(rights) < LEFT_DEEP_CHAIN - 1:
        rights.append(node.right)
        node = node.left
    terms = [_operand(node, bare)] + [_operand(r, bare) for r in reversed(rights)]
    return (" || " if kind is Or else " && ").join(terms)


def _operand(expression: Expression, bare: tuple[type, ...]) -> str:
    text = selector_text(expression)
    if isinstance(expression, And | Or) and not isinstance(expression, bare):
        return f"({text})"
    return text


def _quoted(value: str) -> str:
    return f'"{value}"' if "'" in value else f"'{value}'"
