"""Spec section 8, edge cases 1 to 47: one row per case, named after it.

The world is the spec's, written as manifests and read through the loader pipeline
(validation, defaulting, building) exactly as the CLI reads a user's files: namespaces x
and y (plus z, kube-system and db-ns where a case needs them) with the automatic
``kubernetes.io/metadata.name`` label; pods x/a 10.0.1.1, x/b 10.0.1.2, x/c 10.0.1.3,
y/a 10.0.2.1, y/b 10.0.2.2 with explicit ``status.podIP``, each on its own node (n1..n5,
node IPs 192.168.0.1..5), labelled ``pod: <name>`` unless the case says otherwise. Each
row writes the case's policies in the spec's own YAML, lists flows with the verdict the
spec gives for the exact protocol and port and, where the spec's point is *why*, checks
the verdict's evidence too.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pytest
import yaml

from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.engine.endpoints import Endpoint, ip_endpoint, node_endpoint, pod_endpoint
from netpol.engine.ports import PROTOCOLS, ConnectionSet
from netpol.engine.verdict import (
    LOCAL_NODE,
    NOT_A_POD,
    NOT_ISOLATED,
    RuleOutcome,
    SideVerdict,
    Verdict,
    evaluate,
)
from netpol.load.scalars import SafeDumper
from netpol.load.services import service_backends
from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options

NODE_IPS = {f"n{i}": f"192.168.0.{i}" for i in range(1, 9)}

# pod id -> (ip, node); the x and y pods are always there, the others when a case asks.
BASE_PODS = {
    "x/a": ("10.0.1.1", "n1"),
    "x/b": ("10.0.1.2", "n2"),
    "x/c": ("10.0.1.3", "n3"),
    "y/a": ("10.0.2.1", "n4"),
    "y/b": ("10.0.2.2", "n5"),
}
EXTRA_PODS = {
    "z/a": ("10.0.3.1", "n6"),
    "db-ns/db": ("10.0.4.1", "n8"),
    "kube-system/coredns": ("10.0.5.10", "n7"),
    # hostNetwork pods: their IP is their node's
    "x/h1": ("192.168.0.1", "n1"),
    "x/h2": ("192.168.0.2", "n2"),
    "x/h": ("192.168.0.6", "n6"),
}
HOST_NETWORK = {"x/h1", "x/h2", "x/h"}


def netpol(namespace: str, name: str, spec: str) -> str:
    """A NetworkPolicy manifest with ``spec`` (YAML, any indentation) as its spec."""
    body = textwrap.indent(textwrap.dedent(spec).strip(), "  ")
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        f"metadata:\n  name: {name}\n  namespace: '{namespace}'\nspec:\n{body}\n"  # quoted: y is a boolean
    )


@dataclass(frozen=True)
class Flow:
    src: str  # "x/a" (a pod), "node:n1", or "ip:203.0.113.5"
    dst: str
    port: int
    protocol: str
    allowed: bool

    def __str__(self) -> str:
        word = "ALLOW" if self.allowed else "DENY"
        return f"{self.src} -> {self.dst}:{self.port}/{self.protocol} should be {word}"


def allow(src: str, dst: str, port: int = 80, protocol: str = "TCP") -> Flow:
    return Flow(src, dst, port, protocol, True)


def deny(src: str, dst: str, port: int = 80, protocol: str = "TCP") -> Flow:
    return Flow(src, dst, port, protocol, False)


@dataclass(frozen=True)
class Case:
    name: str
    policies: Sequence[str]  # NetworkPolicy manifests
    flows: Sequence[Flow]
    profiles: Sequence[str] = ("upstream",)
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    ns_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    ports: Mapping[str, Sequence[tuple[str, int, str]]] = field(default_factory=dict)
    ips: Mapping[str, Sequence[str]] = field(default_factory=dict)
    extra_pods: Sequence[str] = ()
    manifests: Sequence[str] = ()  # anything else (a Service)
    evidence: Callable[[World], None] | None = None


def _pod_manifest(case: Case, pod_id: str, ip: str, node: str) -> dict[str, Any]:
    namespace, name = pod_id.split("/")
    ips = list(case.ips.get(pod_id, (ip,)))
    ports = [
        {"name": n, "containerPort": number, "protocol": protocol}
        for n, number, protocol in case.ports.get(pod_id, ())
    ]
    container: dict[str, Any] = {"name": "main", "image": "busybox"}
    if ports:
        container["ports"] = ports
    spec: dict[str, Any] = {"nodeName": node, "containers": [container]}
    if pod_id in HOST_NETWORK:
        spec["hostNetwork"] = True
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(case.labels.get(pod_id, {"pod": name})),
        },
        "spec": spec,
        "status": {"phase": "Running", "podIP": ips[0], "podIPs": [{"ip": i} for i in ips]},
    }


def world_manifests(case: Case) -> str:
    """The spec's cluster with the case's tweaks, as one multi-document YAML text."""
    pods = {**BASE_PODS, **{p: EXTRA_PODS[p] for p in case.extra_pods}}
    names = sorted({p.split("/")[0] for p in pods} | set(case.ns_labels))
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": n, "labels": dict(case.ns_labels.get(n, {}))},
        }
        for n in names
    ]
    docs += [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": n},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}]},
        }
        for n, ip in NODE_IPS.items()
    ]
    docs += [_pod_manifest(case, pod_id, ip, node) for pod_id, (ip, node) in pods.items()]
    return "---\n".join(
        [yaml.dump_all(docs, Dumper=SafeDumper, sort_keys=False), *case.manifests, *case.policies]
    )


@dataclass
class World:
    """The case's cluster, loaded and compiled under one profile."""

    case: Case
    profile: str
    load: Callable[..., Cluster]  # the ``yaml_cluster`` fixture: text -> Cluster via the loader

    @cached_property
    def cluster(self) -> Cluster:
        return self.load(world_manifests(self.case), self.options, f"{self.case.name}.yaml")

    @cached_property
    def options(self) -> Options:
        return Options(profile=PROFILES[self.profile], implicit_dns=False)

    @cached_property
    def cc(self) -> CompiledCluster:
        return compile_cluster(self.cluster, self.options)

    def endpoint(self, name: str) -> Endpoint:
        kind, _, rest = name.partition(":")
        if kind == "ip":
            return ip_endpoint(rest)
        nodes = self.cluster.node_by_name
        if kind == "node":
            return node_endpoint(nodes[rest])
        pod = self.cluster.pod_by_id[name]
        return pod_endpoint(pod, self.cc.profile, nodes.get(pod.node))

    def verdict(self, src: str, dst: str) -> Verdict:
        return evaluate(self.cc, self.endpoint(src), self.endpoint(dst))


