"""Spec section 8, edge cases 61 to 69, the conformance scenarios of spec 6.3, and Calico's
tiers: one row per case, named after it.

The policies are model objects built here (the loaders for these kinds are tested with
them). The world: namespaces x, y (``team: blue``), z and kube-system; pods x/a 10.0.1.1
(``app: web``, port ``http`` 80/TCP), x/b 10.0.1.2, y/a 10.0.2.1, y/b 10.0.2.2, z/a
10.0.3.1, each labelled ``pod: <name>`` and on its own node n1..n5 (192.168.0.1..5);
kube-system/coredns 10.0.5.10 (``k8s-app: kube-dns``, ``dns`` 53/UDP, ``metrics``
9153/TCP) and the hostNetwork pod x/h on n6 (192.168.0.6, ``role: infra``; the others
are ``role: worker``). Every flow is checked twice: the verdict, and the class matrix
for the same two endpoints, which must agree with it on every port.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pytest

from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.engine.endpoints import EXTERNAL, NODE, Endpoint, ip_endpoint, node_endpoint
from netpol.engine.endpoints import pod_endpoint as engine_pod_endpoint
from netpol.engine.matrix import ClassMatrix, class_matrix
from netpol.engine.ports import ConnectionSet
from netpol.engine.verdict import Verdict, evaluate
from netpol.model.cluster import Cluster
from netpol.model.expressions import (
    EQUALS,
    NOT_EQUALS,
    STARTS_WITH,
    And,
    CalicoSelector,
    Compare,
    Expression,
    HasLabel,
    InSet,
    Not,
)
from netpol.model.objects import Node, ServiceAccount
from netpol.model.options import Options
from netpol.model.policy import NetworkPolicy, Peer, PolicyPort, Rule
from netpol.model.selectors import LabelSelector
from netpol.model.tiers import (
    ALLOW,
    ANP_KIND,
    ANY,
    ANY_PROTOCOL,
    BANP_KIND,
    CALICO_GNP_KIND,
    CALICO_NP_KIND,
    DENY,
    LOG,
    NODES,
    PASS,
    PODS,
    EndpointMatch,
    Tier,
    TieredPolicy,
    TierRule,
)

from .builders import cluster, ip_block, namespace, pod, policy
from .test_edge_cases import Flow, allow, deny

NAMESPACE_LABELS = {"y": {"team": "blue"}}
NODE_OBJECTS = tuple(
    Node(f"n{i}", (f"192.168.0.{i}",), {"role": "infra" if i == 6 else "worker"})
    for i in range(1, 7)
)
# pod id -> (ip, node, extra labels, ports)
PODS_OF_THE_WORLD: dict[str, tuple[str, str, dict[str, str], list[tuple[str, int, str]]]] = {
    "x/a": ("10.0.1.1", "n1", {"app": "web"}, [("http", 80, "TCP")]),
    "x/b": ("10.0.1.2", "n2", {}, []),
    "y/a": ("10.0.2.1", "n3", {}, []),
    "y/b": ("10.0.2.2", "n4", {}, []),
    "z/a": ("10.0.3.1", "n5", {}, []),
    "kube-system/coredns": (
        "10.0.5.10",
        "n6",
        {"k8s-app": "kube-dns"},
        [("dns", 53, "UDP"), ("metrics", 9153, "TCP")],
    ),
    "x/h": ("192.168.0.6", "n6", {}, []),
}


# --- building policies -------------------------------------------------------------------


def labels(**given: str) -> LabelSelector:
    return LabelSelector(tuple(sorted(given.items())))


def named(ns: str) -> LabelSelector:
    return LabelSelector((("kubernetes.io/metadata.name", ns),))


def calico(expression: Expression, text: str) -> CalicoSelector:
    return CalicoSelector(expression, text)


def in_ns(ns: str | None = None, **pod_labels: str) -> EndpointMatch:
    """Pods in namespace ``ns`` (every namespace when None) with these labels."""
    return EndpointMatch(
        PODS,
        namespaces=named(ns) if ns is not None else LabelSelector(),
        pods=labels(**pod_labels) if pod_labels else None,
    )


def nets(*cidrs: str, not_nets: Sequence[str] = (), version: int | None = None) -> EndpointMatch:
    return EndpointMatch(
        ANY,
        nets=tuple(ip_block(c).network for c in cidrs),
        not_nets=tuple(ip_block(c).network for c in not_nets),
        ip_version=version,
    )


def rule(action: str, *peers: EndpointMatch, **fields: object) -> TierRule:
    return TierRule(0, action, peers=peers, **fields)  # type: ignore[arg-type]


def _indexed(rules: Sequence[TierRule]) -> tuple[TierRule, ...]:
    return tuple(replace(r, index=i) for i, r in enumerate(rules))


def tiered(
    kind: str,
    name: str,
    order: float | None,
    subject: EndpointMatch,
    ingress: Sequence[TierRule] = (),
    egress: Sequence[TierRule] = (),
    tier: str = "default",
    types: Sequence[str] | None = None,
) -> TieredPolicy:
    if types is None:
        types = tuple(d for d, rs in (("Ingress", ingress), ("Egress", egress)) if rs)
    return TieredPolicy(
        kind=kind,
        api_version="projectcalico.org/v3"
        if kind in (CALICO_GNP_KIND, CALICO_NP_KIND)
        else "policy.networking.k8s.io/v1alpha1",
        name=name,
        namespace=None,
        tier=tier,
        order=order,
        subject=subject,
        types=tuple(types),
        ingress=_indexed(ingress),
        egress=_indexed(egress),
    )


def anp(
    name: str,
    priority: int,
    subject: EndpointMatch,
    ingress: Sequence[TierRule] = (),
    egress: Sequence[TierRule] = (),
) -> TieredPolicy:
    return tiered(ANP_KIND, name, priority, subject, ingress, egress, tier="kube-admin")


def banp(
    subject: EndpointMatch, ingress: Sequence[TierRule] = (), egress: Sequence[TierRule] = ()
) -> TieredPolicy:
    return tiered(BANP_KIND, "default", None, subject, ingress, egress, tier="kube-baseline")


def gnp(
    name: str,
    order: float | None,
    subject: EndpointMatch,
    ingress: Sequence[TierRule] = (),
    egress: Sequence[TierRule] = (),
    tier: str = "default",
    types: Sequence[str] | None = None,
) -> TieredPolicy:
    return tiered(CALICO_GNP_KIND, name, order, subject, ingress, egress, tier, types)


def np_allow_ingress(ns: str, *peers: Peer, ports: Sequence[PolicyPort] = ()) -> NetworkPolicy:
    """A NetworkPolicy selecting every pod of ``ns`` for ingress, allowing ``peers``."""
    return policy(ns, "np-ingress", LabelSelector(), ingress=[Rule(peers, tuple(ports))])


def np_deny(ns: str, *types: str) -> NetworkPolicy:
    return policy(ns, "np-deny", LabelSelector(), types=types)


def from_ns(ns: str) -> Peer:
    return Peer(namespace_selector=named(ns))


ALL_IN_X = in_ns("x")
X_A = in_ns("x", pod="a")
EVERY_NS = EndpointMatch(PODS, namespaces=LabelSelector())
TCP_80 = (PolicyPort("TCP", 80),)


# --- the world and the check --------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    tiered: Sequence[TieredPolicy]
    flows: Sequence[Flow]
    policies: Sequence[NetworkPolicy] = ()
    tiers: Sequence[Tier] = ()
    accounts: Mapping[str, str] = field(default_factory=dict)  # pod id -> service account
    service_accounts: Sequence[ServiceAccount] = ()


def world(case: Case) -> Cluster:
    pods = []
    for pod_id, (ip, node, extra, ports) in PODS_OF_THE_WORLD.items():
        made = pod(
            pod_id,
            ip,
            {"pod": pod_id.split("/")[1], **extra},
            node,
            ports,
            host_network=pod_id == "x/h",
        )
        pods.append(replace(made, service_account=case.accounts.get(pod_id, "default")))
    namespaces = [namespace(n, NAMESPACE_LABELS.get(n)) for n in ("x", "y", "z", "kube-system")]
    base = cluster(namespaces, pods, case.policies, NODE_OBJECTS)
    return replace(
        base,
        tiered_policies=tuple(case.tiered),
        tiers=tuple(case.tiers),
        service_accounts=tuple(case.service_accounts),
    )


def endpoint(cc: CompiledCluster, name: str) -> Endpoint:
    if name.startswith("node:"):
        return node_endpoint(cc.cluster.node_by_name[name.removeprefix("node:")])
    if name.startswith("ip:"):
        return ip_endpoint(name.removeprefix("ip:"))
    found = cc.cluster.pod_by_id[name]
    return engine_pod_endpoint(found, cc.profile, cc.cluster.node_by_name.get(found.node))


def matrix_class(matrix: ClassMatrix, cc: CompiledCluster, name: str) -> tuple[int, str]:
    """The class of a named endpoint and the node it runs on (for the node exceptions)."""
    if name.startswith("node:"):
        node = name.removeprefix("node:")
        for c in matrix.classes:
            if c.kind == NODE and c.representative.pod is None and c.node == node:
                return c.index, node
        raise AssertionError(f"no class for {name}")
    if name.startswith("ip:"):
        address = ip_endpoint(name.removeprefix("ip:")).ip
        for c in matrix.classes:
            if c.kind == EXTERNAL and any(address in ip_block(cidr).network for cidr in c.cidrs):
                return c.index, ""
        raise AssertionError(f"no class for {name}")
    return matrix.partition.class_of_pod[name], cc.cluster.pod_by_id[name].node


def matrix_connections(
    matrix: ClassMatrix, cc: CompiledCluster, src: str, dst: str
) -> ConnectionSet:
    if not src.startswith(("node:", "ip:")) and not dst.startswith(("node:", "ip:")):
        return matrix.pod_connections(src, dst)
    (i, src_node), (j, dst_node) = matrix_class(matrix, cc, src), matrix_class(matrix, cc, dst)
    if matrix.overridden(i, src_node, j, dst_node):
        return ConnectionSet.all()
    return matrix.connections(i, j)


def chain(v: Verdict) -> str:
    """The decision chains, for failure messages."""
    lines = []
    for side in (v.egress, v.ingress):
        for d in side.decisions:
            lines.append(
                f"  {side.direction}: [{d.tier}] {d.by} {d.action} {d.connections.text()} {d.reason}"
            )
    return "\n".join(lines)


def check(c: Cluster, flows: Sequence[Flow]) -> dict[Flow, ConnectionSet]:
    """Each flow's verdict (and the class matrix, which must say the same on every port)
    is as the flow says; returns what the verdicts allow."""
    cc = compile_cluster(c, Options())
    matrix = class_matrix(cc, include_external=True, include_nodes=True)
    found = {}
    for flow in flows:
        v = evaluate(cc, endpoint(cc, flow.src), endpoint(cc, flow.dst))
        assert v.allows(flow.protocol, flow.port) == flow.allowed, f"{flow}\n{chain(v)}"
        by_matrix = matrix_connections(matrix, cc, flow.src, flow.dst)
        assert by_matrix == v.allowed, (
            f"{flow.src} -> {flow.dst}: matrix {by_matrix.text()}, verdict {v.allowed.text()}\n"
            + chain(v)
        )
        found[flow] = v.allowed
    return found


# --- the cases ------------------------------------------------------------------------------

ANP_Y_DENY_INGRESS = anp("deny-y", 10, ALL_IN_X, ingress=[rule(DENY, in_ns("y"))])
BANP_DENY_Y = banp(ALL_IN_X, ingress=[rule(DENY, in_ns("y"))], egress=[rule(DENY, in_ns("y"))])
PASS_FROM_Y = anp("pass-y", 10, ALL_IN_X, ingress=[rule(PASS, in_ns("y"))])
PASS_TO_Y = anp("pass-to-y", 10, ALL_IN_X, egress=[rule(PASS, in_ns("y"))])
NP_X_FROM_Y = np_allow_ingress("x", from_ns("y"))
NP_X_TO_Y = policy("x", "np-egress", LabelSelector(), egress=[Rule((from_ns("y"),))])
CALICO_X = EndpointMatch(
    PODS, pods=calico(Compare("projectcalico.org/namespace", EQUALS, "x"), "x")
)

CASES = [
    Case(
        "61_anp_deny_beats_np_allow",
        [ANP_Y_DENY_INGRESS],
        [deny("y/a", "x/a"), deny("y/b", "x/b", 443), allow("z/a", "x/a")],
        policies=[np_allow_ingress("x")],
    ),
    Case(
        "62_anp_allow_is_final_over_np_default_deny",
        [
            anp(
                "allow-dns",
                5,
                ALL_IN_X,
                egress=[
                    rule(
                        ALLOW,
                        in_ns("kube-system", **{"k8s-app": "kube-dns"}),
                        ports=(PolicyPort("UDP", 53),),
                    )
                ],
            )
        ],
        [
            allow("x/a", "kube-system/coredns", 53, "UDP"),
            deny("x/a", "kube-system/coredns", 53, "TCP"),
            deny("x/a", "y/a", 53, "UDP"),
        ],
        policies=[np_deny("x", "Egress")],
    ),
    Case(
        "63_anp_pass_then_np_allow",
        [PASS_FROM_Y, BANP_DENY_Y],
        [allow("y/a", "x/a"), allow("y/b", "x/b", 9000)],
        policies=[NP_X_FROM_Y],
    ),
    Case(
        "63_anp_pass_no_np_then_banp_deny",
        [PASS_FROM_Y, BANP_DENY_Y],
        [deny("y/a", "x/a"), allow("z/a", "x/a")],
    ),
    Case("63_anp_pass_no_np_no_banp_rule_allows", [PASS_FROM_Y], [allow("y/a", "x/a")]),
    Case(
        "64_anp_does_not_isolate",
        [anp("egress-only", 10, X_A, egress=[rule(DENY, in_ns("kube-system"))])],
        [
            allow("y/a", "x/a"),
            allow("x/a", "y/a"),
            deny("x/a", "kube-system/coredns", 53, "UDP"),
        ],
    ),
    Case(
        "65_np_final_for_isolated_pod_banp_not_consulted",
        [banp(ALL_IN_X, ingress=[rule(ALLOW, in_ns("y"))])],
        [deny("y/a", "x/a"), allow("z/a", "x/a")],
        policies=[np_allow_ingress("x", from_ns("z"))],
    ),
    Case(
        "66_rule_order_within_an_anp",
        [anp("ordered", 10, ALL_IN_X, ingress=[rule(ALLOW, in_ns("y")), rule(DENY, EVERY_NS)])],
        [allow("y/a", "x/a"), deny("z/a", "x/a")],
    ),
    Case(
        "67_pass_skips_lower_priority_anp_np_decides",
        [PASS_FROM_Y, anp("deny-y", 20, ALL_IN_X, ingress=[rule(DENY, in_ns("y"))])],
        [allow("y/a", "x/a"), deny("y/a", "x/a", 81)],
        policies=[np_allow_ingress("x", from_ns("y"), ports=TCP_80)],
    ),
    Case(
        "67_pass_skips_lower_priority_anp_banp_decides",
        [PASS_FROM_Y, anp("deny-y", 20, ALL_IN_X, ingress=[rule(DENY, in_ns("y"))]), BANP_DENY_Y],
        [deny("y/a", "x/a")],
    ),
    Case(
        "67_without_pass_the_lower_anp_denies",
        [anp("deny-y", 20, ALL_IN_X, ingress=[rule(DENY, in_ns("y"))])],
        [deny("y/a", "x/a")],
        policies=[np_allow_ingress("x", from_ns("y"))],
    ),
    Case(
        "69_networks_match_pod_ips",
        [anp("deny-world", 50, EVERY_NS, egress=[rule(DENY, nets("0.0.0.0/0"))])],
        [
            deny("x/a", "y/a"),
            deny("y/a", "kube-system/coredns", 53, "UDP"),
            deny("x/a", "ip:8.8.8.8"),
            deny("x/a", "node:n2"),
            deny("x/a", "x/h"),
            allow("x/a", "node:n1"),  # its own node (spec 2.6, upstream profile)
            allow("x/a", "ip:2001:db8::1"),  # IPv6: outside 0.0.0.0/0
        ],
    ),
    Case(
        "69_unless_a_higher_precedence_rule_allows_pod_traffic",
        [
            anp("deny-world", 50, EVERY_NS, egress=[rule(DENY, nets("0.0.0.0/0"))]),
            anp("pods-ok", 10, EVERY_NS, egress=[rule(ALLOW, EVERY_NS)]),
        ],
        [allow("x/a", "y/a"), deny("x/a", "ip:8.8.8.8"), deny("x/a", "x/h")],
    ),
    Case(
        "69_or_passes_it_to_the_network_policies",
        [
            anp("deny-world", 50, EVERY_NS, egress=[rule(DENY, nets("0.0.0.0/0"))]),
            anp("pods-pass", 10, EVERY_NS, egress=[rule(PASS, EVERY_NS)]),
        ],
        [allow("x/a", "y/a"), deny("x/a", "z/a"), deny("x/a", "ip:8.8.8.8")],
        policies=[NP_X_TO_Y],
    ),
    # spec 6.3, network-policy-api conformance (standard-anp-np-banp.yaml)
    Case(
        "conformance_anp_egress_deny_beats_np_allow",
        [anp("deny-to-y", 10, ALL_IN_X, egress=[rule(DENY, in_ns("y"))])],
        [deny("x/a", "y/a"), allow("x/a", "z/a")],
        policies=[policy("x", "np-egress", LabelSelector(), egress=[Rule()])],
    ),
    Case(
        "conformance_anp_ingress_pass_np_allow",
        [PASS_FROM_Y, BANP_DENY_Y],
        [allow("y/a", "x/a"), allow("y/b", "x/a")],
        policies=[NP_X_FROM_Y],
    ),
    Case(
        "conformance_anp_egress_pass_np_allow",
        [PASS_TO_Y, BANP_DENY_Y],
        [allow("x/a", "y/a"), deny("x/a", "z/a")],
        policies=[NP_X_TO_Y],
    ),
    Case(
        "conformance_anp_ingress_pass_np_deleted_banp_deny",
        [PASS_FROM_Y, BANP_DENY_Y],
        [deny("y/a", "x/a")],
    ),
    Case(
        "conformance_anp_egress_pass_np_deleted_banp_deny",
        [PASS_TO_Y, BANP_DENY_Y],
        [deny("x/a", "y/a"), allow("x/a", "z/a")],
    ),
    Case(
        "conformance_rule_index_0_wins_deny_first",
        [
            anp(
                "ordered",
                10,
                ALL_IN_X,
                ingress=[rule(DENY, in_ns("y"), ports=TCP_80), rule(ALLOW, in_ns("y"))],
            ),
            BANP_DENY_Y,
        ],
        [deny("y/a", "x/a", 80), allow("y/a", "x/a", 81), allow("y/a", "x/a", 80, "UDP")],
    ),
    Case(
        "conformance_rule_index_0_wins_allow_first",
        [
            anp(
                "ordered",
                10,
                ALL_IN_X,
                ingress=[rule(ALLOW, in_ns("y"), ports=TCP_80), rule(DENY, in_ns("y"))],
            )
        ],
        [allow("y/a", "x/a", 80), deny("y/a", "x/a", 81)],
    ),
    # Calico: the Kubernetes NetworkPolicies sit in tier default at order 1000
    Case(
        "calico_gnp_order_100_deny_before_np_allow",
        [gnp("deny-y", 100, CALICO_X, ingress=[rule(DENY, in_ns("y"))])],
        [deny("y/a", "x/a"), allow("z/a", "x/a")],
        policies=[np_allow_ingress("x")],
    ),
    Case(
        "calico_gnp_order_2000_deny_after_np_allow",
        [gnp("deny-y", 2000, CALICO_X, ingress=[rule(DENY, in_ns("y"))])],
        [allow("y/a", "x/a"), deny("z/a", "x/a")],
        policies=[NP_X_FROM_Y],
    ),
    Case(
        "calico_np_without_matching_rule_lets_later_policy_of_the_tier_decide",
        [
            gnp("allow-y-a", 2000, CALICO_X, ingress=[rule(ALLOW, in_ns("y", pod="a"))]),
            banp(ALL_IN_X, ingress=[rule(ALLOW, EVERY_NS)]),
        ],
        # the NetworkPolicy isolates x/a and allows only z; the GNP after it allows y/a;
        # y/b matches neither: the default tier's Deny, the BANP is never reached
        [allow("z/a", "x/a"), allow("y/a", "x/a"), deny("y/b", "x/a")],
        policies=[np_allow_ingress("x", from_ns("z"))],
    ),
    Case(
        "calico_gnp_selecting_ends_in_the_tier_default_deny",
        [gnp("allow-y", 500, CALICO_X, ingress=[rule(ALLOW, in_ns("y"))])],
        [allow("y/a", "x/a"), deny("z/a", "x/a"), allow("z/a", "y/a")],
    ),
    Case(
        "calico_gnp_without_rules_is_a_default_deny",
        [gnp("default-deny", 0, CALICO_X, types=("Ingress", "Egress"))],
        [deny("y/a", "x/a"), deny("x/a", "y/a"), allow("y/a", "z/a")],
    ),
    Case(
        "calico_custom_tier_default_pass",
        [gnp("deny-z", 1, CALICO_X, ingress=[rule(DENY, in_ns("z"))], tier="security")],
        [allow("y/a", "x/a"), deny("z/a", "x/a")],
        tiers=[Tier("security", 100, PASS)],
    ),
    Case(
        "calico_custom_tier_default_deny",
        [gnp("deny-z", 1, CALICO_X, ingress=[rule(DENY, in_ns("z"))], tier="security")],
        [deny("y/a", "x/a"), deny("z/a", "x/a"), allow("y/a", "z/a")],
        tiers=[Tier("security", 100, DENY)],
    ),
    Case(
        "calico_custom_tier_pass_rule_reaches_the_network_policies",
        [
            gnp("pass-y", 1, CALICO_X, ingress=[rule(PASS, in_ns("y"))], tier="security"),
            gnp("deny-all", 2, CALICO_X, ingress=[rule(DENY)], tier="security"),
        ],
        [allow("y/a", "x/a"), deny("z/a", "x/a")],
        policies=[np_allow_ingress("x")],
        tiers=[Tier("security", 100, DENY)],
    ),
    Case(
        "calico_tier_order_decides_before_policy_order",
        [
            gnp("allow-all", 1, CALICO_X, ingress=[rule(ALLOW)], tier="late"),
            gnp("deny-y", 900, CALICO_X, ingress=[rule(DENY, in_ns("y"))], tier="early"),
        ],
        [deny("y/a", "x/a"), allow("z/a", "x/a")],
        tiers=[Tier("late", 200, DENY), Tier("early", 100, PASS)],
    ),
    Case(
        "calico_not_ports",
        [
            gnp(
                "web",
                10,
                CALICO_X,
                ingress=[
                    rule(
                        ALLOW,
                        in_ns("y"),
                        ports=(PolicyPort("TCP", 80, 90),),
                        not_ports=(PolicyPort("TCP", 85),),
                    ),
                    rule(DENY, not_ports=(PolicyPort("TCP", 443),), protocols=("TCP",)),
                    rule(ALLOW),
                ],
            )
        ],
        [
            allow("y/a", "x/a", 80),
            deny("y/a", "x/a", 85),
            allow("y/a", "x/a", 90),
            deny("y/a", "x/a", 91),
            allow("y/a", "x/a", 443),
            allow("y/a", "x/a", 85, "UDP"),
            deny("z/a", "x/a", 80),
        ],
    ),
    Case(
        "calico_nets_and_not_nets",
        [
            gnp(
                "egress",
                10,
                CALICO_X,
                egress=[rule(ALLOW, nets("10.0.0.0/8", not_nets=["10.0.2.0/24"]))],
            )
        ],
        [
            allow("x/a", "z/a"),
            deny("x/a", "y/a"),
            deny("x/a", "ip:8.8.8.8"),
            allow("x/a", "ip:10.9.9.9"),
            deny("x/a", "ip:10.0.2.99"),
        ],
    ),
    Case(
        "calico_not_nets_alone_matches_everything_else",
        [gnp("egress", 10, CALICO_X, egress=[rule(DENY, nets(not_nets=["10.0.0.0/8"]))])],
        [allow("x/a", "y/a"), deny("x/a", "ip:8.8.8.8"), deny("x/a", "node:n2")],
        policies=[policy("x", "np-egress", LabelSelector(), egress=[Rule()])],
    ),
    Case(
        "calico_ip_version",
        [
            gnp(
                "v6-only",
                10,
                CALICO_X,
                egress=[rule(ALLOW, nets(version=6)), rule(ALLOW, nets("8.8.8.0/24", version=6))],
            )
        ],
        [allow("x/a", "ip:2001:db8::1"), deny("x/a", "ip:8.8.8.8"), deny("x/a", "y/a")],
    ),
    Case(
        "calico_ip_version_with_networks_of_both_families",
        [gnp("v6-only", 10, CALICO_X, egress=[rule(ALLOW, nets("0.0.0.0/0", "::/0", version=6))])],
        [allow("x/a", "ip:2001:db8::1"), deny("x/a", "ip:8.8.8.8"), deny("x/a", "y/a")],
    ),
    Case(
        "calico_global_not_selector_alone_excludes_the_pods_it_selects",
        [
            gnp(
                "not-a",
                10,
                CALICO_X,
                ingress=[
                    rule(
                        DENY,
                        EndpointMatch(
                            ANY, not_pods=calico(Compare("pod", EQUALS, "a"), "pod == 'a'")
                        ),
                    ),
                    rule(ALLOW),
                ],
            )
        ],
        [allow("y/a", "x/a"), deny("y/b", "x/a"), deny("node:n2", "x/a"), deny("x/h", "x/a")],
    ),
    Case(
        "calico_named_port",
        [gnp("http", 10, CALICO_X, ingress=[rule(ALLOW, ports=(PolicyPort("TCP", "http"),))])],
        [
            allow("y/a", "x/a", 80),
            deny("y/a", "x/a", 8080),
            deny("y/a", "x/a", 80, "UDP"),
            deny("y/a", "x/b", 80),  # x/b declares no http port
        ],
    ),
    Case(
        "anp_named_port_takes_the_container_port_protocol",
        [
            anp(
                "dns",
                5,
                ALL_IN_X,
                egress=[
                    rule(
                        ALLOW,
                        in_ns("kube-system"),
                        ports=(
                            PolicyPort(ANY_PROTOCOL, "dns"),
                            PolicyPort(ANY_PROTOCOL, "metrics"),
                        ),
                    )
                ],
            )
        ],
        [
            allow("x/a", "kube-system/coredns", 53, "UDP"),
            deny("x/a", "kube-system/coredns", 53, "TCP"),
            allow("x/a", "kube-system/coredns", 9153, "TCP"),
            deny("x/a", "kube-system/coredns", 9153, "UDP"),
            deny("x/a", "kube-system/coredns", 5353, "UDP"),
        ],
        policies=[np_deny("x", "Egress")],
    ),
    Case(
        "unmatchable_rule_never_matches",
        [
            anp("icmp", 1, ALL_IN_X, ingress=[rule(DENY, unmatchable="ICMP only")]),
            gnp("icmp", 1, CALICO_X, ingress=[rule(DENY, unmatchable="ICMP only"), rule(ALLOW)]),
        ],
        [allow("y/a", "x/a"), allow("y/a", "x/a", 53, "UDP")],
    ),
    Case(
        "calico_selector_expressions",
        [
            gnp(
                "web",
                10,
                EndpointMatch(
                    PODS,
                    pods=calico(
                        And(Compare("projectcalico.org/namespace", EQUALS, "x"), HasLabel("app")),
                        "projectcalico.org/namespace == 'x' && has(app)",
                    ),
                ),
                ingress=[
                    rule(
                        DENY,
                        EndpointMatch(
                            PODS,
                            pods=calico(
                                Compare("pcns.team", EQUALS, "blue"), "pcns.team == 'blue'"
                            ),
                        ),
                        ports=TCP_80,
                    ),
                    rule(
                        DENY,
                        EndpointMatch(
                            PODS,
                            pods=calico(
                                InSet("pod", frozenset({"a"}), negated=True), "pod not in {'a'}"
                            ),
                        ),
                        ports=(PolicyPort("TCP", 81),),
                    ),
                    rule(
                        DENY,
                        EndpointMatch(
                            PODS, pods=calico(Compare("app", NOT_EQUALS, "x"), "app != 'x'")
                        ),
                        ports=(PolicyPort("TCP", 82),),
                    ),
                    rule(
                        DENY,
                        EndpointMatch(
                            PODS,
                            namespaces=calico(
                                Not(Compare("projectcalico.org/name", STARTS_WITH, "kube")),
                                "!(projectcalico.org/name starts with 'kube')",
                            ),
                        ),
                        ports=(PolicyPort("TCP", 83),),
                    ),
                    rule(ALLOW),
                ],
            )
        ],
        [
            deny("y/a", "x/a", 80),  # namespace y has team=blue
            allow("z/a", "x/a", 80),
            allow("y/a", "x/b", 80),  # x/b has no app label: not selected
            deny("x/b", "x/a", 81),  # pod not in {'a'}
            allow("z/a", "x/a", 81),
            deny("z/a", "x/a", 82),  # app != 'x' holds when app is absent
            deny("y/a", "x/a", 83),
            allow("kube-system/coredns", "x/a", 83),
        ],
    ),
    Case(
        "calico_service_account_names",
        [
            gnp(
                "sa",
                10,
                CALICO_X,
                ingress=[
                    rule(DENY, EndpointMatch(PODS, service_account_names=("builder",))),
                    rule(ALLOW),
                ],
            )
        ],
        [deny("y/a", "x/a"), allow("y/b", "x/a"), deny("z/a", "x/a")],
        accounts={"y/a": "builder", "z/a": "builder", "y/b": "runner"},
    ),
    Case(
        "calico_service_account_selector",
        [
            gnp(
                "sa",
                10,
                CALICO_X,
                ingress=[
                    rule(
                        DENY,
                        EndpointMatch(
                            PODS,
                            service_accounts=calico(
                                Compare("trust", EQUALS, "low"), "trust == 'low'"
                            ),
                        ),
                    ),
                    rule(ALLOW),
                ],
            )
        ],
        [deny("y/a", "x/a"), allow("y/b", "x/a"), allow("z/a", "x/a")],
        accounts={"y/a": "builder", "y/b": "runner", "z/a": "builder"},
        service_accounts=[
            ServiceAccount("y", "builder", {"trust": "low"}),
            ServiceAccount("y", "runner", {"trust": "high"}),
            ServiceAccount("z", "builder", {"trust": "high"}),
        ],
    ),
    Case(
        "calico_synthetic_service_account_labels",
        [
            gnp(
                "sa",
                10,
                CALICO_X,
                ingress=[
                    rule(
                        DENY,
                        EndpointMatch(
                            PODS,
                            pods=calico(
                                Compare("projectcalico.org/serviceaccount", EQUALS, "builder"),
                                "projectcalico.org/serviceaccount == 'builder'",
                            ),
                        ),
                        ports=TCP_80,
                    ),
                    rule(
                        DENY,
                        EndpointMatch(
                            PODS,
                            pods=calico(
                                Compare("pcsa.trust", EQUALS, "low"), "pcsa.trust == 'low'"
                            ),
                        ),
                        ports=(PolicyPort("TCP", 81),),
                    ),
                    rule(ALLOW),
                ],
            )
        ],
        [
            deny("y/a", "x/a", 80),
            deny("z/a", "x/a", 80),
            allow("y/b", "x/a", 80),
            deny("y/a", "x/a", 81),
            allow("z/a", "x/a", 81),
        ],
        accounts={"y/a": "builder", "y/b": "runner", "z/a": "builder"},
        service_accounts=[
            ServiceAccount("y", "builder", {"trust": "low"}),
            ServiceAccount("z", "builder", {"trust": "high"}),
        ],
    ),
    Case(
        "anp_nodes_peer_matches_node_ips_and_host_network_pods",
        [
            anp(
                "no-infra",
                10,
                ALL_IN_X,
                egress=[rule(DENY, EndpointMatch(NODES, nodes=labels(role="infra")))],
            )
        ],
        [
            deny("x/a", "node:n6"),
            deny("x/a", "x/h"),  # hostNetwork on n6: node traffic
            allow("x/a", "kube-system/coredns", 53, "UDP"),  # a pod on n6 is not its node
            allow("x/a", "node:n2"),
        ],
    ),
    Case(
        "anp_pod_peers_never_match_host_network_pods",
        [anp("deny-pods", 10, ALL_IN_X, ingress=[rule(DENY, EVERY_NS)])],
        [allow("x/h", "x/a"), allow("node:n2", "x/a"), deny("y/a", "x/a"), deny("x/b", "x/a")],
    ),
    Case(
        "host_network_pods_are_never_subjects",
        [
            anp(
                "deny-all",
                10,
                ALL_IN_X,
                ingress=[rule(DENY, EVERY_NS)],
                egress=[rule(DENY, nets("0.0.0.0/0"))],
            )
        ],
        [allow("y/a", "x/h"), allow("x/h", "y/a"), deny("y/a", "x/a")],
    ),
    Case(
        "local_node_always_reaches_its_pods",
        [gnp("deny-nets", 10, CALICO_X, ingress=[rule(DENY, nets("0.0.0.0/0"))])],
        [allow("node:n1", "x/a"), deny("node:n2", "x/a"), deny("x/h", "x/a"), deny("y/a", "x/a")],
    ),
]


# engine bugs found by these rows, failing until fixed (strict: a fix must remove the mark)
KNOWN_BUGS: dict[str, str] = {}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c,
            id=c.name,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[c.name])]
            if c.name in KNOWN_BUGS
            else [],
        )
        for c in CASES
    ],
)
def test_tier_edge_case(case: Case) -> None:
    check(world(case), case.flows)


def test_68_same_priority_anps_are_decided_the_same_way_whatever_the_input_order() -> None:
    """Undefined by the API (lint reports the tie); netpol must at least be deterministic."""
    a = anp("a-allow", 3, ALL_IN_X, ingress=[rule(ALLOW, in_ns("y"))])
    b = anp("b-deny", 3, ALL_IN_X, ingress=[rule(DENY, in_ns("y"))])
    other = anp("c-pass", 3, ALL_IN_X, ingress=[rule(PASS, in_ns("y"), ports=TCP_80)])
    flows = [allow("y/a", "x/a"), allow("y/a", "x/a", 81), allow("z/a", "x/a")]
    answers = []
    for order in itertools.permutations([a, b, other]):
        c = world(Case("68", order, ()))
        cc = compile_cluster(c, Options())
        matrix = class_matrix(cc, include_external=True, include_nodes=True)
        found = []
        for flow in flows:
            verdict = evaluate(cc, endpoint(cc, flow.src), endpoint(cc, flow.dst))
            assert matrix_connections(matrix, cc, flow.src, flow.dst) == verdict.allowed
            found.append(verdict.allowed)
        answers.append(found)
    assert all(found == answers[0] for found in answers), answers
    assert answers[0][2] == ConnectionSet.all()  # z is in no rule


LOGGING = gnp(
    "logging",
    10,
    CALICO_X,
    ingress=[
        rule(LOG, in_ns("y")),
        rule(ALLOW, in_ns("y"), ports=TCP_80),
        rule(LOG),
        rule(DENY, in_ns("z")),
        rule(LOG, in_ns("x")),
    ],
)
LOG_FLOWS = [
    allow("y/a", "x/a"),
    deny("y/a", "x/a", 81),  # the default tier's Deny: the GNP selects x/a
    deny("z/a", "x/a"),
    deny("x/b", "x/a"),
    allow("y/a", "z/a", 81),
]


def test_log_rules_change_nothing() -> None:
    """A Log rule is recorded in the decision chain and evaluation goes on."""
    with_log = check(world(Case("log", [LOGGING], ())), LOG_FLOWS)
    rules = tuple(r for r in LOGGING.ingress if r.action != LOG)
    plain = replace(LOGGING, ingress=_indexed(rules))
    assert check(world(Case("no-log", [plain], ())), LOG_FLOWS) == with_log
    cc = compile_cluster(world(Case("log", [LOGGING], ())), Options())
    chain_ = evaluate(cc, endpoint(cc, "y/a"), endpoint(cc, "x/a")).ingress.decisions
    assert [(d.action, d.rule.rule.index if d.rule else None) for d in chain_] == [
        (LOG, 0),
        (ALLOW, 1),
        (LOG, 2),
        ("Deny", None),
    ]
