"""Policies compiled once into matchers: subjects, peers and connection sets.

The verdict, the matrix and the lab all read these objects, so the analyser and the data
plane cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from netpol.engine.endpoints import Endpoint, pod_endpoint
from netpol.engine.peer_pods import PeerPods
from netpol.engine.ports import ConnectionSet
from netpol.engine.selectors import matches
from netpol.model.cluster import Cluster
from netpol.model.objects import Pod
from netpol.model.options import PROFILES, Options
from netpol.model.policy import NetworkPolicy, Peer, PolicyPort, Rule

if TYPE_CHECKING:  # imported where used: a plain NetworkPolicy input needs neither
    from netpol.engine.tiers import CompiledTierRule, TieredModel

DIRECTIONS = ("Ingress", "Egress")


def port_entry_connections(entry: PolicyPort) -> ConnectionSet | None:
    """What a numeric or port-less entry allows; None for a named port (resolved per pod)."""
    if entry.port is None:
        return ConnectionSet.whole(entry.protocol)
    if isinstance(entry.port, int):
        return ConnectionSet.of(entry.protocol, entry.port, entry.end_port or entry.port)
    return None


@lru_cache(maxsize=1 << 16)
def numeric_connections(ports: tuple[PolicyPort, ...]) -> ConnectionSet:
    """Connections of a port list's numeric and port-less entries (all of them for an empty
    list). Cached: a large cluster repeats a few port lists in tens of thousands of rules."""
    if not ports:
        return ConnectionSet.all()
    sets = [port_entry_connections(e) for e in ports]
    return ConnectionSet.union_of(s for s in sets if s is not None)


@dataclass(eq=False)
class CompiledPeer:
    """One ``from``/``to`` item of a rule, able to say which pods and IPs it matches."""

    index: int
    peer: Peer
    policy_namespace: str
    compiled: CompiledCluster = field(repr=False)

    def namespace_matches(self, namespace: str) -> bool:
        selector = self.peer.namespace_selector
        if selector is None:
            return namespace == self.policy_namespace
        return matches(selector, self.compiled.namespace_labels(namespace))

    def matches_pod(self, pod: Pod) -> bool:
        """Selector peers match (non-hostNetwork) pods; ipBlock peers are IP-only."""
        if self.peer.ip_block is not None:
            return False
        if not self.namespace_matches(pod.namespace):
            return False
        return self.peer.pod_selector is None or matches(self.peer.pod_selector, pod.labels)

    @cached_property
    def pod_ids(self) -> frozenset[str]:
        """Pods this peer's selectors match (never hostNetwork pods, never pods without IPs)."""
        return frozenset(p.id for p in self._matching_pods())

    @cached_property
    def matches_some_pod(self) -> bool:
        """Whether any pod matches: explain asks it of every peer that did not match, so
        the cluster answers it once per distinct selector (``peer_pods``)."""
        if self.peer.ip_block is not None:
            return False
        return self.compiled.peer_pods.matches_some_pod(
            self.policy_namespace, self.peer.namespace_selector, self.peer.pod_selector
        )

    def _matching_pods(self) -> Iterator[Pod]:
        # namespace first, from the index: a peer's pods are in the namespaces it admits,
        # so a pod of any other namespace is never looked at
        if self.peer.ip_block is not None:
            return
        by_namespace = self.compiled.policy_pods_by_namespace
        selector = self.peer.namespace_selector
        if selector is None:
            namespaces: Iterable[str] = (self.policy_namespace,)
        else:
            namespaces = [n for n in by_namespace if self.namespace_matches(n)]
        pod_selector = self.peer.pod_selector
        for namespace in namespaces:
            for pod in by_namespace.get(namespace, ()):
                if pod_selector is None or matches(pod_selector, pod.labels):
                    yield pod


@dataclass(eq=False)
class CompiledRule:
    policy: NetworkPolicy
    direction: str
    index: int
    rule: Rule
    peers: tuple[CompiledPeer, ...]

    @property
    def any_peer(self) -> bool:
        return not self.peers

    @property
    def any_port(self) -> bool:
        return not self.rule.ports

    @cached_property
    def numeric(self) -> ConnectionSet:
        """Connections of the numeric and port-less entries (all of them for an empty list)."""
        return numeric_connections(self.rule.ports)

    @cached_property
    def named(self) -> tuple[tuple[str, str], ...]:
        """(name, protocol) of each named-port entry."""
        return tuple((str(e.port), e.protocol) for e in self.rule.ports if e.is_named)

    def connections_to(self, dst_pod: Pod | None) -> ConnectionSet:
        """What the rule's ports allow towards ``dst_pod`` (named ports resolve on it; None: not a pod)."""
        if not self.named or dst_pod is None:
            return self.numeric
        resolved = [
            ConnectionSet.of(protocol, port)
            for name, protocol in self.named
            for port in dst_pod.named_port(name, protocol)
        ]
        return ConnectionSet.union_of([self.numeric, *resolved])

    @property
    def label(self) -> str:
        """``app1-ns/db-policy ingress[0]``: how evidence names a rule."""
        return f"{self.policy.id} {self.direction.lower()}[{self.index}]"


