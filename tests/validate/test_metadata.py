"""Spec 5.1: metadata rules, the object id, and what the diagnostic carries."""

from __future__ import annotations

import pytest

from netpol.model.diagnostics import Severity

from . import messages as m
from .support import Found, diagnostics, errors

HEAD = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        pytest.param(
            "metadata:\n  namespace: ns\n",
            [("Required", "metadata.name", m.NAME_REQUIRED, None, 3)],
            id="V-M1 no name",
        ),
        pytest.param(
            'metadata:\n  name: ""\n',
            [("Required", "metadata.name", m.NAME_REQUIRED, None, 4)],
            id="V-M1 empty name",
        ),
        pytest.param(
            "", [("Required", "metadata.name", m.NAME_REQUIRED, None, 1)], id="V-M1 no metadata"
        ),
        pytest.param(
            "metadata:\n  generateName: allow-\n", [], id="V-M1 generateName instead of name"
        ),
        pytest.param(
            "metadata:\n  generateName: Allow-\n",
            [("Invalid", "metadata.generateName", m.SUBDOMAIN, "Allow-", 4)],
            id="V-M1 generateName is a subdomain prefix",
        ),
        pytest.param(
            "metadata:\n  name: Web_Policy\n",
            [("Invalid", "metadata.name", m.SUBDOMAIN, "Web_Policy", 4)],
            id="V-M2 name",
        ),
        pytest.param("metadata:\n  name: p\n", [], id="V-M3 no namespace means default"),
        pytest.param(
            "metadata:\n  name: p\n  namespace: App1\n",
            [("Invalid", "metadata.namespace", m.DNS_LABEL, "App1", 5)],
            id="V-M3 namespace is a DNS label",
        ),
        pytest.param(
            "metadata:\n  name: p\n  namespace: app.one\n",
            [("Invalid", "metadata.namespace", "must not contain dots", "app.one", 5)],
            id="V-M3 namespace with dots",
        ),
        pytest.param(
            "metadata:\n  name: p\n  labels:\n    app.kubernetes.io/name: web\n    bad key: x\n",
            [("Invalid", "metadata.labels", m.NAME_PART, "bad key", 7)],
            id="V-M4 label keys",
        ),
        pytest.param(
            "metadata:\n  name: p\n  labels:\n    tier: front end\n",
            [("Invalid", "metadata.labels", m.LABEL_VALUE, "front end", 6)],
            id="V-M4 label values",
        ),
        pytest.param(
            "metadata:\n  name: p\n  annotations:\n    Example.com/Owner: team a\n    'a b': x\n",
            [("Invalid", "metadata.annotations", m.NAME_PART, "a b", 7)],
            id="V-M4 annotation keys (checked lowercased; any value)",
        ),
        pytest.param(
            "metadata:\n  name: p\n  nmae: q\n",
            [
                (
                    "BadRequest",
                    "metadata.nmae",
                    'unknown field "nmae" (did you mean "name"?)',
                    None,
                    5,
                )
            ],
            id="unknown metadata field",
        ),
        pytest.param(
            "metadata:\n  name: p\n  uid: 1b2c\n  resourceVersion: '42'\n  creationTimestamp: null\n"
            "  managedFields: []\n",
            [],
            id="kubectl get -o yaml fields are fine",
        ),
    ],
)
def test_metadata(metadata: str, expected: list[Found]) -> None:
    assert errors(HEAD + metadata) == expected


def test_annotations_are_limited_to_256_kib() -> None:
    text = HEAD + "metadata:\n  name: p\n  annotations:\n    big: " + "x" * (256 * 1024) + "\n"
    assert errors(text) == [
        ("TooLong", "metadata.annotations", "must have at most 262144 bytes", "262147 bytes", 5)
    ]


@pytest.mark.parametrize(
    ("metadata", "obj"),
    [
        ("metadata: {name: p, namespace: ns}", "NetworkPolicy/ns/p"),
        ("metadata: {name: p}", "NetworkPolicy/default/p"),
        ("metadata: {generateName: allow-, namespace: ns}", "NetworkPolicy/ns/allow-*"),
        ("metadata: {namespace: ns}", "NetworkPolicy/ns/<unnamed>"),
    ],
)
def test_object_id(metadata: str, obj: str) -> None:
    text = HEAD + metadata + "\nspec: {policyTypes: [x]}\n"
    assert [d.obj for d in diagnostics(text) if d.field == "spec.policyTypes[0]"] == [obj]


def test_a_diagnostic_carries_file_line_object_field_value_and_reason() -> None:
    text = (
        HEAD
        + "metadata: {name: web, namespace: app}\nspec:\n  ingress:\n    - ports:\n        - port: 0\n"
    )
    (d,) = diagnostics(text, path="policies/web.yaml")
    assert d.severity is Severity.ERROR
    assert d.one_line() == (
        "policies/web.yaml:7: error: NetworkPolicy/app/web: spec.ingress[0].ports[0].port: "
        "must be between 1 and 65535, inclusive (value: 0)"
    )
    assert d.to_json() == {
        "severity": "error",
        "reason": "Invalid",
        "file": "policies/web.yaml",
        "line": 7,
        "object": "NetworkPolicy/app/web",
        "field": "spec.ingress[0].ports[0].port",
        "message": "must be between 1 and 65535, inclusive",
        "value": 0,
    }
