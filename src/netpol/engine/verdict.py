"""The verdict for one connection, with its evidence (spec 4.6).

allowed(src, dst) = egress side of src ∩ ingress side of dst; a side is everything when
its endpoint is not an isolated pod. Each side keeps, per rule of the isolating
policies, whether the peer matched (and if not, which part failed) and which ports it
allows, so an explanation prints this data instead of evaluating again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from netpol.engine.compile import CompiledCluster, CompiledPeer, CompiledRule
from netpol.engine.endpoints import NODE, POD, Endpoint, endpoint_ips
from netpol.engine.ports import ConnectionSet
from netpol.engine.selectors import first_mismatch, matches
from netpol.engine.tiers import NETWORK_POLICIES, Decision
from netpol.model.objects import Pod
from netpol.model.policy import NetworkPolicy
from netpol.model.selectors import Requirement

NOT_A_POD = "not a pod"
NOT_ISOLATED = "not isolated"
LOCAL_NODE = "local node"
OWN_NODE = "own node"


@dataclass(frozen=True, slots=True)
class PeerMiss:
    """Why one peer of a rule did not match: which part failed, in words."""

    peer_index: int
    part: str  # "namespace", "pod", "ipBlock", "kind" (selector vs non-pod), "profile"
    detail: str


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One rule of an isolating policy, evaluated for this connection."""

    rule: CompiledRule
    peer_matched: bool
    peer_index: int | None  # the first matching peer; None for "any peer" or no match
    connections: ConnectionSet  # what the rule's ports allow towards the destination
    peer_misses: tuple[PeerMiss, ...] = ()

    @property
    def allowed(self) -> ConnectionSet:
        return self.connections if self.peer_matched else ConnectionSet.none()


@dataclass(frozen=True, slots=True)
class SideVerdict:
    """One direction: the source's egress or the destination's ingress."""

    direction: str
    subject: Endpoint
    peer: Endpoint
    policies: tuple[NetworkPolicy, ...]  # the policies that isolate the subject here
    outcomes: tuple[RuleOutcome, ...]
    allowed: ConnectionSet
    exemption: str | None = None  # NOT_A_POD, NOT_ISOLATED, LOCAL_NODE, OWN_NODE
    # with admin, baseline or Calico policies: the decision chain, tier by tier
    decisions: tuple[Decision, ...] = ()

    @property
    def isolated(self) -> bool:
        return bool(self.policies)

    def allowing(
        self, protocol: str | None = None, port: int | None = None
    ) -> tuple[RuleOutcome, ...]:
        """Rules that allow the connection (a given protocol/port, or anything)."""
        found = []
        for outcome in self.outcomes:
            allowed = outcome.allowed
            if allowed.is_empty:
                continue
            if protocol is not None and port is not None and not allowed.contains(protocol, port):
                continue
            found.append(outcome)
        return tuple(found)


@dataclass(frozen=True, slots=True)
class Verdict:
    src: Endpoint
    dst: Endpoint
    egress: SideVerdict
    ingress: SideVerdict
    allowed: ConnectionSet
    note: str | None = None  # e.g. a pod reaching itself

    def allows(self, protocol: str, port: int) -> bool:
        return self.allowed.contains(protocol, port)


def evaluate(cc: CompiledCluster, src: Endpoint, dst: Endpoint) -> Verdict:
    """Everything NetworkPolicy allows from ``src`` to ``dst`` (post-DNAT), with evidence."""
    egress = side_verdict(cc, src, dst, "Egress")
    ingress = side_verdict(cc, dst, src, "Ingress")
    if src.same_pod(dst):
        return Verdict(
            src, dst, egress, ingress, ConnectionSet.all(), "a pod can always reach itself"
        )
    return Verdict(src, dst, egress, ingress, egress.allowed & ingress.allowed)


