"""build_cluster never crashes: odd data ends in one Diagnostic naming file, line and field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.load.build import build_cluster
from netpol.load.paths import read_paths
from netpol.load.yamldoc import LocatedList, LocatedMap, RawDocument
from netpol.model.diagnostics import Severity
from netpol.model.options import Options

from .support import build, lines

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  replicas: 2
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: c
          ports:
            - containerPort: 80
"""


def test_a_number_as_label_value_is_reported_not_crashed_on() -> None:
    cluster = build(
        DEPLOY.replace("      labels: {app: web}", "      labels: {app: web, version: 1}")
    )
    assert cluster.pods == ()
    assert lines(cluster) == [
        "test.yaml:11: error: Deployment/shop/web: spec.template.metadata.labels.version: "
        "must be a string, not an integer (quote it) (value: 1)"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "spec:\n  replicas: 2",
            "spec: []\nx:\n  replicas: 2",
            "test.yaml:7: error: Deployment/shop/web: spec: must be a mapping, not a list",
        ),
        (
            "metadata:\n  name: web\n  namespace: shop\n  labels: {app: web}",
            "metadata: web",
            'test.yaml:3: error: Deployment: metadata: must be a mapping, not a string (value: "web")',
        ),
        (
            "replicas: 2",
            "replicas: two",
            'test.yaml:8: error: Deployment/shop/web: spec.replicas: must be an integer, not a string (value: "two")',
        ),
        (
            "replicas: 2",
            "replicas: true",
            "test.yaml:8: error: Deployment/shop/web: spec.replicas: must be an integer, not a boolean (value: true)",
        ),
        (
            "replicas: 2",
            "replicas: -1",
            "test.yaml:8: error: Deployment/shop/web: spec.replicas: must not be negative (value: -1)",
        ),
        (
            "      containers:\n        - name: c\n          ports:\n            - containerPort: 80\n",
            "      containers: nginx\n",
            'test.yaml:13: error: Deployment/shop/web: spec.template.spec.containers: must be a list, not a string (value: "nginx")',
        ),
        (
            "          ports:\n            - containerPort: 80\n",
            '          ports: "80"\n',
            'test.yaml:15: error: Deployment/shop/web: spec.template.spec.containers[0].ports: must be a list, not a string (value: "80")',
        ),
        (
            "containerPort: 80",
            "containerPort: '80'",
            'test.yaml:16: error: Deployment/shop/web: spec.template.spec.containers[0].ports[0].containerPort: must be an integer, not a string (value: "80")',
        ),
        (
            "- containerPort: 80",
            "- {containerPort: 80, protocol: tcp}",
            'test.yaml:16: error: Deployment/shop/web: spec.template.spec.containers[0].ports[0].protocol: must be one of TCP, UDP, SCTP (value: "tcp")',
        ),
        (
            "containerPort: 80",
            "name: http",
            "test.yaml:16: error: Deployment/shop/web: spec.template.spec.containers[0].ports[0].containerPort: is required",
        ),
        (
            "  name: web\n",
            "  name: [web]\n",
            "test.yaml:4: error: Deployment: metadata.name: must be a string, not a list",
        ),
        (
            "  name: web\n",
            "",
            "test.yaml:3: error: Deployment: metadata.name: is required (or metadata.generateName)",
        ),
        (
            "  template:\n",
            "  template: 7\n  x:\n",
            "test.yaml:9: error: Deployment/shop/web: spec.template: must be a mapping, not an integer (value: 7)",
        ),
        (
            "        - name: c\n          ports:\n            - containerPort: 80\n",
            "        - [c]\n",
            "test.yaml:14: error: Deployment/shop/web: spec.template.spec.containers[0]: must be a mapping, not a list",
        ),
        (
            "      containers:\n",
            "      hostNetwork: 'yes'\n      containers:\n",
            'test.yaml:13: error: Deployment/shop/web: spec.template.spec.hostNetwork: must be true or false, not a string (value: "yes")',
        ),
    ],
)
def test_wrong_types_name_the_field_and_line(old: str, new: str, expected: str) -> None:
    assert old in DEPLOY
    cluster = build(DEPLOY.replace(old, new, 1))
    assert cluster.pods == ()
    assert [d.one_line() for d in cluster.diagnostics if d.severity is Severity.ERROR] == [expected]


def test_a_pod_ip_that_is_no_address_is_reported() -> None:
    cluster = build(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: shop}\n"
        "spec: {containers: [{name: c}]}\nstatus: {phase: Running, podIP: 10.0.0.300}\n"
    )
    assert cluster.pods == ()
    assert lines(cluster) == [
        'test.yaml:5: error: Pod/shop/a: status.podIP: must be an IP address (value: "10.0.0.300")'
    ]


def test_skip_invalid_turns_build_problems_into_warnings() -> None:
    cluster = build(
        DEPLOY.replace("replicas: 2", "replicas: two"),
        Options(implicit_dns=False, skip_invalid=True),
    )
    assert lines(cluster, Severity.WARNING)[0].endswith('(object skipped) (value: "two")')
    assert not lines(cluster, Severity.ERROR)


def test_policy_with_wrong_shapes_is_skipped_with_its_field() -> None:
    text = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec:
  podSelector: {matchLabels: [a]}
  ingress: {from: []}
"""
    cluster = build(text)
    assert cluster.policies == ()
    assert lines(cluster) == [
        "test.yaml:5: error: NetworkPolicy/a/p: spec.podSelector.matchLabels: must be a mapping, not a list"
    ]
    cluster = build(text.replace("{matchLabels: [a]}", "{}"))
    assert lines(cluster) == [
        "test.yaml:6: error: NetworkPolicy/a/p: spec.ingress: must be a list, not a mapping"
    ]
    cluster = build(
        text.replace("{matchLabels: [a]}", "{}").replace("{from: []}", "[{ports: [{port: true}]}]")
    )
    assert lines(cluster) == [
        "test.yaml:6: error: NetworkPolicy/a/p: spec.ingress[0].ports[0].port: must be an integer, "
        "not a boolean (value: true)"
    ]


# -- anything, anywhere ----------------------------------------------------------------------

JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _located(value: Any) -> Any:
    if isinstance(value, dict):
        out = LocatedMap()
        out.line = 1
        for k, v in value.items():
            out[k] = _located(v)
            out.key_lines[k] = 1
        return out
    if isinstance(value, list):
        seq = LocatedList()
        seq.line = 1
        for v in value:
            seq.append(_located(v))
            seq.item_lines.append(1)
        return seq
    return value


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


TUTORIAL, _ = read_paths([str(EXAMPLES / "tutorial")])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_value_at_any_field_never_crashes_the_build(data: st.DataObject) -> None:
    docs = copy.deepcopy(TUTORIAL)
    doc = data.draw(st.sampled_from(docs))
    target = data.draw(st.sampled_from(_paths(doc.data)[1:]))
    junk = _located(data.draw(JUNK))
    node: Any = doc.data
    for step in target[:-1]:
        node = node[step]
    node[target[-1]] = junk
    cluster = build_cluster(docs, Options(implicit_dns=False))
    for d in cluster.diagnostics:
        assert d.one_line()
    assert len(cluster.pods) <= 5


def test_the_tutorial_builds_cleanly() -> None:
    cluster = build_cluster(list(TUTORIAL), Options())
    # only the note that KIND's CoreDNS is modelled: the tutorial has no cluster DNS
    assert [d.reason for d in cluster.diagnostics] == ["ImplicitAddon"]
    assert len(cluster.pods) == 5
    assert isinstance(TUTORIAL[0], RawDocument)
