"""A deliberately naive evaluator, transcribed from the spec's reference algorithm (4.6).

It shares nothing with ``netpol.engine``: it reads the model objects, re-derives the
defaulted policyTypes (D2) itself, matches selectors and CIDRs with its own code, and
answers one question at a time (is this protocol/port allowed from A to B?). Slow and
obvious on purpose; the property tests hold the engine to it.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial

from netpol.model.cluster import Cluster
from netpol.model.objects import Node, Pod
from netpol.model.options import Profile
from netpol.model.policy import NetworkPolicy, Peer, PolicyPort
from netpol.model.selectors import LabelSelector

PROTOCOLS = ("TCP", "UDP", "SCTP")


@dataclass(frozen=True)
class Ep:
    """An endpoint as section 4.6 sees it: kind "pod", "node" or "external"."""

    kind: str
    ip: str
    pod: Pod | None = None
    node: str = ""  # the node a pod runs on, or the node itself

    def is_same_pod(self, other: Ep) -> bool:
        return self.pod is not None and other.pod is not None and self.pod.id == other.pod.id

    def is_local_node_of(self, pod: Pod) -> bool:
        return self.kind == "node" and self.node != "" and self.node == pod.node


def pod_ep(pod: Pod, profile: Profile) -> Ep:
    """Under the common implementation a hostNetwork pod is its node's traffic (2.6 b)."""
    kind = "node" if pod.host_network and profile.host_network_is_node else "pod"
    return Ep(kind, pod.ips[0], pod, pod.node)


def node_ep(node: Node) -> Ep:
    return Ep("node", node.ips[0], None, node.name)


def external_ep(ip: str) -> Ep:
    return Ep("external", ip)


# --- 2.1 label selectors -------------------------------------------------------------


