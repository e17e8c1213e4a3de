"""A deliberately naive tiered evaluator (spec 6.3 and Calico's tiers), one port at a time.

It shares nothing with ``netpol.engine``: tiers in order, the policies of a tier that
select the subject in order, their rules in written order; the first rule that matches
decides (Allow, Deny), Pass jumps to the next tier, Log goes on; a tier whose policies
selected the subject and decided nothing ends in its default action. The Kubernetes
NetworkPolicies are one member of tier ``default`` at order 1000 (their isolation and
rules come from ``reference``). What no tier decides is allowed. Calico selectors and
labels are evaluated here with their own small code.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import partial

from netpol.model.cluster import Cluster
from netpol.model.expressions import (
    AllOf,
    And,
    CalicoSelector,
    Compare,
    Expression,
    GlobalOnly,
    HasLabel,
    InSet,
    Not,
    Or,
)
from netpol.model.objects import Pod
from netpol.model.options import Profile
from netpol.model.policy import PolicyPort
from netpol.model.tiers import EndpointMatch, Selector, TieredPolicy, TierRule

from . import reference
from .reference import Ep

# (name, order, default action) of the tiers Calico creates for the Network Policy API
BUILTIN = {"kube-admin": (1000.0, "Pass"), "default": (1e6, "Deny"), "kube-baseline": (1e7, "Pass")}
NP = "Kubernetes NetworkPolicies"  # the member standing for all of them


def calico_holds(e: Expression, labels: Mapping[str, str]) -> bool:
    if isinstance(e, AllOf):
        return True
    if isinstance(e, GlobalOnly):
        return False
    if isinstance(e, HasLabel):
        return e.key in labels
    if isinstance(e, InSet):
        return (labels.get(e.key) in e.values) != e.negated
    if isinstance(e, Not):
        return not calico_holds(e.operand, labels)
    if isinstance(e, And):
        return calico_holds(e.left, labels) and calico_holds(e.right, labels)
    if isinstance(e, Or):
        return calico_holds(e.left, labels) or calico_holds(e.right, labels)
    assert isinstance(e, Compare)
    value = labels.get(e.key)
    if e.operator == "!=":
        return value != e.value
    if value is None:
        return False
    return {
        "==": value == e.value,
        "starts with": value.startswith(e.value),
        "ends with": value.endswith(e.value),
        "contains": e.value in value,
    }[e.operator]


def holds(selector: Selector, labels: Mapping[str, str]) -> bool:
    if isinstance(selector, CalicoSelector):
        return calico_holds(selector.expression, labels)
    return reference.sel_match(selector, labels)


def namespace_labels(cluster: Cluster, name: str, for_calico: bool) -> dict[str, str]:
    labels = reference.ns_labels(cluster, name)
    if for_calico:
        labels["projectcalico.org/name"] = name
    return labels


def account_labels(cluster: Cluster, pod: Pod) -> dict[str, str]:
    """The account's labels; Calico adds its name as projectcalico.org/name."""
    labels = {"projectcalico.org/name": pod.service_account}
    for account in cluster.service_accounts:
        if account.namespace == pod.namespace and account.name == pod.service_account:
            labels = {**account.labels, **labels}
    return labels


def pod_labels(cluster: Cluster, pod: Pod, for_calico: bool) -> dict[str, str]:
    """What a selector sees: Calico adds its own labels and the namespace's and account's."""
    if not for_calico:
        return dict(pod.labels)
    labels = {}
    for ns in cluster.namespaces:
        if ns.name == pod.namespace:
            labels.update({"pcns." + k: v for k, v in ns.labels.items()})
    labels.update({"pcsa." + k: v for k, v in account_labels(cluster, pod).items()})
    labels.update(pod.labels)
    labels["projectcalico.org/namespace"] = pod.namespace
    labels["projectcalico.org/orchestrator"] = "k8s"
    labels["projectcalico.org/serviceaccount"] = pod.service_account
    return labels


