"""The pieces of engine.cilium that the edge cases only reach together: identity labels,
the subject's namespace rule, FQDN patterns, per-node expansion."""

from __future__ import annotations

import pytest
from tests.conftest import cluster_from_yaml

from netpol.engine.cilium import identity_labels
from netpol.engine.compile import compile_cluster
from netpol.engine.endpoints import ip_endpoint, node_endpoint
from netpol.engine.verdict import evaluate
from netpol.model.objects import Pod
from netpol.model.options import Options

OPTIONS = Options(implicit_dns=False)

PODS = """
apiVersion: v1
kind: Namespace
metadata: {name: ns, labels: {team: blue}}
---
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 172.18.0.2}]}
---
apiVersion: v1
kind: Node
metadata: {name: n2}
status: {addresses: [{type: InternalIP, address: 172.18.0.3}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ns, labels: {app: client}}
spec: {nodeName: n1, serviceAccountName: robot, containers: [{name: c, image: i}]}
status: {podIP: 10.244.1.10}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: ns, labels: {app: server}}
spec:
  nodeName: n2
  containers: [{name: c, image: i, ports: [{name: http, containerPort: 8080}]}]
status: {podIP: 10.244.2.10}
"""


def allowed(policies: str, src: str, dst: str, port: int, protocol: str = "TCP") -> bool:
    cc = compile_cluster(cluster_from_yaml(PODS + "---\n" + policies, OPTIONS), OPTIONS)
    return evaluate(cc, endpoint(cc, src), endpoint(cc, dst)).allowed.contains(protocol, port)


def endpoint(cc, name: str):  # type: ignore[no-untyped-def]
    if name.startswith("node:"):
        return node_endpoint(cc.cluster.node_by_name[name[5:]])
    if "/" in name:
        return cc.endpoint(cc.cluster.pod_by_id[name])
    return ip_endpoint(name)


@pytest.mark.parametrize(
    ("labels", "kept"),
    [
        ({"app": "a"}, {"app": "a"}),
        ({"pod-template-hash": "x", "controller-revision-hash": "y"}, {}),
        ({"io.kubernetes.pod.namespace": "forged"}, {}),
        ({"io.cilium.k8s.policy.serviceaccount": "forged"}, {}),
        ({"kubernetes.io/role": "x", "k8s.io/x": "y", "beta.kubernetes.io/arch": "z"}, {}),
        ({"app.kubernetes.io/name": "web"}, {"app.kubernetes.io/name": "web"}),
        ({"statefulset.kubernetes.io/pod-name": "db-0"}, {}),
    ],
    ids=[
        "plain",
        "hashes",
        "forged-namespace",
        "forged-account",
        "k8s-prefixes",
        "app-k8s-io",
        "sts",
    ],
)
def test_identity_labels_filter_and_derive(labels: dict[str, str], kept: dict[str, str]) -> None:
    pod = Pod("ns", "p", labels=labels, service_account="robot")

    found = identity_labels(pod, {"team": "blue", "kubernetes.io/metadata.name": "ns"})

    assert found == {
        **kept,
        "io.cilium.k8s.namespace.labels.team": "blue",
        "io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name": "ns",
        "io.kubernetes.pod.namespace": "ns",
        "io.cilium.k8s.policy.serviceaccount": "robot",
        "io.cilium.k8s.policy.cluster": "default",
    }


def cnp(spec: str, name: str = "p") -> str:
    return (
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
        f"metadata: {{name: {name}, namespace: ns}}\nspec:\n{spec}"
    )


def test_the_subject_namespace_written_as_k8s_is_overwritten() -> None:
    spec = """  endpointSelector: {matchLabels: {"k8s:io.kubernetes.pod.namespace": other, app: server}}
  ingress: [{fromEndpoints: [{matchLabels: {app: nobody}}]}]
"""
    assert not allowed(cnp(spec), "ns/client", "ns/server", 80)  # selected: isolated


