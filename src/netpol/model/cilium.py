"""Cilium's own policy kinds as written: CiliumNetworkPolicy (CNP),
CiliumClusterwideNetworkPolicy (CCNP) and CiliumCIDRGroup (docs/cilium.md).

The model stays close to the manifest: selector keys keep their ``source:`` prefix,
"absent" and "present but empty" peer lists stay distinct (a present, empty list makes the
rule match nothing, docs/cilium.md "Empty lists"), and nothing is resolved against the
cluster. ``engine.cilium`` turns these rules into the tiered model, where every verb
evaluates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netpol.model.policy import IPNetwork
from netpol.model.selectors import LabelSelector
from netpol.model.source import GENERATED, Source

CNP_KIND = "CiliumNetworkPolicy"
CCNP_KIND = "CiliumClusterwideNetworkPolicy"
CIDR_GROUP_KIND = "CiliumCIDRGroup"
CILIUM_GROUP = "cilium.io"
CILIUM_KINDS = (CNP_KIND, CCNP_KIND)

INGRESS, INGRESS_DENY, EGRESS, EGRESS_DENY = "ingress", "ingressDeny", "egress", "egressDeny"
SECTIONS = (INGRESS, INGRESS_DENY, EGRESS, EGRESS_DENY)

# the entities of Cilium v1.20 (the CRD enum, plus the two the agent also knows)
ENTITIES = (
    "all",
    "world",
    "cluster",
    "cluster-mesh",
    "host",
    "init",
    "ingress",
    "unmanaged",
    "remote-node",
    "health",
    "none",
    "kube-apiserver",
    "world-ipv4",
    "world-ipv6",
)
ANY_PROTOCOL_NAME = "ANY"  # TCP, UDP and SCTP (never ICMP)


@dataclass(frozen=True, slots=True)
class CiliumPort:
    """One ``toPorts[].ports[]`` item: ``port`` as written (a number, ``"0"`` for every
    port, or a name), ``end_port`` (a range when above a numeric port) and ``protocol``
    (``ANY`` for TCP, UDP and SCTP)."""

    port: str
    protocol: str = ANY_PROTOCOL_NAME
    end_port: int | None = None

    @property
    def is_named(self) -> bool:
        return not self.port.isdigit()

    def text(self) -> str:
        protocol = "" if self.protocol == ANY_PROTOCOL_NAME else f"/{self.protocol}"
        if self.port == "0":
            return f"every port{protocol or ' (TCP, UDP, SCTP)'}"
        if self.end_port is not None and not self.is_named and self.end_port > int(self.port):
            return f"{self.port}-{self.end_port}{protocol}"
        return f"{self.port}{protocol}"


@dataclass(frozen=True, slots=True)
class CiliumPortRule:
    """One ``toPorts`` item: its ports, and the L7 parts that make the proxy filter what
    L4 lets through (``http``, ``dns``, ``kafka``, ``l7proto``, ``serverNames``, TLS,
    ``listener``)."""

    ports: tuple[CiliumPort, ...] = ()
    l7: tuple[str, ...] = ()
    source: Source = GENERATED


@dataclass(frozen=True, slots=True)
class CIDRRule:
    """A ``fromCIDR`` item or a ``fromCIDRSet`` item: one of a prefix, a CiliumCIDRGroup
    name or a selector over CiliumCIDRGroup labels, less its own ``except`` prefixes."""

    cidr: IPNetwork | None = None
    cidr_text: str = ""
    group_ref: str | None = None
    group_selector: LabelSelector | None = None
    excepts: tuple[IPNetwork, ...] = ()
    except_text: tuple[str, ...] = ()
    # where it is written ("spec.egress[0].toCIDRSet[1]"): the two lists share this shape
    path: str = field(default="", compare=False)

    def text(self) -> str:
        if self.cidr is not None:
            base = self.cidr_text or str(self.cidr)
        elif self.group_ref is not None:
            base = f"cidrGroupRef {self.group_ref}"
        else:
            assert self.group_selector is not None
            base = f"cidrGroupSelector {self.group_selector.text()}"
        if self.excepts:
            shown = self.except_text or tuple(map(str, self.excepts))
            return f"{base} except {', '.join(shown)}"
        return base


@dataclass(frozen=True, slots=True)
class ServiceRef:
    """A ``toServices`` item: a Service by name (``k8sService``) or by labels
    (``k8sServiceSelector``); no namespace means every namespace."""

    name: str | None = None
    selector: LabelSelector | None = None
    namespace: str | None = None

    def text(self) -> str:
        where = f"{self.namespace}/" if self.namespace else "*/"
        if self.name is not None:
            return f"service {where}{self.name}"
        assert self.selector is not None
        return f"services {where}{{{self.selector.text()}}}"


@dataclass(frozen=True, slots=True)
class FQDNSelector:
    """A ``toFQDNs`` item: ``matchName`` or ``matchPattern`` (``*`` is any run of DNS
    characters)."""

    match_name: str | None = None
    match_pattern: str | None = None

    def text(self) -> str:
        if self.match_name is not None:
            return self.match_name
        return str(self.match_pattern)


@dataclass(frozen=True, slots=True)
class CiliumEntry:
    """One item of ``ingress``, ``ingressDeny``, ``egress`` or ``egressDeny``.

    Every peer field is None when absent; ``empty_peer_field`` names the first peer list
    written present and empty (``fromEndpoints: []``), which makes the entry match nothing.
    ``port_rules`` is None without ``toPorts``; ``icmp_types`` None without ``icmps``.
    """

    section: str
    index: int
    endpoints: tuple[LabelSelector, ...] | None = None
    entities: tuple[str, ...] | None = None
    cidrs: tuple[CIDRRule, ...] | None = None
    services: tuple[ServiceRef, ...] | None = None
    fqdns: tuple[FQDNSelector, ...] | None = None
    groups: int | None = None  # toGroups/fromGroups: how many (cloud groups, not resolvable)
    nodes: tuple[LabelSelector, ...] | None = None
    empty_peer_field: str | None = None
    port_rules: tuple[CiliumPortRule, ...] | None = None
    icmp_types: tuple[str, ...] | None = None
    authentication: str | None = None
    source: Source = GENERATED

    @property
    def direction(self) -> str:
        return "Ingress" if self.section.startswith("ingress") else "Egress"

    @property
    def deny(self) -> bool:
        return self.section.endswith("Deny")

    @property
    def prefix(self) -> str:
        """``from`` or ``to``: how this entry's peer fields are spelled."""
        return "from" if self.direction == "Ingress" else "to"

    @property
    def has_peer_field(self) -> bool:
        """Whether any L3 field is written (present, empty or not)."""
        return self.empty_peer_field is not None or any(
            f is not None
            for f in (
                self.endpoints,
                self.entities,
                self.cidrs,
                self.services,
                self.fqdns,
                self.groups,
                self.nodes,
            )
        )

    @property
    def has_ports(self) -> bool:
        return self.port_rules is not None or self.icmp_types is not None

    @property
    def l7(self) -> tuple[str, ...]:
        """Every L7 kind its port rules carry, in order, once."""
        found: dict[str, None] = {}
        for rule in self.port_rules or ():
            found.update(dict.fromkeys(rule.l7))
        return tuple(found)

    @property
    def ports(self) -> tuple[CiliumPort, ...]:
        return tuple(p for rule in self.port_rules or () for p in rule.ports)