# --- evidence helpers --------------------------------------------------------------------


def labels_of(outcomes: Sequence[RuleOutcome]) -> list[str]:
    return [o.rule.label for o in outcomes]


def policy_ids(side: SideVerdict) -> list[str]:
    return [p.id for p in side.policies]


def only_miss(side: SideVerdict) -> tuple[str, str]:
    """(part, detail) of the single peer miss of the single rule of ``side``."""
    assert len(side.outcomes) == 1, side.outcomes
    outcome = side.outcomes[0]
    assert not outcome.peer_matched
    assert len(outcome.peer_misses) == 1, outcome.peer_misses
    return outcome.peer_misses[0].part, outcome.peer_misses[0].detail


# --- evidence checks, one per case that needs one --------------------------------------


def ev01(w: World) -> None:
    v = w.verdict("x/a", "y/b")
    assert v.allowed.is_all
    assert v.egress.exemption == NOT_ISOLATED and v.ingress.exemption == NOT_ISOLATED


def ev02(w: World) -> None:
    v = w.verdict("y/a", "x/b")
    assert policy_ids(v.ingress) == ["x/default-deny"]
    assert v.ingress.outcomes == ()  # isolated by a policy with no rules: nothing allowed
    assert v.egress.exemption == NOT_ISOLATED
    assert v.allowed.is_empty
    assert w.verdict("x/a", "y/b").egress.exemption == NOT_ISOLATED


def ev03(w: World) -> None:
    v = w.verdict("y/a", "x/b")
    assert v.ingress.exemption == NOT_ISOLATED and not v.ingress.isolated
    assert policy_ids(w.verdict("x/a", "y/b").ingress) == ["y/default-deny"]


def ev09(w: World) -> None:
    part, detail = only_miss(w.verdict("y/b", "x/a").ingress)
    assert part == "namespace"
    assert "a podSelector alone means pods in x" in detail
    ok = w.verdict("x/b", "x/a").ingress.allowing("TCP", 80)
    assert labels_of(ok) == ["x/allow-client ingress[0]"]
    assert ok[0].peer_index == 0


def ev10(w: World) -> None:
    for source in ("ip:203.0.113.5", "node:n2"):
        part, detail = only_miss(w.verdict(source, "x/a").ingress)
        assert part == "kind", detail
        assert "selectors match pods only" in detail


def ev11(w: World) -> None:
    part, detail = only_miss(w.verdict("y/b", "x/a").ingress)
    assert part == "pod" and "role=client fails" in detail
    part, detail = only_miss(w.verdict("x/b", "x/a").ingress)
    assert part == "namespace" and "user=alice" in detail


def ev12(w: World) -> None:
    assert w.verdict("y/b", "x/a").ingress.allowing("TCP", 80)[0].peer_index == 0
    assert w.verdict("x/b", "x/a").ingress.allowing("TCP", 80)[0].peer_index == 1
    outcome = w.verdict("z/a", "x/a").ingress.outcomes[0]
    assert [m.part for m in outcome.peer_misses] == ["namespace", "namespace"]


def ev13(w: World) -> None:
    part, detail = only_miss(w.verdict("y/a", "x/a").ingress)
    assert part == "namespace" and "name=y" in detail


def ev15(w: World) -> None:
    side = w.verdict("y/a", "x/a").ingress
    assert policy_ids(side) == ["x/egress-only"]
    isolating = side.policies[0]
    assert isolating.policy_types_defaulted
    assert isolating.policy_types == ("Ingress", "Egress")
    assert side.outcomes == ()  # no ingress rules: isolated by defaulting alone