def test_the_subject_namespace_written_any_other_way_selects_nothing() -> None:
    spec = """  endpointSelector: {matchLabels: {io.kubernetes.pod.namespace: other, app: server}}
  ingress: [{fromEndpoints: [{matchLabels: {app: nobody}}]}]
"""
    assert allowed(cnp(spec), "ns/client", "ns/server", 80)  # selects nothing


@pytest.mark.parametrize(
    ("selector", "ok"),
    [
        ('{matchLabels: {"io.cilium.k8s.policy.serviceaccount": robot}}', True),
        ('{matchLabels: {"io.cilium.k8s.policy.serviceaccount": other}}', False),
        ('{matchLabels: {"io.cilium.k8s.namespace.labels.team": blue}}', True),
        ('{matchLabels: {"k8s:app": client}}', True),
        ('{matchLabels: {"any:app": client}}', True),
        ('{matchLabels: {"cidr:app": client}}', False),
    ],
    ids=["account", "other-account", "namespace-label", "k8s-source", "any-source", "other-source"],
)
def test_peer_selectors_read_the_identity(selector: str, ok: bool) -> None:
    spec = f"""  endpointSelector: {{matchLabels: {{app: server}}}}
  ingress: [{{fromEndpoints: [{selector}]}}]
"""
    assert allowed(cnp(spec), "ns/client", "ns/server", 80) is ok


def test_host_and_remote_node_are_relative_to_the_subject() -> None:
    spec = """  endpointSelector: {matchLabels: {app: server}}
  ingress: [{fromEntities: [remote-node]}]
  ingressDeny: [{fromEntities: [host]}]
"""
    # server runs on n2: n2 is its host (denied, beating allow-localhost), n1 a remote node
    assert not allowed(cnp(spec), "node:n2", "ns/server", 80)
    assert allowed(cnp(spec), "node:n1", "ns/server", 80)


def test_allow_localhost_lets_the_own_node_in_only() -> None:
    spec = """  endpointSelector: {matchLabels: {app: server}}
  ingress: [{fromEndpoints: [{matchLabels: {app: nobody}}]}]
"""
    assert allowed(cnp(spec), "node:n2", "ns/server", 80)
    assert not allowed(cnp(spec), "node:n1", "ns/server", 80)


def test_fqdn_patterns_resolve_through_the_map() -> None:
    spec = """  endpointSelector: {matchLabels: {app: client}}
  egress: [{toFQDNs: [{matchPattern: "*.example.com"}, {matchName: exact.example.org}]}]
"""
    fqdns = (
        ("api.example.com", ("203.0.113.1",)),
        ("example.com", ("203.0.113.2",)),
        ("exact.example.org", ("203.0.113.3",)),
    )
    options = Options(implicit_dns=False, fqdn_map=fqdns)
    cc = compile_cluster(cluster_from_yaml(PODS + "---\n" + cnp(spec), options), options)
    client = cc.endpoint(cc.cluster.pod_by_id["ns/client"])

    def reach(ip: str) -> bool:
        return evaluate(cc, client, ip_endpoint(ip)).allowed.contains("TCP", 443)

    assert [reach(ip) for ip in ("203.0.113.1", "203.0.113.2", "203.0.113.3")] == [
        True,
        False,
        True,
    ]


def test_named_ports_and_ranges() -> None:
    spec = """  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - toPorts: [{ports: [{port: HTTP, protocol: TCP}]}]
  - toPorts: [{ports: [{port: "9000", endPort: 9010}]}]
"""
    policies = cnp(spec)
    assert allowed(policies, "ns/client", "ns/server", 8080)  # the name is compared lower-cased
    assert not allowed(policies, "ns/client", "ns/server", 8081)
    assert allowed(policies, "ns/client", "ns/server", 9010, "UDP")  # no protocol: ANY
    assert not allowed(policies, "ns/client", "ns/server", 9011, "UDP")