def addresses(cluster: Cluster, ep: Ep) -> list[str]:
    if ep.pod is not None:
        return list(ep.pod.ips)
    for node in cluster.nodes:
        if ep.kind == "node" and node.name == ep.node:
            return list(node.ips)
    return [ep.ip]


def inside(ip: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    address = ipaddress.ip_address(ip)
    return address.version == network.version and address in network


def covers(cluster: Cluster, m: EndpointMatch, ep: Ep) -> bool:
    """Every condition of the match holds for the endpoint."""
    if m.scope == "pods" and ep.kind != "pod":
        return False
    if m.scope == "nodes" and ep.kind != "node":
        return False
    ips = addresses(cluster, ep)
    if m.ip_version is not None:
        ips = [ip for ip in ips if ipaddress.ip_address(ip).version == m.ip_version]
        if not ips:
            return False
    if m.nets and not any(inside(ip, n) for ip in ips for n in m.nets):
        return False
    if any(inside(ip, n) for ip in ips for n in m.not_nets):
        return False
    if m.nodes is not None:
        labels = {}
        for node in cluster.nodes:
            if node.name == ep.node:
                labels = dict(node.labels)
        if not holds(m.nodes, labels):
            return False
    if ep.kind != "pod":
        return True  # pod conditions: a pod's, never a node's or an address's
    pod = ep.pod
    assert pod is not None
    if m.namespace is not None and pod.namespace != m.namespace:
        return False
    if m.namespaces is not None and not holds(
        m.namespaces,
        namespace_labels(cluster, pod.namespace, isinstance(m.namespaces, CalicoSelector)),
    ):
        return False
    if m.pods is not None and not holds(
        m.pods, pod_labels(cluster, pod, isinstance(m.pods, CalicoSelector))
    ):
        return False
    if m.not_pods is not None and holds(
        m.not_pods, pod_labels(cluster, pod, isinstance(m.not_pods, CalicoSelector))
    ):
        return False
    if m.service_account_names and pod.service_account not in m.service_account_names:
        return False
    return m.service_accounts is None or holds(m.service_accounts, account_labels(cluster, pod))


def entry_covers(e: PolicyPort, proto: str, port: int, dst_pod: Pod | None) -> bool:
    if e.protocol not in ("", proto):  # "" (ANY_PROTOCOL): whatever the protocol
        return False
    if e.port is None:
        return True
    if isinstance(e.port, int):
        end = e.end_port if e.end_port is not None else e.port
        return e.port <= port <= end
    if dst_pod is None:
        return False
    return any(
        cp.name == e.port and cp.protocol == proto and cp.port == port
        for c in dst_pod.containers
        for cp in c.ports
    )


def rule_matches(
    cluster: Cluster, r: TierRule, subject: Ep, peer: Ep, d: str, proto: str, port: int
) -> bool:
    if r.unmatchable:
        return False
    if r.protocols is not None and proto not in r.protocols:
        return False
    dst_pod = subject.pod if d == "Ingress" else (peer.pod if peer.kind == "pod" else None)
    if r.ports and not any(entry_covers(e, proto, port, dst_pod) for e in r.ports):
        return False
    if any(entry_covers(e, proto, port, dst_pod) for e in r.not_ports):
        return False
    if r.local is not None and not covers(cluster, r.local, subject):
        return False
    return not r.peers or any(covers(cluster, m, peer) for m in r.peers)


def sort_key(order: float | None, name: str) -> tuple[bool, float, str]:
    return (order is None, order if order is not None else 0.0, name)


def tiers_in_order(cluster: Cluster) -> list[tuple[str, str]]:
    """(name, default action) of every tier, in order."""
    known = {name: (order, action) for name, (order, action) in BUILTIN.items()}
    for t in cluster.tiers:
        known[t.name] = (t.order, t.default_action)  # type: ignore[assignment]
    for p in cluster.tiered_policies:
        known.setdefault(p.tier, (None, "Deny"))  # type: ignore[arg-type]
    ordered = sorted(known, key=lambda name: sort_key(known[name][0], name))
    return [(name, known[name][1]) for name in ordered]


def members(cluster: Cluster, tier: str) -> list[TieredPolicy | str]:
    found: list[tuple[tuple[bool, float, str], TieredPolicy | str]] = [
        (sort_key(p.order, p.name), p) for p in cluster.tiered_policies if p.tier == tier
    ]
    if tier == "default":
        found.append((sort_key(1000.0, "knp.default."), NP))  # Calico's name for them
    return [m for _, m in sorted(found, key=lambda x: x[0])]


def np_member(
    cluster: Cluster, profile: Profile, subject: Ep, peer: Ep, d: str, proto: str, port: int
) -> str | None:
    """ "selected", "allow", or None when no NetworkPolicy isolates the subject here."""
    assert subject.pod is not None
    policies = reference.applying(cluster, subject.pod, d, profile)
    if not policies:
        return None
    dst_pod = subject.pod if d == "Ingress" else (peer.pod if peer.kind == "pod" else None)
    for p in policies:
        for r in p.ingress if d == "Ingress" else p.egress:
            if reference.port_ok(r.ports, proto, port, dst_pod) and reference.peer_ok(
                cluster, profile, r.peers, p.namespace, peer, peer.ip
            ):
                return "allow"
    return "selected"


def side_ok(
    cluster: Cluster, profile: Profile, subject: Ep, peer: Ep, d: str, proto: str, port: int
) -> bool:
    assert subject.pod is not None
    if d == "Ingress" and peer.is_local_node_of(subject.pod):
        return True
    if d == "Egress" and peer.is_local_node_of(subject.pod) and profile.pod_to_own_node:
        return True
    for tier, default_action in tiers_in_order(cluster):
        selected = passed = False
        for member in members(cluster, tier):
            if isinstance(member, str):
                found = np_member(cluster, profile, subject, peer, d, proto, port)
                if found == "allow":
                    return True
                selected = selected or found == "selected"
                continue
            if d not in member.types or not covers(cluster, member.subject, subject):
                continue
            selected = True
            for r in member.ingress if d == "Ingress" else member.egress:
                if not rule_matches(cluster, r, subject, peer, d, proto, port):
                    continue
                if r.action == "Allow":
                    return True
                if r.action == "Deny":
                    return False
                if r.action == "Pass":
                    passed = True
                    break
            if passed:
                break
        if not passed and selected and default_action == "Deny":
            return False
    return True


def allowed(cluster: Cluster, profile: Profile, src: Ep, dst: Ep, proto: str, port: int) -> bool:
    """Is a new ``proto``/``port`` connection from ``src`` to ``dst`` allowed?"""
    if src.is_same_pod(dst):
        return True
    egress = src.kind != "pod" or side_ok(cluster, profile, src, dst, "Egress", proto, port)
    return egress and (
        dst.kind != "pod" or side_ok(cluster, profile, dst, src, "Ingress", proto, port)
    )


def probe_ports(cluster: Cluster, proto: str) -> list[int]:
    """Ports where an answer can change: NetworkPolicy cuts and tiered rules' bounds."""
    cuts = set(reference.cut_points(cluster, proto))
    for p in cluster.tiered_policies:
        for r in p.ingress + p.egress:
            for e in r.ports + r.not_ports:
                if e.protocol in ("", proto) and isinstance(e.port, int):
                    cuts.update((e.port, (e.end_port or e.port) + 1))
    return sorted(c for c in cuts if c <= 65535)


def allowed_intervals(
    cluster: Cluster, profile: Profile, src: Ep, dst: Ep
) -> dict[str, list[tuple[int, int]]]:
    """Per protocol, the merged port intervals ``allowed`` says yes to."""
    return {
        proto: reference.spans(
            [*probe_ports(cluster, proto), 65536],
            partial(allowed, cluster, profile, src, dst, proto),
        )
        for proto in reference.PROTOCOLS
    }
