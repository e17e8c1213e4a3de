"""Cilium semantics §12, edge cases 1 to 62: one row per case, named after it (63-70, the
validation cases, live with validate's tests).

The world is the spec's notation, written as manifests and read through the loader
pipeline as the CLI reads a user's files: namespace ``ns`` with ``ns/client{app:client}``
(10.244.1.10) on node n1 (172.18.0.11) and ``ns/server{app:server}`` (10.244.2.10) on n2
(172.18.0.12), a KIND control plane ``kind-control-plane`` (172.18.0.2, where the API
server runs), plus the pods a case asks for from ``CATALOG`` (more pods of ``ns``, pods of
namespaces ``a`` and ``b``, CoreDNS, and the hostNetwork pods ``ns/h1`` and ``ns/h2``, on
n1 and n2). The outside world is 198.51.100.7, 1.1.1.1 and friends. Where the spec says
"echo", the server plays it.

Each row lists flows with the verdict the spec gives; every row also runs through the
independent reference evaluator (``cilium_reference``), so the table, the reference and
the engine are held to each other. Cilium's own kinds pick the ``cilium`` profile; rows
with NetworkPolicies only ask for it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import pytest
import yaml

from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.engine.endpoints import Endpoint, ip_endpoint, node_endpoint
from netpol.engine.explain import explain
from netpol.engine.verdict import Verdict, evaluate
from netpol.load.scalars import SafeDumper
from netpol.load.yamldoc import parse_text
from netpol.model.cluster import Cluster
from netpol.model.diagnostics import Severity
from netpol.model.options import PROFILES, Options
from netpol.render.explain import explanation_text
from netpol.validate.pipeline import check_and_build

from . import reference
from .cilium_reference import CONTROL_PLANE_LABEL, CiliumReference
from .test_edge_cases import Flow, allow, deny

NODE_IPS = {"n1": "172.18.0.11", "n2": "172.18.0.12", "kind-control-plane": "172.18.0.2"}
OUTSIDE = "198.51.100.7"
# Manual Endpoints are a kind the loader skips: the addresses behind a selector-less
# Service are in neither the model nor the reference.
REFERENCE_GAPS_ENDPOINTS = "the independent reference evaluator does not read Endpoints"
HOST_NETWORK = {"ns/h1", "ns/h2", "kube-system/kube-apiserver"}

# pod id -> (ip, node, labels); client and server are always there, the others on demand
CATALOG: dict[str, tuple[str, str, dict[str, str]]] = {
    "ns/client": ("10.244.1.10", "n1", {"app": "client"}),
    "ns/server": ("10.244.2.10", "n2", {"app": "server"}),
    "ns/client2": ("10.244.1.11", "n1", {"app": "client2"}),
    "ns/client3": ("10.244.1.12", "n1", {"app": "client3"}),
    "ns/other": ("10.244.1.13", "n1", {"app": "other"}),
    "ns/x": ("10.244.1.14", "n1", {"app": "x"}),
    "ns/backend": ("10.244.2.11", "n2", {"role": "backend"}),
    "ns/server2": ("10.244.2.12", "n2", {"app": "server2"}),
    "ns/server3": ("10.244.2.13", "n2", {"app": "server3"}),
    "ns/mysvc": ("10.244.2.14", "n2", {"app": "myservice"}),
    "ns/h1": ("172.18.0.11", "n1", {"app": "h1"}),
    "ns/h2": ("172.18.0.12", "n2", {"app": "h2"}),
    "a/x": ("10.244.1.20", "n1", {"name": "x"}),
    "a/y": ("10.244.2.20", "n2", {"name": "y"}),
    "a/luke": ("10.244.1.21", "n1", {"name": "luke"}),
    "a/leia": ("10.244.2.21", "n2", {"name": "leia"}),
    "b/x": ("10.244.1.30", "n1", {"name": "x"}),
    "b/y": ("10.244.2.30", "n2", {"name": "y"}),
    "b/luke": ("10.244.1.31", "n1", {"name": "luke"}),
    "b/leia": ("10.244.2.31", "n2", {"name": "leia"}),
    "kube-system/coredns": ("10.244.2.53", "n2", {"k8s-app": "kube-dns"}),
    # KIND's API server: a hostNetwork static pod on the control plane
    "kube-system/kube-apiserver": (
        "172.18.0.2",
        "kind-control-plane",
        {"component": "kube-apiserver"},
    ),
}
DNS_PORTS = [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")]
COREDNS = "{matchLabels: {'k8s:io.kubernetes.pod.namespace': kube-system, 'k8s:k8s-app': kube-dns}}"
DNS_L7 = "[{ports: [{port: '53', protocol: ANY}], rules: {dns: [{matchPattern: '*'}]}}]"

# a namespace label key at its longest legal length: a 253-character DNS-subdomain prefix
# and a 63-character name (U2 namespace-label-limits)
LONG_KEY = ".".join(("p" * 63, "q" * 63, "r" * 63, "s" * 61)) + "/" + "n" * 63


def manifest(kind: str, name: str, spec: str, namespace: str | None = "ns") -> str:
    """A policy manifest with ``spec`` (YAML, any indentation) as its spec."""
    api = "networking.k8s.io/v1" if kind == "NetworkPolicy" else "cilium.io/v2"
    where = f"\n  namespace: {namespace}" if namespace is not None else ""
    body = textwrap.indent(textwrap.dedent(spec).strip(), "  ")
    return f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}{where}\nspec:\n{body}\n"


def cnp(name: str, spec: str, namespace: str = "ns") -> str:
    return manifest("CiliumNetworkPolicy", name, spec, namespace)


def ccnp(name: str, spec: str) -> str:
    return manifest("CiliumClusterwideNetworkPolicy", name, spec, None)


def knp(name: str, spec: str, namespace: str = "ns") -> str:
    return manifest("NetworkPolicy", name, spec, namespace)


@dataclass(frozen=True)
class Case:
    name: str
    policies: Sequence[str]  # policy manifests (and CIDR groups, Services, Endpoints)
    flows: Sequence[Flow]
    pods: Sequence[str] = ()  # from CATALOG, besides client and server
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    ns_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    accounts: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, Sequence[tuple[str, int, str]]] = field(default_factory=dict)
    networkpolicies_only: bool = False  # no Cilium kind: ask for the cilium profile
    # the policy is rejected: (field, words of the error), then it has no effect
    invalid: tuple[str, str] | None = None
    evidence: Callable[[World], None] | None = None


def _pod_manifest(case: Case, pod_id: str) -> dict[str, Any]:
    namespace, name = pod_id.split("/")
    ip, node, labels = CATALOG[pod_id]
    container: dict[str, Any] = {"name": "main", "image": "busybox"}
    ports = case.ports.get(pod_id, DNS_PORTS if name == "coredns" else ())
    if ports:
        container["ports"] = [
            {"name": n, "containerPort": number, "protocol": protocol}
            for n, number, protocol in ports
        ]
    spec: dict[str, Any] = {"nodeName": node, "containers": [container]}
    if pod_id in HOST_NETWORK:
        spec["hostNetwork"] = True
    if pod_id in case.accounts:
        spec["serviceAccountName"] = case.accounts[pod_id]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(case.labels.get(pod_id, labels)),
        },
        "spec": spec,
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]},
    }


def world_manifests(case: Case) -> str:
    pods = ["ns/client", "ns/server", *case.pods]
    names = sorted({p.split("/")[0] for p in pods} | {"ns"} | set(case.ns_labels))
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": n, "labels": dict(case.ns_labels.get(n, {}))},
        }
        for n in names
    ]
    for node, ip in NODE_IPS.items():
        labels = {CONTROL_PLANE_LABEL: ""} if node == "kind-control-plane" else {}
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": node, "labels": labels},
                "status": {"addresses": [{"type": "InternalIP", "address": ip}]},
            }
        )
    docs += [_pod_manifest(case, p) for p in pods]
    return "---\n".join([yaml.dump_all(docs, Dumper=SafeDumper, sort_keys=False), *case.policies])


@dataclass
class World:
    """The case's cluster, loaded as the CLI loads it and compiled."""

    case: Case
    load: Callable[..., Cluster]  # the ``yaml_cluster`` fixture

    @cached_property
    def options(self) -> Options:
        options = Options(implicit_dns=False, skip_invalid=self.case.invalid is not None)
        if (
            self.case.networkpolicies_only or self.case.invalid is not None
        ):  # skipped: no Cilium kind left
            return replace(options, profile=PROFILES["cilium"])
        return options

    @cached_property
    def cluster(self) -> Cluster:
        return self.load(world_manifests(self.case), self.options, f"{self.case.name}.yaml")

    @cached_property
    def cc(self) -> CompiledCluster:
        return compile_cluster(self.cluster, self.options)

    def endpoint(self, name: str) -> Endpoint:
        kind, _, rest = name.partition(":")
        if kind == "ip":
            return ip_endpoint(rest)
        if kind == "node":
            return node_endpoint(self.cluster.node_by_name[rest])
        return self.cc.endpoint(self.cluster.pod_by_id[name])

    def verdict(self, src: str, dst: str) -> Verdict:
        return evaluate(self.cc, self.endpoint(src), self.endpoint(dst))

    def explained(self, src: str, dst: str) -> str:
        """``explain SRC DST`` as printed (DST as the CLI takes it: ``1.1.1.1:443``)."""
        return explanation_text(explain(self.cc, src, dst))

    def reference_endpoint(self, name: str) -> reference.Ep:
        kind, _, rest = name.partition(":")
        if kind == "ip":
            return reference.external_ep(rest)
        if kind == "node":
            return reference.node_ep(self.cluster.node_by_name[rest])
        return reference.pod_ep(self.cluster.pod_by_id[name], PROFILES["cilium"])


