"""NetworkPolicy (networking.k8s.io/v1) as the API server checks it on create (spec 5.1-5.7)."""

from __future__ import annotations

from ipaddress import IPv6Address

from netpol.load.yamldoc import LocatedMap
from netpol.model.cidr import (
    HOST_BITS,
    INVALID_CIDR,
    IPV4_MAPPED,
    LEADING_ZEROS,
    SloppyCIDR,
    parse_cidr,
)
from netpol.model.objects import PROTOCOLS
from netpol.validate.metadata import validate_metadata
from netpol.validate.names import is_valid_port_name, is_valid_port_num, name_is_dns_subdomain
from netpol.validate.report import Report
from netpol.validate.selectors import validate_selector

POLICY_TYPES = ("Ingress", "Egress")

TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
SPEC_FIELDS = ("podSelector", "ingress", "egress", "policyTypes")
PORT_FIELDS = ("protocol", "port", "endPort")
PEER_FIELDS = ("podSelector", "namespaceSelector", "ipBlock")
IPBLOCK_FIELDS = ("cidr", "except")


def validate_network_policy(r: Report, data: LocatedMap, metadata: LocatedMap | None) -> None:
    """Every problem of one NetworkPolicy, in the API server's order (metadata, then spec)."""
    r.known_fields(data, "", TOP_FIELDS)
    validate_metadata(r, metadata, name_is_dns_subdomain, namespaced=True)
    spec = r.mapping(data.get("spec"), "spec")
    if spec is None:
        return  # absent spec: podSelector {} and no rules, which is valid
    r.known_fields(spec, "spec", SPEC_FIELDS)
    validate_selector(r, spec.get("podSelector"), "spec.podSelector")
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(r.sequence(spec.get(direction), f"spec.{direction}")):
            _rule(r, rule, f"spec.{direction}[{i}]", peers)
    _policy_types(r, spec.get("policyTypes"))


def _rule(r: Report, value: object, path: str, peers: str) -> None:
    rule = r.mapping(value, path)
    if rule is None:
        return  # null decodes to an empty rule (allow all); a wrong type was reported
    other = "to" if peers == "from" else "from"  # the other direction's word, a common slip
    r.known_fields(rule, path, ("ports", peers), hints={other: peers})
    for j, port in enumerate(r.sequence(rule.get("ports"), f"{path}.ports")):
        _port(r, port, f"{path}.ports[{j}]")
    for j, peer in enumerate(r.sequence(rule.get(peers), f"{path}.{peers}")):
        _peer(r, peer, f"{path}.{peers}[{j}]")


def _port(r: Report, value: object, path: str) -> None:
    """V-P1..V-P6: protocol, port (number or name) and endPort."""
    port = r.mapping(value, path)
    if port is None:
        return  # null is an empty port: all TCP ports
    r.known_fields(port, path, PORT_FIELDS)
    # Only an absent (or null) protocol is defaulted to TCP (D1); "" is not.
    protocol = r.string(port.get("protocol"), f"{path}.protocol")
    if protocol is not None and protocol not in PROTOCOLS:
        r.not_supported(f"{path}.protocol", protocol, PROTOCOLS)
    number, name = _int_or_string(r, port.get("port"), f"{path}.port")
    end = r.integer(port.get("endPort"), f"{path}.endPort")
    if number is not None:
        for message in is_valid_port_num(number):
            r.invalid(f"{path}.port", number, message)
        if end is not None:
            if end < number:
                r.invalid(f"{path}.endPort", end, "must be greater than or equal to `port`")
            for message in is_valid_port_num(end):
                r.invalid(f"{path}.endPort", end, message)
    elif name is not None:
        if end is not None:
            r.invalid(f"{path}.endPort", end, "may not be specified when `port` is non-numeric")
        for message in is_valid_port_name(name):
            r.invalid(f"{path}.port", name, message)
    elif end is not None and port.get("port") is None:
        r.invalid(f"{path}.endPort", end, "may not be specified when `port` is not specified")