def allowed(cc: CompiledCluster, src: Endpoint, dst: Endpoint) -> ConnectionSet:
    """The connection set only (the prediction the lab and the matrix are checked against):
    ``evaluate(cc, src, dst).allowed`` without the evidence, whose words cost most of a
    verdict (describe asks it of a pod against every other)."""
    if cc.tiered is not None:
        return evaluate(cc, src, dst).allowed
    if src.same_pod(dst):
        return ConnectionSet.all()
    egress = _side_allowed(cc, src, dst, "Egress")
    if egress.is_empty:
        return egress
    return egress & _side_allowed(cc, dst, src, "Ingress")


def _side_allowed(
    cc: CompiledCluster, subject: Endpoint, peer: Endpoint, direction: str
) -> ConnectionSet:
    """``side_verdict(...).allowed`` for a cluster without tiered policies."""
    if subject.kind != POD or subject.pod is None:
        return ConnectionSet.all()
    policies = cc.applying(subject.pod, direction)
    if not policies:
        return ConnectionSet.all()
    same_node = peer.kind == NODE and bool(peer.node_name) and peer.node_name == subject.node_name
    if same_node and (direction == "Ingress" or cc.profile.pod_to_own_node):
        return ConnectionSet.all()
    dst_pod = subject.pod if direction == "Ingress" else (peer.pod if peer.kind == POD else None)
    return ConnectionSet.union_of(
        rule.connections_to(dst_pod)
        for compiled in policies
        for rule in compiled.rules(direction)
        if rule.any_peer or any(peer_matches(cc, p, peer) for p in rule.peers)
    )


def side_verdict(
    cc: CompiledCluster, subject: Endpoint, peer: Endpoint, direction: str
) -> SideVerdict:
    """One side alone: ``subject``'s egress towards ``peer``, or its ingress from ``peer``."""
    everything = ConnectionSet.all()
    if subject.kind != POD or subject.pod is None:
        return SideVerdict(direction, subject, peer, (), (), everything, NOT_A_POD)
    policies = cc.applying(subject.pod, direction)
    isolating = tuple(c.policy for c in policies)
    same_node = peer.kind == NODE and bool(peer.node_name) and peer.node_name == subject.node_name
    if not policies and cc.tiered is None:
        return SideVerdict(direction, subject, peer, (), (), everything, NOT_ISOLATED)
    if direction == "Ingress" and same_node and not cc.cilium:  # Cilium: allow-localhost
        return SideVerdict(direction, subject, peer, isolating, (), everything, LOCAL_NODE)
    if direction == "Egress" and same_node and cc.profile.pod_to_own_node:
        return SideVerdict(direction, subject, peer, isolating, (), everything, OWN_NODE)
    dst_pod = subject.pod if direction == "Ingress" else (peer.pod if peer.kind == POD else None)
    outcomes = tuple(
        _rule_outcome(cc, rule, peer, dst_pod)
        for compiled in policies
        for rule in compiled.rules(direction)
    )
    total = ConnectionSet.union_of(o.allowed for o in outcomes)
    if cc.tiered is None:
        return SideVerdict(direction, subject, peer, isolating, outcomes, total)
    tiered = cc.tiered.evaluate(
        subject,
        peer,
        direction,
        bool(policies),
        total,
        tuple(f"{NETWORK_POLICIES} {p.id}" for p in isolating),
    )
    return SideVerdict(
        direction, subject, peer, isolating, outcomes, tiered.allowed, decisions=tiered.decisions
    )


def _rule_outcome(
    cc: CompiledCluster, rule: CompiledRule, peer: Endpoint, dst_pod: Pod | None
) -> RuleOutcome:
    connections = rule.connections_to(dst_pod)
    if rule.any_peer:
        return RuleOutcome(rule, True, None, connections)
    misses = []
    for compiled_peer in rule.peers:
        miss = peer_miss(cc, compiled_peer, peer)
        if miss is None:
            return RuleOutcome(rule, True, compiled_peer.index, connections)
        misses.append(miss)
    return RuleOutcome(rule, False, None, connections, tuple(misses))


