"""Every allow and deny entry under Cilium, written as one comparable shape (a *grant*):
who it applies to, which peers and which ports it matches (Cilium semantics §3, §6, §8).

The Cilium checks ask "does this entry cover that one?" (a deny covering an allow, an L4
allow covering an L7 one, a DNS rule covering an FQDN rule's pods). The answers here are
read off the manifests, never off pods: every selector becomes a set of label
requirements with the namespace term Cilium adds (Cilium semantics §3.1, §3.2), and one
set covers another when each of its requirements follows from the other's. That is sufficient, not
necessary: a "yes" is always right, a "no" may miss a cover that only the pods of the
input would show. So the checks built on it never report what is not there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network

from netpol.model.cilium import (
    ANY_PROTOCOL_NAME,
    CCNP_KIND,
    CIDRRule,
    CiliumEntry,
    CiliumPolicy,
    CiliumRule,
)
from netpol.model.policy import IPNetwork, NetworkPolicy, Peer, PolicyPort, Rule
from netpol.model.selectors import LabelSelector
from netpol.model.source import Source

NAMESPACE_KEY = "io.kubernetes.pod.namespace"
NAMESPACE_LABELS = "io.cilium.k8s.namespace.labels."
METADATA_NAME = NAMESPACE_LABELS + "kubernetes.io/metadata.name"  # = the namespace's name
L4_PROTOCOLS = ("TCP", "UDP", "SCTP")
# what the entity `cluster` stands for besides every pod (§4.1)
CLUSTER_ENTITIES = frozenset(
    {"cluster", "host", "remote-node", "health", "init", "ingress", "unmanaged"}
)

Req = tuple[str, str, tuple[str, ...]]  # (key without k8s:/any:, operator, sorted values)
Selector = frozenset[Req]  # requirements, ANDed


def requirements(selector: LabelSelector) -> Selector:
    """The selector's requirements, keys without the ``k8s:``/``any:`` source (pod labels
    come from Kubernetes, so both match them alike); ``$host`` is ``reserved:host``."""
    found = set()
    for r in selector.requirements():
        key = r.key
        for prefix in ("k8s:", "any:"):
            if key.startswith(prefix):
                key = key[len(prefix) :]
        if key == "$host":
            key = "reserved:host"
        if key == METADATA_NAME:
            key = NAMESPACE_KEY
        found.add((key, r.operator, tuple(sorted(set(r.values)))))
    return frozenset(found)


def in_namespace(namespace: str) -> Req:
    return (NAMESPACE_KEY, "In", (namespace,))


ANY_NAMESPACE: Req = (NAMESPACE_KEY, "Exists", ())


def _follows(have: Selector, need: Req) -> bool:
    """Whether every label set meeting ``have`` meets ``need``."""
    if need in have:
        return True
    key, operator, values = need
    for k, op, vals in have:
        if k != key:
            continue
        if operator == "Exists" and op == "In" and vals:
            return True
        if operator == "In" and op == "In" and set(vals) <= set(values):
            return True
        if operator == "NotIn" and (
            (op == "NotIn" and set(values) <= set(vals))
            or (op == "In" and not set(vals) & set(values))
        ):
            return True
    return False


def selector_covers(big: Selector, small: Selector) -> bool:
    """Whether everything ``small`` selects, ``big`` selects too (each of ``big``'s
    requirements follows from ``small``'s)."""
    return all(_follows(small, need) for need in big)


def _is_reserved(selector: Selector) -> bool:
    return any(key.startswith("reserved:") for key, _, _ in selector)


@dataclass(frozen=True, slots=True)
class PortItem:
    """One protocol and a port range, or a port name (lower case)."""

    protocol: str
    low: int = 0
    high: int = 65535
    name: str | None = None

    def within(self, other: PortItem) -> bool:
        if self.protocol != other.protocol:
            return False
        if other.name is None and other.low == 0 and other.high == 65535:
            return True
        if self.name is not None or other.name is not None:
            return self.name == other.name
        return other.low <= self.low and self.high <= other.high


@dataclass(frozen=True, slots=True)
class Ports:
    """What an entry matches at L4: ``every`` (no toPorts and no icmps: every protocol and
    port, ICMP included), or its port items and ICMP types."""

    every: bool
    items: tuple[PortItem, ...] = ()
    icmps: frozenset[str] = frozenset()

    @property
    def nothing(self) -> bool:
        return not self.every and not self.items and not self.icmps

    def within(self, other: Ports) -> bool:
        if other.every:
            return True
        if self.every:
            return False
        return self.icmps <= other.icmps and all(
            any(item.within(o) for o in other.items) for item in self.items
        )

    def text(self) -> str:
        if self.every:
            return "every port"
        shown = [_port_text(i) for i in self.items] + [f"ICMP {t}" for t in sorted(self.icmps)]
        return ", ".join(dict.fromkeys(shown))


def _port_text(item: PortItem) -> str:
    if item.name is not None:
        return f"{item.name}/{item.protocol}"
    if (item.low, item.high) == (0, 65535):
        return f"every {item.protocol} port"
    if item.low == item.high:
        return f"{item.low}/{item.protocol}"
    return f"{item.low}-{item.high}/{item.protocol}"


def cilium_port_items(entry_ports: Iterator[tuple[str, str, int | None]]) -> tuple[PortItem, ...]:
    """(port, protocol, endPort) as written -> items, ``ANY`` spread over TCP, UDP, SCTP."""
    found = []
    for port, protocol, end_port in entry_ports:
        protocols = L4_PROTOCOLS if protocol == ANY_PROTOCOL_NAME else (protocol,)
        for proto in protocols:
            if not port.isdigit():
                found.append(PortItem(proto, name=port.lower()))
            elif int(port) == 0:
                found.append(PortItem(proto))
            else:
                low = int(port)
                high = end_port if end_port is not None and end_port > low else low
                found.append(PortItem(proto, low, high))
    return tuple(found)


def _knp_port_items(ports: tuple[PolicyPort, ...]) -> tuple[PortItem, ...]:
    found = []
    for p in ports:
        if p.port is None:
            found.append(PortItem(p.protocol))
        elif isinstance(p.port, str):
            found.append(PortItem(p.protocol, name=p.port.lower()))
        else:
            found.append(PortItem(p.protocol, p.port, p.end_port or p.port))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Peers:
    """Whom an entry matches: ``every`` identity, or the union of its parts."""

    every: bool = False
    nothing: bool = False
    selectors: tuple[Selector, ...] = ()
    entities: frozenset[str] = frozenset()
    cidrs: tuple[CIDRRule, ...] = ()
    fqdns: frozenset[str] = frozenset()
    services: frozenset[object] = frozenset()
    opaque: bool = False  # cloud groups, node selectors: never known to be covered

    def within(self, other: Peers) -> bool:
        if other.every:
            return True
        if self.every or self.opaque:
            return False
        world = "world" in other.entities
        return (
            all(_selector_within(s, other) for s in self.selectors)
            and all(_entity_within(e, other.entities) for e in self.entities)
            and all(world or any(_cidr_within(c, o) for o in other.cidrs) for c in self.cidrs)
            and (world or self.fqdns <= other.fqdns)
            and self.services <= other.services
        )


def _selector_within(selector: Selector, other: Peers) -> bool:
    if "cluster" in other.entities and not _is_reserved(selector):
        return True
    return any(selector_covers(o, selector) for o in other.selectors)


def _entity_within(entity: str, entities: frozenset[str]) -> bool:
    if entity in entities:
        return True
    if entity in CLUSTER_ENTITIES and "cluster" in entities:
        return True
    return entity in ("world-ipv4", "world-ipv6") and "world" in entities


def _cidr_within(small: CIDRRule, big: CIDRRule) -> bool:
    if small.cidr is None or big.cidr is None:
        return (small.group_ref, small.group_selector, small.excepts) == (
            big.group_ref,
            big.group_selector,
            big.excepts,
        ) and (small.group_ref is not None or small.group_selector is not None)
    if not subnet(small.cidr, big.cidr):
        return False
    for cut in big.excepts:
        if cut.version != small.cidr.version or not cut.overlaps(small.cidr):
            continue
        if not any(subnet(cut, mine) for mine in small.excepts):
            return False  # the big rule leaves out part of what the small one matches
    return True


def subnet(small: IPNetwork, big: IPNetwork) -> bool:
    """``small`` lies inside ``big`` (False across address families)."""
    if isinstance(small, IPv4Network) and isinstance(big, IPv4Network):
        return small.subnet_of(big)
    if isinstance(small, IPv6Network) and isinstance(big, IPv6Network):
        return small.subnet_of(big)
    return False


def endpoint_selector(selector: LabelSelector, kind: str, namespace: str | None) -> Selector:
    """A ``fromEndpoints``/``toEndpoints`` item with the namespace term Cilium adds (§3.2)."""
    found = requirements(selector)
    keys = {key for key, _, _ in found}
    if _is_reserved(found) or NAMESPACE_KEY in keys:
        return found
    if kind == CCNP_KIND or namespace is None:
        return found | {ANY_NAMESPACE}
    if any(key.startswith(NAMESPACE_LABELS) for key in keys):
        return found  # §11.2: the v1.20 parser drops the namespace term
    return found | {in_namespace(namespace)}


def subject_selector(rule: CiliumRule, policy: CiliumPolicy) -> Selector | None:
    """The pods a rule applies to (None for a host policy: it selects nodes, §1.3)."""
    if rule.endpoint_selector is None:
        return None
    found = requirements(rule.endpoint_selector)
    if policy.namespace is None:
        return found
    # a CNP always selects in its namespace; a written namespace term is overwritten or
    # selects nothing (§3.1): either way it adds nothing a cover could use
    return frozenset(r for r in found if r[0] != NAMESPACE_KEY) | {in_namespace(policy.namespace)}


@dataclass(frozen=True, slots=True)
class Grant:
    """One allow or deny entry of a CNP, a CCNP or a NetworkPolicy rule, comparable."""

    label: str  # "CiliumNetworkPolicy x/web ingress[0]"
    obj: str  # the finding's object: the policy id
    policy_id: str
    source: Source
    field: str  # "spec.ingress[0]"
    direction: str  # "Ingress" / "Egress"
    deny: bool
    subject: Selector
    peers: Peers
    ports: Ports  # every port rule, L7 or not
    l4_ports: Ports  # the port rules without L7 parts (what allows at L4 only)
    # (toPorts index, L7 kinds, ports) of each port rule with L7 parts
    l7: tuple[tuple[int, str, Ports], ...] = ()
    entry: CiliumEntry | None = None
    policy: CiliumPolicy | None = None

    @property
    def nothing(self) -> bool:
        return self.peers.nothing or self.ports.nothing

    def applies_within(self, other: Grant) -> bool:
        """Whether ``other`` applies to every pod this one applies to, same direction."""
        return self.direction == other.direction and selector_covers(other.subject, self.subject)


class SubjectIndex:
    """Grants found by the pods they apply to, without comparing every pair.

    A subject covers another only if each of its requirements follows from one on the
    same key; a single-value ``In`` (what ``matchLabels`` writes) follows only from the
    very same requirement. So each grant is filed under one such requirement of its
    subject (a label other than the namespace when it has one), and the candidates for
    a subject are the grants filed under one of its own requirements, plus the few
    without any (``{}``, expressions only). Each candidate is then checked in full.
    """

    def __init__(self, grants: Iterable[Grant]) -> None:
        self.grants = list(grants)
        self.filed: dict[Req, list[int]] = {}
        self.loose: list[int] = []
        for i, grant in enumerate(self.grants):
            singles = sorted(r for r in grant.subject if r[1] == "In" and len(r[2]) == 1)
            if not singles:
                self.loose.append(i)
                continue
            labels = [r for r in singles if r[0] != NAMESPACE_KEY]
            self.filed.setdefault((labels or singles)[0], []).append(i)

    def covering(self, grant: Grant) -> Iterator[Grant]:
        """The grants of ``grant``'s direction that apply to every pod it applies to,
        in input order."""
        found = set(self.loose)
        for requirement in grant.subject:
            found.update(self.filed.get(requirement, ()))
        for i in sorted(found):
            if grant.applies_within(self.grants[i]):
                yield self.grants[i]


def entry_path(rule: CiliumRule, entry: CiliumEntry) -> str:
    return f"{rule.path}.{entry.section}[{entry.index}]"


def cilium_peers(entry: CiliumEntry, policy: CiliumPolicy) -> Peers:
    if entry.empty_peer_field is not None:
        return Peers(nothing=True)
    if not entry.has_peer_field:
        # L4 only: every peer on those ports; `{}` (nothing at all): nothing (§6.2)
        return Peers(every=True) if entry.has_ports else Peers(nothing=True)
    entities = frozenset(entry.entities or ())
    if "all" in entities:
        return Peers(every=True)
    return Peers(
        selectors=tuple(
            endpoint_selector(s, policy.kind, policy.namespace) for s in entry.endpoints or ()
        ),
        entities=entities,
        cidrs=entry.cidrs or (),
        fqdns=frozenset(f.text() for f in entry.fqdns or ()),
        services=frozenset(entry.services or ()),
        opaque=entry.groups is not None or entry.nodes is not None,
    )


def cilium_ports(entry: CiliumEntry, l4_only: bool = False) -> Ports:
    if not entry.has_ports:
        return Ports(every=True)
    rules = [r for r in entry.port_rules or () if not (l4_only and r.l7)]
    items = cilium_port_items((p.port, p.protocol, p.end_port) for r in rules for p in r.ports)
    return Ports(False, items, frozenset(entry.icmp_types or ()))


def cilium_grants(policies: tuple[CiliumPolicy, ...]) -> Iterator[Grant]:
    """A grant per entry of every pod rule (host policies select nodes: left out)."""
    for policy in policies:
        for rule in policy.rules:
            subject = subject_selector(rule, policy)
            if subject is None:
                continue
            for entry in rule.entries:
                l7 = tuple(
                    (
                        i,
                        ",".join(r.l7),
                        Ports(
                            False,
                            cilium_port_items((p.port, p.protocol, p.end_port) for p in r.ports),
                        ),
                    )
                    for i, r in enumerate(entry.port_rules or ())
                    if r.l7
                )
                yield Grant(
                    label=f"{policy.label} {entry.section}[{entry.index}]",
                    obj=policy.id,
                    policy_id=policy.id,
                    source=policy.source,
                    field=entry_path(rule, entry),
                    direction=entry.direction,
                    deny=entry.deny,
                    subject=subject,
                    peers=cilium_peers(entry, policy),
                    ports=cilium_ports(entry),
                    l4_ports=cilium_ports(entry, l4_only=True),
                    l7=l7,
                    entry=entry,
                    policy=policy,
                )


def _knp_peer(peer: Peer, namespace: str) -> Peers:
    if peer.ip_block is not None:
        block = peer.ip_block
        return Peers(cidrs=(CIDRRule(cidr=block.network, excepts=block.except_networks),))
    pods = requirements(peer.pod_selector) if peer.pod_selector is not None else frozenset()
    if peer.namespace_selector is None:
        return Peers(selectors=(pods | {in_namespace(namespace)},))
    # §8: namespace terms become namespace-label terms; `{}` is every namespace
    spaces = frozenset(
        (NAMESPACE_KEY if key == "kubernetes.io/metadata.name" else NAMESPACE_LABELS + key, op, v)
        for key, op, v in requirements(peer.namespace_selector)
    )
    return Peers(selectors=(pods | (spaces or {ANY_NAMESPACE}),))


def knp_grants(policies: tuple[NetworkPolicy, ...]) -> Iterator[Grant]:
    """A grant per rule of every NetworkPolicy, as Cilium translates it (§8: with the rules
    of every direction it has, policyTypes or not; Cilium <= 1.20.1)."""
    for policy in policies:
        subject = requirements(policy.pod_selector) | {in_namespace(policy.namespace)}
        for direction, rules in (("Ingress", policy.ingress), ("Egress", policy.egress)):
            for index, rule in enumerate(rules):
                yield _knp_grant(policy, subject, direction, index, rule)


def _knp_grant(
    policy: NetworkPolicy, subject: Selector, direction: str, index: int, rule: Rule
) -> Grant:
    if rule.peers:
        parts = [_knp_peer(p, policy.namespace) for p in rule.peers]
        peers = Peers(
            selectors=tuple(s for p in parts for s in p.selectors),
            cidrs=tuple(c for p in parts for c in p.cidrs),
        )
    else:
        peers = Peers(every=True)
    ports = Ports(True) if not rule.ports else Ports(False, _knp_port_items(rule.ports))
    return Grant(
        label=f"NetworkPolicy {policy.id} {direction.lower()}[{index}]",
        obj=f"NetworkPolicy/{policy.id}",
        policy_id=policy.id,
        source=policy.source,
        field=f"spec.{direction.lower()}[{index}]",
        direction=direction,
        deny=False,
        subject=subject,
        peers=peers,
        ports=ports,
        l4_ports=ports,
    )
