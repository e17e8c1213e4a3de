"""Calico selector expressions: what each form parses to, where each error points."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netpol.engine.selectors import expression_holds
from netpol.load.calico_selector import (
    LEFT_DEEP_CHAIN,
    MAX_SELECTOR_DEPTH,
    SelectorError,
    parse_expression,
    selector_text,
)
from netpol.model.expressions import (
    COMPARISONS,
    AllOf,
    And,
    Compare,
    Expression,
    GlobalOnly,
    HasLabel,
    InSet,
    Not,
    Or,
)

A, B, C = HasLabel("a"), HasLabel("b"), HasLabel("c")

PARSES = [
    ("empty is all", "", AllOf()),
    ("blank is all", "  \t", AllOf()),
    ("all", "all()", AllOf()),
    ("all with spaces", "all( )", AllOf()),
    ("global", "global()", GlobalOnly()),
    ("has", "has(app)", HasLabel("app")),
    ("has with spaces", "has( app )", HasLabel("app")),
    ("not has", "!has(app)", Not(HasLabel("app"))),
    ("equals single quotes", "role == 'db'", Compare("role", "==", "db")),
    ("equals double quotes", 'role == "db"', Compare("role", "==", "db")),
    ("no spaces", "role=='db'", Compare("role", "==", "db")),
    ("not equals", "role != 'db'", Compare("role", "!=", "db")),
    ("empty value", "role == ''", Compare("role", "==", "")),
    ("quote of the other kind", 'a == "it\'s"', Compare("a", "==", "it's")),
    ("starts with", "a starts with 'x'", Compare("a", "starts with", "x")),
    ("ends with", "a ends with 'x'", Compare("a", "ends with", "x")),
    ("contains", "a contains 'x'", Compare("a", "contains", "x")),
    ("in", "a in {'x', \"y\"}", InSet("a", frozenset({"x", "y"}))),
    ("not in", "a not in {'x'}", InSet("a", frozenset({"x"}), negated=True)),
    ("empty set", "a in {}", InSet("a", frozenset())),
    ("key with prefix", "k8s.io/my-app_x == 'v'", Compare("k8s.io/my-app_x", "==", "v")),
    ("key named like a word", "in == 'v'", Compare("in", "==", "v")),
    ("key starting has", "hash == 'v'", Compare("hash", "==", "v")),
    ("and", "has(a) && has(b)", And(A, B)),
    ("or", "has(a) || has(b)", Or(A, B)),
    ("and binds tighter", "has(a) || has(b) && has(c)", Or(A, And(B, C))),
    ("and binds tighter left", "has(a) && has(b) || has(c)", Or(And(A, B), C)),
    ("left to right", "has(a) && has(b) && has(c)", And(And(A, B), C)),
    ("parentheses", "has(a) && (has(b) || has(c))", And(A, Or(B, C))),
    ("not binds to the term", "!has(a) && has(b)", And(Not(A), B)),
    ("not of a comparison", "!a == 'x'", Not(Compare("a", "==", "x"))),
    ("not of a group", "!(has(a) || has(b))", Not(Or(A, B))),
    ("double not", "!!has(a)", Not(Not(A))),
    ("newlines", "has(a)\n&&\nhas(b)", And(A, B)),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in PARSES], ids=[c[0] for c in PARSES])
def test_parses(text: str, expected: Expression) -> None:
    assert parse_expression(text) == expected


ERRORS = [
    (
        "dangling and",
        "a == 'b' &&",
        "expected a label key, '(', '!', has(), all() or global(), found the end of the selector",
        11,
    ),
    ("unterminated string", "a == 'b", "unterminated string: no closing quote", 5),
    (
        "bare key",
        "app",
        "expected an operator (==, !=, in, not in, contains, starts with or "
        "ends with) after the label key 'app', found the end of the selector",
        3,
    ),
    (
        "unknown operator",
        "app = 'x'",
        "expected an operator (==, !=, in, not in, contains, "
        "starts with or ends with) after the label key 'app', found '='",
        4,
    ),
    (
        "unclosed group",
        "(has(a)",
        "expected ')' to close the '(' at position 0, found the end of the selector",
        7,
    ),
    (
        "set without comma",
        "a in {'x' 'y'}",
        "expected ',' or '}' in a set of values, found \"'y'}\"",
        10,
    ),
    ("set without braces", "a in 'x'", "expected '{' to start a set of values, found \"'x'\"", 5),
    ("unquoted value", "a == b", "expected a quoted value ('...' or \"...\"), found 'b'", 5),
    (
        "trailing junk",
        "has(a) has(b)",
        "unexpected 'has(b)' after a complete expression (expected && or ||)",
        7,
    ),
    (
        "single ampersand",
        "has(a) & has(b)",
        "unexpected '&' after a complete expression (expected && or ||)",
        7,
    ),
    ("has without key", "has()", "expected a label key, found ')'", 4),
    ("has unclosed", "has(a b)", "expected ')' after has(a, found 'b)'", 6),
    (
        "bad key character",
        "a:b == 'x'",
        "expected an operator (==, !=, in, not in, contains, "
        "starts with or ends with) after the label key 'a', found ':b'",
        1,
    ),
]


@pytest.mark.parametrize(
    ("text", "message", "position"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS]
)
def test_errors(text: str, message: str, position: int) -> None:
    with pytest.raises(SelectorError) as caught:
        parse_expression(text)
    assert (caught.value.message, caught.value.position) == (message, position)


# -- printing then parsing gives the expression back ---------------------------------------

KEYWORDS = {"in", "not", "contains", "starts", "ends", "has", "all", "global"}
keys = st.from_regex(r"[a-z][a-z0-9_./-]{0,8}", fullmatch=True).filter(lambda k: k not in KEYWORDS)
values = st.text(st.characters(blacklist_characters='"', blacklist_categories=("Cs",)), max_size=6)
leaves = st.one_of(
    st.just(AllOf()),
    st.just(GlobalOnly()),
    st.builds(HasLabel, keys),
    st.builds(Compare, keys, st.sampled_from(COMPARISONS), values),
    st.builds(InSet, keys, st.frozensets(values, max_size=3), st.booleans()),
)
expressions = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(Not, inner), st.builds(And, inner, inner), st.builds(Or, inner, inner)
    ),
    max_leaves=12,
)


@given(expressions)
def test_print_then_parse_is_identity(expression: Expression) -> None:
    assert parse_expression(selector_text(expression)) == expression


# -- bounded depth: hostile selectors end in one message, long chains evaluate ------------


def _depth(expression: Expression) -> int:
    """Levels of the tree, counted without recursion."""
    deepest, stack = 0, [(expression, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(node, Not):
            stack.append((node.operand, level + 1))
        elif isinstance(node, And | Or):
            stack += [(node.left, level + 1), (node.right, level + 1)]
    return deepest


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("(" * 500 + "has(a)" + ")" * 500, 100),
        ("!" * 1000 + "has(a)", 100),
        ("(!" * 300 + "has(a)" + ")" * 300, 100),
    ],
    ids=["500-parentheses", "1000-nots", "parentheses-and-nots"],
)
def test_nesting_beyond_the_cap_is_one_message(text: str, position: int) -> None:
    with pytest.raises(SelectorError) as caught:
        parse_expression(text)
    assert (caught.value.message, caught.value.position) == (
        f"selector nested deeper than {MAX_SELECTOR_DEPTH} levels",
        position,
    )


def test_nesting_up_to_the_cap_parses() -> None:
    depth = MAX_SELECTOR_DEPTH - 1
    assert parse_expression("(" * depth + "has(a)" + ")" * depth) == HasLabel("a")
    assert _depth(parse_expression("!" * depth + "has(a)")) == MAX_SELECTOR_DEPTH


def test_chains_nested_in_parentheses_count_towards_the_cap() -> None:
    text = "has(x)"
    for _ in range(7):  # each level adds a 15-operator chain: 105 levels
        text = "(" + text + ")" + " && has(y)" * (LEFT_DEEP_CHAIN - 1)
    with pytest.raises(SelectorError) as caught:
        parse_expression(text)
    assert caught.value.message == f"selector nested deeper than {MAX_SELECTOR_DEPTH} levels"


@pytest.mark.parametrize("operator", ["||", "&&"])
def test_a_1000_term_chain_is_a_shallow_tree_with_the_same_truth(operator: str) -> None:
    keys = [f"k{i}" for i in range(1000)]
    expression = parse_expression(f" {operator} ".join(f"has({k})" for k in keys))
    assert _depth(expression) <= LEFT_DEEP_CHAIN + 10  # a 1000-deep chain before
    assert parse_expression(selector_text(expression)) == expression
    some, every = {"k500": "x"}, dict.fromkeys(keys, "x")
    if operator == "||":
        assert (expression_holds(expression, some), expression_holds(expression, {})) == (
            True,
            False,
        )
    else:
        assert (expression_holds(expression, every), expression_holds(expression, some)) == (
            True,
            False,
        )


def test_a_short_chain_is_grouped_left_to_right_as_written() -> None:
    assert parse_expression("has(a) || has(b) || has(c)") == Or(
        Or(HasLabel("a"), HasLabel("b")), HasLabel("c")
    )


long_spines = st.lists(leaves, min_size=2, max_size=60).flatmap(
    lambda items: st.sampled_from([And, Or]).map(lambda kind: _fold(kind, items))
)


def _fold(kind: type[And] | type[Or], items: list[Expression]) -> Expression:
    result = items[0]
    for item in items[1:]:
        result = kind(result, item)
    return result


@given(st.one_of(long_spines, st.builds(Or, long_spines, long_spines)))
def test_print_then_parse_is_identity_for_long_chains(expression: Expression) -> None:
    assert parse_expression(selector_text(expression)) == expression
