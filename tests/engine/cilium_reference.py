"""A deliberately naive Cilium evaluator, transcribed from the reference algorithm of
docs/cilium.md (Cilium semantics §10), with the rewriting of §3, the service resolution of
§4.4 and the NetworkPolicy translation of §8 it refers to.

It shares nothing with ``netpol.engine``: it reads the model objects (``model.cilium``,
``model.policy``), builds Cilium's identities (§2) and entries (§6) itself, matches
source-prefixed selectors, entities and CIDRs with its own code, and answers one question
at a time (is this protocol/port allowed from A to B?). Only the endpoint records and the
port-space cutting of the NetworkPolicy reference are borrowed. Slow and obvious on
purpose; the property tests hold the engine to it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

from netpol.model.cilium import CCNP_KIND, CIDRRule, CiliumEntry, CiliumPolicy, CiliumRule
from netpol.model.cluster import Cluster
from netpol.model.objects import Pod
from netpol.model.policy import NetworkPolicy, Peer, PolicyPort
from netpol.model.selectors import LabelSelector

from . import reference
from .reference import Ep

ALL_L4 = ("TCP", "UDP", "SCTP")
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
NAMESPACE_KEY = "io.kubernetes.pod.namespace"
NAMESPACE_LABELS = "io.cilium.k8s.namespace.labels."


@dataclass(frozen=True)
class Knobs:
    """The profile knobs of §10, at their Cilium v1.20 defaults."""

    cluster_name: str = "default"
    allow_localhost: bool = True
    cidr_matches_nodes: bool = False
    cidr_matches_pods: bool = False
    non_default_deny_policies: bool = True
    knp_honours_policy_types: bool = False


Label = tuple[str, str, str]  # (source, key, value); reserved labels have value ""
Term = tuple[str, str, str, tuple[str, ...]]  # (source, key, operator, values)

# --- §2.2 identity labels ------------------------------------------------------------------

DROPPED_PREFIXES = (
    "io.kubernetes",
    "kubernetes.io",
    "k8s.io",
    "topology.kubernetes.io",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "batch.kubernetes.io/job-completion-index",
    "batch.kubernetes.io/controller-uid",
    "annotation",
)
DROPPED_KEYS = (
    "pod-template-hash",
    "pod-template-generation",
    "controller-revision-hash",
    "controller-uid",
    "etcd_node",
)


def identity_relevant(key: str) -> bool:
    if key.startswith("app.kubernetes.io/"):
        return True  # the longest matching include beats the ignores
    if "beta.kubernetes.io" in key or key in DROPPED_KEYS:
        return False
    return not key.startswith(DROPPED_PREFIXES)


def pod_identity(cluster: Cluster, knobs: Knobs, pod: Pod) -> frozenset[Label]:
    labels = {
        ("k8s", k, v)
        for k, v in pod.labels.items()
        if not k.startswith("io.cilium.k8s") and identity_relevant(k)
    }
    labels |= {
        ("k8s", NAMESPACE_LABELS + k, v)
        for k, v in reference.ns_labels(cluster, pod.namespace).items()
    }
    labels |= {
        ("k8s", NAMESPACE_KEY, pod.namespace),
        ("k8s", "io.cilium.k8s.policy.serviceaccount", pod.service_account or "default"),
        ("k8s", "io.cilium.k8s.policy.cluster", knobs.cluster_name),
    }
    return frozenset(labels)


def apiserver_ips(cluster: Cluster) -> frozenset[str]:
    """KIND's layout: the API server runs on the control-plane node(s)."""
    return frozenset(ip for n in cluster.nodes if CONTROL_PLANE_LABEL in n.labels for ip in n.ips)


def is_pod(ep: Ep) -> bool:
    """A Cilium endpoint: a pod that is not hostNetwork."""
    return ep.kind == "pod"


def peer_identity(cluster: Cluster, knobs: Knobs, ep: Ep, viewer_node: str) -> frozenset[Label]:
    """§2.3: what a peer looks like to the agent on ``viewer_node``."""
    if is_pod(ep):
        assert ep.pod is not None
        return pod_identity(cluster, knobs, ep.pod)
    ids: set[Label] = set()
    if ep.ip in apiserver_ips(cluster):
        ids.add(("reserved", "kube-apiserver", ""))
    if ep.kind == "node":
        return frozenset(
            ids | {("reserved", "host" if ep.node == viewer_node else "remote-node", "")}
        )
    version = ipaddress.ip_address(ep.ip).version
    return frozenset(ids | {("reserved", "world", ""), ("reserved", f"world-ipv{version}", "")})


