"""The L4 and L7 parts of a Cilium rule item: ``toPorts`` (ports, L7 ``rules``, TLS,
listener), ``icmps`` and ``authentication`` (Cilium semantics §5, §9)."""

from __future__ import annotations

import re
from typing import NamedTuple

from netpol.load.yamldoc import LocatedMap
from netpol.model.cilium_ports import RANGE, is_service_name, parse_port_number
from netpol.validate.cilium_layers import non_empty_list, object_items, refuse, string_items
from netpol.validate.cilium_peers import validate_fqdn_selector
from netpol.validate.report import Report
from netpol.validate.schema import in_range, max_items

ALLOW_PORT_RULE_FIELDS = (
    "ports",
    "rules",
    "serverNames",
    "terminatingTLS",
    "originatingTLS",
    "listener",
)
L7_ONLY_FIELDS = ALLOW_PORT_RULE_FIELDS[1:]
PORT_FIELDS = ("port", "endPort", "protocol")
L7_FIELDS = ("http", "dns")
LEGACY_L7_FIELDS = ("kafka", "l7proto", "l7")  # Cilium semantics §11.9
HTTP_FIELDS = ("path", "method", "host", "headers", "headerMatches")
TLS_FIELDS = ("secret", "trustedCA", "certificate", "privateKey")
LISTENER_FIELDS = ("envoyConfig", "name", "priority")
ENVOY_KINDS = ("CiliumEnvoyConfig", "CiliumClusterwideEnvoyConfig")
AUTHENTICATION_MODES = ("disabled", "required", "test-always-fail")
ICMP_FAMILIES = ("IPv4", "IPv6")
BASIC_PROTOCOLS = ("TCP", "UDP", "SCTP", "ANY")
EXTENDED_PROTOCOLS = ("VRRP", "IGMP", "GRE", "IPIP", "IPV6", "ESP", "AH")
PROTOCOLS = (*BASIC_PROTOCOLS, *EXTENDED_PROTOCOLS)
MAX_PORTS = 40
MAX_ICMP_FIELDS = 40

ICMPV4_TYPES = (
    "EchoReply",
    "DestinationUnreachable",
    "Redirect",
    "Echo",
    "EchoRequest",
    "RouterAdvertisement",
    "RouterSelection",
    "TimeExceeded",
    "ParameterProblem",
    "Timestamp",
    "TimestampReply",
    "Photuris",
    "ExtendedEchoRequest",
    "ExtendedEchoReply",
)
ICMPV6_TYPES = (
    "DestinationUnreachable",
    "PacketTooBig",
    "TimeExceeded",
    "ParameterProblem",
    "EchoRequest",
    "EchoReply",
    "MulticastListenerQuery",
    "MulticastListenerReport",
    "MulticastListenerDone",
    "RouterSolicitation",
    "RouterAdvertisement",
    "NeighborSolicitation",
    "NeighborAdvertisement",
    "RedirectMessage",
    "RouterRenumbering",
    "ICMPNodeInformationQuery",
    "ICMPNodeInformationResponse",
    "InverseNeighborDiscoverySolicitation",
    "InverseNeighborDiscoveryAdvertisement",
    "HomeAgentAddressDiscoveryRequest",
    "HomeAgentAddressDiscoveryReply",
    "MobilePrefixSolicitation",
    "MobilePrefixAdvertisement",
    "DuplicateAddressRequestCodeSuffix",
    "DuplicateAddressConfirmationCodeSuffix",
    "ExtendedEchoRequest",
    "ExtendedEchoReply",
)
ICMP_TYPES = {"IPv4": ICMPV4_TYPES, "IPv6": ICMPV6_TYPES}

# The CRD's port pattern ^(<0-65535>)|(<name>)$ binds its anchors to one alternative each:
# a string passes if it starts with a digit or ends with a letter followed by digits and
# single hyphens (so "70000" passes, and the agent refuses it)
_NAME_TAIL = re.compile(r"[a-zA-Z](?:-?[0-9])*\Z")
PORT_VALUES = (
    "must be a port number from 0 to 65535 or a port name (an IANA service name: at most 15 "
    "letters, digits and single inner hyphens, with a letter)"
)


