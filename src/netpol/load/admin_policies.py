"""AdminNetworkPolicy, BaselineAdminNetworkPolicy (v1alpha1) and ClusterNetworkPolicy
(v1alpha2) documents -> ``TieredPolicy`` in the admin or baseline tier (spec 6).

What netpol cannot evaluate is kept visible, never widened: a ``domainNames`` peer
matches nothing (no DNS offline), a peer or port of a kind this version does not know
fails closed (spec 6.2), and each such case adds a ``FieldWarning`` to the caller's list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netpol.load.fields import (
    FieldError,
    FieldWarning,
    mapping,
    required_integer,
    sequence,
    string,
    string_map,
    strings,
)
from netpol.load.policies import selector
from netpol.model.cidr import parse_cidr_sloppy
from netpol.model.objects import PROTOCOLS
from netpol.model.policy import IPNetwork, PolicyPort
from netpol.model.selectors import LabelSelector
from netpol.model.source import Source
from netpol.model.tiers import (
    ADMIN_TIER,
    ALLOW,
    ANP_KIND,
    ANY,
    ANY_PROTOCOL,
    BANP_KIND,
    BASELINE_TIER,
    CNP_KIND,
    DENY,
    EVERY_ENDPOINT,
    NODES,
    PASS,
    PODS,
    EndpointMatch,
    TieredPolicy,
    TierRule,
)

API_GROUP = "policy.networking.k8s.io"
CNP_TIERS = {"Admin": ADMIN_TIER.name, "Baseline": BASELINE_TIER.name}
DIRECTIONS = (("Ingress", "ingress", "from"), ("Egress", "egress", "to"))


@dataclass(frozen=True, slots=True)
class AdminApi:
    """How one kind writes what the model needs (validate checks the same fields)."""

    kind: str
    api_version: str
    actions: dict[str, str]  # as written -> model action
    ports: str  # "ports" (v1alpha1) or "protocols" (v1alpha2)
    egress_peers: tuple[str, ...]
    tier: str | None  # None: as ``spec.tier`` says
    ordered: bool  # by ``spec.priority``; else a singleton with no order


ANP_API = AdminApi(
    ANP_KIND,
    f"{API_GROUP}/v1alpha1",
    {"Allow": ALLOW, "Deny": DENY, "Pass": PASS},
    "ports",
    ("namespaces", "pods", "nodes", "networks", "domainNames"),
    ADMIN_TIER.name,
    True,
)
BANP_API = AdminApi(
    BANP_KIND,
    f"{API_GROUP}/v1alpha1",
    {"Allow": ALLOW, "Deny": DENY},
    "ports",
    ("namespaces", "pods", "nodes", "networks"),
    BASELINE_TIER.name,
    False,
)
CNP_API = AdminApi(
    CNP_KIND,
    f"{API_GROUP}/v1alpha2",
    {"Accept": ALLOW, "Deny": DENY, "Pass": PASS},
    "protocols",
    ("namespaces", "pods", "nodes", "networks", "domainNames"),
    None,
    True,
)
INGRESS_PEERS = ("namespaces", "pods")


def parse_admin_network_policy(
    data: Any,
    namespace: str | None,
    name: str,
    source: Source,
    warnings: list[FieldWarning],
) -> TieredPolicy:
    """An AdminNetworkPolicy: the admin tier, ordered by ``spec.priority``."""
    return _Reader(ANP_API, name, source, warnings).policy(data)


def parse_baseline_admin_network_policy(
    data: Any,
    namespace: str | None,
    name: str,
    source: Source,
    warnings: list[FieldWarning],
) -> TieredPolicy:
    """The BaselineAdminNetworkPolicy: the baseline tier, no order (a singleton)."""
    return _Reader(BANP_API, name, source, warnings).policy(data)


def parse_cluster_network_policy(
    data: Any,
    namespace: str | None,
    name: str,
    source: Source,
    warnings: list[FieldWarning],
) -> TieredPolicy:
    """A ClusterNetworkPolicy: ``spec.tier`` Admin or Baseline, ordered by priority."""
    return _Reader(CNP_API, name, source, warnings).policy(data)


def _cnp_tier(spec: Any) -> str:
    written = string(spec.get("tier"), "spec.tier")
    if written is None:
        raise FieldError("spec.tier", "is required")
    tier = CNP_TIERS.get(written)
    if tier is None:
        raise FieldError("spec.tier", "must be Admin or Baseline", written)
    return tier


@dataclass(slots=True)
class _Peers:
    """The peers of one rule as read: the usable ones and why others were left out."""

    matches: list[EndpointMatch] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # why a peer matches nothing
    unknown: bool = False  # a peer of no kind netpol knows (a newer API's)


@dataclass(slots=True)
class _Ports:
    """The port entries of one rule: the usable ones and why others match nothing."""

    matches: list[PolicyPort] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    unknown: bool = False


class _Reader:
    """Reads one document of one kind; what it cannot model goes to ``warnings``."""

    def __init__(
        self, api: AdminApi, name: str, source: Source, warnings: list[FieldWarning]
    ) -> None:
        self.api = api
        self.name = name
        self.source = source
        self.warnings = warnings

    def warn(self, path: str, message: str, value: object = None) -> None:
        self.warnings.append(FieldWarning(path, message, value))

    def policy(self, data: Any) -> TieredPolicy:
        spec = mapping(data.get("spec"), "spec")
        tier = self.api.tier or _cnp_tier(spec)
        order = float(required_integer(spec, "priority", "spec")) if self.api.ordered else None
        subject = _subject(spec.get("subject"), "spec.subject")
        rules: dict[str, tuple[TierRule, ...]] = {}
        for direction, key, peers_key in DIRECTIONS:
            items = sequence(spec.get(key), f"spec.{key}")
            rules[direction] = tuple(
                self.rule(item, i, f"spec.{key}[{i}]", peers_key) for i, item in enumerate(items)
            )
        metadata = mapping(data.get("metadata"), "metadata")
        annotations = string_map(metadata.get("annotations"), "metadata.annotations")
        api_version = data.get("apiVersion")
        return TieredPolicy(
            kind=self.api.kind,
            api_version=api_version if isinstance(api_version, str) else self.api.api_version,
            name=self.name,
            namespace=None,
            tier=tier,
            order=order,
            subject=subject,
            # a policy with no rules in a direction leaves that direction alone (spec 6.1)
            types=tuple(direction for direction, _, _ in DIRECTIONS if rules[direction]),
            ingress=rules["Ingress"],
            egress=rules["Egress"],
            annotations=tuple(sorted(annotations.items())),
            source=self.source,
        )

    def rule(self, value: Any, index: int, path: str, peers_key: str) -> TierRule:
        data = mapping(value, path)
        written = string(data.get("action"), f"{path}.action")
        action = self.api.actions.get(written or "")
        if action is None:
            known = ", ".join(self.api.actions)
            raise FieldError(f"{path}.action", f"must be one of {known}", written)
        name = string(data.get("name"), f"{path}.name") or ""
        allow = action == ALLOW
        peers = self.peers(data.get(peers_key), f"{path}.{peers_key}", peers_key == "to", allow)
        ports = self.ports(data.get(self.api.ports), f"{path}.{self.api.ports}", allow)
        matches, port_matches = peers.matches, ports.matches
        # Fail closed (spec 6.2): what netpol cannot read never widens an Allow, and turns
        # a Deny or Pass into "deny all" (passing on would let the traffic through).
        every_peer, every_port = peers.unknown and not allow, ports.unknown and not allow
        if every_peer or every_port:
            action = DENY
        if every_peer:
            matches = [EVERY_ENDPOINT]
        if every_port:
            port_matches = []
        unmatchable = ""
        if not matches:
            unmatchable = "; ".join(dict.fromkeys(peers.dropped))
        elif ports.dropped and not port_matches and not every_port:
            unmatchable = "; ".join(dict.fromkeys(ports.dropped))
        return TierRule(
            index=index,
            action=action,
            name=name,
            peers=tuple(matches),
            ports=tuple(port_matches),
            unmatchable=unmatchable,
            source=Source(self.source.path, self.source.line_of(path)),
        )

    # -- peers -----------------------------------------------------------------------------

    def peers(self, value: Any, path: str, egress: bool, allow: bool) -> _Peers:
        items = sequence(value, path)
        if not items:
            raise FieldError(path, "must list at least one peer")
        out = _Peers()
        allowed = self.api.egress_peers if egress else INGRESS_PEERS
        for j, item in enumerate(items):
            at = f"{path}[{j}]"
            data = mapping(item, at)
            written = [k for k in allowed if data.get(k) is not None]
            if len(written) > 1:
                raise FieldError(at, f"must set exactly one of {', '.join(allowed)}")
            if not written:
                out.unknown = True
                out.dropped.append("a peer of a kind netpol does not know")
                self.warn(at, _unknown("peer", allow))
            elif written[0] == "domainNames":
                names = strings(data["domainNames"], f"{at}.domainNames")
                self.warn(
                    f"{at}.domainNames",
                    "domainNames cannot be evaluated offline (netpol resolves no DNS names): "
                    "this peer matches nothing, so traffic it allows is reported as denied",
                    ", ".join(names),
                )
                out.dropped.append("its domainNames peers cannot be evaluated offline")
            elif written[0] == "nodes":
                nodes = selector(data["nodes"], f"{at}.nodes")
                out.matches.append(EndpointMatch(scope=NODES, nodes=nodes))
            elif written[0] == "networks":
                out.matches.append(_networks(data["networks"], f"{at}.networks"))
            else:
                match = _pods_or_namespaces(data, at)
                assert match is not None
                out.matches.append(match)
        return out

    # -- ports -----------------------------------------------------------------------------

    def ports(self, value: Any, path: str, allow: bool) -> _Ports:
        out = _Ports()
        for j, item in enumerate(sequence(value, path)):
            at = f"{path}[{j}]"
            data = mapping(item, at)
            read = self.port if self.api.ports == "ports" else self.protocol
            if not read(data, at, out):
                out.unknown = True
                out.dropped.append("a port of a kind netpol does not know")
                self.warn(at, _unknown("port", allow))
        return out

    def port(self, data: Any, path: str, out: _Ports) -> bool:
        """v1alpha1: portNumber {protocol, port}, portRange {protocol, start, end}, namedPort.

        False when the entry is none of them.
        """
        if _named_port(data, "namedPort", path, out):
            return True
        if data.get("portNumber") is not None:
            at = f"{path}.portNumber"
            number = mapping(data["portNumber"], at)
            protocol = self.protocol_name(number, at, out)
            port = required_integer(number, "port", at)
            if protocol is not None:
                defaulted = number.get("protocol") is None
                out.matches.append(PolicyPort(protocol, port, None, defaulted))
            return True
        if data.get("portRange") is not None:
            at = f"{path}.portRange"
            span = mapping(data["portRange"], at)
            protocol = self.protocol_name(span, at, out)
            if protocol is not None:
                self.port_range(span, at, protocol, out, span.get("protocol") is None)
            return True
        return False

    def protocol(self, data: Any, path: str, out: _Ports) -> bool:
        """v1alpha2: tcp/udp/sctp {destinationPort: {number | range}} or destinationNamedPort.

        False when the entry is none of them.
        """
        if _named_port(data, "destinationNamedPort", path, out):
            return True
        for key in ("tcp", "udp", "sctp"):
            if data.get(key) is None:
                continue
            protocol, at = key.upper(), f"{path}.{key}"
            port = mapping(data[key], at).get("destinationPort")
            if port is None:
                out.matches.append(PolicyPort(protocol, None))  # every port of the protocol
                return True
            at += ".destinationPort"
            port = mapping(port, at)
            if port.get("number") is not None:
                out.matches.append(PolicyPort(protocol, required_integer(port, "number", at)))
            elif port.get("range") is not None:
                span = mapping(port["range"], f"{at}.range")
                self.port_range(span, f"{at}.range", protocol, out, False)
            else:
                out.matches.append(PolicyPort(protocol, None))
            return True
        return False

    def protocol_name(self, data: Any, path: str, out: _Ports) -> str | None:
        """``protocol`` defaulted to TCP; None (with a warning) outside TCP, UDP and SCTP."""
        protocol = string(data.get("protocol"), f"{path}.protocol")
        if protocol is None:
            return "TCP"
        if protocol in PROTOCOLS:
            return protocol
        self.warn(
            f"{path}.protocol",
            f"protocol {protocol} is not TCP, UDP or SCTP (the CRD does not check it): "
            "this port entry matches nothing",
            protocol,
        )
        out.dropped.append(f"protocol {protocol} is not TCP, UDP or SCTP")
        return None

    def port_range(self, span: Any, path: str, protocol: str, out: _Ports, defaulted: bool) -> None:
        """start..end inclusive; a range that starts after it ends matches no port."""
        start = required_integer(span, "start", path)
        end = required_integer(span, "end", path)
        if start > end:
            self.warn(
                path,
                f"port range {start}-{end} starts after it ends (the CRD accepts it): "
                "it matches no port",
            )
            out.dropped.append(f"port range {start}-{end} is empty")
        else:
            out.matches.append(PolicyPort(protocol, start, end, defaulted))


def _subject(value: Any, path: str) -> EndpointMatch:
    if value is None:
        raise FieldError(path, "is required")
    match = _pods_or_namespaces(mapping(value, path), path)
    if match is None:
        raise FieldError(path, "must set exactly one of namespaces or pods")
    return match


def _pods_or_namespaces(data: Any, path: str) -> EndpointMatch | None:
    """A ``namespaces`` or ``pods`` subject or peer; None if it sets neither."""
    namespaces = selector(data.get("namespaces"), f"{path}.namespaces")
    pods = data.get("pods")
    if namespaces is not None and pods is not None:
        raise FieldError(path, "must set exactly one of namespaces or pods")
    if namespaces is not None:
        return EndpointMatch(scope=PODS, namespaces=namespaces)
    if pods is None:
        return None
    pods = mapping(pods, f"{path}.pods")
    return EndpointMatch(
        scope=PODS,
        namespaces=_required_selector(pods, "namespaceSelector", f"{path}.pods"),
        pods=_required_selector(pods, "podSelector", f"{path}.pods"),
    )


def _named_port(data: Any, key: str, path: str, out: _Ports) -> bool:
    """A named container port of the destination pod, under whatever protocol it has."""
    if data.get(key) is None:
        return False
    out.matches.append(PolicyPort(ANY_PROTOCOL, string(data[key], f"{path}.{key}") or ""))
    return True


def _unknown(what: str, allow: bool) -> str:
    effect = "matches nothing in this Allow rule" if allow else f"makes this rule deny every {what}"
    return f"a {what} of a kind netpol does not know {effect} (fails closed, spec 6.2)"


def _networks(value: Any, path: str) -> EndpointMatch:
    texts = strings(value, path)
    nets: list[IPNetwork] = []
    for k, text in enumerate(texts):
        network = parse_cidr_sloppy(text)
        if network is None:
            raise FieldError(f"{path}[{k}]", "must be a CIDR (e.g. 10.0.0.0/8 or fd00::/64)", text)
        nets.append(network)
    if not nets:
        raise FieldError(path, "must list at least one CIDR")
    return EndpointMatch(scope=ANY, nets=tuple(nets), nets_text=texts)


def _required_selector(data: Any, key: str, path: str) -> LabelSelector:
    found = selector(data.get(key), f"{path}.{key}")
    if found is None:
        raise FieldError(f"{path}.{key}", "is required")
    return found
