"""Calico's NetworkPolicy, GlobalNetworkPolicy and Tier as calicoctl and Calico's API
server check them (libcalico-go's validator), and core ServiceAccounts.

Written from libcalico-go's rules as we know them; where we were unsure (port 0, named
port spelling) we accept what Calico's types can hold rather than reject valid input.
"""

from __future__ import annotations

import math

from netpol.load.calico import TIER_ACTIONS, TYPES, parse_net, port_parts, protocol_name
from netpol.load.calico_selector import SelectorError, parse_selector
from netpol.load.fields import FieldError
from netpol.load.yamldoc import LocatedMap
from netpol.model.objects import PROTOCOLS
from netpol.model.tiers import ACTIONS, ADMIN_TIER, BASELINE_TIER, DEFAULT_TIER
from netpol.validate.metadata import validate_metadata
from netpol.validate.names import is_valid_port_name, name_is_dns_label, name_is_dns_subdomain
from netpol.validate.report import Report, item_line

TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec")
NP_SPEC_FIELDS = (
    "order",
    "tier",
    "selector",
    "types",
    "ingress",
    "egress",
    "serviceAccountSelector",
    "performanceHints",
)
GNP_SPEC_FIELDS = (
    *NP_SPEC_FIELDS,
    "namespaceSelector",
    "doNotTrack",
    "preDNAT",
    "applyOnForward",
)
RULE_FIELDS = (
    "action",
    "protocol",
    "notProtocol",
    "icmp",
    "notICMP",
    "ipVersion",
    "source",
    "destination",
    "http",
    "metadata",
)
ENTITY_FIELDS = (
    "nets",
    "notNets",
    "selector",
    "notSelector",
    "namespaceSelector",
    "ports",
    "notPorts",
    "serviceAccounts",
    "services",
)
TIER_SPEC_FIELDS = ("order", "defaultAction")
SERVICE_ACCOUNT_FIELDS = (
    "apiVersion",
    "kind",
    "metadata",
    "secrets",
    "imagePullSecrets",
    "automountServiceAccountToken",
)
RESERVED_TIERS = {
    ADMIN_TIER.name: "AdminNetworkPolicy",
    BASELINE_TIER.name: "BaselineAdminNetworkPolicy",
}
PORTS_NEED_PROTOCOL = "rules that specify ports must set protocol to TCP or UDP or SCTP"
ICMP_NEEDS_PROTOCOL = "rules that specify ICMP fields must set protocol to ICMP or ICMPv6"
PROTOCOL_VALUES = "must be TCP, UDP, SCTP, ICMP, ICMPv6, UDPLite or a number from 1 to 255"
INVALID_NET = "must be a valid CIDR or IP address (e.g. 10.0.0.0/8 or fd00::1)"


def validate_calico_network_policy(
    r: Report, data: LocatedMap, metadata: LocatedMap | None
) -> None:
    _policy(r, data, metadata, namespaced=True)


def validate_global_network_policy(
    r: Report, data: LocatedMap, metadata: LocatedMap | None
) -> None:
    _policy(r, data, metadata, namespaced=False)


def validate_tier(r: Report, data: LocatedMap, metadata: LocatedMap | None) -> None:
    """A tier's name is prefixed to its policies' names, so it is a DNS label (no dots)."""
    r.known_fields(data, "", TOP_FIELDS)
    validate_metadata(r, metadata, name_is_dns_label, namespaced=False)
    name = metadata.get("name") if metadata is not None else None
    if isinstance(name, str) and name in RESERVED_TIERS:
        r.forbidden(
            "metadata.name",
            f"tier {name!r} is reserved: Calico creates it for {RESERVED_TIERS[name]} objects",
            name,
        )
    spec = r.mapping(data.get("spec"), "spec")
    if spec is None:
        return
    r.known_fields(spec, "spec", TIER_SPEC_FIELDS)
    order = _number(r, spec.get("order"), "spec.order")
    if name == DEFAULT_TIER.name and order is not None and order != DEFAULT_TIER.order:
        r.invalid(
            "spec.order",
            order,
            f"the default tier's order is fixed at {DEFAULT_TIER.order:.0f}: it holds the "
            "Kubernetes NetworkPolicies, between the admin and the baseline tiers",
        )
    action = r.string(spec.get("defaultAction"), "spec.defaultAction")
    if action is not None and action not in TIER_ACTIONS:
        r.not_supported("spec.defaultAction", action, TIER_ACTIONS)