# --- §2.1 / §3 selectors -------------------------------------------------------------------

_SOURCE = re.compile(r"[A-Za-z0-9]+")


def split_key(key: str, default_source: str) -> tuple[str, str]:
    """``k8s:app`` -> (k8s, app); ``$host`` -> (reserved, host); ``app`` -> (default, app)."""
    if key.startswith("$"):
        return "reserved", key[1:]
    source, sep, rest = key.partition(":")
    if sep and _SOURCE.fullmatch(source):
        return source, rest
    return default_source, key


def terms(selector: LabelSelector, default_source: str) -> list[Term]:
    found: list[Term] = []
    for key, value in selector.match_labels:
        found.append((*split_key(key, default_source), "In", (value,)))
    for r in selector.match_expressions:
        found.append((*split_key(r.key, default_source), r.operator, tuple(r.values)))
    return found


def term_holds(term: Term, ids: frozenset[Label]) -> bool:
    source, key, operator, values = term
    seen = {v for s, k, v in ids if k == key and (source == "any" or s == source)}
    if operator == "In":
        return bool(seen & set(values))
    if operator == "NotIn":
        return not seen & set(values)
    if operator == "Exists":
        return bool(seen)
    assert operator == "DoesNotExist", operator
    return not seen


def holds(selector_terms: Iterable[Term], ids: frozenset[Label]) -> bool:
    return all(term_holds(t, ids) for t in selector_terms)


def subject_terms(policy: CiliumPolicy, selector: LabelSelector) -> list[Term]:
    """§3.1: a CNP's subject is confined to its namespace; a CCNP's is not."""
    if policy.kind == CCNP_KIND:
        return terms(selector, "any")
    assert policy.namespace is not None
    # written as k8s:io.kubernetes.pod.namespace in matchLabels, the agent overwrites it
    kept = tuple(
        (k, v) for k, v in selector.match_labels if split_key(k, "any") != ("k8s", NAMESPACE_KEY)
    )
    written = terms(LabelSelector(kept, selector.match_expressions), "any")
    return [*written, ("k8s", NAMESPACE_KEY, "In", (policy.namespace,))]


def peer_terms(policy: CiliumPolicy, selector: LabelSelector) -> list[Term]:
    """§3.2: the namespace a peer selector implicitly names."""
    written = terms(selector, "any")
    if any(t[0] == "reserved" for t in written):
        return written
    if any(t[1] == NAMESPACE_KEY and t[0] in ("k8s", "any") for t in written):
        return written
    if policy.kind != CCNP_KIND:
        if any(t[1].startswith(NAMESPACE_LABELS) for t in written):
            return written  # §11.2: the code, not the docs
        assert policy.namespace is not None
        return [*written, ("k8s", NAMESPACE_KEY, "In", (policy.namespace,))]
    return [*written, ("k8s", NAMESPACE_KEY, "Exists", ())]


# --- peers (§3, §4) and entries (§6) ------------------------------------------------------


@dataclass(frozen=True)
class RefPeer:
    """One L3 peer of an entry: ``kind`` wildcard, selector, entity, cidr or unresolved."""

    kind: str
    selector: tuple[Term, ...] = ()
    entity: str = ""
    cidrs: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    excepts: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()


WILDCARD = RefPeer("wildcard")
UNRESOLVED = RefPeer("unresolved")  # toFQDNs, toGroups: nothing provable offline (§4.5)

PortEntry = tuple[str, int, int, str]  # (protocol, port (0 = every port), end port, name)


@dataclass
class Entry:
    origin: str  # for failure messages: "CNP ns/x spec.ingressDeny[0]"
    direction: str  # "Ingress" or "Egress"
    deny: bool
    default_deny: bool
    subject: tuple[Term, ...]  # after §3.1 (CNP) or §8 (NetworkPolicy) rewriting
    peers: list[RefPeer] | None  # None: an explicit empty peer list (matches nothing)
    ports: list[PortEntry] | None  # None: no toPorts and no icmps
    cache: dict[tuple[str, str, str, str], bool] = field(default_factory=dict)