# --- evidence checks, one per case that needs one -----------------------------------------


def l7_noted(src: str, dst: str) -> Callable[[World], None]:
    """The flow is allowed at L4 and explain says an L7 proxy filters it."""

    def check(w: World) -> None:
        text = w.explained(src, dst)
        assert "L7" in text, text

    return check


def ev47_or_08(w: World) -> None:
    docs, problems = parse_text(world_manifests(w.case), f"{w.case.name}.yaml")
    strict = check_and_build(docs, problems, replace(w.options, skip_invalid=False))
    errors = [d for d in strict.diagnostics if d.severity is Severity.ERROR]
    assert not strict.ok and errors, "the policy must be rejected"
    assert w.case.invalid is not None
    field, words = w.case.invalid
    on_policy = [d for d in errors if d.obj.startswith("CiliumNetworkPolicy/ns/")]
    assert any(d.field == field and words in d.message for d in on_policy), [
        d.one_line() for d in errors
    ]
    assert not w.cluster.cilium_policies, "skipped, it must have no effect"


def ev50(w: World) -> None:
    text = w.explained("ns/client", "ns/server:80")
    assert "CiliumNetworkPolicy ns/deny-80 ingressDeny[0]" in text, text
    assert "Deny" in text, text


def ev55(w: World) -> None:
    text = w.explained("ns/client2", "1.1.1.1:443")
    assert "DNS" in text, text


# --- the cases ---------------------------------------------------------------------------

ON_SERVER = "endpointSelector: {matchLabels: {app: server}}"
ON_CLIENT = "endpointSelector: {matchLabels: {app: client}}"
FROM_CLIENT = "fromEndpoints: [{matchLabels: {app: client}}]"

