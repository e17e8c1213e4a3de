"""Calico's own documents -> the tiered model: NetworkPolicy and GlobalNetworkPolicy
(``projectcalico.org/v3``, or ``crd.projectcalico.org/v1`` with the same spec), Tier, and
core ServiceAccounts (which Calico rules select by name and labels).

Calico's defaults are applied here: tier ``default``, selector ``all()``, types from the
rules present, and a namespaced policy's selectors kept inside its namespace. What a rule
matches on that netpol does not model (ICMP, client source ports, HTTP, Services) makes the
rule unmatchable, with the reason, and (except for ICMP, which never decides a TCP, UDP or
SCTP connection) a warning.
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import replace
from typing import Any

from netpol.load.calico_selector import SelectorError, parse_selector
from netpol.load.fields import (
    FieldError,
    FieldWarning,
    integer,
    mapping,
    sequence,
    string,
    string_map,
    strings,
)
from netpol.model.expressions import ALL, CalicoSelector, GlobalOnly
from netpol.model.objects import PROTOCOLS, ServiceAccount
from netpol.model.policy import IPNetwork, PolicyPort
from netpol.model.source import Source
from netpol.model.tiers import (
    ACTIONS,
    ANY,
    CALICO_GNP_KIND,
    CALICO_NP_KIND,
    DEFAULT_TIER,
    DENY,
    PASS,
    PODS,
    EndpointMatch,
    Tier,
    TieredPolicy,
    TierRule,
)

DEFAULT_API_VERSION = "projectcalico.org/v3"
TYPES = ("Ingress", "Egress")
TIER_ACTIONS = (DENY, PASS)
# Calico's protocol names (numorstring.Protocol), by their lowercase spelling, which
# Calico also accepts; and the numbers it knows by name
PROTOCOL_NAMES = {
    name.lower(): name for name in ("TCP", "UDP", "SCTP", "ICMP", "ICMPv6", "UDPLite")
}
PROTOCOL_NUMBERS = {6: "TCP", 17: "UDP", 132: "SCTP", 1: "ICMP", 58: "ICMPv6", 136: "UDPLite"}
ICMP_PROTOCOLS = ("ICMP", "ICMPv6")
PORT_RANGE = re.compile(r"([0-9]+):([0-9]+)")  # ASCII only, as Go's regexp \d and ParseUint
CALICO_PORT_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,128}")
MAX_PORT = 65535

NEVER_MATCHES = (
    "netpol takes the rule to match nothing, so an Allow allows less and a Deny denies "
    "less than on a real cluster"
)
SOURCE_PORTS = "matching the client's source ports is not modelled"
HTTP = "HTTP matches (Calico application layer policy) are not modelled"
SERVICES = "matching Services by name is not modelled"
# doNotTrack and preDNAT policies are enforced on host endpoints only, never on pods
HOST_ONLY_FLAGS = ("doNotTrack", "preDNAT")
HOST_ONLY = "applies to host endpoints only, which netpol does not model: the policy selects no pod"
HOST_ENDPOINTS_ONLY = CalicoSelector(GlobalOnly(), "global()")


def parse_calico_policy(
    data: Any, namespace: str | None, name: str, source: Source, warnings: list[FieldWarning]
) -> TieredPolicy:
    """A NetworkPolicy (``namespace`` set) or GlobalNetworkPolicy (None), Calico-defaulted."""
    spec = mapping(data.get("spec"), "spec")
    namespaces = None
    if namespace is None:
        namespaces = calico_selector(spec.get("namespaceSelector"), "spec.namespaceSelector")
    pods = calico_selector(spec.get("selector"), "spec.selector") or ALL
    for flag in HOST_ONLY_FLAGS:
        if spec.get(flag) is True:
            warnings.append(FieldWarning(f"spec.{flag}", HOST_ONLY, True))
            pods = HOST_ENDPOINTS_ONLY
    subject = EndpointMatch(
        scope=PODS,
        namespace=namespace,
        namespaces=namespaces,
        pods=pods,
        service_accounts=calico_selector(
            spec.get("serviceAccountSelector"), "spec.serviceAccountSelector"
        ),
    )
    rules = {}
    for key in ("ingress", "egress"):
        rules[key] = tuple(
            calico_rule(item, f"spec.{key}[{i}]", key, namespace, source, warnings)
            for i, item in enumerate(sequence(spec.get(key), f"spec.{key}"))
        )
    annotations = string_map(
        mapping(data.get("metadata"), "metadata").get("annotations"), "metadata.annotations"
    )
    api_version = data.get("apiVersion")
    return TieredPolicy(
        kind=CALICO_GNP_KIND if namespace is None else CALICO_NP_KIND,
        api_version=api_version if isinstance(api_version, str) else DEFAULT_API_VERSION,
        name=name,
        namespace=namespace,
        tier=string(spec.get("tier"), "spec.tier") or DEFAULT_TIER.name,
        order=number(spec.get("order"), "spec.order"),
        subject=subject,
        types=policy_types(spec.get("types"), bool(rules["ingress"]), bool(rules["egress"])),
        ingress=rules["ingress"],
        egress=rules["egress"],
        annotations=tuple(sorted(annotations.items())),
        source=source,
    )


def parse_tier(data: Any, name: str, source: Source) -> Tier:
    """A Tier: its order (None: after every ordered tier) and its default action."""
    spec = mapping(data.get("spec"), "spec")
    action = string(spec.get("defaultAction"), "spec.defaultAction") or DENY
    if action not in TIER_ACTIONS:
        raise FieldError("spec.defaultAction", "must be Deny or Pass", action)
    return Tier(name, number(spec.get("order"), "spec.order"), action, source)


def parse_service_account(data: Any, namespace: str, name: str, source: Source) -> ServiceAccount:
    labels = string_map(mapping(data.get("metadata"), "metadata").get("labels"), "metadata.labels")
    return ServiceAccount(namespace, name, labels, source)


def policy_types(value: Any, has_ingress: bool, has_egress: bool) -> tuple[str, ...]:
    """As written (duplicates dropped); else Egress alone for egress-only rules, both for
    rules in both directions, and Ingress otherwise (Calico's defaulting)."""
    written = strings(value, "spec.types")
    for i, item in enumerate(written):
        if item not in TYPES:
            raise FieldError(f"spec.types[{i}]", "must be Ingress or Egress", item)
    if written:
        return tuple(dict.fromkeys(written))
    if has_egress:
        return ("Ingress", "Egress") if has_ingress else ("Egress",)
    return ("Ingress",)


def calico_rule(
    value: Any,
    field: str,
    direction: str,
    namespace: str | None,
    source: Source,
    warnings: list[FieldWarning],
) -> TierRule:
    """One rule: the peer is the source of an ingress rule and the destination of an egress
    rule; the other entity narrows the local side. Ports are always the destination's."""
    data = mapping(value, field)
    action = string(data.get("action"), f"{field}.action")
    if action not in ACTIONS:
        raise FieldError(f"{field}.action", "must be Allow, Deny, Pass or Log", action)
    protocol = protocol_name(data.get("protocol"), f"{field}.protocol")
    not_protocol = protocol_name(data.get("notProtocol"), f"{field}.notProtocol")
    protocols, reasons = _protocols(protocol, not_protocol)
    if data.get("icmp") is not None and protocol not in ICMP_PROTOCOLS:
        protocols, reasons = (), ["an icmp match makes the rule ICMP-only, which is not modelled"]
    ip_version = integer(data.get("ipVersion"), f"{field}.ipVersion")
    src = mapping(data.get("source"), f"{field}.source")
    dst = mapping(data.get("destination"), f"{field}.destination")
    ports = calico_ports(dst.get("ports"), f"{field}.destination.ports", protocol)
    not_ports = calico_ports(dst.get("notPorts"), f"{field}.destination.notPorts", protocol)

    def not_modelled(path: str, what: str) -> None:
        reasons.append(what)
        warnings.append(FieldWarning(path, f"{what}: {NEVER_MATCHES}"))

    for key in ("ports", "notPorts"):
        if sequence(src.get(key), f"{field}.source.{key}"):
            not_modelled(f"{field}.source.{key}", SOURCE_PORTS)
    if data.get("http") is not None:
        not_modelled(f"{field}.http", HTTP)
    for side, entity in (("source", src), ("destination", dst)):
        if entity.get("services") is not None:
            not_modelled(f"{field}.{side}.services", SERVICES)
    ingress = direction == "ingress"
    peer_side, local_side = ("source", "destination") if ingress else ("destination", "source")
    peer = endpoint(src if ingress else dst, f"{field}.{peer_side}", namespace)
    local = endpoint(dst if ingress else src, f"{field}.{local_side}", namespace)
    if ip_version is not None:
        peer = replace(peer or EndpointMatch(scope=ANY), ip_version=ip_version)
    return TierRule(
        index=int(field.rpartition("[")[2].rstrip("]")),
        action=action,
        peers=() if peer is None else (peer,),
        ports=ports,
        not_ports=not_ports,
        protocols=protocols,
        local=local,
        unmatchable="; ".join(dict.fromkeys(reasons)),
        source=Source(source.path, source.line_of(field)),
    )


def _protocols(
    protocol: str | None, not_protocol: str | None
) -> tuple[tuple[str, ...] | None, list[str]]:
    """The modelled protocols a rule covers (None: every protocol), and why it cannot match."""
    if protocol is None and not_protocol is None:
        return None, []
    if protocol is not None and protocol not in PROTOCOLS:
        return (), [f"{_protocol_text(protocol)} is not modelled (only TCP, UDP and SCTP are)"]
    covered = (protocol,) if protocol is not None else PROTOCOLS
    return tuple(p for p in covered if p != not_protocol), []


def _protocol_text(protocol: str) -> str:
    return f"protocol {protocol}" if protocol.isdigit() else protocol


def protocol_name(value: Any, field: str) -> str | None:
    """Calico's protocol: a name (any case Calico accepts) or a number 1..255; numbers
    Calico names come back as the name, others as digits ("47")."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= 255:
            raise FieldError(field, "must be between 1 and 255", value)
        return PROTOCOL_NUMBERS.get(value, str(value))
    text = string(value, field) or ""
    if text.isascii() and text.isdigit():  # str.isdigit() also holds for "²" and "٣"
        return protocol_name(int(text), field)
    name = PROTOCOL_NAMES.get(text) or PROTOCOL_NAMES.get(text.lower())
    if name is None or text not in (name, name.lower()):
        raise FieldError(field, "must be TCP, UDP, SCTP, ICMP, ICMPv6, UDPLite or 1..255", text)
    return name


def calico_ports(value: Any, field: str, protocol: str | None) -> tuple[PolicyPort, ...]:
    """Port entries (``80``, ``"80"``, ``"1000:2000"`` or a port name) under the rule's protocol."""
    items = sequence(value, field)
    if items and protocol not in PROTOCOLS:
        raise FieldError(field, "ports may only be specified with protocol TCP, UDP or SCTP")
    assert protocol is not None or not items
    return tuple(calico_port(item, f"{field}[{i}]", protocol or "") for i, item in enumerate(items))


def calico_port(value: Any, field: str, protocol: str) -> PolicyPort:
    low, high, name = port_parts(value, field)
    if name is not None:
        return PolicyPort(protocol, name)
    return PolicyPort(protocol, low, high if high != low else None)


def port_parts(value: Any, field: str) -> tuple[int, int, str | None]:
    """(first, last, None) for a number or range, (0, 0, name) for a named port.

    A number is 0..65535 (Calico keeps ports in uint16 and does not refuse 0), a range
    ``first:last`` is in order, a name is letters, digits, '_', '.' or '-'. ``validate``
    reports these same messages.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        low = high = value
    else:
        text = string(value, field) or ""
        found = PORT_RANGE.fullmatch(text)
        if found:
            low, high = int(found.group(1)), int(found.group(2))
            if low > high and high <= MAX_PORT:
                raise FieldError(
                    field, "port range invalid: the first port is above the last", text
                )
        elif text.isascii() and text.isdigit():
            low = high = int(text)
        elif CALICO_PORT_NAME.fullmatch(text):
            return 0, 0, text
        else:
            raise FieldError(
                field,
                "must be a port number, a range first:last, or a port name of letters, "
                "digits, '_', '.' or '-' (at most 128)",
                text,
            )
    if low < 0 or high > MAX_PORT:
        raise FieldError(field, "must be between 0 and 65535, inclusive", value)
    return low, high, None


def endpoint(value: Any, field: str, namespace: str | None) -> EndpointMatch | None:
    """What an entity (a rule's source or destination) matches; None when it sets nothing.

    Selectors make it a pod match; a namespaced policy keeps them in its namespace unless a
    namespaceSelector says otherwise. A GlobalNetworkPolicy's lone notSelector also matches
    addresses outside the cluster (Calico matches it as "not in the selected set").
    """
    data = mapping(value, field)
    pods = calico_selector(data.get("selector"), f"{field}.selector")
    not_pods = calico_selector(data.get("notSelector"), f"{field}.notSelector")
    namespaces = calico_selector(data.get("namespaceSelector"), f"{field}.namespaceSelector")
    accounts = mapping(data.get("serviceAccounts"), f"{field}.serviceAccounts")
    account_names = strings(accounts.get("names"), f"{field}.serviceAccounts.names")
    account_selector = calico_selector(
        accounts.get("selector"), f"{field}.serviceAccounts.selector"
    )
    nets_text = strings(data.get("nets"), f"{field}.nets")
    not_nets_text = strings(data.get("notNets"), f"{field}.notNets")
    selects = pods is not None or not_pods is not None or bool(account_names)
    selects = selects or account_selector is not None
    in_namespace = namespace is not None and namespaces is None and selects
    if not (selects or namespaces is not None or nets_text or not_nets_text):
        return None
    positive = pods is not None or namespaces is not None or bool(account_names)
    positive = positive or account_selector is not None or in_namespace
    return EndpointMatch(
        scope=PODS if positive else ANY,
        namespace=namespace if in_namespace else None,
        namespaces=namespaces,
        pods=pods,
        not_pods=not_pods,
        service_account_names=account_names,
        service_accounts=account_selector,
        nets=tuple(net(t, f"{field}.nets[{i}]") for i, t in enumerate(nets_text)),
        not_nets=tuple(net(t, f"{field}.notNets[{i}]") for i, t in enumerate(not_nets_text)),
        nets_text=nets_text,
        not_nets_text=not_nets_text,
    )


def calico_selector(value: Any, field: str) -> CalicoSelector | None:
    """A selector expression; None when the field is absent or blank: Calico reads an
    empty selector as unset (only a policy's own ``spec.selector`` then means ``all()``)."""
    text = string(value, field)
    if text is None or not text.strip():
        return None
    try:
        return parse_selector(text)
    except SelectorError as error:
        raise FieldError(field, f"invalid selector: {error}", text) from None


def net(text: str, field: str) -> IPNetwork:
    """A CIDR or a single address (a /32 or /128), host bits masked, as Calico reads nets."""
    parsed = parse_net(text)
    if parsed is None:
        raise FieldError(field, "must be a CIDR or an IP address (e.g. 10.0.0.0/8)", text)
    return parsed


def parse_net(text: str) -> IPNetwork | None:
    _, slash, prefix = text.partition("/")
    if slash and not prefix.isdigit():
        return None  # Python would read a netmask here; Go's ParseCIDR does not
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def number(value: Any, field: str) -> float | None:
    """An order: any YAML number (not a boolean, not a string)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(field, "must be a number", value)
    if not math.isfinite(value):
        raise FieldError(field, "must be a finite number", value)
    return float(value)
