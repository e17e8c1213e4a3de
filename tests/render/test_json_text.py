"""``json_text.dumps`` writes exactly what ``json.dumps(value, indent=2)`` writes, for any JSON
value, and a part given ``Encoded``, ``Deferred`` or as a ``Record`` lands byte for byte where
the plain value would."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.render.json_text import Deferred, Encoded, Record, dumps, encoded, items_at

# derandomized: the same values every run, so the test cannot fail one run in fifty
SAME_EVERY_RUN = settings(max_examples=300, deadline=None, derandomize=True)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),  # every code point: quotes, backslashes, controls, DEL, surrogates, emoji
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
    ),
    max_leaves=25,
)


@SAME_EVERY_RUN
@given(values)
def test_dumps_is_json_dumps_indent_2(value: object) -> None:
    assert dumps(value) == json.dumps(value, indent=2)


@SAME_EVERY_RUN
@given(st.dictionaries(st.text(max_size=6), values, min_size=1, max_size=4), values, st.data())
def test_encoded_deferred_and_records_land_where_the_value_would(
    record: dict[str, object], value: object, data: st.DataObject
) -> None:
    keys = list(record)
    rows = [record, dict(zip(keys, reversed(list(record.values())), strict=True))]
    expected = json.dumps({"a": [value, {"b": rows}], "c": value}, indent=2)
    layout = Record(*keys)

    def write_rows(depth: int) -> str:
        return items_at(
            (layout.write([dumps(v, depth + 2) for v in row.values()], depth + 1) for row in rows),
            depth,
        )

    placed = {"a": [encoded(value), {"b": Deferred(write_rows)}], "c": Encoded(dumps(value))}
    assert dumps(placed) == expected
    assert dumps(data.draw(st.sampled_from([[], ()]))) == "[]"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({}, "{}"),
        ([], "[]"),
        ({"k": {}}, '{\n  "k": {}\n}'),
        ({1: "int key"}, '{\n  "1": "int key"\n}'),
    ],
)
def test_empty_containers_and_keys_json_turns_into_strings(value: object, expected: str) -> None:
    assert dumps(value) == expected == json.dumps(value, indent=2)


def test_a_record_of_no_keys_and_a_list_of_no_items_are_empty() -> None:
    assert Record().write([], 3) == "{}"
    assert items_at([], 2) == "[]"


def test_a_key_with_braces_is_written_not_formatted() -> None:
    layout = Record("{0}", "}{")
    assert layout.write(["1", "2"], 0) == json.dumps({"{0}": 1, "}{": 2}, indent=2)