class _Port(NamedTuple):
    """What the L7 checks need to know of one port entry."""

    protocol: str  # as written, ANY when absent
    zero: bool  # port "0": every port
    span: bool  # a range (endPort above a numeric port)


def validate_port_rules(r: Report, value: object, path: str, section: str) -> None:
    """``toPorts``: a deny rule's items hold only ``ports``; an allow rule's may add L7."""
    deny = section.endswith("Deny")
    for at, rule in object_items(r, value, path):
        if deny:
            r.known_fields(rule, at, ALLOW_PORT_RULE_FIELDS)
            for key in L7_ONLY_FIELDS:
                if key in rule:
                    r.bad_request(
                        f"{at}.{key}",
                        f'unknown field "{key}": a deny rule has no L7 part ({section} toPorts '
                        "items hold only ports)",
                    )
        else:
            r.known_fields(rule, at, ALLOW_PORT_RULE_FIELDS)
        items = object_items(r, rule.get("ports"), f"{at}.ports")
        max_items(r, f"{at}.ports", [item for _, item in items], MAX_PORTS)
        ports = [p for p in (_port(r, item, item_at) for item_at, item in items) if p]
        if not deny:
            _l7(r, rule, at, section, ports, bool(items))


def _port(r: Report, data: LocatedMap, path: str) -> _Port | None:
    r.known_fields(data, path, PORT_FIELDS)
    protocol = _protocol(r, data.get("protocol"), f"{path}.protocol")
    end = r.integer(data.get("endPort"), f"{path}.endPort")
    if end is not None:
        in_range(r, f"{path}.endPort", end, 0, 65535)
    raw = data.get("port")
    if isinstance(raw, int) and not isinstance(raw, bool):
        r.bad_request(
            f"{path}.port", f'must be a string, not an integer: quote it (port: "{raw}")', raw
        )
        return None
    text = r.string(raw, f"{path}.port")
    if raw is None:
        if protocol in EXTENDED_PROTOCOLS:
            return None  # refused for its protocol already
        refuse(r, f"{path}.port", 'port must be specified (write "0" for every port)')
        return None
    if text is None:
        return None
    if not (text[:1].isascii() and text[:1].isdigit()) and not _NAME_TAIL.search(text):
        r.invalid(f"{path}.port", text, PORT_VALUES)
        return None
    if is_service_name(text):
        if end:
            r.warning(f"{path}.endPort", f'ignored: port "{text}" is a name, not a number', end)
        return _Port(protocol or "ANY", zero=False, span=False)
    parsed = parse_port_number(text)
    if parsed.value is None:
        if parsed.error == RANGE:
            refuse(r, f"{path}.port", "must be between 0 and 65535, inclusive", text)
        elif text.isascii() and text.isdigit() and text.startswith("0"):
            refuse(
                r,
                f"{path}.port",
                "a leading 0 makes the agent read the port as an octal number (Go's "
                f'strconv.ParseUint base 0), and "{text}" is not one: write "{text.lstrip("0")}"',
                text,
            )
        else:
            refuse(r, f"{path}.port", PORT_VALUES, text)
        return None
    if text != str(parsed.value):
        r.warning(
            f"{path}.port",
            f"the agent reads this as port {parsed.value} (Go's strconv.ParseUint base 0: a "
            f'leading 0 is octal): write "{parsed.value}"',
            text,
        )
    if end is not None and 0 < end < parsed.value:
        r.warning(
            f"{path}.endPort",
            f"below port {parsed.value}: only port {parsed.value} is matched",
            end,
        )
    return _Port(protocol or "ANY", zero=parsed.value == 0, span=bool(end and end > parsed.value))