def cidr_peer(cluster: Cluster, rule: CIDRRule) -> RefPeer:
    """§4.2/§4.3: a prefix or the prefixes of CiliumCIDRGroups, less its own excepts."""
    if rule.cidr is not None:
        cidrs: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (rule.cidr,)
    elif rule.group_ref is not None:
        cidrs = tuple(c for g in cluster.cidr_groups if g.name == rule.group_ref for c in g.cidrs)
    else:
        assert rule.group_selector is not None
        group_terms = terms(rule.group_selector, "any")
        cidrs = tuple(
            c
            for g in cluster.cidr_groups
            if holds(group_terms, frozenset(("k8s", k, v) for k, v in g.labels))
            for c in g.cidrs
        )
    return RefPeer("cidr", cidrs=cidrs, excepts=rule.excepts)


def service_peers(cluster: Cluster, entry: CiliumEntry) -> list[RefPeer]:
    """§4.4: the backing pods of every selected Service that has a selector (manual
    Endpoints are not in the model, so a selector-less Service adds no peer)."""
    found = []
    for ref in entry.services or ():
        for s in cluster.services:
            if ref.namespace is not None and s.namespace != ref.namespace:
                continue
            if ref.name is not None and s.name != ref.name:
                continue
            if ref.name is None:
                continue  # k8sServiceSelector: Service labels are not in the model
            if s.selector is None:
                continue
            selector = [("k8s", k, "In", (v,)) for k, v in sorted(s.selector.items())]
            found.append(
                RefPeer("selector", (*selector, ("k8s", NAMESPACE_KEY, "In", (s.namespace,))))
            )
    return found


def cilium_peers(cluster: Cluster, policy: CiliumPolicy, e: CiliumEntry) -> list[RefPeer] | None:
    if any(f == () for f in (e.endpoints, e.entities, e.cidrs, e.nodes)):
        return None  # §3.3: present and empty selects nothing
    peers = [RefPeer("selector", tuple(peer_terms(policy, s))) for s in e.endpoints or ()]
    peers += [RefPeer("entity", entity=name) for name in e.entities or ()]
    peers += [cidr_peer(cluster, c) for c in e.cidrs or ()]
    peers += service_peers(cluster, e)
    peers += [UNRESOLVED for _ in e.fqdns or ()]
    peers += [UNRESOLVED for _ in range(e.groups or 0)]
    peers += [UNRESOLVED for _ in e.nodes or ()]  # fromNodes: out of scope by default (§4.6)
    return peers


def cilium_ports(e: CiliumEntry) -> list[PortEntry] | None:
    """§5: ANY is TCP, UDP and SCTP; ``"0"`` every port; an ``endPort`` above a numeric
    port a range; a name a named port; ICMP entries never match TCP/UDP/SCTP."""
    if e.port_rules is None and e.icmp_types is None:
        return None
    found: list[PortEntry] = []
    for rule in e.port_rules or ():
        for p in rule.ports:
            protocols = ALL_L4 if p.protocol == "ANY" else (p.protocol,)
            for proto in protocols:
                if not p.port.isdigit():
                    found.append((proto, 0, 0, p.port.lower()))
                else:
                    found.append((proto, int(p.port), p.end_port or 0, ""))
    found += [("ICMP", 0, 0, "") for _ in e.icmp_types or ()]
    return found


def rule_default_deny(knobs: Knobs, rule: CiliumRule, direction: str) -> bool:
    """§1.4: absent -> on iff the rule has an allow or deny entry of that direction."""
    if not knobs.non_default_deny_policies:
        return True
    written = rule.default_deny_ingress if direction == "Ingress" else rule.default_deny_egress
    if written is not None:
        return written
    return any(e.direction == direction for e in rule.entries)


def cilium_entries(cluster: Cluster, knobs: Knobs, policy: CiliumPolicy) -> list[Entry]:
    found = []
    for rule in policy.rules:
        if rule.endpoint_selector is None:
            continue  # a host policy (nodeSelector) never selects a pod (§1.3)
        subject = tuple(subject_terms(policy, rule.endpoint_selector))
        for e in rule.entries:
            found.append(
                Entry(
                    f"{policy.kind} {policy.namespace}/{policy.name} {rule.path}.{e.section}[{e.index}]",
                    e.direction,
                    e.deny,
                    rule_default_deny(knobs, rule, e.direction),
                    subject,
                    cilium_peers(cluster, policy, e),
                    cilium_ports(e),
                )
            )
    return found