@dataclass(frozen=True, slots=True)
class CiliumRule:
    """One rule of a policy (``spec``, or an item of ``specs``): its subject, its entries
    and its per-direction default deny as written (None: absent)."""

    path: str  # "spec" or "specs[2]": where field paths of its entries start
    endpoint_selector: LabelSelector | None = None
    node_selector: LabelSelector | None = None
    entries: tuple[CiliumEntry, ...] = ()
    default_deny_ingress: bool | None = None
    default_deny_egress: bool | None = None
    source: Source = GENERATED

    def entries_of(self, direction: str) -> tuple[CiliumEntry, ...]:
        return tuple(e for e in self.entries if e.direction == direction)

    def default_deny(self, direction: str) -> bool:
        """``enableDefaultDeny`` with Cilium v1.20's defaulting: a direction with any allow
        or deny entry defaults to deny; an explicit value is kept."""
        written = self.default_deny_ingress if direction == "Ingress" else self.default_deny_egress
        if written is not None:
            return written
        return bool(self.entries_of(direction))


@dataclass(frozen=True, slots=True)
class CiliumPolicy:
    """A CNP (``namespace`` set) or CCNP (None) with its rules."""

    kind: str
    name: str
    namespace: str | None
    rules: tuple[CiliumRule, ...] = ()
    api_version: str = "cilium.io/v2"
    source: Source = GENERATED

    @property
    def id(self) -> str:
        """``CiliumNetworkPolicy/app1-ns/deny-db``, ``CiliumClusterwideNetworkPolicy/dns``."""
        if self.namespace is None:
            return f"{self.kind}/{self.name}"
        return f"{self.kind}/{self.namespace}/{self.name}"

    @property
    def label(self) -> str:
        """How a decision chain names it: ``CiliumNetworkPolicy app1-ns/deny-db``."""
        if self.namespace is None:
            return f"{self.kind} {self.name}"
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def short_kind(self) -> str:
        return "CNP" if self.kind == CNP_KIND else "CCNP"


@dataclass(frozen=True, slots=True)
class CIDRGroup:
    """A CiliumCIDRGroup: named, labelled external prefixes."""

    name: str
    labels: tuple[tuple[str, str], ...] = ()
    cidrs: tuple[IPNetwork, ...] = ()
    source: Source = GENERATED