def _int_or_string(r: Report, value: object, path: str) -> tuple[int | None, str | None]:
    """IntOrString: a YAML integer is a number, a string a name (even "80")."""
    if value is None or isinstance(value, str):
        return None, value
    if isinstance(value, int) and not isinstance(value, bool):
        return r.integer(value, path), None
    r.wrong_type(path, value, "an integer or a string (a port name)")
    return None, None


def _peer(r: Report, value: object, path: str) -> None:
    """V-N1..V-N5: exactly one kind of peer, or pod and namespace selectors together."""
    peer = r.mapping(value, path)
    if peer is None:
        if value is not None:
            return
        peer = LocatedMap()  # null decodes to an empty peer
    r.known_fields(peer, path, PEER_FIELDS)
    count = 0
    for key in ("podSelector", "namespaceSelector"):
        if peer.get(key) is not None:
            count += 1
            validate_selector(r, peer[key], f"{path}.{key}")
    ip_block = peer.get("ipBlock")
    if ip_block is not None:
        count += 1
        validate_ip_block(r, ip_block, f"{path}.ipBlock")
    if count == 0:
        r.required(path, "must specify a peer")
    elif count > 1 and ip_block is not None:
        r.forbidden(path, "may not specify both ipBlock and another peer")


def validate_ip_block(r: Report, value: object, path: str) -> None:
    """V-I1..V-I3, with ParseCIDRSloppy, plus the non-fatal CIDR warnings."""
    block = r.mapping(value, path)
    if block is None:
        return
    r.known_fields(block, path, IPBLOCK_FIELDS)
    raw = block.get("cidr")
    cidr = r.string(raw, f"{path}.cidr")
    if raw is not None and cidr is None:
        return  # wrong type, reported
    if not cidr:
        r.required(f"{path}.cidr")
        return
    parsed = parse_cidr(cidr)
    if parsed is None:
        r.invalid(f"{path}.cidr", cidr, INVALID_CIDR)
        return  # except is not checked against an unparseable cidr
    _warnings(r, f"{path}.cidr", cidr, parsed)
    for k, item in enumerate(r.sequence(block.get("except"), f"{path}.except")):
        field = f"{path}.except[{k}]"
        text = "" if item is None else r.string(item, field)
        if text is None:
            continue
        excepted = parse_cidr(text)
        if excepted is None:
            r.invalid(field, text, INVALID_CIDR)
            continue
        _warnings(r, field, text, excepted)
        inside = excepted.network.network_address in parsed.network
        if not inside or parsed.prefix_length >= excepted.prefix_length:
            r.invalid(field, text, "must be a strict subset of `cidr`")


def _warnings(r: Report, field: str, text: str, parsed: SloppyCIDR) -> None:
    """Accepted by default, rejected with StrictIPCIDRValidation on: say so, never fail."""
    problems = [
        message
        for flag, message in (
            (parsed.leading_zeros, LEADING_ZEROS),
            (parsed.ipv4_mapped, IPV4_MAPPED),
            (parsed.host_bits, HOST_BITS),
        )
        if flag
    ]
    for problem in problems:
        r.warning(
            field,
            f"{problem} (rejected when the StrictIPCIDRValidation feature gate is on; "
            f"read as {parsed.network})",
            text,
        )
    address = text.split("/", 1)[0]
    if parsed.network.version == 6 and not parsed.leading_zeros and not parsed.ipv4_mapped:
        try:
            canonical = str(IPv6Address(address))
        except ValueError:  # accepted by Go's parser, not by Python's: nothing to suggest
            return
        if canonical != address:
            suggestion = f"{canonical}/{parsed.prefix_length}"
            r.warning(
                field, f'IPv6 CIDR value is not in canonical form (RFC 5952): "{suggestion}"', text
            )


def _policy_types(r: Report, value: object) -> None:
    """V-T1, V-T2: at most two entries, each exactly Ingress or Egress (duplicates pass)."""
    items = r.sequence(value, "spec.policyTypes")
    if len(items) > len(POLICY_TYPES):
        r.invalid("spec.policyTypes", list(items), "may not specify more than two policyTypes")
        return
    for i, item in enumerate(items):
        field = f"spec.policyTypes[{i}]"
        text = "" if item is None else r.string(item, field)
        if text is not None and text not in POLICY_TYPES:
            r.not_supported(field, text, POLICY_TYPES)
