"""Tiered evaluation of one side of a connection (spec 6.3, and Calico's tiers).

Tiers run in order; in a tier, the policies that select the subject run in order, and
in a policy its rules in written order. The first rule that matches a connection
decides it: Allow and Deny are final, Pass sends it to the next tier, Log lets it go
on. When policies of a tier selected the subject and none of their rules matched, the
tier's default action applies (Deny in the default tier, where Kubernetes
NetworkPolicies sit; Pass in the admin and baseline tiers, so an AdminNetworkPolicy
never isolates). What no tier decided is allowed.

The work is done on connection sets, so one pass answers every port at once: each
rule takes its share of what is still undecided.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

from netpol.engine.endpoints import EXTERNAL, NODE, POD, Endpoint, endpoint_ips
from netpol.engine.ports import PROTOCOLS, ConnectionSet
from netpol.engine.selectors import selector_holds
from netpol.model.cluster import Cluster
from netpol.model.expressions import CalicoSelector
from netpol.model.objects import Pod
from netpol.model.policy import IPBlock, PolicyPort
from netpol.model.tiers import (
    ALLOW,
    ANY_PROTOCOL,
    BUILTIN_TIERS,
    CLUSTER,
    DEFAULT_TIER,
    DENY,
    LOG,
    NETWORK_POLICY_ORDER,
    NODES,
    NOTHING,
    PASS,
    PODS,
    WORLD,
    EndpointMatch,
    Selector,
    Tier,
    TieredPolicy,
    TierRule,
)

# Calico's own labels on every workload endpoint, and its prefixes for the labels of the
# pod's namespace and service account
CALICO_NAMESPACE = "projectcalico.org/namespace"
CALICO_ORCHESTRATOR = "projectcalico.org/orchestrator"
CALICO_SERVICE_ACCOUNT = "projectcalico.org/serviceaccount"
CALICO_NAME = "projectcalico.org/name"
NAMESPACE_PREFIX, ACCOUNT_PREFIX = "pcns.", "pcsa."

WHOLE_FAMILIES = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
NETWORK_POLICIES = "NetworkPolicy"  # the member standing for every Kubernetes NetworkPolicy
IMPLICIT_KIND = "Cilium"  # a rule the CNI adds (allow-localhost): no explanation owed for a miss


def port_entry_set(entry: PolicyPort) -> ConnectionSet:
    """A numeric or port-less entry (an inverted range matches nothing).

    Unlike ``compile.port_entry_connections`` for NetworkPolicy ports, an entry may stand
    for every protocol (an AdminNetworkPolicy ``namedPort`` takes the protocol of the
    container port it names). An inverted range or an unknown protocol, which validate
    refuses but the loader reads, matches nothing here instead of failing.
    """
    protocols = _protocols(entry)
    if entry.port is None:
        return ConnectionSet.union_of(ConnectionSet.whole(p) for p in protocols)
    assert isinstance(entry.port, int)
    end = entry.end_port if entry.end_port is not None else entry.port
    if end < entry.port or entry.protocol not in (*PROTOCOLS, ANY_PROTOCOL):
        return ConnectionSet.none()
    return ConnectionSet.union_of(ConnectionSet.of(p, entry.port, end) for p in protocols)


def named_entry_set(entry: PolicyPort, pod: Pod | None) -> ConnectionSet:
    """A named port, resolved on the destination pod (nothing when it is not a pod)."""
    if pod is None:
        return ConnectionSet.none()
    protocols = _protocols(entry)
    return ConnectionSet.union_of(
        ConnectionSet.of(p, port) for p in protocols for port in pod.named_port(str(entry.port), p)
    )


@dataclass(eq=False)
class CompiledTierRule:
    rule: TierRule
    policy: TieredPolicy
    direction: str
    # (rule signature, id of a containers tuple) -> (the tuple, what the rule covers towards
    # pods with those containers): shared by the rules of one model
    named_cache: dict[tuple[object, int], tuple[object, ConnectionSet]] = field(
        default_factory=dict
    )

    @cached_property
    def protocols(self) -> ConnectionSet:
        if self.rule.protocols is None:
            return ConnectionSet.all()
        return ConnectionSet.union_of(
            ConnectionSet.whole(p) for p in self.rule.protocols if p in PROTOCOLS
        )

    @cached_property
    def has_named(self) -> bool:
        return any(e.is_named for e in self.rule.ports + self.rule.not_ports)

    @cached_property
    def numeric(self) -> ConnectionSet:
        """What the rule covers with its named ports resolving to nothing (everything it
        covers, for a rule without named ports)."""
        return self._compute(None)

    def connections_to(self, dst_pod: Pod | None) -> ConnectionSet:
        """What the rule's protocols and ports cover towards ``dst_pod`` (named ports resolve
        on it)."""
        if not self.has_named:
            return self.numeric
        if dst_pod is None:
            return self._compute(None)
        # named ports depend only on the containers, which a workload's replicas share:
        # remembered per containers tuple (kept alive beside the answer, so its id is not
        # reused)
        key = (self.ports_signature, id(dst_pod.containers))
        found = self.named_cache.get(key)
        if found is None:
            found = self.named_cache[key] = (dst_pod.containers, self._compute(dst_pod))
        return found[1]

    @cached_property
    def ports_signature(self) -> tuple[object, ...]:
        """What ``_compute`` reads of the rule: rules alike share their answers."""
        rule = self.rule
        return (rule.ports, rule.not_ports, rule.protocols, bool(rule.unmatchable))

    def _compute(self, dst_pod: Pod | None, as_written: bool = False) -> ConnectionSet:
        if self.rule.unmatchable and not as_written:
            return ConnectionSet.none()
        if self.rule.ports:
            positive = ConnectionSet.union_of(_entry_set(e, dst_pod) for e in self.rule.ports)
        else:
            positive = ConnectionSet.all()
        negative = ConnectionSet.union_of(_entry_set(e, dst_pod) for e in self.rule.not_ports)
        return positive & self.protocols - negative

    def written_connections(self, dst_pod: Pod | None) -> ConnectionSet:
        """What the rule's ports say, even when it can never match (an explanation shows
        an unmatchable rule on the ports it names: ``{}`` names every port)."""
        return self._compute(dst_pod, as_written=True)

    @property
    def label(self) -> str:
        """``AdminNetworkPolicy allow-dns egress[0] "dns"``: how evidence names a rule."""
        name = f' "{self.rule.name}"' if self.rule.name else ""
        section = self.rule.section or self.direction.lower()
        return f"{self.policy.label} {section}[{self.rule.index}]{name}"


def _entry_set(entry: PolicyPort, pod: Pod | None) -> ConnectionSet:
    return named_entry_set(entry, pod) if entry.is_named else port_entry_set(entry)


@dataclass(eq=False)
class CompiledTieredPolicy:
    policy: TieredPolicy
    ingress: tuple[CompiledTierRule, ...]
    egress: tuple[CompiledTierRule, ...]

    def rules(self, direction: str) -> tuple[CompiledTierRule, ...]:
        if direction not in self.policy.types:
            return ()
        return self.ingress if direction == "Ingress" else self.egress


Member = CompiledTieredPolicy | str  # a tiered policy, or NETWORK_POLICIES


@dataclass(frozen=True)
class TierPlan:
    tier: Tier
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class Decision:
    """One step of a decision chain: who decided which connections, and how."""

    tier: str
    by: str  # a policy label, "NetworkPolicy", or the policies a tier default stands for
    action: str  # ALLOW, DENY, PASS or LOG
    connections: ConnectionSet
    rule: CompiledTierRule | None = None  # None for NetworkPolicy and defaults
    reason: str = ""  # for defaults: "no rule matched", "not selected by any tier"
    # a Cilium deny: the allows of the later tiers it overrides on these connections,
    # as rules, or NETWORK_POLICIES for the NetworkPolicies' allow
    beats: tuple[CompiledTierRule | str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleMiss:
    """A rule that did not match a connection's endpoints, and why."""

    rule: CompiledTierRule
    reason: str
    connections: ConnectionSet  # what the rule's ports cover towards this destination