def _protocol(r: Report, value: object, path: str) -> str | None:
    """The protocol as written (None when absent); a refused one reads as absent."""
    protocol = r.string(value, path)
    if protocol is None:
        return None
    if protocol not in PROTOCOLS:
        listed = ", ".join(f'"{p}"' for p in PROTOCOLS)
        hint = ""
        if protocol.upper() in PROTOCOLS:
            hint = f' (protocols are upper case: "{protocol.upper()}")'
        elif protocol.upper() in ("ICMP", "ICMPV6"):
            hint = " (ICMP goes in icmps, beside toPorts)"
        r.add("NotSupported", path, f"supported values: {listed}{hint}", protocol)
        return None
    if protocol in EXTENDED_PROTOCOLS:
        refuse(
            r,
            path,
            f"{protocol} needs the agent option enable-extended-ip-protocols, off by default",
            protocol,
        )
    return protocol


def _l7(
    r: Report, rule: LocatedMap, path: str, section: str, ports: list[_Port], has_ports: bool
) -> None:
    """L7 rules: one protocol each, on TCP ports (DNS: TCP, UDP, ANY), never on port 0;
    DNS only on egress, with ports and no range; serverNames and listener."""
    rules = r.mapping(rule.get("rules"), f"{path}.rules")
    kinds: list[str] = []
    if rules is not None:
        at = f"{path}.rules"
        r.known_fields(rules, at, (*L7_FIELDS, *LEGACY_L7_FIELDS))
        for key in LEGACY_L7_FIELDS:
            if key in rules:
                r.warning(
                    f"{at}.{key}",
                    f"{key} rules are gone from Cilium v1.20 (older releases filter them at L7): "
                    "netpol reads the ports as open at L4, L7-filtered",
                )
        for i_at, item in object_items(r, rules.get("http"), f"{at}.http"):
            r.known_fields(item, i_at, HTTP_FIELDS)
        for i_at, item in object_items(r, rules.get("dns"), f"{at}.dns"):
            validate_fqdn_selector(r, item, i_at)
        kinds = [k for k in (*L7_FIELDS, *LEGACY_L7_FIELDS) if non_empty_list(rules.get(k))]
        if "http" in kinds and "dns" in kinds:
            refuse(r, at, "multiple L7 protocol rule types specified in single rule (http and dns)")
        if "dns" in kinds and section.startswith("ingress"):
            refuse(r, f"{at}.dns", "DNS rules are not allowed on ingress")
        if "dns" in kinds and not has_ports:
            refuse(r, f"{at}.dns", "DNS rules need a port (53)")
        if kinds:
            _l7_ports(r, at, section, kinds, ports)
    names = string_items(r, rule.get("serverNames"), f"{path}.serverNames")
    for at, text, line in names:
        if not text:
            refuse(r, at, "empty server name is not allowed", text, line)
    if names and "http" in kinds and rule.get("terminatingTLS") is None:
        refuse(r, f"{path}.serverNames", "serverNames with HTTP rules need terminatingTLS")
    for key in ("terminatingTLS", "originatingTLS"):
        _tls(r, rule.get(key), f"{path}.{key}")
    _listener(r, rule.get("listener"), f"{path}.listener", section, bool(kinds))


def _l7_ports(r: Report, path: str, section: str, kinds: list[str], ports: list[_Port]) -> None:
    """What the agent refuses of L7 rules on these ports, each reason once."""
    dns = "dns" in kinds
    reasons: dict[str, None] = {}
    for port in ports:
        if dns and port.protocol not in ("TCP", "UDP", "ANY"):
            reasons[f"DNS rules can only apply to TCP, UDP or ANY (not {port.protocol})"] = None
        elif not dns and port.protocol != "TCP":
            reasons[
                f"L7 rules can only apply to TCP (not {port.protocol}) except for DNS rules"
            ] = None
        if port.zero:
            reasons['L7 rules can not be used when a port is "0" (every port)'] = None
        if dns and port.span:
            reasons["DNS rules do not support port ranges"] = None
    for reason in reasons:
        refuse(r, path, reason)


