"""A policy or a pod with the cluster in view: what each selector really matches right now."""

from __future__ import annotations

from dataclasses import dataclass

from netpol.engine.compile import CompiledCluster, CompiledPeer, CompiledPolicy, CompiledRule
from netpol.engine.endpoints import pod_endpoint
from netpol.engine.ports import ConnectionSet
from netpol.engine.resolve import ResolveError
from netpol.engine.verdict import evaluate
from netpol.model.cluster import Cluster
from netpol.model.objects import Pod


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
    selected = tuple(p.id for p in cc.policy_pods if compiled.selects(p))
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
    me = pod_endpoint(pod, cc.profile)
    reaches = []
    reached_by = []
    for other in cc.cluster.pods if pod.ips else ():
        if other.id == pod.id or not other.ips:
            continue
        them = pod_endpoint(other, cc.profile)
        out = evaluate(cc, me, them).allowed
        if not out.is_empty:
            reaches.append((other.id, out))
        into = evaluate(cc, them, me).allowed
        if not into.is_empty:
            reached_by.append((other.id, into))

    def isolating(direction: str) -> tuple[str, ...]:
        if pod.host_network and cc.profile.host_network_is_node:
            return ()
        return tuple(
            c.policy.id
            for c in cc.policies
            if c.selects(pod) and direction in c.policy.policy_types
        )

    def tiered(direction: str) -> tuple[str, ...]:
        if cc.tiered is None or not cc.is_policy_pod(pod):
            return ()
        return tuple(
            f"{member.policy.id} (tier {plan.tier.name})"
            for plan in cc.tiered.plans
            for member in plan.members
            if not isinstance(member, str)
            and direction in member.policy.types
            and cc.tiered.selects(member, pod)
        )

    return PodDescription(
        pod,
        isolating("Ingress"),
        isolating("Egress"),
        tuple(reaches),
        tuple(reached_by),
        tiered("Ingress"),
        tiered("Egress"),
    )


def find_policy(cc: CompiledCluster, namespace: str, name: str) -> CompiledPolicy:
    """The compiled policy NAMESPACE/NAME; ResolveError (listing some that exist) otherwise."""
    found = next((c for c in cc.policies if c.policy.id == f"{namespace}/{name}"), None)
    if found is None:
        known = ", ".join(c.policy.id for c in cc.policies[:10]) or "none"
        raise ResolveError(
            f"no NetworkPolicy {name!r} in namespace {namespace} (policies: {known})"
        )
    return found


def find_pod(cluster: Cluster, namespace: str, name: str) -> Pod:
    """A pod by name, or the first pod of a workload of that name; never a guess by prefix
    (a near name is offered in the error instead)."""
    pod = cluster.pod_by_id.get(f"{namespace}/{name}")
    if pod is not None:
        return pod
    workload = f"{namespace}/{name}"
    pods = sorted(
        (p for p in cluster.pods if p.workload is not None and p.workload.id == workload),
        key=lambda p: p.id,
    )
    if pods:
        return pods[0]
    near = [p.id for p in cluster.pods if p.namespace == namespace and p.name.startswith(name)]
    hint = f" (did you mean {', '.join(near[:5])}?)" if near else ""
    raise ResolveError(f"no pod or workload {name!r} in namespace {namespace}{hint}")