def ev16(w: World) -> None:
    side = w.verdict("x/a", "kube-system/coredns").egress
    assert policy_ids(side) == ["x/deny-egress"] and side.outcomes == ()
    assert w.verdict("y/a", "x/a").ingress.exemption == NOT_ISOLATED


def ev17(w: World) -> None:
    (only,) = w.cluster.policies
    assert only.policy_types == ("Ingress",) and only.policy_types_defaulted
    assert w.verdict("x/a", "y/a").egress.exemption == NOT_ISOLATED


def ev18(w: World) -> None:
    assert w.verdict("y/a", "x/a").allowed.is_all
    assert w.verdict("ip:203.0.113.5", "x/b").allowed.is_all


def ev21(w: World) -> None:
    v = w.verdict("x/a", "ip:8.8.8.8")
    assert not v.egress.isolated and v.egress.exemption == NOT_ISOLATED
    assert policy_ids(w.verdict("y/a", "x/a").ingress) == ["x/ingress-only"]


def ev22(w: World) -> None:
    side = w.verdict("x/a", "y/a").egress
    assert policy_ids(side) == ["x/p1"]  # P2 has no Egress type: it neither isolates nor allows
    assert side.outcomes == ()


def ev23(w: World) -> None:
    assert labels_of(w.verdict("z/a", "x/a").ingress.allowing("TCP", 81)) == ["x/p2 ingress[0]"]
    assert labels_of(w.verdict("y/a", "x/a").ingress.allowing("TCP", 80)) == [
        "x/p1 ingress[0]",
        "x/p2 ingress[0]",
    ]


def ev27(w: World) -> None:
    assert w.verdict("x/c", "x/a").allowed == ConnectionSet.of("TCP", 8080)
    assert w.verdict("x/c", "y/b").allowed == ConnectionSet.of("TCP", 9090)
    assert w.verdict("x/c", "ip:1.1.1.1").allowed.is_empty


def ev28(w: World) -> None:
    side = w.verdict("y/a", "x/a").ingress
    assert side.isolated and side.allowed.is_empty
    (entry,) = w.cluster.policies[0].ingress[0].ports
    assert entry.protocol == "TCP"  # D1: protocol defaulted, so UDP's "dns" never matches


def ev29(w: World) -> None:
    v = w.verdict("y/a", "x/a")
    assert policy_ids(v.ingress) == ["x/metrics"]
    assert v.ingress.outcomes[0].peer_matched  # the peer matches; the port never resolves
    assert v.allowed.is_empty


def ev30(w: World) -> None:
    (service,) = w.cluster.services
    (backend,) = service_backends(w.cluster, service)
    assert (backend.pod.id, backend.service_port.port, backend.target_port) == (
        "db-ns/db",
        5432,
        15432,
    )
    # The flow is the post-DNAT one: the backend pod on the targetPort.
    assert not w.verdict("x/a", "db-ns/db").allows("TCP", 15432)
    assert labels_of(w.verdict("x/b", "db-ns/db").egress.allowing("TCP", 15432)) == [
        "x/db-by-target-port egress[0]"
    ]


def ev33(w: World) -> None:
    part, detail = only_miss(w.verdict("ip:172.17.1.9", "x/a").ingress)
    assert part == "ipBlock"
    assert detail == (
        "172.17.1.9 is in an except range of ipBlock 172.17.0.0/16 except 172.17.1.0/24"
    )


def ev34(w: World) -> None:
    side = w.verdict("x/a", "x/b").egress
    assert labels_of(side.allowing("TCP", 80)) == ["x/p2 egress[0]"]
    p1 = next(o for o in side.outcomes if o.rule.policy.name == "p1")
    assert [m.part for m in p1.peer_misses] == ["ipBlock"]
    assert "except range" in p1.peer_misses[0].detail


def ev36_allow(w: World) -> None:
    assert labels_of(w.verdict("x/a", "y/b").egress.allowing("TCP", 80)) == [
        "x/to-y-b-ip egress[0]"
    ]


def ev36_cilium(w: World) -> None:
    part, detail = only_miss(w.verdict("x/a", "y/b").egress)
    assert part == "profile"
    assert detail == "ipBlock never matches pods under the cilium profile"


def ev37(w: World) -> None:
    (block,) = (p.ip_block for p in w.cluster.policies[0].ingress[0].peers)
    assert block is not None and str(block.network) == "10.0.0.0/16"
    warnings = [d for d in w.cluster.diagnostics if d.field.endswith("ipBlock.cidr")]
    assert warnings and "read as 10.0.0.0/16" in warnings[0].message


def ev38(w: World) -> None:
    assert w.verdict("x/a", "ip:8.8.8.8").allowed.is_all


def ev39(w: World) -> None:
    v = w.verdict("x/a", "y/b")
    assert v.egress.allowed.is_empty  # the client's egress denies ...
    assert v.ingress.allowing("TCP", 80)  # ... although the server's ingress allows
    part, _ = only_miss(v.egress)
    assert part == "pod"