CASES = [
    # Isolation and default deny
    Case(
        "01-no-policy-allows-everything",
        [],
        [
            allow("ns/client", "ns/server"),
            allow("ns/server", "ns/client", 53, "UDP"),
            allow("ns/client", f"ip:{OUTSIDE}", 443),
            allow(f"ip:{OUTSIDE}", "ns/server"),
            allow("node:n1", "ns/server"),
        ],
        networkpolicies_only=True,
    ),
    Case(
        "02-cnp-empty-ingress-rule-denies",
        [cnp("deny-in", f"{ON_SERVER}\ningress: [{{}}]")],
        [
            deny("ns/client", "ns/server"),
            deny("ns/client", "ns/server", 53, "UDP"),
            deny(f"ip:{OUTSIDE}", "ns/server"),
            allow("ns/server", "ns/client"),
            allow("ns/server", f"ip:{OUTSIDE}", 443),
        ],
    ),
    Case(
        "03-knp-empty-ingress-rule-allows",
        [knp("allow-in", "podSelector: {matchLabels: {app: server}}\ningress: [{}]")],
        [
            allow("ns/client", "ns/server"),
            allow(f"ip:{OUTSIDE}", "ns/server", 22),
            allow("node:n1", "ns/server"),
            allow("ns/h1", "ns/server", 53, "UDP"),
        ],
        pods=["ns/h1"],
        networkpolicies_only=True,
    ),
    Case(
        "04-deny-only-policy-enables-default-deny",
        [
            cnp(
                "deny-other",
                f"{ON_SERVER}\ningressDeny: [{{fromEndpoints: [{{matchLabels: {{app: other}}}}]}}]",
            )
        ],
        [deny("ns/client", "ns/server"), deny("ns/other", "ns/server")],
        pods=["ns/other"],
    ),
    Case(
        "05-deny-only-with-default-deny-off",
        [
            cnp(
                "deny-other",
                f"""
                {ON_SERVER}
                enableDefaultDeny: {{ingress: false}}
                ingressDeny: [{{fromEndpoints: [{{matchLabels: {{app: other}}}}]}}]
                """,
            )
        ],
        [
            allow("ns/client", "ns/server"),
            deny("ns/other", "ns/server"),
            allow("ns/server", "ns/other"),
        ],
        pods=["ns/other"],
    ),
    Case(
        "06-ccnp-l7-dns-without-default-deny",
        [
            ccnp(
                "dns-visibility",
                f"""
                endpointSelector: {{}}
                enableDefaultDeny: {{ingress: false, egress: false}}
                egress:
                - toEndpoints: [{COREDNS}]
                  toPorts: {DNS_L7}
                """,
            )
        ],
        [
            allow("ns/client", "kube-system/coredns", 53, "UDP"),
            allow("ns/client", "ns/server"),
            allow("ns/client", f"ip:{OUTSIDE}", 443),
            allow("ns/server", "ns/client", 8080),
        ],
        pods=["kube-system/coredns"],
        evidence=l7_noted("ns/client", "kube-system/coredns:53/UDP"),
    ),
    Case(
        "07-egress-only-cnp-leaves-ingress-alone",
        [
            cnp(
                "egress-only",
                f"{ON_SERVER}\negress: [{{toEndpoints: [{{matchLabels: {{app: client}}}}]}}]",
            )
        ],
        [
            allow("ns/client", "ns/server"),
            allow(f"ip:{OUTSIDE}", "ns/server"),
            allow("ns/server", "ns/client"),
            deny("ns/server", f"ip:{OUTSIDE}"),
        ],
    ),
    Case(
        "08-empty-ingress-list-only-is-rejected",
        [cnp("empty", f"{ON_SERVER}\ningress: []")],
        [allow("ns/client", "ns/server"), allow(f"ip:{OUTSIDE}", "ns/server")],
        invalid=("spec", "must have at least one of ingress, ingressDeny, egress, egressDeny"),
        evidence=ev47_or_08,
    ),
    Case(
        "09-empty-egress-rule-blocks-dns-too",
        [cnp("deny-out", f"{ON_CLIENT}\negress: [{{}}]")],
        [
            deny("ns/client", "kube-system/coredns", 53, "UDP"),
            deny("ns/client", "ns/server"),
            deny("ns/client", f"ip:{OUTSIDE}", 443),
            allow("ns/server", "ns/client"),
        ],
        pods=["kube-system/coredns"],
    ),
    # Selectors and namespaces
    Case(
        "10-cnp-selects-only-its-namespace",
        [cnp("deny-a", "endpointSelector: {}\ningress: [{}]", namespace="a")],
        [
            allow("b/x", "b/y"),
            allow("a/x", "b/y"),
            deny("b/x", "a/y"),
            deny("a/x", "a/y"),
        ],
        pods=["a/x", "a/y", "b/x", "b/y"],
    ),
    Case(
        "11-cnp-empty-peer-selector-is-its-namespace",
        [cnp("same-ns", "endpointSelector: {}\ningress: [{fromEndpoints: [{}]}]", namespace="a")],
        [
            allow("a/x", "a/y"),
            deny("b/x", "a/y"),
            deny(f"ip:{OUTSIDE}", "a/y"),
            deny("node:n1", "a/y"),
        ],
        pods=["a/x", "a/y", "b/x"],
    ),
    Case(
        "12-cnp-peer-names-another-namespace",
        [
            cnp(
                "from-b-luke",
                """
                endpointSelector: {matchLabels: {name: 'y'}}
                ingress:
                - fromEndpoints:
                  - matchLabels: {'k8s:io.kubernetes.pod.namespace': b, name: luke}
                """,
                namespace="a",
            )
        ],
        [allow("b/luke", "a/y"), deny("a/luke", "a/y"), deny("b/x", "a/y")],
        pods=["a/y", "a/luke", "b/luke", "b/x"],
    ),
    Case(
        "13-cnp-subject-cannot-widen-its-namespace",
        [
            cnp(
                "select-b",
                "endpointSelector: {matchLabels: {io.kubernetes.pod.namespace: b}}\ningress: [{}]",
                namespace="a",
            )
        ],
        [allow("b/x", "b/y"), allow("a/x", "a/y"), allow("b/x", "a/y")],
        pods=["a/x", "a/y", "b/x", "b/y"],
    ),
    Case(
        "14-ccnp-selects-across-namespaces",
        [
            ccnp(
                "luke-to-leia",
                """
                endpointSelector: {matchLabels: {name: leia}}
                ingress: [{fromEndpoints: [{matchLabels: {name: luke}}]}]
                """,
            )
        ],
        [
            allow("a/luke", "b/leia"),
            allow("b/luke", "a/leia"),
            deny("a/x", "a/leia"),
            deny("ns/client", "b/leia"),
            allow("a/x", "a/luke"),
        ],
        pods=["a/luke", "a/leia", "b/luke", "b/leia", "a/x"],
    ),
    Case(
        "15-ccnp-empty-peer-selector-is-every-pod",
        [ccnp("from-pods", f"{ON_SERVER}\ningress: [{{fromEndpoints: [{{}}]}}]")],
        [
            allow("ns/client", "ns/server"),
            allow("b/x", "ns/server"),
            deny(f"ip:{OUTSIDE}", "ns/server"),
            deny("ns/h1", "ns/server"),
            allow("ns/h2", "ns/server"),  # its own node: allow-localhost
        ],
        pods=["b/x", "ns/h1", "ns/h2"],
    ),
    Case(
        "16-service-account-label",
        [
            cnp(
                "from-sa",
                f"""
                {ON_SERVER}
                ingress:
                - fromEndpoints: [{{matchLabels: {{io.cilium.k8s.policy.serviceaccount: client}}}}]
                """,
            )
        ],
        [allow("ns/client", "ns/server"), deny("ns/client2", "ns/server")],
        pods=["ns/client2"],
        accounts={"ns/client": "client"},
    ),
    Case(
        "17-knp-selects-on-the-injected-cluster-label",
        [
            knp(
                "by-cluster",
                """
                podSelector:
                  matchExpressions: [{key: io.cilium.k8s.policy.cluster, operator: Exists}]
                policyTypes: [Ingress]
                """,
            )
        ],
        [
            deny("ns/client", "ns/server"),
            deny("ns/server", "ns/client"),
            deny(f"ip:{OUTSIDE}", "ns/client"),
            allow("b/x", "b/y"),
        ],
        pods=["b/x", "b/y"],
        networkpolicies_only=True,
    ),
    Case(
        "18-filtered-label-matches-nothing",
        [
            cnp(
                "from-hash",
                f"{ON_SERVER}\ningress: [{{fromEndpoints: [{{matchLabels: {{pod-template-hash: abc12}}}}]}}]",
            ),
            cnp(
                "hash-subject",
                "endpointSelector: {matchLabels: {pod-template-hash: abc12}}\negress: [{}]",
            ),
        ],
        [deny("ns/client", "ns/server"), allow("ns/client", f"ip:{OUTSIDE}", 443)],
        labels={"ns/client": {"app": "client", "pod-template-hash": "abc12"}},
    ),
    Case(
        "19-knp-empty-namespace-selector-is-every-pod",
        [
            knp(
                "from-all-ns",
                "podSelector: {matchLabels: {app: server}}\ningress: [{from: [{namespaceSelector: {}}]}]",
            )
        ],
        [
            allow("ns/client", "ns/server"),
            allow("b/x", "ns/server"),
            deny(f"ip:{OUTSIDE}", "ns/server"),
            deny("node:n1", "ns/server"),
            deny("ns/h1", "ns/server"),
            allow("node:n2", "ns/server"),
        ],
        pods=["b/x", "ns/h1"],
        networkpolicies_only=True,
    ),
    Case(
        "20-longest-namespace-label-keys",
        [
            cnp(
                "from-long",
                f"""
                {ON_SERVER}
                ingress:
                - fromEndpoints: [{{matchLabels: {{'io.cilium.k8s.namespace.labels.{LONG_KEY}': team1}}}}]
                """,
            ),
            ccnp(
                "from-long",
                f"""
                endpointSelector: {{matchLabels: {{app: client2}}}}
                ingress:
                - fromEndpoints: [{{matchLabels: {{'io.cilium.k8s.namespace.labels.{LONG_KEY}': team1}}}}]
                """,
            ),
            knp(
                "from-long",
                f"""
                podSelector: {{matchLabels: {{app: client}}}}
                ingress: [{{from: [{{namespaceSelector: {{matchLabels: {{'{LONG_KEY}': team1}}}}}}]}}]
                """,
            ),
        ],
        [
            allow("b/x", "ns/server"),
            deny("ns/client", "ns/server"),
            allow("b/x", "ns/client2"),
            deny("ns/client", "ns/client2"),
            allow("b/x", "ns/client"),
            deny("ns/server", "ns/client"),
        ],
        pods=["ns/client2", "b/x"],
        ns_labels={"b": {LONG_KEY: "team1"}},
    ),
    # Entities and nodes
    Case(
        "21-world-entity-with-port",
        [
            cnp(
                "to-world",
                f"{ON_CLIENT}\negress: [{{toEntities: [world], toPorts: [{{ports: [{{port: '80', protocol: TCP}}]}}]}}]",
            )
        ],
        [
            allow("ns/client", "ip:1.1.1.1", 80),
            deny("ns/client", "ip:1.1.1.1", 443),
            deny("ns/client", "ns/server", 80),
            deny("ns/client", "node:n2", 80),
        ],
    ),
    Case(
        "22-cluster-entity",
        [cnp("to-cluster", f"{ON_CLIENT}\negress: [{{toEntities: [cluster]}}]")],
        [
            allow("ns/client", "ns/server"),
            allow("ns/client", "b/x", 53, "UDP"),
            allow("ns/client", "node:n2"),
            allow("ns/client", "node:n1"),
            allow("ns/client", "ns/h2"),
            deny("ns/client", "ip:1.1.1.1"),
        ],
        pods=["b/x", "ns/h2"],
    ),
    Case(
        "23-host-entity-is-the-own-node",
        [cnp("to-host", f"{ON_CLIENT}\negress: [{{toEntities: [host]}}]")],
        [
            allow("ns/client", "node:n1"),
            allow("ns/client", "ns/h1", 10250),
            deny("ns/client", "node:n2"),
            deny("ns/client", "ns/h2"),
            deny("ns/client", "ns/server"),
            deny("ns/client", f"ip:{OUTSIDE}"),
        ],
        pods=["ns/h1", "ns/h2"],
    ),
    Case(
        "24-host-and-remote-node-entities",
        [cnp("from-nodes", f"{ON_SERVER}\ningress: [{{fromEntities: [host, remote-node]}}]")],
        [
            allow("ns/h1", "ns/server"),
            allow("ns/h2", "ns/server"),
            allow("node:n1", "ns/server"),
            allow("node:kind-control-plane", "ns/server"),
            deny("ns/client", "ns/server"),
            deny(f"ip:{OUTSIDE}", "ns/server"),
        ],
        pods=["ns/h1", "ns/h2"],
    ),
    Case(
        "25-allow-localhost",
        [
            cnp(
                "nobody",
                f"{ON_SERVER}\ningress: [{{fromEndpoints: [{{matchLabels: {{app: nobody}}}}]}}]",
            )
        ],
        [
            allow("node:n2", "ns/server"),
            allow("ns/h2", "ns/server", 8080),
            deny("node:n1", "ns/server"),
            deny("ns/h1", "ns/server"),
            deny("ns/client", "ns/server"),
        ],
        pods=["ns/h1", "ns/h2"],
    ),
    Case(
        "26-deny-host-beats-allow-localhost",
        [cnp("no-probes", f"{ON_SERVER}\ningressDeny: [{{fromEntities: [host]}}]")],
        [
            deny("node:n2", "ns/server"),
            deny("ns/h2", "ns/server"),
            deny("node:n1", "ns/server"),
            deny("ns/client", "ns/server"),
        ],
        pods=["ns/h2"],
    ),
    Case(
        "27-kube-apiserver-entity",
        [cnp("to-api", f"{ON_CLIENT}\negress: [{{toEntities: [kube-apiserver]}}]")],
        [
            allow("ns/client", "node:kind-control-plane", 6443),
            allow("ns/client", "kube-system/kube-apiserver", 6443),
            deny("ns/client", "node:n2", 6443),
            deny("ns/client", f"ip:{OUTSIDE}", 6443),
            deny("ns/client", "ns/server"),
        ],
        pods=["kube-system/kube-apiserver"],
    ),
    Case(
        "28-deny-apiserver-under-allow-all",
        [
            cnp(
                "all-but-api",
                f"{ON_CLIENT}\negress: [{{toEntities: [all]}}]\negressDeny: [{{toEntities: [kube-apiserver]}}]",
            )
        ],
        [
            deny("ns/client", "node:kind-control-plane", 6443),
            allow("ns/client", "ip:1.1.1.1", 443),
            allow("ns/client", "ns/server"),
            allow("ns/client", "node:n2"),
        ],
    ),
    Case(
        "29-deny-all-entity",
        [cnp("deny-all", f"{ON_CLIENT}\negressDeny: [{{toEntities: [all]}}]")],
        [
            deny("ns/client", "ns/server"),
            deny("ns/client", f"ip:{OUTSIDE}"),
            deny("ns/client", "node:n1"),
            allow("ns/server", "ns/client"),
        ],
    ),
    Case(
        "30-world-entity-ingress",
        [cnp("from-world", f"{ON_SERVER}\ningress: [{{fromEntities: [world]}}]")],
        [
            allow(f"ip:{OUTSIDE}", "ns/server"),
            deny("ns/client", "ns/server"),
            deny("node:n1", "ns/server"),
            allow("node:n2", "ns/server"),
        ],
    ),
    # CIDR
    Case(
        "31-cidr-never-matches-pods",
        [cnp("to-ten", f"{ON_CLIENT}\negress: [{{toCIDR: [10.0.0.0/8]}}]")],
        [
            deny("ns/client", "ns/server"),
            allow("ns/client", "ip:10.1.2.3"),
            deny("ns/client", f"ip:{OUTSIDE}"),
        ],
    ),
    Case(
        "32-cidrset-except",
        [
            cnp(
                "ones",
                f"{ON_CLIENT}\negress: [{{toCIDRSet: [{{cidr: 1.0.0.0/8, except: [1.0.0.1/32]}}]}}]",
            )
        ],
        [allow("ns/client", "ip:1.1.1.1"), deny("ns/client", "ip:1.0.0.1")],
    ),
    Case(
        "33-knp-ipblock-misses-pods-and-nodes",
        [
            knp(
                "to-blocks",
                """
                podSelector: {matchLabels: {app: client}}
                egress:
                - to: [{ipBlock: {cidr: 10.244.0.0/16}}, {ipBlock: {cidr: 172.18.0.0/16}}]
                """,
            )
        ],
        [
            deny("ns/client", "ns/server"),
            deny("ns/client", "node:n2"),
            deny("ns/client", "node:n1"),
            allow("ns/client", "ip:172.18.0.10"),
            deny("ns/client", f"ip:{OUTSIDE}"),
        ],
        networkpolicies_only=True,
    ),
    Case(
        "34-from-cidr-private-ranges",
        [cnp("from-private", f"{ON_SERVER}\ningress: [{{fromCIDR: [10.0.0.0/8, 172.16.0.0/12]}}]")],
        [
            deny("ns/client", "ns/server"),
            deny("node:n1", "ns/server"),
            allow("node:n2", "ns/server"),
            allow("ip:172.18.0.10", "ns/server"),
            deny(f"ip:{OUTSIDE}", "ns/server"),
        ],
    ),
    Case(
        "35-egress-deny-cidrset-except",
        [
            cnp("allow-all-out", f"{ON_CLIENT}\negress: [{{toEntities: [all]}}]"),
            cnp(
                "deny-ones",
                """
                endpointSelector:
                  matchExpressions: [{key: app, operator: In, values: [client, client2]}]
                egressDeny: [{toCIDRSet: [{cidr: 1.0.0.0/8, except: [1.1.1.1/32]}]}]
                """,
            ),
        ],
        [
            deny("ns/client", "ip:1.0.0.1"),
            allow("ns/client", "ip:1.1.1.1"),
            deny("ns/client2", "ip:1.0.0.1"),
            deny("ns/client2", "ip:1.1.1.1"),
        ],
        pods=["ns/client2"],
    ),
    Case(
        "36-egress-deny-cidr-groups",
        [
            "apiVersion: cilium.io/v2alpha1\nkind: CiliumCIDRGroup\n"
            "metadata: {name: ones, labels: {range: ones}}\nspec: {externalCIDRs: [1.0.0.0/8]}\n",
            cnp(
                "allow-all-out",
                """
                endpointSelector:
                  matchExpressions: [{key: app, operator: In, values: [client, client2]}]
                egress: [{toEntities: [all]}]
                """,
            ),
            cnp(
                "deny-by-ref",
                """
                endpointSelector:
                  matchExpressions: [{key: app, operator: In, values: [client, client3]}]
                egressDeny: [{toCIDRSet: [{cidrGroupRef: ones, except: [1.1.1.1/32]}]}]
                """,
            ),
            cnp(
                "deny-by-selector",
                """
                endpointSelector: {matchLabels: {app: client2}}
                egressDeny:
                - toCIDRSet: [{cidrGroupSelector: {matchLabels: {range: ones}}, except: [1.1.1.1/32]}]
                """,
            ),
        ],
        [
            deny("ns/client", "ip:1.0.0.1"),
            allow("ns/client", "ip:1.1.1.1"),
            deny("ns/client2", "ip:1.0.0.1"),
            allow("ns/client2", "ip:1.1.1.1"),
            deny("ns/client3", "ip:1.0.0.1"),
            deny("ns/client3", "ip:1.1.1.1"),
        ],
        pods=["ns/client2", "ns/client3"],
    ),
    Case(
        "37-cidr-of-a-node-without-cilium",
        [cnp("from-box", f"{ON_SERVER}\ningress: [{{fromCIDR: [172.18.0.10/32]}}]")],
        [
            allow("ip:172.18.0.10", "ns/server"),
            deny(f"ip:{OUTSIDE}", "ns/server"),
            deny("ns/client", "ns/server"),
        ],
    ),
    # Ports
    Case(
        "38-port-without-protocol-is-tcp-udp-sctp",
        [
            cnp(
                "port-80",
                f"{ON_SERVER}\ningress: [{{{FROM_CLIENT}, toPorts: [{{ports: [{{port: '80'}}]}}]}}]",
            )
        ],
        [
            allow("ns/client", "ns/server", 80, "TCP"),
            allow("ns/client", "ns/server", 80, "UDP"),
            allow("ns/client", "ns/server", 80, "SCTP"),
            deny("ns/client", "ns/server", 81, "TCP"),
        ],
    ),
    Case(
        "39-port-zero-is-every-port",
        [
            cnp(
                "port-0",
                f"""
                {ON_SERVER}
                ingress:
                - {FROM_CLIENT}
                  toPorts: [{{ports: [{{port: '0', protocol: TCP}}]}}]
                - fromEndpoints: [{{matchLabels: {{app: client2}}}}]
                  toPorts: [{{ports: [{{port: '0', endPort: 100}}]}}]
                """,
            )
        ],
        [
            allow("ns/client", "ns/server", 1),
            allow("ns/client", "ns/server", 65535),
            deny("ns/client", "ns/server", 53, "UDP"),
            allow("ns/client2", "ns/server", 5000, "UDP"),
            allow("ns/client2", "ns/server", 5000, "SCTP"),
            allow("ns/client2", "ns/server", 65535, "TCP"),
        ],
        pods=["ns/client2"],
    ),
    Case(
        "40-port-range",
        [
            cnp(
                "range",
                f"{ON_SERVER}\ningress: [{{{FROM_CLIENT}, toPorts: [{{ports: [{{port: '4096', endPort: 8191}}]}}]}}]",
            )
        ],
        [
            allow("ns/client", "ns/server", 8080),
            allow("ns/client", "ns/server", 4096),
            allow("ns/client", "ns/server", 8191),
            allow("ns/client", "ns/server", 8080, "UDP"),
            deny("ns/client", "ns/server", 4095),
            deny("ns/client", "ns/server", 8192),
        ],
    ),
    Case(
        "41-end-port-below-port-is-the-port",
        [
            cnp(
                "backwards",
                f"{ON_SERVER}\ningress: [{{{FROM_CLIENT}, toPorts: [{{ports: [{{port: '80', endPort: 70}}]}}]}}]",
            )
        ],
        [
            allow("ns/client", "ns/server", 80),
            deny("ns/client", "ns/server", 70),
            deny("ns/client", "ns/server", 75),
            deny("ns/client", "ns/server", 81),
        ],
    ),
    Case(
        "42-ports-without-peers-open-to-everyone",
        [
            cnp(
                "port-80-out",
                f"{ON_CLIENT}\negress: [{{toPorts: [{{ports: [{{port: '80', protocol: TCP}}]}}]}}]",
            )
        ],
        [
            allow("ns/client", f"ip:{OUTSIDE}", 80),
            allow("ns/client", "b/x", 80),
            allow("ns/client", "node:n2", 80),
            deny("ns/client", f"ip:{OUTSIDE}", 443),
            deny("ns/client", "kube-system/coredns", 53, "UDP"),
        ],
        pods=["b/x", "kube-system/coredns"],
    ),
    Case(
        "43-named-port-deny",
        [
            cnp(
                "named-deny",
                f"""
                {ON_SERVER}
                ingress: [{{fromEntities: [all]}}]
                ingressDeny:
                - fromEndpoints: [{{matchLabels: {{name: client}}}}]
                  toPorts: [{{ports: [{{port: http-8080, protocol: TCP}}]}}]
                """,
            )
        ],
        [
            deny("ns/client", "ns/server", 8080),
            allow("ns/client", "ns/server", 8081),
            allow("ns/client2", "ns/server", 8080),
        ],
        pods=["ns/client2"],
        labels={
            "ns/client": {"app": "client", "name": "client"},
            "ns/client2": {"app": "client2", "name": "client2"},
        },
        ports={"ns/server": [("http-8080", 8080, "TCP")]},
    ),
    Case(
        "44-undefined-named-port-matches-nothing",
        [
            cnp(
                "named",
                f"{ON_SERVER}\ningress: [{{{FROM_CLIENT}, toPorts: [{{ports: [{{port: http, protocol: TCP}}]}}]}}]",
            )
        ],
        [
            deny("ns/client", "ns/server", 80),
            deny("ns/client", "ns/server", 8080),
            deny(f"ip:{OUTSIDE}", "ns/server", 80),
        ],
    ),
    Case(
        "45-icmp-only-rule-allows-no-tcp",
        [
            cnp(
                "ping",
                f"{ON_SERVER}\ningress: [{{{FROM_CLIENT}, icmps: [{{fields: [{{type: 8, family: IPv4}}]}}]}}]",
            )
        ],
        [
            deny("ns/client", "ns/server", 80),
            deny("ns/client", "ns/server", 53, "UDP"),
            deny("ns/client", "ns/server", 80, "SCTP"),
        ],
    ),
    Case(
        "46-port-rule-without-ports-allows-nothing",
        [cnp("no-ports", f"{ON_SERVER}\ningress: [{{{FROM_CLIENT}, toPorts: [{{}}]}}]")],
        [deny("ns/client", "ns/server", 80), deny("ns/client", "ns/server", 53, "UDP")],
    ),
    Case(
        "47-integer-port-is-rejected",
        [
            cnp(
                "int-port",
                f"{ON_SERVER}\ningress: [{{{FROM_CLIENT}, toPorts: [{{ports: [{{port: 80}}]}}]}}]",
            )
        ],
        [allow("ns/client", "ns/server", 80), allow(f"ip:{OUTSIDE}", "ns/server", 80)],
        invalid=("spec.ingress[0].toPorts[0].ports[0].port", "must be a string, not an integer"),
        evidence=ev47_or_08,
    ),
    # Deny precedence
    Case(
        "48-deny-under-allow-all",
        [
            cnp(
                "allow-all-but",
                f"""
                {ON_SERVER}
                ingress: [{{fromEntities: [all]}}]
                ingressDeny: [{{fromEndpoints: [{{matchLabels: {{other: client}}}}]}}]
                """,
            )
        ],
        [
            allow("ns/client", "ns/server"),
            deny("ns/client2", "ns/server"),
            allow(f"ip:{OUTSIDE}", "ns/server"),
        ],
        pods=["ns/client2"],
        labels={"ns/client2": {"app": "client2", "other": "client"}},
    ),
    Case(
        "49-deny-table",
        [
            cnp(
                "allows",
                f"""
                endpointSelector:
                  matchExpressions: [{{key: app, operator: In, values: [server, server2]}}]
                ingress:
                - {FROM_CLIENT}
                  toPorts: [{{ports: [{{port: '80', protocol: TCP}}], rules: {{http: [{{method: GET}}]}}}}]
                - {FROM_CLIENT}
                  toPorts: [{{ports: [{{port: '80', protocol: TCP}}]}}]
                - {FROM_CLIENT}
                  toPorts: [{{ports: [{{port: '81', protocol: TCP}}]}}]
                - {FROM_CLIENT}
                """,
            ),
            cnp(
                "deny-l4-80",
                """
                endpointSelector:
                  matchExpressions: [{key: app, operator: In, values: [server, server3]}]
                ingressDeny: [{toPorts: [{ports: [{port: '80', protocol: TCP}]}]}]
                """,
            ),
            cnp(
                "deny-l3-client",
                f"endpointSelector: {{matchLabels: {{app: server2}}}}\ningressDeny: [{{{FROM_CLIENT}}}]",
            ),
        ],
        [
            allow("ns/client", "ns/server", 81),
            deny("ns/client", "ns/server", 80),
            deny("ns/client", "ns/server2", 81),
            deny("ns/client", "ns/server2", 80),
            deny("ns/client", "ns/server3", 81),
            deny("ns/client", "ns/server3", 80),
        ],
        pods=["ns/server2", "ns/server3"],
    ),
    Case(
        "50-cnp-deny-beats-knp-allow",
        [
            knp(
                "allow-80",
                """
                podSelector: {matchLabels: {app: server}}
                ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: 80}]}]
                """,
            ),
            cnp(
                "deny-80",
                f"{ON_SERVER}\ningressDeny: [{{{FROM_CLIENT}, toPorts: [{{ports: [{{port: '80', protocol: TCP}}]}}]}}]",
            ),
        ],
        [deny("ns/client", "ns/server", 80), deny("ns/client", "ns/server", 81)],
        evidence=ev50,
    ),
    Case(
        "51-deny-backend-under-allow-all",
        [
            cnp(
                "all-but-backend",
                f"""
                {ON_CLIENT}
                egress: [{{toEntities: [all]}}]
                egressDeny: [{{toEndpoints: [{{matchLabels: {{role: backend}}}}]}}]
                """,
            )
        ],
        [
            deny("ns/client", "ns/backend"),
            allow("ns/client", "ns/server"),
            allow("ns/client", f"ip:{OUTSIDE}"),
        ],
        pods=["ns/backend"],
    ),
    # L7 at L4
    Case(
        "52-l7-http-ingress-allows-at-l4",
        [
            cnp(
                "public-get",
                f"""
                {ON_SERVER}
                ingress:
                - fromEndpoints: [{{matchLabels: {{app: client2}}}}]
                  toPorts:
                  - ports: [{{port: '8080', protocol: TCP}}]
                    rules: {{http: [{{method: GET, path: /public}}]}}
                """,
            )
        ],
        [
            allow("ns/client2", "ns/server", 8080),
            deny("ns/client", "ns/server", 8080),
            deny("ns/client2", "ns/server", 80),
        ],
        pods=["ns/client2"],
        evidence=l7_noted("ns/client2", "ns/server:8080"),
    ),
    Case(
        "53-l7-http-egress-allows-at-l4",
        [
            cnp(
                "post-only",
                f"""
                {ON_CLIENT}
                egress:
                - toEndpoints: [{{matchLabels: {{app: server}}}}]
                  toPorts: [{{ports: [{{port: '80', protocol: TCP}}], rules: {{http: [{{method: POST}}]}}}}]
                """,
            )
        ],
        [
            allow("ns/client", "ns/server", 80),
            deny("ns/client", "ns/server", 81),
            deny("ns/client", f"ip:{OUTSIDE}", 80),
        ],
        evidence=l7_noted("ns/client", "ns/server:80"),
    ),
    Case(
        "54-dns-only-policy",
        [
            cnp(
                "dns-only",
                f"{ON_CLIENT}\negress: [{{toEndpoints: [{COREDNS}], toPorts: {DNS_L7}}}]",
            )
        ],
        [
            allow("ns/client", "kube-system/coredns", 53, "UDP"),
            allow("ns/client", "kube-system/coredns", 53, "TCP"),
            deny("ns/client", "ns/server"),
            deny("ns/client", f"ip:{OUTSIDE}", 80),
        ],
        pods=["kube-system/coredns"],
        evidence=l7_noted("ns/client", "kube-system/coredns:53/UDP"),
    ),
    Case(
        "55-fqdn-rule-still-enforces-default-deny",
        [
            cnp(
                "fqdn",
                f"""
                endpointSelector: {{matchLabels: {{app: client2}}}}
                egress:
                - toFQDNs: [{{matchName: api.example.com}}]
                  toPorts: [{{ports: [{{port: '443', protocol: TCP}}]}}]
                - toEndpoints: [{COREDNS}]
                  toPorts: {DNS_L7}
                """,
            )
        ],
        [
            deny("ns/client2", "ip:1.1.1.1", 443),
            deny("ns/client2", "ns/server", 80),
            allow("ns/client2", "kube-system/coredns", 53, "UDP"),
        ],
        pods=["ns/client2", "kube-system/coredns"],
        evidence=ev55,
    ),
    # Services
    Case(
        "56-to-services-reaches-the-backends",
        [
            "apiVersion: v1\nkind: Service\nmetadata: {name: myservice, namespace: ns}\n"
            "spec: {selector: {app: myservice}, ports: [{port: 80}]}\n",
            cnp(
                "to-svc",
                f"{ON_CLIENT}\negress: [{{toServices: [{{k8sService: {{serviceName: myservice, namespace: ns}}}}]}}]",
            ),
        ],
        [
            allow("ns/client", "ns/mysvc", 80),
            allow("ns/client", "ns/mysvc", 8080),
            deny("ns/client", "ns/server", 80),
        ],
        pods=["ns/mysvc"],
    ),
    Case(
        "57-to-services-without-selector-is-cidr",
        [
            "apiVersion: v1\nkind: Service\nmetadata: {name: external, namespace: ns}\n"
            "spec: {ports: [{port: 80}]}\n",
            "apiVersion: v1\nkind: Endpoints\nmetadata: {name: external, namespace: ns}\n"
            "subsets: [{addresses: [{ip: 192.0.2.10}, {ip: 10.244.2.10}], ports: [{port: 80}]}]\n",
            cnp(
                "to-external",
                f"{ON_CLIENT}\negress: [{{toServices: [{{k8sService: {{serviceName: external, namespace: ns}}}}]}}]",
            ),
        ],
        [allow("ns/client", "ip:192.0.2.10", 80), deny("ns/client", "ns/server", 80)],
    ),
    Case(
        "58-to-services-missing-with-ports-opens-to-all",
        [
            cnp(
                "to-missing",
                f"""
                {ON_CLIENT}
                egress:
                - toServices: [{{k8sService: {{serviceName: missing, namespace: ns}}}}]
                  toPorts: [{{ports: [{{port: '443', protocol: TCP}}]}}]
                """,
            )
        ],
        [
            allow("ns/client", "ns/server", 443),
            allow("ns/client", f"ip:{OUTSIDE}", 443),
            allow("ns/client", "node:n2", 443),
            deny("ns/client", "ns/server", 80),
        ],
    ),
    # NetworkPolicy through Cilium
    Case(
        "59-knp-empty-to-with-port-range",
        [
            knp(
                "range-out",
                """
                podSelector: {matchLabels: {app: client}}
                egress: [{to: [], ports: [{port: 8080, endPort: 8090}]}]
                """,
            )
        ],
        [
            allow("ns/client", "ns/server", 8080),
            allow("ns/client", "ns/server", 8085),
            allow("ns/client", "ns/server", 8090),
            deny("ns/client", "ns/server", 8091),
            allow("ns/client", f"ip:{OUTSIDE}", 8085),
        ],
        networkpolicies_only=True,
    ),
    Case(
        "60-knp-egress-rules-without-types-isolate-ingress",
        [
            knp(
                "egress-rules",
                """
                podSelector: {matchLabels: {app: client}}
                egress: [{to: [{podSelector: {matchLabels: {app: server}}}]}]
                """,
            )
        ],
        [
            allow("ns/client", "ns/server"),
            deny("ns/client", f"ip:{OUTSIDE}"),
            deny("ns/server", "ns/client"),
            allow("node:n1", "ns/client"),
        ],
        networkpolicies_only=True,
    ),
    Case(
        "61-knp-empty-policy-is-ingress-deny-all",
        [knp("deny-all", "podSelector: {}")],
        [
            deny("ns/client", "ns/server"),
            deny("ns/server", "ns/client"),
            allow("ns/client", f"ip:{OUTSIDE}"),
            allow("node:n2", "ns/server"),
        ],
        networkpolicies_only=True,
    ),
    Case(
        "62-knp-policy-types-ignored-by-default",
        [
            knp(
                "egress-typed",
                """
                podSelector: {matchLabels: {app: server}}
                policyTypes: [Egress]
                ingress: [{from: [{podSelector: {matchLabels: {app: x}}}]}]
                """,
            )
        ],
        [
            allow("ns/x", "ns/server"),
            deny("ns/client", "ns/server"),
            deny("ns/server", "ns/client"),
            deny("ns/server", f"ip:{OUTSIDE}"),
        ],
        pods=["ns/x"],
        networkpolicies_only=True,
    ),
]