@dataclass(frozen=True, slots=True)
class TieredOutcome:
    allowed: ConnectionSet
    decisions: tuple[Decision, ...]


class TieredModel:
    """The tiers of a cluster, compiled, with the endpoint matching they need."""

    def __init__(
        self, cluster: Cluster, is_policy_pod: Callable[[Pod], bool], relabelled: bool = False
    ) -> None:
        self.cluster = cluster
        self.is_policy_pod = is_policy_pod
        named: dict[tuple[object, int], tuple[object, ConnectionSet]] = {}
        self.policies = tuple(
            CompiledTieredPolicy(
                p,
                tuple(CompiledTierRule(r, p, "Ingress", named) for r in p.ingress),
                tuple(CompiledTierRule(r, p, "Egress", named) for r in p.egress),
            )
            for p in cluster.tiered_policies
        )
        self._calico_labels: dict[str, Mapping[str, str]] = {}
        self._subject_cache: dict[tuple[int, str], bool] = {}
        self._applying: dict[tuple[str, str], tuple[tuple[Member, ...], ...]] = {}
        # pods carry their Cilium identity labels in ``cluster``, not in the caller's copy
        self.relabelled = relabelled

    @cached_property
    def tiers(self) -> dict[str, Tier]:
        """Every effective tier by name (each policy's tier is among them)."""
        return {t.name: t for t in effective_tiers(self.cluster)}

    @cached_property
    def plans(self) -> tuple[TierPlan, ...]:
        """Tiers in order with their members in order; the Kubernetes NetworkPolicies are
        one member of the default tier, at Calico's order 1000."""
        tiers = self.tiers
        keyed: dict[str, list[tuple[tuple[bool, float, str], Member]]] = {}
        for compiled in self.policies:
            keyed.setdefault(compiled.policy.tier, []).append((compiled.policy.sort_key, compiled))
        np_key = (False, NETWORK_POLICY_ORDER, "knp.default.")
        keyed.setdefault(DEFAULT_TIER.name, []).append((np_key, NETWORK_POLICIES))
        ordered = sorted(keyed, key=lambda name: tiers[name].sort_key)
        return tuple(
            TierPlan(tiers[name], tuple(m for _, m in sorted(keyed[name], key=lambda x: x[0])))
            for name in ordered
        )

    # -- matching endpoints ----------------------------------------------------------------

    def namespace_labels(self, namespace: str, calico: bool) -> Mapping[str, str]:
        labels = self.cluster.namespace_labels(namespace)
        return {**labels, CALICO_NAME: namespace} if calico else labels

    def account_labels(self, pod: Pod) -> Mapping[str, str]:
        """The pod's ServiceAccount labels, with Calico's ``projectcalico.org/name``."""
        account = self.cluster.service_account_by_id.get(f"{pod.namespace}/{pod.service_account}")
        return {**(account.labels if account else {}), CALICO_NAME: pod.service_account}

    def pod_labels(self, pod: Pod, calico: bool) -> Mapping[str, str]:
        """Calico selectors also see its own labels and those of the namespace and account."""
        if not calico:
            return pod.labels
        found = self._calico_labels.get(pod.id)
        if found is None:
            found = {
                **{
                    NAMESPACE_PREFIX + k: v
                    for k, v in self.cluster.namespace_labels(pod.namespace).items()
                },
                **{ACCOUNT_PREFIX + k: v for k, v in self.account_labels(pod).items()},
                **pod.labels,
                CALICO_NAMESPACE: pod.namespace,
                CALICO_ORCHESTRATOR: "k8s",
                CALICO_SERVICE_ACCOUNT: pod.service_account,
            }
            self._calico_labels[pod.id] = found
        return found

    def miss(self, match: EndpointMatch, endpoint: Endpoint) -> str | None:
        """None when ``match`` covers ``endpoint``; otherwise why not, in words."""
        pod = endpoint.pod
        if match.scope == PODS and (endpoint.kind != POD or pod is None):
            return f"{endpoint.id} is not a pod ({match.text()} matches pods only)"
        if match.scope == NODES and endpoint.kind != NODE:
            return f"{endpoint.id} is not a node ({match.text()} matches nodes only)"
        found = _cilium_scope_miss(match, endpoint)
        if found is not None:
            return found
        found = self._address_miss(match, endpoint)
        if found is not None:
            return found
        if match.nodes is not None:
            labels = endpoint.node.labels if endpoint.node is not None else {}
            if not selector_holds(match.nodes, labels):
                return f"nodes {match.nodes.text()} does not match {endpoint.id}"
        if endpoint.kind != POD or pod is None:  # pod conditions hold for pods only
            return None
        return self._pod_miss(match, pod)

    def _address_miss(self, match: EndpointMatch, endpoint: Endpoint) -> str | None:
        if match.ip_version is None and not match.nets and not match.not_nets:
            return None
        ips = endpoint_ips(endpoint)
        if match.ip_version is not None:
            ips = [ip for ip in ips if ip.version == match.ip_version]
            if not ips:
                return f"{endpoint.id} has no IPv{match.ip_version} address"
        shown = ", ".join(map(str, ips)) or "no IP"
        if match.nets and not any(
            ip in net for ip in ips for net in match.nets if ip.version == net.version
        ):
            return f"{shown} is outside networks {', '.join(match.nets_shown)}"
        if any(ip in net for ip in ips for net in match.not_nets if ip.version == net.version):
            return f"{shown} is inside notNets {', '.join(match.not_nets_shown)}"
        return None

    def _pod_miss(self, match: EndpointMatch, pod: Pod) -> str | None:
        if match.namespace is not None and pod.namespace != match.namespace:
            return f"{pod.id} is not in namespace {match.namespace}"
        if match.namespaces is not None:
            labels = self.namespace_labels(pod.namespace, _calico(match.namespaces))
            if not selector_holds(match.namespaces, labels):
                return (
                    f"namespaces {match.namespaces.text()} does not match namespace {pod.namespace}"
                )
        if match.pods is not None and not selector_holds(
            match.pods, self.pod_labels(pod, _calico(match.pods))
        ):
            return f"pods {match.pods.text()} does not match {pod.id}"
        if match.not_pods is not None and selector_holds(
            match.not_pods, self.pod_labels(pod, _calico(match.not_pods))
        ):
            return f"notSelector {match.not_pods.text()} matches {pod.id}"
        if match.service_account_names and pod.service_account not in match.service_account_names:
            return (
                f"{pod.id} runs as service account {pod.service_account}, not "
                f"{', '.join(match.service_account_names)}"
            )
        if match.service_accounts is not None and not selector_holds(
            match.service_accounts, self.account_labels(pod)
        ):
            return (
                f"serviceAccounts {match.service_accounts.text()} does not match "
                f"{pod.namespace}/{pod.service_account}"
            )
        return None

    def selects(self, compiled: CompiledTieredPolicy, pod: Pod) -> bool:
        key = (id(compiled), pod.id)
        found = self._subject_cache.get(key)
        if found is None:
            if self.relabelled:  # the caller may hold the pod as loaded, not as Cilium sees it
                pod = self.cluster.pod_by_id.get(pod.id, pod)
            found = self.is_policy_pod(pod) and self._pod_miss(compiled.policy.subject, pod) is None
            self._subject_cache[key] = found
        return found

    def rule_matches(self, rule: CompiledTierRule, subject: Endpoint, peer: Endpoint) -> bool:
        if rule.rule.local is not None and self.miss(rule.rule.local, subject) is not None:
            return False
        return rule.rule.any_peer or any(self.miss(p, peer) is None for p in rule.rule.peers)

    def why_not(self, rule: CompiledTierRule, subject: Endpoint, peer: Endpoint) -> str | None:
        """None when the rule's endpoints match; otherwise why not, every peer's reason."""
        if rule.rule.unmatchable:
            return rule.rule.unmatchable
        local = rule.rule.local
        if local is not None:
            reason = self.miss(local, subject)
            if reason is not None:
                return f"the rule's own side does not match: {reason}"
        if rule.rule.any_peer:
            return None
        reasons = [self.miss(p, peer) for p in rule.rule.peers]
        if any(r is None for r in reasons):
            return None
        if len(reasons) == 1:
            return str(reasons[0])
        return "; ".join(f"peer[{i}]: {r}" for i, r in enumerate(reasons))

    def misses(self, subject: Endpoint, peer: Endpoint, direction: str) -> tuple[RuleMiss, ...]:
        """Rules of the policies selecting ``subject`` that do not match this connection's
        endpoints, in evaluation order: what an explanation owes a user who expected one."""
        if subject.pod is None or not self.is_policy_pod(subject.pod):
            return ()
        dst_pod = destination_pod(subject, peer, direction)
        found = []
        for plan in self.plans:
            for member in plan.members:
                if isinstance(member, str) or direction not in member.policy.types:
                    continue
                if not self.selects(member, subject.pod) or member.policy.kind == IMPLICIT_KIND:
                    continue
                for rule in member.rules(direction):
                    local = rule.rule.local
                    if rule.rule.section and local is not None and self.miss(local, subject):
                        continue  # a Cilium rule expanded per node: not this pod's node
                    reason = self.why_not(rule, subject, peer)
                    if reason is not None:
                        found.append(RuleMiss(rule, reason, rule.written_connections(dst_pod)))
        return tuple(found)

    # -- one side of a connection -------------------------------------------------------

    def _beaten(
        self,
        deciding: TierPlan,
        subject: Endpoint,
        peer: Endpoint,
        direction: str,
        denied: ConnectionSet,
        np_allowed: ConnectionSet,
    ) -> tuple[CompiledTierRule | str, ...]:
        """The allows of the tiers after ``deciding`` that would have let part of
        ``denied`` through: what a Cilium deny beats, for the explanation."""
        assert subject.pod is not None
        dst_pod = destination_pod(subject, peer, direction)
        found: list[CompiledTierRule | str] = []
        later = False
        for plan, members in zip(self.plans, self.applying(subject.pod, direction), strict=True):
            if plan is deciding:
                later = True
                continue
            if not later:
                continue
            for member in members:
                if isinstance(member, str):
                    if not (np_allowed & denied).is_empty:
                        found.append(member)
                    continue
                if member.policy.kind == IMPLICIT_KIND:
                    continue
                for rule in member.rules(direction):
                    if rule.rule.action != ALLOW:
                        continue
                    if (rule.connections_to(dst_pod) & denied).is_empty:
                        continue
                    if self.rule_matches(rule, subject, peer):
                        found.append(rule)
        return tuple(found)

    def applying(self, pod: Pod, direction: str) -> tuple[tuple[Member, ...], ...]:
        """Per plan, the members that apply to ``pod`` in ``direction``: the NetworkPolicy
        member always (the verdict says whether it isolates), a policy when its types hold
        the direction and it selects the pod, rules or not (a Calico policy with types
        [Ingress] and no rules is a default deny). Remembered per pod: a verb asks one pod
        against many peers."""
        key = (pod.id, direction)
        found = self._applying.get(key)
        if found is None:
            found = self._applying[key] = tuple(
                tuple(
                    m
                    for m in plan.members
                    if isinstance(m, str) or (direction in m.policy.types and self.selects(m, pod))
                )
                for plan in self.plans
            )
        return found

    def evaluate(
        self,
        subject: Endpoint,
        peer: Endpoint,
        direction: str,
        np_isolated: bool,
        np_allowed: ConnectionSet,
        np_policies: tuple[str, ...],
    ) -> TieredOutcome:
        """``subject``'s ``direction`` side towards ``peer``; the NetworkPolicy member is
        given as its isolation and what its rules allow (computed by the verdict)."""
        assert subject.pod is not None
        dst_pod = destination_pod(subject, peer, direction)
        undecided, allowed = ConnectionSet.all(), ConnectionSet.none()
        decisions: list[Decision] = []
        for plan, members in zip(self.plans, self.applying(subject.pod, direction), strict=True):
            tier = plan.tier.name
            passed = ConnectionSet.none()
            selectors: list[str] = []
            for member in members:
                if undecided.is_empty:
                    break
                if isinstance(member, str):
                    if not np_isolated:
                        continue
                    selectors.extend(np_policies)
                    granted = undecided & np_allowed
                    if not granted.is_empty:
                        decisions.append(Decision(tier, NETWORK_POLICIES, ALLOW, granted))
                        allowed |= granted
                        undecided -= granted
                    continue
                if member.policy.isolating(direction):
                    selectors.append(member.policy.label)
                for rule in member.rules(direction):
                    conns = rule.connections_to(dst_pod) & undecided
                    if conns.is_empty or not self.rule_matches(rule, subject, peer):
                        continue
                    beats: tuple[CompiledTierRule | str, ...] = ()
                    if rule.rule.action == DENY and self.relabelled:
                        beats = self._beaten(plan, subject, peer, direction, conns, np_allowed)
                    decisions.append(
                        Decision(
                            tier, member.policy.label, rule.rule.action, conns, rule, beats=beats
                        )
                    )
                    if rule.rule.action == LOG:
                        continue
                    if rule.rule.action == ALLOW:
                        allowed |= conns
                    elif rule.rule.action == PASS:
                        passed |= conns
                    undecided -= conns
            if selectors and plan.tier.default_action == DENY and not undecided.is_empty:
                decisions.append(
                    Decision(tier, ", ".join(selectors), DENY, undecided, reason="no rule matched")
                )
                undecided = ConnectionSet.none()
            undecided |= passed
        if not undecided.is_empty:
            reason = "no tier decided: allowed by default"
            decisions.append(Decision("", "", ALLOW, undecided, reason=reason))
            allowed |= undecided
        return TieredOutcome(allowed, tuple(decisions))

    # -- what endpoint classes must tell apart ---------------------------------------------

    def matches(self) -> Iterator[EndpointMatch]:
        for compiled in self.policies:
            yield from policy_matches(compiled.policy)

    def label_keys(self) -> frozenset[str]:
        keys: set[str] = set()
        for match in self.matches():
            for selector in match.selectors():
                keys.update(selector.keys())
        return frozenset(keys)

    def port_names(self) -> frozenset[tuple[str, str]]:
        names = set()
        for compiled in self.policies:
            for rule in compiled.ingress + compiled.egress:
                for entry in rule.rule.ports + rule.rule.not_ports:
                    if entry.is_named:
                        for protocol in _protocols(entry):
                            names.add((str(entry.port), protocol))
        return frozenset(names)

    @cached_property
    def uses_service_accounts(self) -> bool:
        """Whether a pod's service account can change a match (then it splits classes)."""
        for match in self.matches():
            if match.uses_service_accounts:
                return True
            if any(_calico(s) for s in match.selectors()):
                keys = frozenset[str]().union(*(s.keys() for s in match.selectors()))
                if CALICO_SERVICE_ACCOUNT in keys or any(
                    k.startswith(ACCOUNT_PREFIX) for k in keys
                ):
                    return True
        return False