def peer_miss(
    cc: CompiledCluster, compiled_peer: CompiledPeer, endpoint: Endpoint
) -> PeerMiss | None:
    """None when ``compiled_peer`` matches ``endpoint``; otherwise which part failed and why."""
    if peer_matches(cc, compiled_peer, endpoint):
        return None
    index = compiled_peer.index
    peer = compiled_peer.peer
    block = peer.ip_block
    if block is not None:
        if endpoint.kind == POD and not cc.profile.ipblock_matches_pod_ips:
            return PeerMiss(
                index, "profile", f"ipBlock never matches pods under the {cc.profile.name} profile"
            )
        if endpoint.kind == NODE and not cc.profile.ipblock_matches_node_ips:
            return PeerMiss(
                index,
                "profile",
                f"ipBlock never matches node IPs under the {cc.profile.name} profile",
            )
        ips = endpoint_ips(endpoint)
        if any(block.contains(ip) for ip in ips):
            return None
        shown = ", ".join(str(ip) for ip in ips) or "no IP"
        inside = [ip for ip in ips if ip.version == block.network.version and ip in block.network]
        if inside:
            return PeerMiss(
                index, "ipBlock", f"{shown} is in an except range of ipBlock {block.text()}"
            )
        return PeerMiss(index, "ipBlock", f"{shown} is outside ipBlock {block.text()}")
    if endpoint.kind != POD or endpoint.pod is None:
        what = "a node" if endpoint.kind == NODE else "an IP outside the cluster's pods"
        return PeerMiss(index, "kind", f"selectors match pods only, and {endpoint.id} is {what}")
    pod = endpoint.pod
    if peer.namespace_selector is None:
        if pod.namespace != compiled_peer.policy_namespace:
            return PeerMiss(
                index,
                "namespace",
                f"a podSelector alone means pods in {compiled_peer.policy_namespace}, "
                f"and {pod.id} is in {pod.namespace}",
            )
    else:
        failed = first_mismatch(peer.namespace_selector, cc.namespace_labels(pod.namespace))
        if failed is not None:
            return PeerMiss(
                index,
                "namespace",
                f"namespaceSelector {peer.namespace_selector.text()} does not match namespace "
                f"{pod.namespace} ({_labels_text(cc.namespace_labels(pod.namespace))})",
            )
    if peer.pod_selector is not None:
        failed = first_mismatch(peer.pod_selector, pod.labels)
        if failed is not None:
            return PeerMiss(
                index,
                "pod",
                f"podSelector {peer.pod_selector.text()} does not match {pod.id} "
                f"({_labels_text(pod.labels)}): {_failure(failed)} fails",
            )
    return None


def peer_matches(cc: CompiledCluster, compiled_peer: CompiledPeer, endpoint: Endpoint) -> bool:
    """Whether ``compiled_peer`` matches ``endpoint`` (``peer_miss`` says why not)."""
    peer = compiled_peer.peer
    block = peer.ip_block
    if block is not None:
        if endpoint.kind == POD and not cc.profile.ipblock_matches_pod_ips:
            return False
        if endpoint.kind == NODE and not cc.profile.ipblock_matches_node_ips:
            return False
        return any(block.contains(ip) for ip in endpoint_ips(endpoint))
    if endpoint.kind != POD or endpoint.pod is None:
        return False
    pod = endpoint.pod
    if peer.namespace_selector is None:
        if pod.namespace != compiled_peer.policy_namespace:
            return False
    elif not matches(peer.namespace_selector, cc.namespace_labels(pod.namespace)):
        return False
    return peer.pod_selector is None or matches(peer.pod_selector, pod.labels)


def _failure(req: Requirement) -> str:
    if req.operator == "In" and len(req.values) == 1:
        return f"{req.key}={req.values[0]}"
    return req.text()


def _labels_text(labels: Mapping[str, str]) -> str:
    items = sorted(labels.items())
    return ",".join(f"{k}={v}" for k, v in items) or "no labels"
