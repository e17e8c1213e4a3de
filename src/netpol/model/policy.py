"""NetworkPolicy after API-server defaulting (spec section 1.2)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from netpol.model.selectors import LabelSelector
from netpol.model.source import GENERATED, Source

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class IPBlock:
    """``cidr`` minus every ``except``; texts as written, networks masked as Go's ParseCIDR."""

    cidr: str
    network: IPNetwork
    except_: tuple[str, ...] = ()
    except_networks: tuple[IPNetwork, ...] = ()

    def contains(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if ip.version != self.network.version or ip not in self.network:
            return False
        return not any(ip in x for x in self.except_networks if x.version == ip.version)

    def text(self) -> str:
        if not self.except_:
            return self.cidr
        return f"{self.cidr} except {', '.join(self.except_)}"


@dataclass(frozen=True, slots=True)
class Peer:
    """One ``from``/``to`` item. ``None`` selectors are "field not used", ``{}`` is "all"."""

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None

    def text(self) -> str:
        """``namespaceSelector a=b AND podSelector c=d`` or ``ipBlock 10.0.0.0/8 except ...``."""
        if self.ip_block is not None:
            return f"ipBlock {self.ip_block.text()}"
        parts = []
        if self.namespace_selector is not None:
            parts.append(f"namespaceSelector {self.namespace_selector.text()}")
        if self.pod_selector is not None:
            parts.append(f"podSelector {self.pod_selector.text()}")
        return " AND ".join(parts)


@dataclass(frozen=True, slots=True)
class PolicyPort:
    """Protocol is already defaulted to TCP; ``port`` is an int, a port name, or None (all)."""

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None
    protocol_defaulted: bool = field(default=False, compare=False)  # D1 chose TCP

    @property
    def is_named(self) -> bool:
        return isinstance(self.port, str)

    def text(self) -> str:
        if self.port is None:
            return f"{self.protocol} (all ports)"
        if self.end_port is not None:
            return f"{self.port}-{self.end_port}/{self.protocol}"
        return f"{self.port}/{self.protocol}"


@dataclass(frozen=True, slots=True)
class Rule:
    """An ingress or egress rule: empty ``peers`` matches everyone, empty ``ports`` everything."""

    peers: tuple[Peer, ...] = ()
    ports: tuple[PolicyPort, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    namespace: str
    name: str
    pod_selector: LabelSelector
    policy_types: tuple[str, ...]  # defaulted (D2); duplicates collapsed
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    policy_types_defaulted: bool = False  # True when D2 chose the types
    # spec fields the manifest writes (non-null): absent and empty lists mean the same to
    # the API server but not to a reader, e.g. `egress: []` without policyTypes
    written: frozenset[str] = field(default=frozenset(), compare=False)
    annotations: tuple[tuple[str, str], ...] = ()
    source: Source = GENERATED

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def isolates_ingress(self) -> bool:
        return "Ingress" in self.policy_types

    @property
    def isolates_egress(self) -> bool:
        return "Egress" in self.policy_types

    def rules(self, direction: str) -> tuple[Rule, ...]:
        """Rules that count for ``direction`` ("Ingress"/"Egress"): none unless it is a policy type."""
        if direction not in self.policy_types:
            return ()
        return self.ingress if direction == "Ingress" else self.egress


def default_policy_types(types: tuple[str, ...] | None, has_egress: bool) -> tuple[str, ...]:
    """D2: no types given -> Ingress, plus Egress iff the egress list is non-empty."""
    if types:
        return tuple(dict.fromkeys(types))
    return ("Ingress", "Egress") if has_egress else ("Ingress",)