def validate_service_account(r: Report, data: LocatedMap, metadata: LocatedMap | None) -> None:
    r.known_fields(data, "", SERVICE_ACCOUNT_FIELDS)
    validate_metadata(r, metadata, name_is_dns_subdomain, namespaced=True)


def _policy(r: Report, data: LocatedMap, metadata: LocatedMap | None, namespaced: bool) -> None:
    r.known_fields(data, "", TOP_FIELDS)
    validate_metadata(r, metadata, name_is_dns_subdomain, namespaced=namespaced)
    spec = r.mapping(data.get("spec"), "spec")
    if spec is None:
        return
    if namespaced:
        r.known_fields(spec, "spec", (*NP_SPEC_FIELDS, "namespaceSelector"))
        if "namespaceSelector" in spec:
            r.forbidden(
                "spec.namespaceSelector",
                "only a GlobalNetworkPolicy selects namespaces; a NetworkPolicy applies in "
                "its own namespace",
            )
    else:
        r.known_fields(spec, "spec", GNP_SPEC_FIELDS)
        _selector(r, spec.get("namespaceSelector"), "spec.namespaceSelector")
    _number(r, spec.get("order"), "spec.order")
    tier = r.string(spec.get("tier"), "spec.tier")
    if tier:
        for message in name_is_dns_label(tier, False):
            r.invalid("spec.tier", tier, message)
    _selector(r, spec.get("selector"), "spec.selector")
    _selector(r, spec.get("serviceAccountSelector"), "spec.serviceAccountSelector")
    for direction in ("ingress", "egress"):
        for i, rule in enumerate(r.sequence(spec.get(direction), f"spec.{direction}")):
            _rule(r, rule, f"spec.{direction}[{i}]")
    _types(r, spec)


def _types(r: Report, spec: LocatedMap) -> None:
    items = r.sequence(spec.get("types"), "spec.types")
    seen: set[str] = set()
    for i, item in enumerate(items):
        field = f"spec.types[{i}]"
        text = r.item_string(item, field)
        if text is None:
            continue
        if text not in TYPES:
            r.not_supported(field, text, TYPES)
        elif text in seen:
            r.duplicate(field, text)
        seen.add(text)
    if not seen:
        return
    for direction, kind in (("ingress", "Ingress"), ("egress", "Egress")):
        rules = spec.get(direction)  # its type was reported with the rules
        if isinstance(rules, list) and rules and kind not in seen:
            r.warning(
                f"spec.{direction}",
                f"these rules never apply: spec.types does not include {kind}",
            )


def _rule(r: Report, value: object, path: str) -> None:
    rule = r.mapping(value, path)
    if rule is None:
        if value is None:
            r.required(f"{path}.action")
        return
    r.known_fields(rule, path, RULE_FIELDS)
    action = r.string(rule.get("action"), f"{path}.action")
    if rule.get("action") is None or action == "":
        r.required(f"{path}.action")
    elif action is not None and action not in ACTIONS:
        r.not_supported(f"{path}.action", action, ACTIONS)
    protocol = _protocol(r, rule.get("protocol"), f"{path}.protocol")
    _protocol(r, rule.get("notProtocol"), f"{path}.notProtocol")
    version = r.integer(rule.get("ipVersion"), f"{path}.ipVersion")
    if version is not None and version not in (4, 6):
        r.not_supported(f"{path}.ipVersion", version, ("4", "6"))
        version = None
    for key, icmp_version in (("ICMP", 4), ("ICMPv6", 6)):
        if protocol == key and version is not None and version != icmp_version:
            r.invalid(f"{path}.ipVersion", version, f"must be {icmp_version} with protocol {key}")
    for key in ("icmp", "notICMP"):
        if rule.get(key) is not None:
            _icmp(r, rule.get(key), f"{path}.{key}", protocol)
    for side in ("source", "destination"):
        entity = r.mapping(rule.get(side), f"{path}.{side}")
        if entity is not None:
            _entity(r, entity, f"{path}.{side}", protocol, version)
    r.mapping(rule.get("http"), f"{path}.http")