def ev40(w: World) -> None:
    part, detail = only_miss(w.verdict("x/a", "y/a").ingress)
    assert part == "pod" and "pod=b" in detail


def ev41(w: World) -> None:
    new = w.verdict("y/a", "x/a")
    assert policy_ids(new.egress) == ["y/deny-egress"] and new.egress.allowed.is_empty
    assert new.ingress.exemption == NOT_ISOLATED
    # the connection x/a -> y/a, its replies included, is allowed as a whole
    assert w.verdict("x/a", "y/a").egress.exemption == NOT_ISOLATED


def ev42(w: World) -> None:
    side = w.verdict("node:n1", "x/a").ingress
    assert side.isolated and side.exemption == LOCAL_NODE


def ev43(w: World) -> None:
    side = w.verdict("node:n3", "x/a").ingress
    assert side.isolated and side.exemption is None and side.outcomes == ()
    assert labels_of(w.verdict("node:n3", "x/b").ingress.allowing("TCP", 80)) == [
        "x/from-n3 ingress[0]"
    ]


def ev44(w: World) -> None:
    part, detail = only_miss(w.verdict("x/h2", "x/a").ingress)
    assert part == "kind" and "is a node" in detail
    assert w.verdict("x/h1", "x/a").ingress.exemption == LOCAL_NODE


def ev45(w: World) -> None:
    side = w.verdict("y/a", "x/h").ingress
    assert side.exemption == NOT_A_POD and not side.isolated


def ev46(w: World) -> None:
    v = w.verdict("x/a", "x/a")
    assert v.allowed.is_all
    assert v.note == "a pod can always reach itself"
    assert v.egress.isolated and v.ingress.isolated  # isolated both ways, and still allowed


def ev47(w: World) -> None:
    assert w.verdict("x/a", "y/a").allowed.text() == "No Connections"
    # a verdict speaks of TCP, UDP and SCTP only: it makes no claim about ICMP
    assert ConnectionSet.all().protocols() == PROTOCOLS == ("TCP", "UDP", "SCTP")


# --- the table ---------------------------------------------------------------------------

DEFAULT_DENY_X = netpol(
    "x",
    "default-deny",
    """
    podSelector: {}
    policyTypes: [Ingress]
    """,
)
DB_SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: db, namespace: db-ns}
spec:
  selector: {app: db}
  ports: [{port: 5432, targetPort: 15432, protocol: TCP}]
"""
ALLOW_ALL_X = """
podSelector: {}
policyTypes: [Ingress]
ingress:
- {}
"""
INTERNET_ONLY = """
podSelector: {matchLabels: {pod: a}}
egress:
- to:
  - ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}
"""
EVERYWHERE = """
podSelector: {matchLabels: {pod: b}}
egress:
- to:
  - ipBlock: {cidr: 0.0.0.0/0}
"""
TO_Y_B_IP = """
podSelector: {matchLabels: {pod: a}}
egress:
- to:
  - ipBlock: {cidr: 10.0.2.2/32}