# Cases a review of the engine against the spec found (the property tests' shrunk
# counterexamples, written the spec's way), each with the section that decides it.
REVIEW_CASES = [
    Case(
        # §7.2 and §10: a direction without entries is not enforced; enableDefaultDeny only
        # says whether the entries of that direction switch default deny on (§1.4)
        "review-explicit-default-deny-without-entries-of-that-direction",
        [
            cnp(
                "ingress-only",
                f"""
                {ON_CLIENT}
                enableDefaultDeny: {{egress: true}}
                ingress: [{{fromEndpoints: [{{matchLabels: {{app: server}}}}]}}]
                """,
            )
        ],
        [
            allow("ns/client", f"ip:{OUTSIDE}", 443),
            allow("ns/client", "ns/server"),
            allow("ns/server", "ns/client"),
            deny(f"ip:{OUTSIDE}", "ns/client"),
        ],
    ),
    Case(
        # §3.2 rule 1 and §2.1: a selector with a reserved: key is kept as written and
        # matched against identity labels, with every operator
        "review-reserved-selector-with-expressions",
        [
            cnp(
                "not-world",
                f"""
                {ON_CLIENT}
                egress:
                - toEndpoints: [{{matchExpressions: [{{key: 'reserved:world', operator: DoesNotExist}}]}}]
                """,
            ),
            cnp(
                "host-exists",
                """
                endpointSelector: {matchLabels: {app: client2}}
                egress: [{toEndpoints: [{matchExpressions: [{key: 'reserved:host', operator: Exists}]}]}]
                """,
            ),
        ],
        [
            allow("ns/client", "ns/server"),
            allow("ns/client", "b/x"),
            allow("ns/client", "node:n2"),
            deny("ns/client", f"ip:{OUTSIDE}"),
            allow("ns/client2", "node:n1"),
            deny("ns/client2", "node:n2"),
            deny("ns/client2", "ns/server"),
        ],
        pods=["ns/client2", "b/x"],
    ),
    Case(
        # §2.3 and §3.2 rule 1: reserved:kube-apiserver is the label entity kube-apiserver
        # stands for
        "review-reserved-kube-apiserver-selector",
        [
            cnp(
                "to-api-label",
                f"{ON_CLIENT}\negress: [{{toEndpoints: [{{matchLabels: {{'reserved:kube-apiserver': ''}}}}]}}]",
            )
        ],
        [
            allow("ns/client", "node:kind-control-plane", 6443),
            allow("ns/client", "kube-system/kube-apiserver", 6443),
            deny("ns/client", "node:n2", 6443),
            deny("ns/client", "ns/server"),
        ],
        pods=["kube-system/kube-apiserver"],
    ),
]


