"""A policy or a pod with the cluster in view: what each selector really matches right now."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from socket import inet_aton

from netpol.engine.class_verdicts import AllowedByClass
from netpol.engine.compile import CompiledCluster, CompiledPeer, CompiledPolicy, CompiledRule
from netpol.engine.endpoints import Endpoint, node_endpoint
from netpol.engine.names import Names, ResolveError, did_you_mean, first_pod
from netpol.engine.ports import ConnectionSet
from netpol.engine.selectors import selector_holds
from netpol.engine.tiers import IMPLICIT_KIND, CompiledTieredPolicy, CompiledTierRule, TieredModel
from netpol.model.cilium import CILIUM_KINDS
from netpol.model.cluster import Cluster
from netpol.model.expressions import CalicoSelector
from netpol.model.objects import Pod
from netpol.model.policy import IPBlock
from netpol.model.tiers import NODES, PODS, EndpointMatch, Tier, TieredPolicy


@dataclass(frozen=True, slots=True)
class PeerMatch:
    peer: CompiledPeer
    pods: tuple[str, ...]  # pod ids its selectors match
    namespaces: tuple[str, ...]  # namespaces its namespace part admits (selector peers)


@dataclass(frozen=True, slots=True)
class RuleDescription:
    rule: CompiledRule
    peers: tuple[PeerMatch, ...]


@dataclass(frozen=True, slots=True)
class PolicyDescription:
    compiled: CompiledPolicy
    selected: tuple[str, ...]
    ingress: tuple[RuleDescription, ...]
    egress: tuple[RuleDescription, ...]


def describe_policy(cc: CompiledCluster, compiled: CompiledPolicy) -> PolicyDescription:
    """The pods the policy selects and, for every peer of every rule, what it matches."""
    # a policy selects pods of its own namespace only (the pods of every namespace are not
    # indexed for one policy)
    own = compiled.policy.namespace
    here = [p for p in cc.cluster.pods if p.namespace == own and cc.is_policy_pod(p)]
    selected = tuple(p.id for p in here if compiled.selects(p))
    namespaces = [ns.name for ns in cc.cluster.namespaces]

    def rules(direction: str) -> tuple[RuleDescription, ...]:
        source = compiled.ingress if direction == "Ingress" else compiled.egress
        return tuple(
            RuleDescription(
                rule,
                tuple(
                    PeerMatch(
                        peer,
                        tuple(sorted(peer.pod_ids)),
                        tuple(
                            n
                            for n in namespaces
                            if peer.peer.ip_block is None and peer.namespace_matches(n)
                        ),
                    )
                    for peer in rule.peers
                ),
            )
            for rule in source
        )

    return PolicyDescription(compiled, selected, rules("Ingress"), rules("Egress"))


@dataclass(frozen=True, slots=True)
class PodDescription:
    pod: Pod
    ingress_policies: tuple[str, ...]
    egress_policies: tuple[str, ...]
    reaches: tuple[tuple[str, ConnectionSet], ...]  # pods this pod may connect to
    reached_by: tuple[tuple[str, ConnectionSet], ...]  # pods that may connect to it
    # admin, baseline and Calico policies selecting it, in evaluation order (tier, order)
    ingress_tiered: tuple[str, ...] = ()
    egress_tiered: tuple[str, ...] = ()


def describe_pod(cc: CompiledCluster, pod: Pod) -> PodDescription:
    """Which policies isolate the pod in each direction, and whom it reaches / is reached by.

    A pod without an IP reaches nobody and nobody reaches it, but the policies that select
    it are still named (they will isolate it once it runs).
    """
    reaches = []
    reached_by = []
    # pods of one class get one answer: evaluated once per class (and same node or not)
    verdicts = AllowedByClass(cc)
    # where the pod is isolated, only the pods its rules name can get through: the others
    # are not evaluated (at 100k pods, classing every pod cost seconds)
    reachable = could_pass(cc, pod, "Egress")
    admitted = could_pass(cc, pod, "Ingress")
    for other in cc.cluster.pods if pod.ips else ():
        if other.id == pod.id or not other.ips:
            continue
        if reachable is None or other.id in reachable:
            out = verdicts.between_pods(pod, other)
            if not out.is_empty:
                reaches.append((other.id, out))
        if admitted is None or other.id in admitted:
            into = verdicts.between_pods(other, pod)
            if not into.is_empty:
                reached_by.append((other.id, into))

    def isolating(direction: str) -> tuple[str, ...]:
        if pod.host_network and cc.profile.host_network_is_node:
            return ()
        found = [
            c.policy.id for c in cc.policies_selecting(pod) if direction in c.policy.policy_types
        ]
        if cc.cilium and cc.tiered is not None:
            # a Cilium rule with default deny on isolates like a NetworkPolicy: both sit
            # in the tier whose default is Deny
            found += [
                member.policy.id
                for member in cc.tiered.policies
                if member.policy.kind in CILIUM_KINDS
                and direction in member.policy.types
                and member.policy.isolating(direction)
                and cc.tiered.selects(member, pod)
            ]
        return tuple(dict.fromkeys(found))

    def tiered(direction: str) -> tuple[str, ...]:
        if cc.tiered is None or not cc.is_policy_pod(pod):
            return ()
        # once per policy (Cilium's allows at L4 and with L7 parts are two members), and
        # not the CNI's own allow-localhost
        listed = (
            f"{member.policy.id} (tier {plan.tier.name})"
            for plan in cc.tiered.plans
            for member in plan.members
            if not isinstance(member, str)
            and member.policy.kind != IMPLICIT_KIND
            and direction in member.policy.types
            and cc.tiered.selects(member, pod)
        )
        return tuple(dict.fromkeys(listed))

    return PodDescription(
        pod,
        isolating("Ingress"),
        isolating("Egress"),
        tuple(reaches),
        tuple(reached_by),
        tiered("Ingress"),
        tiered("Egress"),
    )


def could_pass(cc: CompiledCluster, pod: Pod, direction: str) -> set[str] | None:
    """The ids of the pods that ``pod``'s side in ``direction`` (its egress towards them, its
    ingress from them) may allow anything: a superset of those it allows, from the peers of
    the policies isolating it. None when that can be every pod: not isolated, a rule for any
    peer, or admin, baseline, Calico or Cilium policies (their verdicts are not the
    NetworkPolicy rules alone)."""
    if cc.tiered is not None or cc.relabelled or not cc.is_policy_pod(pod):
        return None
    policies = cc.applying(pod, direction)
    if not policies:
        return None
    found: set[str] = set()
    blocks = []
    for compiled in policies:
        for rule in compiled.rules(direction):
            if rule.any_peer:
                return None
            for peer in rule.peers:
                if peer.peer.ip_block is not None:
                    blocks.append(peer.peer.ip_block)
                else:
                    found |= peer.pod_ids
    if blocks and cc.profile.ipblock_matches_pod_ips:
        ranges = [
            (int(b.network.network_address), int(b.network.broadcast_address))
            for b in blocks
            if b.network.version == 4
        ]
        found.update(p.id for p in cc.policy_pods if _in_some_block(p.ips, blocks, ranges))
    # the pods that are their node's traffic (hostNetwork): node exceptions and ipBlocks
    # of node IPs may let them through
    found.update(p.id for p in cc.cluster.pods if p.ips and not cc.is_policy_pod(p))
    return found


def _in_some_block(
    ips: tuple[str, ...], blocks: list[IPBlock], ranges: list[tuple[int, int]]
) -> bool:
    """Whether an address is in one of ``blocks``; an IPv4 address outside every IPv4
    range of theirs (``ranges``) is told from its text, without parsing it (100k pods)."""
    for text in ips:
        if ":" not in text:  # a pod's IPv4 address, validated: dotted quad
            try:
                value = int.from_bytes(inet_aton(text), "big")
            except OSError:
                value = -1  # not one: parsed below as ever
            if value >= 0 and not any(low <= value <= high for low, high in ranges):
                continue
        ip = ipaddress.ip_address(text)
        if any(b.contains(ip) for b in blocks):
            return True
    return False


def find_policy(cc: CompiledCluster, namespace: str, name: str) -> CompiledPolicy:
    """The compiled policy NAMESPACE/NAME; ResolveError (with the near names) otherwise."""
    policies = cc.cluster.policies  # compiled only once found
    found = next(
        (o for o, p in enumerate(policies) if p.name == name and p.namespace == namespace), None
    )
    if found is None:
        here = [p.name for p in policies if p.namespace == namespace]
        known = ", ".join(p.id for p in policies[:10]) or "none"
        hint = did_you_mean(name, here)
        raise ResolveError(
            f"no NetworkPolicy {name!r} in namespace {namespace}"
            + (hint or f" (policies: {known})")
        )
    return cc.compiled_policy(found)


def find_pod(cluster: Cluster, namespace: str | None, name: str) -> Pod:
    """The pod NAME (or NS/NAME) means, read as every verb reads it (``engine.names``): a
    pod, a workload's first pod, or the only workload the name begins."""
    namespaces = {n.name for n in cluster.namespaces} | {p.namespace for p in cluster.pods}
    # NS/NAME names a pod or workload of NS only: the others need no index
    pods = [p for p in cluster.pods if namespace is None or p.namespace == namespace]
    return first_pod(
        Names(pods, (), namespaces), name if namespace is None else f"{namespace}/{name}"
    )