"""

CASES = [
    Case("01-no-policy", [], [allow("x/a", "y/b")], evidence=ev01),
    Case(
        "02-default-deny-ingress",
        [DEFAULT_DENY_X],
        [deny("y/a", "x/b"), deny("x/a", "x/b"), allow("x/a", "y/b")],
        evidence=ev02,
    ),
    Case(
        "03-wrong-namespace",
        [netpol("y", "default-deny", "podSelector: {}\npolicyTypes: [Ingress]")],
        [allow("y/a", "x/b")],
        evidence=ev03,
    ),
    Case(
        "04-selector-misses-unlabelled-pod",
        [netpol("x", "db", "podSelector: {matchLabels: {app: db}}\npolicyTypes: [Ingress]")],
        [allow("y/a", "x/b"), deny("y/a", "x/a")],
        labels={"x/a": {"app": "db"}, "x/b": {}},
    ),
    Case(
        "05-notin-selects-missing-key",
        [
            netpol(
                "x",
                "p",
                """
                podSelector:
                  matchExpressions: [{key: tier, operator: NotIn, values: [web]}]
                policyTypes: [Ingress]
                """,
            )
        ],
        [deny("y/a", "x/a"), allow("y/a", "x/b")],
        labels={"x/a": {}, "x/b": {"tier": "web"}},
    ),
    Case(
        "06-in-needs-the-key",
        [
            netpol(
                "x",
                "p",
                """
                podSelector:
                  matchExpressions: [{key: tier, operator: In, values: [db]}]
                policyTypes: [Ingress]
                """,
            )
        ],
        [allow("y/a", "x/a"), deny("y/a", "x/b")],
        labels={"x/a": {}, "x/b": {"tier": "db"}},
    ),
    Case(
        "07-empty-label-value",
        [netpol("x", "p", 'podSelector: {matchLabels: {env: ""}}\npolicyTypes: [Ingress]')],
        [deny("y/a", "x/a"), allow("y/a", "x/b"), allow("y/a", "x/c")],
        labels={"x/a": {"env": ""}, "x/b": {"env": "prod"}, "x/c": {}},
    ),
    Case(
        "08-conflicting-requirements-select-nothing",
        [
            netpol(
                "x",
                "p",
                """
                podSelector:
                  matchLabels: {app: db}
                  matchExpressions: [{key: app, operator: In, values: [web]}]
                policyTypes: [Ingress]
                """,
            )
        ],
        [allow("y/a", "x/a"), allow("y/a", "x/b")],
        labels={"x/a": {"app": "db"}, "x/b": {"app": "web"}},
    ),
    Case(
        "09-lone-podselector-is-policy-namespace",
        [
            netpol(
                "x",
                "allow-client",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - from:
                  - podSelector: {matchLabels: {role: client}}
                """,
            )
        ],
        [allow("x/b", "x/a"), deny("y/b", "x/a")],
        labels={"x/b": {"role": "client"}, "y/b": {"role": "client"}},
        evidence=ev09,
    ),
    Case(
        "10-empty-namespaceselector-is-all-pods-only",
        [
            netpol(
                "x",
                "p",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - from:
                  - namespaceSelector: {}
                """,
            )
        ],
        [
            allow("y/a", "x/a"),
            allow("x/b", "x/a"),
            deny("ip:203.0.113.5", "x/a"),
            deny("node:n2", "x/a"),
        ],
        profiles=("upstream", "calico", "cilium"),
        evidence=ev10,
    ),
    Case(
        "11-namespace-and-pod-selector-in-one-item-is-and",
        [
            netpol(
                "x",
                "p",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - from:
                  - namespaceSelector: {matchLabels: {user: alice}}
                    podSelector: {matchLabels: {role: client}}
                """,
            )
        ],
        [allow("y/a", "x/a"), deny("y/b", "x/a"), deny("x/b", "x/a")],
        labels={"y/a": {"role": "client"}, "y/b": {}, "x/b": {"role": "client"}},
        ns_labels={"y": {"user": "alice"}},
        evidence=ev11,
    ),
    Case(
        "12-two-items-are-or",
        [
            netpol(
                "x",
                "p",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - from:
                  - namespaceSelector: {matchLabels: {user: alice}}
                  - podSelector: {matchLabels: {role: client}}
                """,
            )
        ],
        [allow("y/b", "x/a"), allow("x/b", "x/a"), deny("z/a", "x/a")],
        labels={"y/b": {}, "x/b": {"role": "client"}, "z/a": {"role": "client"}},
        ns_labels={"y": {"user": "alice"}},
        extra_pods=["z/a"],
        evidence=ev12,
    ),
    Case(
        "13-namespace-by-name-needs-metadata-name",
        [
            netpol(
                "x",
                "by-name",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - from:
                  - namespaceSelector: {matchLabels: {name: 'y'}}
                """,
            ),
            netpol(
                "x",
                "by-metadata-name",
                """
                podSelector: {matchLabels: {pod: b}}
                ingress:
                - from:
                  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: 'y'}}
                """,
            ),
        ],
        [deny("y/a", "x/a"), allow("y/a", "x/b")],
        evidence=ev13,
    ),
    Case(
        "14-podselector-or-namespaceselector",
        [
            netpol(
                "x",
                "p",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - from:
                  - namespaceSelector:
                      matchExpressions:
                      - {key: kubernetes.io/metadata.name, operator: NotIn, values: [x]}
                  - podSelector: {matchLabels: {pod: b}}
                """,
            )
        ],
        [allow("y/a", "x/a"), allow("x/b", "x/a"), deny("x/c", "x/a")],
    ),
    Case(
        "15-egress-rules-default-types-to-both",
        [
            netpol(
                "x",
                "egress-only",
                """
                podSelector: {matchLabels: {pod: a}}
                egress:
                - to:
                  - podSelector: {}
                """,
            )
        ],
        [deny("y/a", "x/a"), allow("x/a", "x/b"), deny("x/a", "y/a")],
        evidence=ev15,
    ),
    Case(
        "16-egress-type-without-rules-denies-all-egress",
        [netpol("x", "deny-egress", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Egress]")],
        [
            deny("x/a", "y/a"),
            deny("x/a", "kube-system/coredns", 53, "UDP"),
            deny("x/a", "kube-system/coredns", 53, "TCP"),
            deny("x/a", "ip:8.8.8.8", 443),
            allow("y/a", "x/a"),
        ],
        labels={"kube-system/coredns": {"k8s-app": "kube-dns"}},
        ports={"kube-system/coredns": [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")]},
        extra_pods=["kube-system/coredns"],
        evidence=ev16,
    ),
    Case(
        "17-empty-egress-list-does-not-isolate-egress",
        [netpol("x", "p", "podSelector: {matchLabels: {pod: a}}\negress: []")],
        [allow("x/a", "y/a"), deny("y/a", "x/a")],
        evidence=ev17,
    ),
    Case(
        "18-ingress-empty-rule-allows-everything",
        [netpol("x", "allow-all", ALLOW_ALL_X)],
        [
            allow("y/a", "x/a", 1, "TCP"),
            allow("y/a", "x/a", 53, "UDP"),
            allow("y/a", "x/a", 65535, "SCTP"),
            allow("ip:203.0.113.5", "x/b", 443),
            allow("node:n4", "x/c", 9999, "UDP"),
        ],
        evidence=ev18,
    ),
    Case(
        "19-empty-from-and-ports-lists-are-unrestricted",
        [
            netpol(
                "x",
                "allow-all",
                """
                podSelector: {}
                policyTypes: [Ingress]
                ingress:
                - from: []
                  ports: []
                """,
            )
        ],
        [
            allow("y/a", "x/a", 1, "TCP"),
            allow("y/a", "x/a", 53, "UDP"),
            allow("y/a", "x/a", 65535, "SCTP"),
            allow("ip:203.0.113.5", "x/b", 443),
        ],
        evidence=ev18,
    ),
    Case(
        "20-empty-port-entry-is-all-tcp",
        [
            netpol(
                "x",
                "p",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - ports:
                  - {}
                """,
            )
        ],
        [
            allow("y/a", "x/a", 5353, "TCP"),
            allow("y/a", "x/a", 1, "TCP"),
            deny("y/a", "x/a", 5353, "UDP"),
            deny("y/a", "x/a", 5353, "SCTP"),
        ],
    ),
    Case(
        "21-egress-rules-ignored-without-egress-type",
        [
            netpol(
                "x",
                "ingress-only",
                """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                egress:
                - to:
                  - ipBlock: {cidr: 10.9.0.0/16}
                """,
            )
        ],
        [allow("x/a", "ip:8.8.8.8", 53, "UDP"), allow("x/a", "y/a"), deny("y/a", "x/a")],
        evidence=ev21,
    ),
    Case(
        "22-other-policys-egress-rules-do-not-count",
        [
            netpol("x", "p1", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Egress]"),
            netpol(
                "x",
                "p2",
                """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Ingress]
                egress:
                - {}
                """,
            ),
        ],
        [deny("x/a", "y/a"), deny("x/a", "ip:8.8.8.8")],
        evidence=ev22,
    ),
    Case(
        "23-allow-all-rule-unions-with-narrower-one",
        [
            netpol(
                "x",
                "p1",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - from:
                  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: 'y'}}
                  ports:
                  - {protocol: TCP, port: 80}
                """,
            ),
            netpol(
                "x",
                "p2",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - {}
                """,
            ),
        ],
        [allow("z/a", "x/a", 81), allow("y/a", "x/a", 80)],
        extra_pods=["z/a"],
        evidence=ev23,
    ),
    Case(
        "24-numeric-port",
        [
            netpol(
                "x",
                "p",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - ports:
                  - port: 80
                """,
            )
        ],
        [
            allow("y/a", "x/a", 80, "TCP"),
            deny("y/a", "x/a", 81, "TCP"),
            deny("y/a", "x/a", 79, "TCP"),
            deny("y/a", "x/a", 80, "UDP"),
        ],
    ),
    Case(
        "25-end-port-range-is-inclusive",
        [
            netpol(
                "x",
                "p",
                """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Egress]
                egress:
                - to:
                  - ipBlock: {cidr: 10.0.0.0/24}
                  ports:
                  - {protocol: TCP, port: 32000, endPort: 32768}
                """,
            )
        ],
        [
            allow("x/a", "ip:10.0.0.7", 32768),
            allow("x/a", "ip:10.0.0.7", 32000),
            deny("x/a", "ip:10.0.0.7", 32769),
            deny("x/a", "ip:10.0.0.7", 31999),
            deny("x/a", "ip:10.0.0.7", 32500, "UDP"),
        ],
    ),
    Case(
        "26-named-port-ingress",
        [
            netpol(
                "x",
                "p",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - ports:
                  - port: http
                """,
            )
        ],
        [allow("y/a", "x/a", 8080), deny("y/a", "x/a", 80), deny("y/a", "x/a", 8080, "UDP")],
        ports={"x/a": [("http", 8080, "TCP")]},
    ),
    Case(
        "27-named-port-egress-resolves-per-destination",
        [
            netpol(
                "x",
                "p",
                """
                podSelector: {matchLabels: {pod: c}}
                policyTypes: [Egress]
                egress:
                - ports:
                  - port: http
                """,
            )
        ],
        [
            allow("x/c", "x/a", 8080),
            allow("x/c", "y/b", 9090),
            deny("x/c", "x/a", 9090),
            deny("x/c", "y/b", 8080),
            deny("x/c", "ip:1.1.1.1", 8080),
        ],
        ports={"x/a": [("http", 8080, "TCP")], "y/b": [("http", 9090, "TCP")]},
        evidence=ev27,
    ),
    Case(
        "28-named-port-needs-protocol-and-name",
        [
            netpol(
                "x",
                "p",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - ports:
                  - port: dns
                """,
            )
        ],
        [deny("y/a", "x/a", 53, "UDP"), deny("y/a", "x/a", 53, "TCP")],
        ports={"x/a": [("dns", 53, "UDP")]},
        evidence=ev28,
    ),
    Case(
        "29-undeclared-named-port-matches-nothing",
        [
            netpol(
                "x",
                "metrics",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - ports:
                  - port: metrics
                """,
            )
        ],
        [deny("y/a", "x/a", 9090), deny("y/a", "x/a", 80), deny("y/a", "x/a", 9153, "UDP")],
        ports={"x/a": [("http", 8080, "TCP")]},
        evidence=ev29,
    ),
    Case(
        "30-service-port-vs-target-port",
        [
            netpol(
                "x",
                "db-by-service-port",
                """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Egress]
                egress:
                - to:
                  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: db-ns}}
                  ports:
                  - port: 5432
                """,
            ),
            netpol(
                "x",
                "db-by-target-port",
                """
                podSelector: {matchLabels: {pod: b}}
                policyTypes: [Egress]
                egress:
                - to:
                  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: db-ns}}
                  ports:
                  - port: 15432
                """,
            ),
        ],
        # post-DNAT: ClusterIP:5432 reaches the db pod on its targetPort 15432
        [deny("x/a", "db-ns/db", 15432), allow("x/b", "db-ns/db", 15432)],
        labels={"db-ns/db": {"app": "db"}},
        extra_pods=["db-ns/db"],
        manifests=[DB_SERVICE],
        evidence=ev30,
    ),
    Case(
        "31-sctp-rule-does-not-allow-tcp",
        [
            DEFAULT_DENY_X,
            netpol(
                "x",
                "sctp",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - ports:
                  - {protocol: SCTP, port: 81}
                """,
            ),
        ],
        [
            deny("y/a", "x/a", 81, "TCP"),
            allow("y/a", "x/a", 81, "SCTP"),
            deny("y/a", "x/b", 81, "SCTP"),
        ],
    ),
    Case(
        "32-protocol-only-port-entry",
        [
            netpol(
                "x",
                "p",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - ports:
                  - protocol: UDP
                """,
            )
        ],
        [
            deny("y/a", "x/a", 80, "TCP"),
            allow("y/a", "x/a", 80, "UDP"),
            allow("y/a", "x/a", 1, "UDP"),
            allow("y/a", "x/a", 65535, "UDP"),
            deny("y/a", "x/a", 80, "SCTP"),
        ],
    ),
    Case(
        "33-ipblock-except",
        [
            netpol(
                "x",
                "p",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - from:
                  - ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24]}
                """,
            )
        ],
        [
            allow("ip:172.17.0.9", "x/a"),
            deny("ip:172.17.1.9", "x/a"),
            allow("ip:172.17.2.9", "x/a"),
            deny("ip:172.18.0.1", "x/a"),
        ],
        evidence=ev33,
    ),
    Case(
        "34-excepted-ip-allowed-by-another-policy",
        [
            netpol(
                "x",
                "p1",
                """
                podSelector: {matchLabels: {pod: a}}
                egress:
                - to:
                  - ipBlock: {cidr: 10.0.0.0/16, except: [10.0.1.2/32]}
                """,
            ),
            netpol(
                "x",
                "p2",
                """
                podSelector: {matchLabels: {pod: a}}
                egress:
                - to:
                  - ipBlock: {cidr: 10.0.1.2/32}
                """,
            ),
        ],
        [
            allow("x/a", "x/b"),
            allow("x/a", "x/c"),
            allow("x/a", "y/a"),
            deny("x/a", "ip:8.8.8.8"),
        ],
        evidence=ev34,
    ),
    Case(
        "35-ipv4-block-does-not-cover-ipv6",
        [
            netpol(
                "x",
                "p",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - from:
                  - ipBlock: {cidr: 0.0.0.0/0}
                """,
            )
        ],
        [deny("ip:2001:db8::1", "x/a"), allow("ip:198.51.100.1", "x/a")],
        ips={"x/a": ("10.0.1.1", "fd00:10::1")},
    ),
    Case(
        "36-ipblock-covering-a-pod-ip",
        [netpol("x", "to-y-b-ip", TO_Y_B_IP)],
        [allow("x/a", "y/b"), deny("x/a", "y/a")],
        profiles=("upstream", "calico"),
        evidence=ev36_allow,
    ),
    Case(
        "36-ipblock-covering-a-pod-ip",
        [netpol("x", "to-y-b-ip", TO_Y_B_IP)],
        [deny("x/a", "y/b"), deny("x/a", "y/a")],
        profiles=("cilium",),
        evidence=ev36_cilium,
    ),
    Case(
        "37-cidr-with-host-bits",
        [
            netpol(
                "x",
                "p",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - from:
                  - ipBlock: {cidr: 10.0.1.5/16}
                """,
            )
        ],
        [allow("ip:10.0.200.1", "x/a"), deny("ip:10.1.0.1", "x/a")],
        evidence=ev37,
    ),
    Case(
        "38-internet-only-egress",
        [netpol("x", "internet", INTERNET_ONLY), netpol("x", "everywhere", EVERYWHERE)],
        [deny("x/a", "y/a"), allow("x/a", "ip:8.8.8.8"), allow("x/b", "y/a")],
        profiles=("upstream",),
        evidence=ev38,
    ),
    Case(
        "38-internet-only-egress",
        [netpol("x", "internet", INTERNET_ONLY), netpol("x", "everywhere", EVERYWHERE)],
        # without the except the pod is still denied: ipBlock never matches pods
        [deny("x/a", "y/a"), allow("x/a", "ip:8.8.8.8"), deny("x/b", "y/a")],
        profiles=("cilium",),
        evidence=ev38,
    ),
    Case(
        "39-client-egress-wins",
        [
            netpol(
                "x",
                "egress-to-y-a",
                """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Egress]
                egress:
                - to:
                  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: 'y'}}
                    podSelector: {matchLabels: {pod: a}}
                """,
            ),
            netpol(
                "y",
                "from-x-a",
                """
                podSelector: {}
                policyTypes: [Ingress]
                ingress:
                - from:
                  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}
                    podSelector: {matchLabels: {pod: a}}
                """,
            ),
        ],
        [allow("x/a", "y/a"), deny("x/a", "y/b")],
        evidence=ev39,
    ),
    Case(
        "40-namespace-and-pod-selector-for-other-namespace",
        [
            netpol(
                "y",
                "from-x-b",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - from:
                  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}
                    podSelector: {matchLabels: {pod: b}}
                """,
            )
        ],
        [deny("x/a", "y/a"), allow("x/b", "y/a")],
        evidence=ev40,
    ),
    Case(
        "41-stateful-replies-but-no-new-connection",
        [
            netpol(
                "y",
                "from-x",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - from:
                  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}
                """,
            ),
            netpol(
                "y", "deny-egress", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Egress]"
            ),
        ],
        [allow("x/a", "y/a"), deny("y/a", "x/a")],
        evidence=ev41,
    ),
    Case(
        "42-local-node-probes-allowed",
        [netpol("x", "deny-a", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Ingress]")],
        [allow("node:n1", "x/a", 8080), deny("y/a", "x/a", 8080)],
        profiles=("upstream", "calico", "cilium"),
        evidence=ev42,
    ),
    Case(
        "43-other-node-needs-an-ipblock",
        [
            netpol("x", "deny-a", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Ingress]"),
            netpol(
                "x",
                "from-n3",
                """
                podSelector: {matchLabels: {pod: b}}
                ingress:
                - from:
                  - ipBlock: {cidr: 192.168.0.3/32}
                """,
            ),
        ],
        [deny("node:n3", "x/a", 8080), allow("node:n3", "x/b"), deny("node:n4", "x/b")],
        evidence=ev43,
    ),
    Case(
        "44-host-network-pod-is-node-traffic",
        [
            netpol(
                "x",
                "from-web",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - from:
                  - podSelector: {matchLabels: {app: web}}
                """,
            )
        ],
        [deny("x/h2", "x/a"), allow("x/h1", "x/a"), allow("x/c", "x/a"), deny("x/b", "x/a")],
        labels={"x/c": {"app": "web"}, "x/h1": {"app": "web"}, "x/h2": {"app": "web"}},
        extra_pods=["x/h1", "x/h2"],
        evidence=ev44,
    ),
    Case(
        "45-host-network-pod-is-not-isolated",
        [netpol("x", "deny-web", "podSelector: {matchLabels: {app: web}}\npolicyTypes: [Ingress]")],
        [allow("y/a", "x/h"), allow("y/a", "x/h", 22, "UDP")],
        labels={"x/h": {"app": "web"}},
        extra_pods=["x/h"],
        evidence=ev45,
    ),
    Case(
        "46-pod-reaches-itself",
        [
            netpol(
                "x",
                "deny-all",
                "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Ingress, Egress]",
            )
        ],
        [allow("x/a", "x/a", 8080), allow("x/a", "x/a", 53, "UDP"), deny("x/a", "x/b")],
        evidence=ev46,
    ),
    Case(
        "47-icmp-is-not-expressible",
        [netpol("x", "deny-egress", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Egress]")],
        [
            deny("x/a", "y/a", 80, "TCP"),
            deny("x/a", "y/a", 53, "UDP"),
            deny("x/a", "y/a", 80, "SCTP"),
        ],
        evidence=ev47,
    ),
]

PARAMS = [
    pytest.param(
        case,
        profile,
        id=case.name if tuple(case.profiles) == ("upstream",) else f"{case.name}[{profile}]",
    )
    for case in CASES
    for profile in case.profiles
]


@pytest.mark.parametrize(("case", "profile"), PARAMS)
def test_edge_case(case: Case, profile: str, yaml_cluster: Callable[..., Cluster]) -> None:
    world = World(case, profile, yaml_cluster)
    wrong = []
    for flow in case.flows:
        verdict = world.verdict(flow.src, flow.dst)
        if verdict.allows(flow.protocol, flow.port) != flow.allowed:
            wrong.append(f"{flow}, but the verdict allows {verdict.allowed.text()}")
    assert not wrong, "\n".join(wrong)
    if case.evidence is not None:
        case.evidence(world)


def test_every_edge_case_has_a_row() -> None:
    assert {int(case.name.split("-")[0]) for case in CASES} == set(range(1, 48))