def _protocol(r: Report, value: object, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        r.wrong_type(path, value, "a string or an integer")
        return None
    try:
        return protocol_name(value, path)
    except FieldError:
        r.invalid(path, value, PROTOCOL_VALUES)
        return None


def _icmp(r: Report, value: object, path: str, protocol: str | None) -> None:
    icmp = r.mapping(value, path)
    if icmp is None:
        return
    r.known_fields(icmp, path, ("type", "code"))
    if protocol not in ("ICMP", "ICMPv6"):
        r.invalid(path, None, ICMP_NEEDS_PROTOCOL)
    kind = r.integer(icmp.get("type"), f"{path}.type")
    code = r.integer(icmp.get("code"), f"{path}.code")
    if kind is not None and not 0 <= kind <= 254:
        r.invalid(f"{path}.type", kind, "must be between 0 and 254, inclusive")
    if code is not None and not 0 <= code <= 255:
        r.invalid(f"{path}.code", code, "must be between 0 and 255, inclusive")
    if code is not None and icmp.get("type") is None:
        r.invalid(f"{path}.code", code, "ICMP code specified without an ICMP type")


def _entity(
    r: Report, entity: LocatedMap, path: str, protocol: str | None, version: int | None
) -> None:
    r.known_fields(entity, path, ENTITY_FIELDS)
    for key in ("selector", "notSelector", "namespaceSelector"):
        _selector(r, entity.get(key), f"{path}.{key}")
    accounts = r.mapping(entity.get("serviceAccounts"), f"{path}.serviceAccounts")
    if accounts is not None:
        r.known_fields(accounts, f"{path}.serviceAccounts", ("names", "selector"))
        names = r.sequence(accounts.get("names"), f"{path}.serviceAccounts.names")
        for i, name in enumerate(names):
            text = r.item_string(name, f"{path}.serviceAccounts.names[{i}]")
            for message in name_is_dns_subdomain(text) if text is not None else ():
                r.invalid(f"{path}.serviceAccounts.names[{i}]", text, message)
        _selector(r, accounts.get("selector"), f"{path}.serviceAccounts.selector")
    services = r.mapping(entity.get("services"), f"{path}.services")
    if services is not None:
        r.known_fields(services, f"{path}.services", ("name", "namespace"))
    for key in ("nets", "notNets"):
        items = r.sequence(entity.get(key), f"{path}.{key}")
        for i, item in enumerate(items):
            field = f"{path}.{key}[{i}]"
            text = r.item_string(item, field, item_line(items, i, 0))
            if text is None:
                continue
            network = parse_net(text)
            if network is None:
                r.invalid(field, text, INVALID_NET, line=item_line(items, i, 0))
            elif version is not None and network.version != version:
                r.invalid(
                    field,
                    text,
                    f"an IPv{network.version} network in a rule with ipVersion {version}",
                    line=item_line(items, i, 0),
                )
    for key in ("ports", "notPorts"):
        items = r.sequence(entity.get(key), f"{path}.{key}")
        if items and protocol not in PROTOCOLS:
            r.invalid(f"{path}.{key}", None, PORTS_NEED_PROTOCOL)
        for i, item in enumerate(items):
            _port(r, item, f"{path}.{key}[{i}]", item_line(items, i, 0))


def _port(r: Report, value: object, path: str, line: int) -> None:
    """A port as the loader reads it (``port_parts``); a name no container port can have
    is a warning."""
    is_number = isinstance(value, int) and not isinstance(value, bool)
    if not is_number and r.string(value, path, line) is None:
        return
    try:
        _, _, name = port_parts(value, path)
    except FieldError as error:
        r.invalid(path, error.value, error.message, line=line)
        return
    if name is not None and is_valid_port_name(name):
        r.warning(
            path,
            "no container port can have this name (a Kubernetes port name is at most 15 "
            "lowercase letters, digits and '-'), so this entry matches nothing",
            name,
        )


def _selector(r: Report, value: object, path: str) -> None:
    """A selector expression; a syntax error is shown with a caret under its position."""
    text = r.string(value, path)
    if text is None:
        return
    try:
        parse_selector(text)
    except SelectorError as error:
        r.add(
            "Invalid", path, f"invalid selector: {error}", text, excerpt=caret(text, error.position)
        )


def caret(text: str, position: int) -> tuple[str, ...]:
    """The line of ``text`` holding ``position`` and a ``^`` under it, indented."""
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    line = text[start : len(text) if end < 0 else end].replace("\t", " ")
    return (f"    {line}", "    " + " " * (position - start) + "^")


def _number(r: Report, value: object, path: str) -> float | None:
    """An order: a finite number; None (reported unless absent) otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        r.wrong_type(path, value, "a number")
        return None
    if not math.isfinite(value):
        r.invalid(path, value, "must be a finite number (JSON has no infinity or NaN)")
        return None
    return value
