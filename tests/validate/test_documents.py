"""What decides the checks: kind and apiVersion, Lists, unknown and foreign kinds."""

from __future__ import annotations

import pytest

from netpol.load.yamldoc import parse_text
from netpol.validate import object_kinds, validate_documents

from .support import Found, diagnostics, errors

BAD_POLICY_SPEC = "spec: {policyTypes: [x]}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "metadata: {name: p}\nspec: {}\n",
            [
                (
                    "BadRequest",
                    "apiVersion",
                    "apiVersion and kind not set: every object needs apiVersion and kind",
                    None,
                    1,
                )
            ],
            id="no apiVersion and no kind: one diagnostic",
        ),
        pytest.param(
            "apiVersion: v1\nmetadata: {name: p}\n",
            [
                (
                    "BadRequest",
                    "kind",
                    "kind not set: every object needs apiVersion and kind",
                    None,
                    1,
                )
            ],
            id="no kind",
        ),
        pytest.param(
            "kind: NetworkPolicy\nmetadata: {name: p}\n",
            [
                (
                    "BadRequest",
                    "apiVersion",
                    "apiVersion not set: every object needs apiVersion and kind",
                    None,
                    1,
                )
            ],
            id="no apiVersion",
        ),
        pytest.param(
            "apiVersion: v1\nkind: [Pod]\n",
            [("BadRequest", "kind", "must be a string, not a list", ["Pod"], 2)],
            id="kind is a list",
        ),
        pytest.param(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: [p]\n"
            + BAD_POLICY_SPEC,
            [("BadRequest", "metadata", "must be a mapping (an object), not a list", ["p"], 3)],
            id="metadata is a list: one diagnostic",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Namespace\nmetadata: prod\n",
            [("BadRequest", "metadata", "must be a mapping (an object), not a string", "prod", 3)],
            id="metadata is a string",
        ),
        pytest.param(
            "apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p}\n",
            [
                (
                    "BadRequest",
                    "apiVersion",
                    'no matches for kind "NetworkPolicy" in version "extensions/v1beta1": '
                    "use apiVersion: networking.k8s.io/v1",
                    "extensions/v1beta1",
                    1,
                )
            ],
            id="NetworkPolicy in extensions/v1beta1",
        ),
        pytest.param(
            "apiVersion: apps/v1beta2\nkind: Deployment\nmetadata: {name: d}\n",
            [
                (
                    "BadRequest",
                    "apiVersion",
                    'no matches for kind "Deployment" in version "apps/v1beta2": '
                    "use apiVersion: apps/v1",
                    "apps/v1beta2",
                    1,
                )
            ],
            id="Deployment in apps/v1beta2",
        ),
        pytest.param(
            "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\n",
            [
                (
                    "BadRequest",
                    "apiVersion",
                    'no matches for kind "CronJob" in version "batch/v1beta1": '
                    "use apiVersion: batch/v1",
                    "batch/v1beta1",
                    1,
                )
            ],
            id="CronJob in batch/v1beta1",
        ),
        pytest.param(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_Checked}\ndata: {a: 1}\n",
            [],
            id="unknown kinds are not errors",
        ),
        pytest.param(
            "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: Web}\n",
            [],
            id="a Knative Service is not a core Service",
        ),
        pytest.param(
            "apiVersion: crd.projectcalico.org/v1\nkind: NetworkPolicy\nmetadata: {name: x}\n"
            "spec: {selector: all()}\n",
            [],
            id="a Calico NetworkPolicy is not a Kubernetes one",
        ),
    ],
)
def test_document_header(text: str, expected: list[Found]) -> None:
    assert errors(text) == expected


LIST = """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Namespace
    metadata: {name: Bad_NS}
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: p, namespace: x}
    spec:
      policyTypes: [ingress]
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: c}
  - 3
"""


def test_list_items_are_validated_each_as_its_own_object() -> None:
    found = [(d.obj, d.field, d.reason, d.line) for d in diagnostics(LIST)]
    assert found == [
        ("Namespace/Bad_NS", "metadata.name", "Invalid", 6),
        ("NetworkPolicy/x/p", "spec.policyTypes[0]", "NotSupported", 11),
        ("List", "items[3]", "BadRequest", 15),
    ]


def test_typed_list_items_inherit_kind_and_api_version() -> None:
    text = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicyList
items:
  - metadata: {name: a, namespace: x}
    spec: {}
  - metadata: {name: B, namespace: x}
"""
    assert errors(text) == [
        (
            "Invalid",
            "metadata.name",
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            "'-' or '.', and must start and end with an alphanumeric character (e.g. "
            "'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            "B",
            6,
        )
    ]


def test_list_items_must_be_a_list() -> None:
    assert errors("apiVersion: v1\nkind: List\nitems: {a: b}\n") == [
        ("BadRequest", "items", "must be a list, not a mapping", {"a": "b"}, 3)
    ]


def test_empty_list_is_valid() -> None:
    assert errors("apiVersion: v1\nkind: List\nitems: []\n") == []


def test_object_kinds_counts_list_items_and_tells_foreign_kinds() -> None:
    docs, _ = parse_text(
        LIST + "---\napiVersion: serving.knative.dev/v1\nkind: Service\n---\nkind: Pod\n",
        "t.yaml",
    )
    assert [list(object_kinds(d)) for d in docs] == [
        [("Namespace", "v1", True), ("NetworkPolicy", "networking.k8s.io/v1", True), ("ConfigMap", "v1", False)],
        [("Service", "serving.knative.dev/v1", False)],
        [("Pod", "", False)],
    ]  # fmt: skip


def test_any_kind_list_counts_its_items() -> None:
    docs, _ = parse_text(
        "apiVersion: v1\nkind: ConfigMapList\nitems: [{metadata: {name: a}}, {metadata: {name: b}}]\n",
        "t.yaml",
    )
    assert object_kinds(docs[0]) == [("ConfigMap", "v1", False), ("ConfigMap", "v1", False)]
    assert validate_documents(docs) == []


def test_validate_documents_keeps_document_order() -> None:
    docs, _ = parse_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: A}\n---\n"
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: B}\n",
        "ns.yaml",
    )
    assert [(d.obj, d.line) for d in validate_documents(docs)] == [
        ("Namespace/A", 3),
        ("Namespace/B", 7),
    ]