# §2.1 (NotIn and DoesNotExist hold where the key is absent), §3.2 rule 2 (a peer naming
# the namespace is kept as written) and §8 (only an empty namespaceSelector gets the
# namespace-Exists term): all-negative terms also match world and nodes, which carry no
# namespace label
REVIEW_CASES += [
    Case(
        "review-negative-namespace-terms-match-non-pods-knp",
        [
            knp(
                "no-team",
                """
                podSelector: {matchLabels: {app: client}}
                egress:
                - to: [{namespaceSelector: {matchExpressions: [{key: team, operator: DoesNotExist}]}}]
                """,
            ),
        ],
        [
            allow("ns/client", f"ip:{OUTSIDE}"),
            allow("ns/client", "node:n2"),
            allow("ns/client", "ns/server"),
            deny("ns/client", "b/x"),
        ],
        pods=["b/x"],
        ns_labels={"b": {"team": "blue"}},
    ),
    Case(
        "review-negative-namespace-terms-match-non-pods-cnp",
        [
            cnp(
                "not-b",
                """
                endpointSelector: {matchLabels: {app: client2}}
                egress:
                - toEndpoints:
                  - matchExpressions:
                    - {key: io.kubernetes.pod.namespace, operator: NotIn, values: [b]}
                """,
            ),
        ],
        [
            allow("ns/client2", f"ip:{OUTSIDE}"),
            allow("ns/client2", "node:n1"),
            allow("ns/client2", "ns/server"),
            deny("ns/client2", "b/x"),
        ],
        pods=["ns/client2", "b/x"],
        ns_labels={"b": {"team": "blue"}},
    ),
]