def sel_match(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    for key, value in selector.match_labels:
        if key not in labels or labels[key] != value:
            return False
    for r in selector.match_expressions:
        present = r.key in labels
        if r.operator == "In" and not (present and labels[r.key] in r.values):
            return False
        if r.operator == "NotIn" and present and labels[r.key] in r.values:
            return False
        if r.operator == "Exists" and not present:
            return False
        if r.operator == "DoesNotExist" and present:
            return False
    return True


# --- 1.2 defaulting, 2.4 namespace labels, 2.5 CIDRs -----------------------------------


def effective_types(p: NetworkPolicy, profile: Profile | None = None) -> tuple[str, ...]:
    """D2, computed again from the rule lists when the API server chose the types; a
    profile that does not honour policyTypes (Cilium <= 1.20.1) adds every direction
    that has rules."""
    if p.policy_types_defaulted:
        return ("Ingress", "Egress") if p.egress else ("Ingress",)
    if profile is not None and not profile.honours_policy_types:
        ingress = "Ingress" in p.policy_types or bool(p.ingress)
        egress = "Egress" in p.policy_types or bool(p.egress)
        return tuple(d for d, on in (("Ingress", ingress), ("Egress", egress)) if on)
    return p.policy_types


def ns_labels(cluster: Cluster, namespace: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for ns in cluster.namespaces:
        if ns.name == namespace:
            labels = dict(ns.labels)
    labels["kubernetes.io/metadata.name"] = namespace
    return labels


def in_cidr(ip: str, cidr: str) -> bool:
    address = ipaddress.ip_address(ip)
    network = ipaddress.ip_network(cidr, strict=False)
    return address.version == network.version and address in network


# --- 4.6 -------------------------------------------------------------------------------


def applying(
    cluster: Cluster, pod: Pod, d: str, profile: Profile | None = None
) -> list[NetworkPolicy]:
    return [
        p
        for p in cluster.policies
        if p.namespace == pod.namespace
        and d in effective_types(p, profile)
        and sel_match(p.pod_selector, pod.labels)
    ]


def port_ok(ports: Iterable[PolicyPort], proto: str, dport: int, dst_pod: Pod | None) -> bool:
    entries = list(ports)
    if not entries:
        return True
    for e in entries:
        if proto != e.protocol:
            continue
        if e.port is None:
            return True
        if isinstance(e.port, int):
            hi = e.end_port if e.end_port is not None else e.port
            if e.port <= dport <= hi:
                return True
        elif dst_pod is not None:
            for container in dst_pod.containers:
                for cp in container.ports:
                    if cp.name == e.port and cp.protocol == proto and cp.port == dport:
                        return True
    return False


def peer_ok(
    cluster: Cluster,
    profile: Profile,
    peers: Iterable[Peer],
    policy_ns: str,
    ep: Ep,
    flow_ip: str,
) -> bool:
    items = list(peers)
    if not items:
        return True
    for pr in items:
        if pr.ip_block is not None:
            if ep.kind == "pod" and not profile.ipblock_matches_pod_ips:
                continue
            if ep.kind == "node" and not profile.ipblock_matches_node_ips:
                continue
            if in_cidr(flow_ip, pr.ip_block.cidr) and not any(
                in_cidr(flow_ip, x) for x in pr.ip_block.except_
            ):
                return True
        elif ep.kind == "pod":
            assert ep.pod is not None
            if pr.namespace_selector is not None:
                ns_ok = sel_match(pr.namespace_selector, ns_labels(cluster, ep.pod.namespace))
            else:
                ns_ok = ep.pod.namespace == policy_ns
            pod_ok = pr.pod_selector is None or sel_match(pr.pod_selector, ep.pod.labels)
            if ns_ok and pod_ok:
                return True
    return False


def side_ok(
    cluster: Cluster,
    profile: Profile,
    subject: Ep,
    peer: Ep,
    d: str,
    proto: str,
    dport: int,
    src_ip: str,
    dst_ip: str,
) -> bool:
    assert subject.pod is not None
    ps = applying(cluster, subject.pod, d, profile)
    if not ps:
        return True  # not isolated
    if d == "Ingress" and peer.is_local_node_of(subject.pod):
        return True  # the local node always reaches its pods (2.6)
    if d == "Egress" and peer.is_local_node_of(subject.pod) and profile.pod_to_own_node:
        return True  # pod -> own node, IMPL-DEFINED (2.6)
    dst_pod = subject.pod if d == "Ingress" else (peer.pod if peer.kind == "pod" else None)
    peer_ip = src_ip if d == "Ingress" else dst_ip
    for p in ps:
        for r in p.ingress if d == "Ingress" else p.egress:
            if port_ok(r.ports, proto, dport, dst_pod) and peer_ok(
                cluster, profile, r.peers, p.namespace, peer, peer_ip
            ):
                return True
    return False


def allowed(cluster: Cluster, profile: Profile, src: Ep, dst: Ep, proto: str, dport: int) -> bool:
    """Is a new ``proto``/``dport`` connection from ``src`` to ``dst`` (post-DNAT) allowed?"""
    if src.is_same_pod(dst):
        return True
    eg = (
        side_ok(cluster, profile, src, dst, "Egress", proto, dport, src.ip, dst.ip)
        if src.kind == "pod"
        else True
    )
    ig = (
        side_ok(cluster, profile, dst, src, "Ingress", proto, dport, src.ip, dst.ip)
        if dst.kind == "pod"
        else True
    )
    return eg and ig


# --- the whole port space, by cutting it where any answer can change ------------------


def cut_points(cluster: Cluster, proto: str) -> list[int]:
    """Ports where ``allowed`` can change for ``proto``: rule bounds and declared ports."""
    cuts = {1, 65536}
    for p in cluster.policies:
        for r in p.ingress + p.egress:
            for e in r.ports:
                if e.protocol == proto and isinstance(e.port, int):
                    cuts.update((e.port, (e.end_port or e.port) + 1))
    for pod in cluster.pods:
        for container in pod.containers:
            for cp in container.ports:
                if cp.protocol == proto:
                    cuts.update((cp.port, cp.port + 1))
    return sorted(cuts)


def allowed_intervals(
    cluster: Cluster, profile: Profile, src: Ep, dst: Ep
) -> dict[str, list[tuple[int, int]]]:
    """Per protocol, the sorted, merged port intervals ``allowed`` says yes to."""
    return {
        proto: spans(
            cut_points(cluster, proto),
            partial(allowed, cluster, profile, src, dst, proto),
        )
        for proto in PROTOCOLS
    }


def spans(cuts: list[int], holds: Callable[[int], bool]) -> list[tuple[int, int]]:
    """The merged intervals [cut, next cut - 1] whose first port ``holds`` (sorted ``cuts``
    end with 65536)."""
    found: list[tuple[int, int]] = []
    for lo, nxt in itertools.pairwise(cuts):
        if not holds(lo):
            continue
        if found and found[-1][1] == lo - 1:
            found[-1] = (found[-1][0], nxt - 1)
        else:
            found.append((lo, nxt - 1))
    return found