# -- admin, baseline and Calico policies -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class TierPeerMatch:
    """What one peer (or a Calico rule's local side) matches right now."""

    match: EndpointMatch
    pods: tuple[str, ...]  # pod ids it covers
    nodes: tuple[str, ...]  # node names it covers (nodes peers and address peers)
    namespaces: tuple[str, ...]  # namespaces its namespace part admits (pod matches)

    @property
    def matches_nothing(self) -> bool:
        """No pod (a pod match) or no node (a node match); address matches always match
        addresses outside the cluster."""
        if self.match.scope == PODS:
            return not self.pods
        if self.match.scope == NODES:
            return not self.nodes
        return False


@dataclass(frozen=True, slots=True)
class TierRuleDescription:
    rule: CompiledTierRule
    peers: tuple[TierPeerMatch, ...]
    local: TierPeerMatch | None  # Calico: the selected pods the rule's own side narrows to


@dataclass(frozen=True, slots=True)
class TieredPolicyDescription:
    compiled: CompiledTieredPolicy
    tier: Tier
    selected: tuple[str, ...]
    ingress: tuple[TierRuleDescription, ...]
    egress: tuple[TierRuleDescription, ...]


def describe_tiered(cc: CompiledCluster, compiled: CompiledTieredPolicy) -> TieredPolicyDescription:
    """The tier, the pods the subject selects and, for every peer of every rule, what it
    matches; every match is ``TieredModel.miss`` asked of each pod and node."""
    tiered = cc.tiered
    assert tiered is not None, "a tiered policy was found, so the model has tiers"
    pods = [cc.endpoint(p) for p in cc.cluster.pods if p.ips]
    nodes = [node_endpoint(n) for n in cc.cluster.nodes]
    selected = tuple(p.id for p in cc.policy_pods if tiered.selects(compiled, p))
    tier = tiered.tiers[compiled.policy.tier]

    def matching(match: EndpointMatch, among: list[Endpoint]) -> TierPeerMatch:
        return TierPeerMatch(
            match,
            tuple(sorted(e.id for e in among if e.pod and tiered.miss(match, e) is None)),
            tuple(e.node.name for e in nodes if e.node and tiered.miss(match, e) is None),
            _admitted_namespaces(cc, tiered, match),
        )

    mine = [e for e in pods if e.pod is not None and e.pod.id in selected]

    def rules(direction: str) -> tuple[TierRuleDescription, ...]:
        return tuple(
            TierRuleDescription(
                rule,
                tuple(matching(peer, pods) for peer in rule.rule.peers),
                None if rule.rule.local is None else matching(rule.rule.local, mine),
            )
            for rule in compiled.rules(direction)
        )

    return TieredPolicyDescription(compiled, tier, selected, rules("Ingress"), rules("Egress"))