# --- §8 NetworkPolicy as Cilium enforces it -------------------------------------------------


def knp_peer(policy: NetworkPolicy, peer: Peer) -> RefPeer:
    if peer.ip_block is not None:
        block = peer.ip_block
        return RefPeer("cidr", cidrs=(block.network,), excepts=block.except_networks)
    pod_terms = terms(peer.pod_selector, "k8s") if peer.pod_selector is not None else []
    if peer.namespace_selector is None:
        return RefPeer("selector", (*pod_terms, ("k8s", NAMESPACE_KEY, "In", (policy.namespace,))))
    ns_terms = [
        ("k8s", NAMESPACE_LABELS + key, op, values)
        for _, key, op, values in terms(peer.namespace_selector, "k8s")
    ]
    if not ns_terms:
        ns_terms = [("k8s", NAMESPACE_KEY, "Exists", ())]
    return RefPeer("selector", (*ns_terms, *pod_terms))


def knp_ports(ports: Iterable[PolicyPort]) -> list[PortEntry] | None:
    found: list[PortEntry] = []
    for p in ports:
        if p.port is None:
            found.append((p.protocol, 0, 0, ""))
        elif isinstance(p.port, str):
            found.append((p.protocol, 0, 0, p.port.lower()))
        else:
            found.append((p.protocol, p.port, p.end_port or 0, ""))
    return found or None


def knp_entries(cluster: Cluster, knobs: Knobs, policy: NetworkPolicy) -> list[Entry]:
    subject = (
        *terms(policy.pod_selector, "k8s"),
        ("k8s", NAMESPACE_KEY, "In", (policy.namespace,)),
    )
    types = policy.policy_types
    found = []
    for direction, rules in (("Ingress", policy.ingress), ("Egress", policy.egress)):
        if knobs.knp_honours_policy_types and direction not in types:
            continue
        for i, rule in enumerate(rules):
            peers = [knp_peer(policy, p) for p in rule.peers] or [WILDCARD]
            origin = f"NetworkPolicy {policy.namespace}/{policy.name} {direction.lower()}[{i}]"
            found.append(
                Entry(origin, direction, False, True, subject, peers, knp_ports(rule.ports))
            )
        isolates = direction in types or (direction == "Ingress" and "Egress" not in types)
        if not rules and isolates:  # the default-deny entry: matches nothing
            origin = f"NetworkPolicy {policy.namespace}/{policy.name} default deny"
            found.append(Entry(origin, direction, False, True, subject, None, None))
    return found


# --- §10 --------------------------------------------------------------------------------