def _cilium_scope_miss(match: EndpointMatch, endpoint: Endpoint) -> str | None:
    """Why a match of Cilium's scopes (world, cluster, nothing) or node condition misses."""
    if match.scope == NOTHING:
        return match.why_nothing or f"{match.text()} matches nothing in the model"
    if match.scope == WORLD and endpoint.kind != EXTERNAL:
        what = "a pod" if endpoint.kind == POD else "a node"
        return (
            f"{endpoint.id} is {what}, and {match.text()} matches only addresses outside "
            "the cluster (world) under Cilium"
        )
    if match.scope == CLUSTER and endpoint.kind == EXTERNAL:
        return f"{endpoint.id} is outside the cluster ({match.text()} matches pods and nodes)"
    on = endpoint.node_name if endpoint.kind != EXTERNAL else ""
    if match.node_name is not None and on != match.node_name:
        where = f"on node {on}" if on else "not on a node"
        return f"{endpoint.id} is {where}, not on node {match.node_name}"
    if match.not_node_name is not None and (not on or on == match.not_node_name):
        where = f"on node {on}" if on else "not on a node"
        return f"{endpoint.id} is {where} ({match.text()})"
    return None


def destination_pod(subject: Endpoint, peer: Endpoint, direction: str) -> Pod | None:
    """The pod a rule's named ports resolve on: the subject for ingress, the peer for
    egress; none when that side is not a pod (a hostNetwork pod is its node's traffic)."""
    dst = subject if direction == "Ingress" else peer
    return dst.pod if dst.kind == POD else None


