"""List kinds, unknown kinds, namespaces (declared, implicit, default), duplicates."""

from __future__ import annotations

import pytest

from netpol.model.diagnostics import Severity
from netpol.model.options import Options

from .support import build, lines

POD = "{apiVersion: v1, kind: Pod, metadata: {name: %s, namespace: %s}, spec: {containers: []}}"


def test_list_kinds_expand_their_items() -> None:
    cluster = build(
        f"""
        apiVersion: v1
        kind: List
        items:
          - {POD % ("a", "x")}
          - apiVersion: v1
            kind: PodList
            items:
              - {POD % ("b", "x")}
          - apiVersion: networking.k8s.io/v1
            kind: NetworkPolicyList
            items:
              - {{metadata: {{name: deny, namespace: x}}, spec: {{}}}}
        """
    )
    assert [p.id for p in cluster.pods] == ["x/a", "x/b"]
    assert [p.id for p in cluster.policies] == ["x/deny"]
    assert cluster.pods[1].source.line == 9  # items keep their own lines


def test_list_items_that_are_not_objects_are_reported() -> None:
    cluster = build("apiVersion: v1\nkind: List\nitems:\n  - 42\n  - " + POD % ("a", "x") + "\n")
    assert [p.id for p in cluster.pods] == ["x/a"]
    assert lines(cluster, Severity.ERROR) == [
        "test.yaml:4: error: List: items[0]: must be a mapping, not an integer"
    ]
    broken = build("apiVersion: v1\nkind: List\nitems: nope\n")
    assert lines(broken, Severity.ERROR) == [
        'test.yaml:3: error: List: items: must be a list, not a string (value: "nope")'
    ]


def test_unknown_kinds_are_counted_not_errors() -> None:
    cluster = build(
        """
        {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
        ---
        {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
        ---
        {apiVersion: v1, kind: Secret, metadata: {name: c}}
        """
    )
    assert cluster.skipped_kinds == (
        ("ConfigMap", 2),
        ("Secret", 1),
    )
    assert cluster.policies == ()
    assert cluster.diagnostics == ()


def test_declared_namespaces_get_the_name_label_forced() -> None:
    cluster = build(
        """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: shop
          labels: {team: a, kubernetes.io/metadata.name: lies}
        """
    )
    (ns,) = cluster.namespaces
    assert (ns.name, dict(ns.labels), ns.implicit) == (
        "shop",
        {"team": "a", "kubernetes.io/metadata.name": "shop"},
        False,
    )


def test_used_but_undeclared_namespaces_are_implicit_with_one_warning_each() -> None:
    cluster = build(
        "---\n".join(
            [
                POD % ("a", "shop") + "\n",
                POD % ("b", "shop") + "\n",
                "{apiVersion: v1, kind: Service, metadata: {name: s, namespace: ops}, spec: {}}\n",
            ]
        )
    )
    assert [(n.name, dict(n.labels), n.implicit) for n in cluster.namespaces] == [
        ("ops", {"kubernetes.io/metadata.name": "ops"}, True),
        ("shop", {"kubernetes.io/metadata.name": "shop"}, True),
    ]
    assert lines(cluster) == [
        'test.yaml:5: warning: Service/ops/s: namespace "ops" is not declared in the input; '
        "assuming it exists with only the label kubernetes.io/metadata.name=ops",
        'test.yaml:1: warning: Pod/shop/a: namespace "shop" is not declared in the input; '
        "assuming it exists with only the label kubernetes.io/metadata.name=shop",
    ]


def test_objects_without_namespace_use_the_default_namespace() -> None:
    text = "{apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: []}}\n"
    assert [p.id for p in build(text).pods] == ["default/a"]
    assert [
        p.id for p in build(text, Options(implicit_dns=False, default_namespace="dev")).pods
    ] == ["dev/a"]


def test_default_and_kube_system_exist_only_when_declared_or_used() -> None:
    assert build("{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n").namespaces == ()


def test_a_redefined_object_warns_and_the_later_wins() -> None:
    cluster = build(
        """
        {apiVersion: v1, kind: Namespace, metadata: {name: x, labels: {v: one}}}
        ---
        {apiVersion: v1, kind: Namespace, metadata: {name: x, labels: {v: two}}}
        """
    )
    assert cluster.namespaces[0].labels["v"] == "two"
    assert lines(cluster) == [
        "test.yaml:4: warning: Namespace/x: defined again (first at test.yaml:2); "
        "the later definition is used, as kubectl apply would"
    ]


@pytest.mark.parametrize(
    ("first", "second", "duplicate"),
    [
        ("apps/v1", "Deployment", True),  # every workload kind is one name space
        ("apps/v1", "StatefulSet", True),
        ("batch/v1", "Job", True),
        ("projectcalico.org/v3", "NetworkPolicy", False),  # Calico's kind is not upstream's
        ("crd.projectcalico.org/v1", "NetworkPolicy", False),
    ],
)
def test_which_objects_share_names_does_not_depend_on_what_was_read_before(
    first: str, second: str, duplicate: bool
) -> None:
    """The (kind, apiVersion) reading is remembered: the answer is the same when the pair
    is met first, again, or after a thousand made-up apiVersions filled the memory."""
    upstream = (
        "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: a, "
        "namespace: shop}, spec: {podSelector: {}}}"
        if second == "NetworkPolicy"
        else "{apiVersion: apps/v1, kind: Deployment, metadata: {name: a, namespace: shop}, "
        "spec: {template: {spec: {containers: []}}}}"
    )
    other = (
        f"{{apiVersion: {first}, kind: {second}, metadata: {{name: a, namespace: shop}}, "
        "spec: {template: {spec: {containers: []}}, jobTemplate: {spec: {template: {}}}}}"
    )
    invented = [
        f"{{apiVersion: made.up/v{i}, kind: Widget, metadata: {{name: w}}}}" for i in range(1100)
    ]
    # first read, read again (remembered), and read after the memory is full
    for docs in ([upstream, other], [upstream, other], [*invented, upstream, other]):
        cluster = build("\n---\n".join(docs))
        found = [d.reason for d in cluster.diagnostics if d.reason == "Duplicate"]
        assert bool(found) is duplicate, docs[-2:]
        assert cluster.skipped_kinds == ((("Widget", 1100),) if docs[0] in invented else ())


def test_declared_nodes_replace_the_kind_nodes() -> None:
    cluster = build(
        """
        apiVersion: v1
        kind: Node
        metadata: {name: n1, labels: {zone: a}}
        status:
          addresses: [{type: Hostname, address: n1}, {type: InternalIP, address: 10.0.0.11}]
        ---
        apiVersion: v1
        kind: Node
        metadata: {name: n0}
        """
    )
    assert [(n.name, n.ips) for n in cluster.nodes] == [
        ("n0", ("172.18.0.2",)),
        ("n1", ("10.0.0.11",)),
    ]


def test_missing_kind_is_reported_with_its_line() -> None:
    cluster = build("apiVersion: v1\nmetadata: {name: a}\n")
    assert lines(cluster) == [
        "test.yaml:1: error: kind: missing kind: every object needs apiVersion and kind"
    ]


def test_builtin_namespaces_used_but_not_declared_get_only_a_note() -> None:
    cluster = build("{apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: []}}\n")
    assert [(n.name, n.implicit) for n in cluster.namespaces] == [("default", True)]
    assert lines(cluster) == [
        'test.yaml:1: info: Pod/default/a: namespace "default" is not declared in the input; '
        "it exists in every cluster with only the label kubernetes.io/metadata.name=default"
    ]