def _admitted_namespaces(
    cc: CompiledCluster, tiered: TieredModel, match: EndpointMatch
) -> tuple[str, ...]:
    if match.scope == NODES:
        return ()
    names = [ns.name for ns in cc.cluster.namespaces]
    if match.namespace is not None:
        names = [n for n in names if n == match.namespace]
    if match.namespaces is not None:
        calico = isinstance(match.namespaces, CalicoSelector)
        names = [
            n for n in names if selector_holds(match.namespaces, tiered.namespace_labels(n, calico))
        ]
    return tuple(names)


def find_tiered(
    cc: CompiledCluster, kind: str, namespace: str | None, name: str
) -> CompiledTieredPolicy:
    """The admin, baseline or Calico policy of ``kind`` named NAME (in NAMESPACE for a
    namespaced Calico policy); ResolveError (listing some that exist) otherwise."""
    found = [
        c
        for c in (cc.tiered.policies if cc.tiered is not None else ())
        if c.policy.kind == kind and (namespace is None or c.policy.namespace == namespace)
    ]
    match = next((c for c in found if c.policy.name == name), None)
    if match is None:
        where = f" in namespace {namespace}" if namespace is not None else ""
        known = ", ".join(_shown_name(c.policy) for c in found[:10]) or "none"
        shown = "Calico NetworkPolicy" if namespace is not None else kind
        hint = did_you_mean(name, [c.policy.name for c in found])
        raise ResolveError(f"no {shown} {name!r}{where}" + (hint or f" (existing: {known})"))
    return match


def _shown_name(policy: TieredPolicy) -> str:
    return policy.name if policy.namespace is None else f"{policy.namespace}/{policy.name}"
