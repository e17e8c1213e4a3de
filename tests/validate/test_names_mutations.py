"""Name and label bounds that only their failing side had a row for.

Each row here was found by a mutation that passed every validate test: ``>`` made ``>=``
for the 63-character limits of a label value, a namespace name (DNS-1123 label) and a
Service name (DNS-1035 label) in ``validate/names.py``; ``len(name) > 1`` made ``>= 1`` in
``_mask_trailing_dash`` (a ``generateName`` of just ``-`` would pass); and ``and`` made
``or`` in ``documents._fallback_id`` (a non-string kind would name the object ``5/x``).
"""

from __future__ import annotations

import pytest
from tests.validate import messages as m
from tests.validate.support import Found, diagnostics, errors

A63 = "a" * 63


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {A63}\n  labels: {{k: {A63}}}\n",
            id="namespace name and label value of 63",
        ),
        pytest.param(
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {A63}\n  namespace: x\n"
            "spec: {ports: [{port: 80}]}\n",
            id="service name of 63",
        ),
    ],
)
def test_exactly_63_characters_is_valid(text: str) -> None:
    assert errors(text) == []


def policy(generate_name: str) -> str:
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        f"metadata:\n  generateName: '{generate_name}'\n  namespace: x\n"
        "spec: {podSelector: {}}\n"
    )


@pytest.mark.parametrize(
    ("generate_name", "expected"),
    [
        ("a-", []),
        ("-", [("Invalid", "metadata.generateName", m.SUBDOMAIN, "-", 4)]),
    ],
)
def test_a_generate_name_may_end_in_a_dash_but_not_be_one(
    generate_name: str, expected: list[Found]
) -> None:
    assert errors(policy(generate_name)) == expected


def test_a_kind_that_is_no_string_does_not_name_the_object() -> None:
    assert [
        d.one_line() for d in diagnostics("kind: 5\napiVersion: v1\nmetadata: {name: x}\n")
    ] == ["t.yaml:1: error: <no kind>/x: kind: must be a string, not an integer (value: 5)"]