def _tls(r: Report, value: object, path: str) -> None:
    tls = r.mapping(value, path)
    if tls is None:
        return
    r.known_fields(tls, path, TLS_FIELDS)
    secret = r.mapping(tls.get("secret"), f"{path}.secret")
    if secret is not None:
        r.known_fields(secret, f"{path}.secret", ("namespace", "name"))
        if secret.get("name") is None:
            r.required(f"{path}.secret.name")
    for key in TLS_FIELDS[1:]:
        r.string(tls.get(key), f"{path}.{key}")


def _listener(r: Report, value: object, path: str, section: str, has_l7: bool) -> None:
    listener = r.mapping(value, path)
    if listener is None:
        return
    r.known_fields(listener, path, LISTENER_FIELDS)
    envoy = r.mapping(listener.get("envoyConfig"), f"{path}.envoyConfig")
    if listener.get("envoyConfig") is None:
        r.required(f"{path}.envoyConfig")
    if envoy is not None:
        r.known_fields(envoy, f"{path}.envoyConfig", ("kind", "name"))
        kind = r.string(envoy.get("kind"), f"{path}.envoyConfig.kind")
        if kind is not None and kind not in ENVOY_KINDS:
            r.not_supported(f"{path}.envoyConfig.kind", kind, ENVOY_KINDS)
        if envoy.get("name") is None:
            r.required(f"{path}.envoyConfig.name")
    if listener.get("name") is None:
        r.required(f"{path}.name")
    r.string(listener.get("name"), f"{path}.name")
    priority = r.integer(listener.get("priority"), f"{path}.priority")
    if priority is not None:
        in_range(r, f"{path}.priority", priority, 1, 100)
    if section.startswith("ingress"):
        refuse(r, path, "listener is not allowed on ingress")
    elif has_l7:
        refuse(r, path, "listener cannot be combined with L7 rules")


def validate_icmps(r: Report, value: object, path: str) -> None:
    for at, rule in object_items(r, value, path):
        r.known_fields(rule, at, ("fields",))
        fields = object_items(r, rule.get("fields"), f"{at}.fields")
        max_items(r, f"{at}.fields", [f for _, f in fields], MAX_ICMP_FIELDS)
        for f_at, field in fields:
            _icmp_field(r, field, f_at)


def _icmp_field(r: Report, data: LocatedMap, path: str) -> None:
    r.known_fields(data, path, ("family", "type"))
    family = r.string(data.get("family"), f"{path}.family") or "IPv4"
    if family not in ICMP_FAMILIES:
        r.not_supported(f"{path}.family", family, ICMP_FAMILIES)
        return
    kind = data.get("type")
    if kind is None:
        r.required(f"{path}.type")
    elif isinstance(kind, int) and not isinstance(kind, bool):
        in_range(r, f"{path}.type", kind, 0, 255)
    elif not isinstance(kind, str):
        r.wrong_type(f"{path}.type", kind, "an integer or a string (an ICMP type name)")
    elif kind.isascii() and kind.isdigit() and (kind == "0" or kind[0] != "0"):
        if int(kind) > 255:
            r.invalid(f"{path}.type", kind, "must be an ICMP type from 0 to 255 or its name")
    elif kind not in (*ICMPV4_TYPES, *ICMPV6_TYPES):
        r.invalid(f"{path}.type", kind, "must be an ICMP type from 0 to 255 or its name")
    elif kind not in ICMP_TYPES[family]:
        others = "IPv6" if family == "IPv4" else "IPv4"
        refuse(
            r,
            f"{path}.type",
            f"not an {family} ICMP type (an {others} one: set family: {others})",
            kind,
        )


def validate_authentication(r: Report, value: object, path: str) -> None:
    auth = r.mapping(value, path)
    if auth is None:
        return
    r.known_fields(auth, path, ("mode",))
    mode = r.string(auth.get("mode"), f"{path}.mode")
    if auth.get("mode") is None:
        r.required(f"{path}.mode")
    elif mode is not None and mode not in AUTHENTICATION_MODES:
        r.not_supported(f"{path}.mode", mode, AUTHENTICATION_MODES)