def effective_tiers(cluster: Cluster) -> list[Tier]:
    """Every tier in evaluation order: the built-in ones, those the input declares, and
    those only a policy names (Deny by default, after every ordered tier). A declared
    built-in tier keeps its place (the default tier stays between the admin and baseline
    tiers, spec 6.3); only its default action is taken."""
    tiers = {t.name: t for t in BUILTIN_TIERS}
    for declared in cluster.tiers:
        builtin = tiers.get(declared.name)
        tiers[declared.name] = (
            declared
            if builtin is None
            else replace(builtin, default_action=declared.default_action, source=declared.source)
        )
    for policy in cluster.tiered_policies:
        tiers.setdefault(policy.tier, Tier(policy.tier, None, DENY))
    return sorted(tiers.values(), key=lambda t: t.sort_key)


def policy_matches(policy: TieredPolicy) -> Iterator[EndpointMatch]:
    """The subject and every peer and local match of ``policy``."""
    yield policy.subject
    for rule in policy.ingress + policy.egress:
        if rule.local is not None:
            yield rule.local
        yield from rule.peers


def tiered_blocks(policies: Iterable[TieredPolicy]) -> list[IPBlock]:
    """Every network the policies mention, as blocks for the IP atoms; an IP-family match
    adds both whole families, so no class mixes IPv4 and IPv6 addresses."""
    blocks = []
    for policy in policies:
        for match in policy_matches(policy):
            blocks += [IPBlock(str(net), net) for net in match.networks()]
            if match.ip_version is not None:
                blocks += [IPBlock(str(net), net) for net in WHOLE_FAMILIES]
    return blocks


def _calico(selector: Selector) -> bool:
    return isinstance(selector, CalicoSelector)


def _protocols(entry: PolicyPort) -> tuple[str, ...]:
    return PROTOCOLS if entry.protocol == ANY_PROTOCOL else (entry.protocol,)


__all__ = [
    "ALLOW",
    "DENY",
    "LOG",
    "NETWORK_POLICIES",
    "PASS",
    "CompiledTierRule",
    "CompiledTieredPolicy",
    "Decision",
    "RuleMiss",
    "TierPlan",
    "TieredModel",
    "TieredOutcome",
]
