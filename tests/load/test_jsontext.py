"""JSON nested beyond the cap is one error naming the line, however deep (never a
RecursionError); brackets inside strings do not count; anything within the cap decodes
exactly as json.loads does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netpol.load.jsontext import MAX_JSON_DEPTH, JsonDepthError, loads, too_deep


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def objects(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


CASES = [
    ("lists at the cap", nested(MAX_JSON_DEPTH), 0),
    ("lists one past the cap", nested(MAX_JSON_DEPTH + 1), 1),
    ("objects at the cap", objects(MAX_JSON_DEPTH), 0),
    ("objects one past the cap", objects(MAX_JSON_DEPTH + 1), 1),
    ("100,000 deep", nested(100_000), 1),
    ("deep on line 3", '{\n"x":\n' + nested(300) + "}", 3),
    ("brackets inside a string", json.dumps({"a": "[" * 500, "b": "{" * 500}), 0),
    ("escaped quote before brackets", json.dumps({"a": '\\"' + "[" * 500}), 0),
    ("many shallow lists", "[" + ",".join(["[1]"] * 5000) + "]", 0),
]


@pytest.mark.parametrize(("text", "line"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_depth(text: str, line: int) -> None:
    assert too_deep(text) == line
    if line:
        with pytest.raises(JsonDepthError) as caught:
            loads(text)
        assert caught.value.line == line
        assert str(caught.value) == f"nested deeper than 200 levels (line {line})"
    else:
        assert loads(text) == json.loads(text)
        assert loads(text.encode()) == json.loads(text)


def test_not_json_is_a_decode_error() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads("[1, 2")


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=20,
)


def _wrapped(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@given(values, st.integers(min_value=0, max_value=2 * MAX_JSON_DEPTH))
def test_refused_exactly_when_deeper_than_the_cap(value: Any, extra: int) -> None:
    wrapped = _wrapped(value, extra)
    text = json.dumps(wrapped)
    if _depth(wrapped) > MAX_JSON_DEPTH:
        with pytest.raises(JsonDepthError):
            loads(text)
    else:
        assert loads(text) == wrapped
