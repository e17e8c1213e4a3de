"""Bad input never produces a traceback: any shape, in any known kind, ends in Diagnostics."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.load.yamldoc import parse_text
from netpol.model.diagnostics import Severity
from netpol.validate import KINDS, validate_document

FIELDS = [
    "podSelector", "ingress", "egress", "policyTypes", "from", "to", "ports", "port", "endPort",
    "protocol", "ipBlock", "cidr", "except", "namespaceSelector", "matchLabels",
    "matchExpressions", "key", "operator", "values", "containers", "initContainers", "name",
    "containerPort", "hostPort", "selector", "template", "metadata", "labels", "annotations",
    "spec", "type", "clusterIP", "clusterIPs", "targetPort", "nodePort", "hostNetwork",
    "command", "podIP", "podIPs", "ip", "replicas", "jobTemplate", "schedule", "restartPolicy",
    "generateName", "namespace", "externalName", "items", "kind", "apiVersion",
]  # fmt: skip
WORDS = ["TCP", "tcp", "In", "Exists", "10.0.0.0/8", "::ffff:1.2.3.4/104", "http", "Ingress",
         "None", "", "-", "a/b/c"]  # fmt: skip

leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(WORDS)
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=30,
)
# every (kind, apiVersion) netpol validates, and Lists of them
KIND_VERSIONS = [(kind, spec.api_version) for kind, specs in KINDS.items() for spec in specs]
LIST_VERSIONS = [("List", "v1"), ("NetworkPolicyList", "networking.k8s.io/v1")]


@settings(max_examples=120, deadline=None)
@given(
    kind_version=st.sampled_from(KIND_VERSIONS + LIST_VERSIONS),
    metadata=values
    | st.fixed_dictionaries({"name": values, "namespace": values, "labels": values}),
    spec=values,
    rest=st.dictionaries(st.sampled_from(FIELDS), values, max_size=3),
)
def test_any_shape_yields_diagnostics_not_exceptions(
    kind_version: tuple[str, str], metadata: Any, spec: Any, rest: dict[str, Any]
) -> None:
    kind, api_version = kind_version
    document = {**rest, "apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}
    if kind.endswith("List"):
        document["items"] = rest.get("items", [spec, metadata])
    docs, problems = parse_text(yaml.safe_dump(document), "fuzz.yaml")
    assert problems == []
    for doc in docs:
        for d in validate_document(doc):
            assert d.path == "fuzz.yaml"
            assert d.line >= 1
            assert d.message
            assert d.severity in (Severity.ERROR, Severity.WARNING)
            assert d.reason in (
                "Required", "Invalid", "Forbidden", "NotSupported", "Duplicate", "TooLong",
                "TooMany", "BadRequest", "Warning", "AgentRefused",
            )  # fmt: skip
            d.one_line()
            d.to_json()