class CiliumReference:
    """The entries of one cluster, and ``allowed`` over them."""

    def __init__(self, cluster: Cluster, knobs: Knobs = Knobs()) -> None:
        self.cluster = cluster
        self.knobs = knobs
        self.entries: list[Entry] = []
        self._identities: dict[str, frozenset[Label]] = {}
        self._applying: dict[tuple[str, str], list[Entry]] = {}
        self._cuts: dict[str, list[int]] = {}
        for cp in cluster.cilium_policies:
            self.entries += cilium_entries(cluster, knobs, cp)
        for np in cluster.policies:
            self.entries += knp_entries(cluster, knobs, np)

    def entity_matches(self, name: str, ids: frozenset[Label]) -> bool:
        names = {k for s, k, _ in ids if s == "reserved"}
        if name == "all":
            return True
        if name == "cluster":
            is_a_pod = any(k == NAMESPACE_KEY for _, k, _ in ids)
            return is_a_pod or bool(names & {"host", "remote-node", "kube-apiserver"})
        return name in names  # world, world-ipv4/6, host, remote-node, kube-apiserver

    def peer_matches(self, p: RefPeer, peer: Ep, ids: frozenset[Label]) -> bool:
        if p.kind == "wildcard":
            return True
        if p.kind == "selector":
            return holds(p.selector, ids)
        if p.kind == "entity":
            return self.entity_matches(p.entity, ids)
        if p.kind == "cidr":
            world = ("reserved", "world", "") in ids
            if (
                not world
                and not (self.knobs.cidr_matches_nodes and peer.kind == "node")
                and not (self.knobs.cidr_matches_pods and is_pod(peer))
            ):
                return False
            ip = ipaddress.ip_address(peer.ip)
            inside = [c for c in p.cidrs if c.version == ip.version and ip in c]
            return bool(inside) and not any(x.version == ip.version and ip in x for x in p.excepts)
        return False  # unresolved

    def l3_matches(self, e: Entry, peer: Ep, viewer_node: str) -> bool:
        key = (peer.kind, peer.ip, peer.pod.id if peer.pod else "", viewer_node)
        if key not in e.cache:
            peers = e.peers or ([WILDCARD] if e.ports is not None else [])
            ids = peer_identity(self.cluster, self.knobs, peer, viewer_node)
            e.cache[key] = any(self.peer_matches(p, peer, ids) for p in peers)
        return e.cache[key]

    def entry_matches(
        self, e: Entry, peer: Ep, proto: str, port: int, dst_pod: Pod | None, viewer_node: str
    ) -> bool:
        if e.peers is None:
            return False
        if not self.l3_matches(e, peer, viewer_node):
            return False
        if e.ports is None:
            return True  # L3-only: every protocol
        for p_proto, p, end, name in e.ports:
            if p_proto != proto:
                continue
            if name:
                if dst_pod is not None and any(
                    (cp.name or "").lower() == name and cp.protocol == proto and cp.port == port
                    for cp in dst_pod.container_ports
                ):
                    return True
            elif p == 0 or port == p or (end > p and p <= port <= end):
                return True
        return False

    def side(self, pod: Pod, peer: Ep, d: str, proto: str, port: int) -> bool:
        """§7.2 for the subject ``pod`` in direction ``d``."""
        es = self.applying(pod, d)
        if not es:
            return True
        dd = any(e.default_deny for e in es)
        dst_pod = pod if d == "Ingress" else (peer.pod if is_pod(peer) else None)
        if any(e.deny and self.entry_matches(e, peer, proto, port, dst_pod, pod.node) for e in es):
            return False
        if any(
            not e.deny and self.entry_matches(e, peer, proto, port, dst_pod, pod.node) for e in es
        ):
            return True
        if (
            d == "Ingress"
            and dd
            and peer.kind == "node"
            and peer.node == pod.node
            and self.knobs.allow_localhost
        ):
            return True
        return not dd

    def allowed(self, src: Ep, dst: Ep, proto: str, port: int) -> bool:
        """§7.3, with §7.5: a pod reaching itself is not subject to policy."""
        if src.is_same_pod(dst):
            return True
        egress = self.side(src.pod, dst, "Egress", proto, port) if is_pod(src) and src.pod else True
        return egress and (
            self.side(dst.pod, src, "Ingress", proto, port) if is_pod(dst) and dst.pod else True
        )

    def identity(self, pod: Pod) -> frozenset[Label]:
        if pod.id not in self._identities:
            self._identities[pod.id] = pod_identity(self.cluster, self.knobs, pod)
        return self._identities[pod.id]

    def applying(self, pod: Pod, d: str) -> list[Entry]:
        """§7.1: the entries of direction ``d`` whose subject selects ``pod``."""
        if (pod.id, d) not in self._applying:
            ids = self.identity(pod)
            self._applying[pod.id, d] = [
                e for e in self.entries if e.direction == d and holds(e.subject, ids)
            ]
        return self._applying[pod.id, d]

    def cut_points(self, proto: str) -> list[int]:
        """Ports where an answer can change: the NetworkPolicy reference's cuts (their
        ports, declared container ports) and every Cilium port bound."""
        if proto in self._cuts:
            return self._cuts[proto]
        cuts = set(reference.cut_points(self.cluster, proto))
        for e in self.entries:
            for p_proto, p, end, name in e.ports or ():
                if p_proto == proto and not name and p:
                    cuts.update((p, max(end, p) + 1))
        self._cuts[proto] = sorted(cuts)
        return self._cuts[proto]

    def allowed_intervals(self, src: Ep, dst: Ep) -> dict[str, list[tuple[int, int]]]:
        """Per protocol, the merged port intervals ``allowed`` says yes to."""
        return {
            proto: reference.spans(self.cut_points(proto), partial(self.allowed, src, dst, proto))
            for proto in ALL_L4
        }