@dataclass(eq=False)
class CompiledPolicy:
    policy: NetworkPolicy
    ingress: tuple[CompiledRule, ...]
    egress: tuple[CompiledRule, ...]

    def rules(self, direction: str) -> tuple[CompiledRule, ...]:
        if direction not in self.policy.policy_types:
            return ()  # rules of a direction missing from policyTypes are ignored (spec 4.1)
        return self.ingress if direction == "Ingress" else self.egress

    def selects(self, pod: Pod) -> bool:
        return policy_selects(self.policy, pod)


def policy_selects(policy: NetworkPolicy, pod: Pod) -> bool:
    """Whether the podSelector of ``policy`` selects ``pod`` (a pod of its namespace)."""
    return pod.namespace == policy.namespace and matches(policy.pod_selector, pod.labels)


class CompiledCluster:
    """A cluster with its policies compiled; per-pod lookups are computed on demand and cached."""

    def __init__(self, cluster: Cluster, options: Options) -> None:
        # Cilium's own policies are evaluated as Cilium does, whatever profile was asked
        # for (the command line refuses another explicit profile first)
        self.cilium = bool(cluster.cilium_policies)
        self.input_cluster = cluster  # as loaded: what a variant compiles again
        if self.cilium and not options.profile.cilium_identity:
            options = replace(options, profile=PROFILES["cilium"])
        self.relabelled = options.profile.cilium_identity
        if self.relabelled:
            from netpol.engine.cilium import identity_view

            cluster = identity_view(cluster)
        if not options.profile.honours_policy_types:
            from netpol.engine.cilium import with_policy_types_ignored

            cluster = with_policy_types_ignored(cluster)
        if self.cilium:
            from netpol.engine.cilium import DENY_TIER, cilium_tiered

            cluster = replace(
                cluster,
                tiered_policies=cluster.tiered_policies + cilium_tiered(cluster, options),
                tiers=(*cluster.tiers, DENY_TIER),
            )
        self.cluster = cluster
        self.options = options
        self.profile = options.profile
        # compiled on first use: explain and describe compile only the policies that select
        # the pods they look at, a matrix every one (``policies``)
        self._compiled: list[CompiledPolicy | None] = [None] * len(cluster.policies)
        self._applying: dict[tuple[str, str], tuple[CompiledPolicy, ...]] = {}
        # admin, baseline and Calico policies: None when there are none, so plain
        # NetworkPolicy inputs keep the direct path
        self.tiered: TieredModel | None = None
        if cluster.tiered_policies:
            from netpol.engine.tiers import TieredModel

            self.tiered = TieredModel(cluster, self.is_policy_pod, self.relabelled)

    @cached_property
    def peer_pods(self) -> PeerPods:
        return PeerPods(self.namespace_labels, self.policy_pods_by_namespace)

    @cached_property
    def _selector_index(
        self,
    ) -> tuple[
        dict[str, list[tuple[int, NetworkPolicy]]],
        dict[tuple[str, str, str], list[tuple[int, NetworkPolicy]]],
    ]:
        """The policies of a namespace, indexed by one (key, value) their podSelector's
        matchLabels requires, so a pod is checked only against the policies that can
        select it: (its namespace's unkeyed ones, those its own labels name)."""
        unkeyed: dict[str, list[tuple[int, NetworkPolicy]]] = {}
        keyed: dict[tuple[str, str, str], list[tuple[int, NetworkPolicy]]] = {}
        for order, policy in enumerate(self.cluster.policies):
            required = policy.pod_selector.match_labels
            if required:
                key, value = required[0]
                keyed.setdefault((policy.namespace, key, value), []).append((order, policy))
            else:
                unkeyed.setdefault(policy.namespace, []).append((order, policy))
        return unkeyed, keyed

    @cached_property
    def policies(self) -> tuple[CompiledPolicy, ...]:
        """Every NetworkPolicy compiled, in input order."""
        return tuple(self.compiled_policy(order) for order in range(len(self._compiled)))

    def compiled_policy(self, order: int) -> CompiledPolicy:
        """The ``order``-th NetworkPolicy of the cluster, compiled once (the same object for
        every caller: its peers cache what they match)."""
        found = self._compiled[order]
        if found is None:
            found = self._compiled[order] = self._compile(self.cluster.policies[order])
        return found

    def _compile(self, policy: NetworkPolicy) -> CompiledPolicy:
        def rules(direction: str, source: tuple[Rule, ...]) -> tuple[CompiledRule, ...]:
            return tuple(
                CompiledRule(
                    policy,
                    direction,
                    index,
                    rule,
                    tuple(
                        CompiledPeer(i, peer, policy.namespace, self)
                        for i, peer in enumerate(rule.peers)
                    ),
                )
                for index, rule in enumerate(source)
            )

        return CompiledPolicy(
            policy, rules("Ingress", policy.ingress), rules("Egress", policy.egress)
        )

    def namespace_labels(self, namespace: str) -> Mapping[str, str]:
        return self.cluster.namespace_labels(namespace)

    @cached_property
    def policy_pods(self) -> tuple[Pod, ...]:
        """Pods NetworkPolicy can select or isolate: with an IP, not node traffic."""
        return tuple(p for p in self.cluster.pods if self.is_policy_pod(p))

    @cached_property
    def policy_pods_by_namespace(self) -> dict[str, list[Pod]]:
        """``policy_pods`` by namespace, in input order."""
        found: dict[str, list[Pod]] = {}
        for pod in self.policy_pods:
            found.setdefault(pod.namespace, []).append(pod)
        return found

    @cached_property
    def _endpoint_of(self) -> dict[str, Endpoint]:
        return {}

    def _tier_rules(self) -> Iterator[CompiledTierRule]:
        for compiled in self.tiered.policies if self.tiered is not None else ():
            yield from compiled.ingress + compiled.egress

    @cached_property
    def without_l7(self) -> CompiledCluster | None:
        """The cluster with every Cilium allow that has L7 parts left out; None when there
        is none. What only this one allows is L7-filtered (the proxy filters it)."""
        if not any(rule.rule.note.startswith("L7") for rule in self._tier_rules()):
            return None
        return CompiledCluster(self.input_cluster, replace(self.options, cilium_l7=False))

    @cached_property
    def dns_variant(self) -> CompiledCluster | None:
        """The cluster with every unresolved toFQDNs peer matching any world address; None
        when there is none. A verdict that differs there depends on DNS."""
        if self.tiered is None:
            return None  # toFQDNs rules are Cilium's, in the tiers
        from netpol.engine.cilium import DEPENDS_ON_DNS

        if not any(
            DEPENDS_ON_DNS in peer.why_nothing
            for rule in self._tier_rules()
            for peer in rule.rule.peers
        ):
            return None
        return CompiledCluster(self.input_cluster, replace(self.options, fqdn_as_world=True))

    def own(self, pod: Pod) -> Pod:
        """The pod as this compiled cluster knows it: under Cilium, with its identity labels
        (a caller may hold the pod of the cluster as loaded)."""
        return self.cluster.pod_by_id.get(pod.id, pod) if self.relabelled else pod

    def endpoint(self, pod: Pod) -> Endpoint:
        """The pod as policy sees it, with its node (whose labels node peers read); made once
        per pod (verbs that resolve a workload many times would parse its IPs each time)."""
        found = self._endpoint_of.get(pod.id)
        if found is None:
            pod = self.own(pod)
            node = self.cluster.node_by_name.get(pod.node)
            found = self._endpoint_of[pod.id] = pod_endpoint(pod, self.profile, node)
        return found

    def is_policy_pod(self, pod: Pod) -> bool:
        return bool(pod.ips) and not (pod.host_network and self.profile.host_network_is_node)

    def selecting(self, pod: Pod) -> tuple[CompiledPolicy, ...]:
        """Every policy whose podSelector selects ``pod`` (whatever its policyTypes)."""
        if not self.is_policy_pod(pod):
            return ()
        return self.policies_selecting(self.own(pod))

    def policies_selecting(self, pod: Pod) -> tuple[CompiledPolicy, ...]:
        """Every policy whose podSelector selects ``pod`` as given (running or not), in
        policy order; only these are compiled."""
        namespace = pod.namespace
        unkeyed, keyed = self._selector_index
        candidates = list(unkeyed.get(namespace, ()))
        for key, value in pod.labels.items():
            found = keyed.get((namespace, key, value))
            if found is not None:
                candidates += found
        if len(candidates) > 1:
            candidates.sort(key=lambda entry: entry[0])  # policy order, as before the index
        return tuple(
            self.compiled_policy(order)
            for order, policy in candidates
            if policy_selects(policy, pod)
        )

    def applying(self, pod: Pod, direction: str) -> tuple[CompiledPolicy, ...]:
        """Policies that select ``pod`` and have ``direction`` in their (defaulted) policyTypes."""
        key = (pod.id, direction)
        found = self._applying.get(key)
        if found is None:
            found = tuple(c for c in self.selecting(pod) if direction in c.policy.policy_types)
            self._applying[key] = found
        return found

    def isolated(self, pod: Pod, direction: str) -> bool:
        return bool(self.applying(pod, direction))


def compile_cluster(cluster: Cluster, options: Options) -> CompiledCluster:
    """Compile every policy of ``cluster`` once; cheap, lookups happen lazily."""
    return CompiledCluster(cluster, options)