def _wrong(world: World, flows: Sequence[Flow], holds: Callable[[Flow], bool]) -> list[str]:
    return [str(flow) for flow in flows if holds(flow) != flow.allowed]


def params(cases: Sequence[Case], gaps: Mapping[str, str]) -> list[Any]:
    """One parameter per case, named after it; those in ``gaps`` must fail, for the reason
    given (strict: a fix shows up as a failure to remove the entry)."""
    return [
        pytest.param(
            c,
            id=c.name,
            marks=[pytest.mark.xfail(strict=True, reason=gaps[c.name])] if c.name in gaps else [],
        )
        for c in cases
    ]


ENGINE_GAPS: dict[str, str] = {
    "review-negative-namespace-terms-match-non-pods-knp": (
        "a NetworkPolicy peer is matched on pods only, also under the cilium profile: an "
        "all-negative namespaceSelector does not reach world or nodes (docs/cilium.md)"
    ),
}


@pytest.mark.parametrize("case", params([*CASES, *REVIEW_CASES], ENGINE_GAPS))
def test_cilium_edge_case(case: Case, yaml_cluster: Callable[..., Cluster]) -> None:
    world = World(case, yaml_cluster)
    assert world.cc.profile.name == "cilium"
    wrong = []
    for flow in case.flows:
        verdict = world.verdict(flow.src, flow.dst)
        if verdict.allows(flow.protocol, flow.port) != flow.allowed:
            wrong.append(f"{flow}, but the verdict allows {verdict.allowed.text()}")
    assert not wrong, "\n".join(wrong)
    if case.evidence is not None:
        case.evidence(world)


REFERENCE_GAPS = {"57-to-services-without-selector-is-cidr": REFERENCE_GAPS_ENDPOINTS}


@pytest.mark.parametrize(
    "case",
    # what validation rejects has no effect: nothing to evaluate
    params([c for c in [*CASES, *REVIEW_CASES] if c.invalid is None], REFERENCE_GAPS),
)
def test_reference_agrees_with_the_table(case: Case, yaml_cluster: Callable[..., Cluster]) -> None:
    """The reference evaluator of the property tests, held to the spec's table."""
    world = World(case, yaml_cluster)
    ref = CiliumReference(world.cluster)
    wrong = _wrong(
        world,
        case.flows,
        lambda f: ref.allowed(
            world.reference_endpoint(f.src), world.reference_endpoint(f.dst), f.protocol, f.port
        ),
    )
    assert not wrong, "the reference says otherwise:\n" + "\n".join(wrong)


def test_every_edge_case_has_a_row() -> None:
    assert [int(case.name.split("-")[0]) for case in CASES] == list(range(1, 63))
