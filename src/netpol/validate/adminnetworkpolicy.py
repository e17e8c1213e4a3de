"""AdminNetworkPolicy, BaselineAdminNetworkPolicy (v1alpha1) and ClusterNetworkPolicy
(v1alpha2) as their CRDs check them on create: OpenAPI schema and CEL rules (spec 6).

Messages follow apiextensions-apiserver's wording (``should be less than or equal to
1000``, ``should have at least 1 items``, ``Too many``) and the CRDs' own CEL messages.
Label selectors get the NetworkPolicy checks (spec 5.6), stricter than the CRD's schema:
a selector that fails them cannot be turned into a selector by any implementation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from netpol.load.admin_policies import ANP_API, BANP_API, CNP_API, INGRESS_PEERS, AdminApi
from netpol.load.yamldoc import LocatedMap
from netpol.model.cidr import parse_cidr
from netpol.validate.metadata import validate_metadata
from netpol.validate.names import byte_len, name_is_dns_subdomain
from netpol.validate.report import Report
from netpol.validate.schema import in_range, max_items, min_items, schema_object
from netpol.validate.selectors import validate_selector

TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
NAMESPACED_POD_FIELDS = ("namespaceSelector", "podSelector")
PORT_KINDS = ("portNumber", "portRange", "namedPort")
PORT_NUMBER_FIELDS = ("protocol", "port")
PORT_RANGE_FIELDS = ("protocol", "start", "end")
PROTOCOL_KINDS = ("tcp", "udp", "sctp", "destinationNamedPort")
DESTINATION_PORT_FIELDS = ("number", "range")
RANGE_FIELDS = ("start", "end")
TIERS = ("Admin", "Baseline")

MAX_PRIORITY = 1000
MAX_RULE_NAME = 100
MAX_NETWORKS = 25
MAX_CIDR_LENGTH = 43
MAX_DOMAIN_NAMES = 25

BANP_NAME_MESSAGE = (
    'Only one baseline admin network policy with metadata.name="default" can be created'
)
INVALID_CIDR = "Invalid CIDR format provided"
# The CRD's pattern, typos (A-z) included: it is what the API server applies.
DOMAIN_NAME_PATTERN = (
    r"^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?\.?$"
)
_DOMAIN_NAME = re.compile(DOMAIN_NAME_PATTERN.removeprefix("^").removesuffix("$"))


@dataclass(frozen=True, slots=True)
class _Schema:
    """What one kind's CRD allows beyond what the loader reads (``api``: its actions,
    egress peers and where ports go): the rest of the checks are shared."""

    api: AdminApi
    max_rules: int  # per direction
    max_peers: int  # per rule
    max_ports: int
    spec_fields: tuple[str, ...]
    named_port_peers: tuple[str, ...]  # egress peers a named port may not be used with
    only_name: str | None = None  # the singleton's one allowed name

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(self.api.actions)

    @property
    def egress_peers(self) -> tuple[str, ...]:
        return self.api.egress_peers

    @property
    def ports(self) -> str:
        return self.api.ports

    @property
    def named_port_message(self) -> str:
        kinds = "/".join(self.named_port_peers)
        return (
            f"{kinds} peer cannot be set with namedPorts since there are no namedPorts for {kinds}"
        )


ANP = _Schema(
    api=ANP_API,
    max_rules=100,
    max_peers=100,
    max_ports=100,
    spec_fields=("priority", "subject", "ingress", "egress"),
    named_port_peers=("networks", "nodes", "domainNames"),
)
BANP = _Schema(
    api=BANP_API,
    max_rules=100,
    max_peers=100,
    max_ports=100,
    spec_fields=("subject", "ingress", "egress"),
    named_port_peers=("networks", "nodes"),
    only_name="default",
)
CNP = _Schema(
    api=CNP_API,
    max_rules=25,
    max_peers=25,
    max_ports=25,
    spec_fields=("tier", "priority", "subject", "ingress", "egress"),
    named_port_peers=("networks", "nodes", "domainNames"),
)


def validate_admin_network_policy(r: Report, data: LocatedMap, metadata: LocatedMap | None) -> None:
    """Every problem of one AdminNetworkPolicy (policy.networking.k8s.io/v1alpha1)."""
    _validate(r, data, metadata, ANP)


def validate_baseline_admin_network_policy(
    r: Report, data: LocatedMap, metadata: LocatedMap | None
) -> None:
    """Every problem of one BaselineAdminNetworkPolicy, the singleton named ``default``."""
    _validate(r, data, metadata, BANP)


def validate_cluster_network_policy(
    r: Report, data: LocatedMap, metadata: LocatedMap | None
) -> None:
    """Every problem of one ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2)."""
    _validate(r, data, metadata, CNP)


def _validate(r: Report, data: LocatedMap, metadata: LocatedMap | None, schema: _Schema) -> None:
    r.known_fields(data, "", TOP_FIELDS)
    validate_metadata(r, metadata, name_is_dns_subdomain, namespaced=False)
    if schema.only_name is not None:
        _only_name(r, metadata, schema.only_name)
    spec = r.mapping(data.get("spec"), "spec")
    if spec is None:
        if data.get("spec") is None:
            r.required("spec")
        return
    r.known_fields(spec, "spec", schema.spec_fields)
    if "tier" in schema.spec_fields:
        tier = _required_string(r, spec, "tier", "spec")
        if tier is not None and tier not in TIERS:
            r.not_supported("spec.tier", tier, TIERS)
    if "priority" in schema.spec_fields:
        priority = _required_integer(r, spec, "priority", "spec")
        if priority is not None:
            in_range(r, "spec.priority", priority, 0, MAX_PRIORITY)
    if spec.get("subject") is None:
        r.required("spec.subject")
    else:
        _subject(r, spec["subject"], "spec.subject")
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        path = f"spec.{direction}"
        rules = r.sequence(spec.get(direction), path)
        max_items(r, path, rules, schema.max_rules)
        for i, rule in enumerate(rules):
            _rule(r, rule, f"{path}[{i}]", peers, schema)


def _only_name(r: Report, metadata: LocatedMap | None, only: str) -> None:
    """The BANP singleton's CEL rule ``self.metadata.name == 'default'``."""
    meta = metadata if metadata is not None else LocatedMap()
    name, prefix = meta.get("name"), meta.get("generateName")
    if isinstance(name, str) and name and name != only:
        r.invalid("metadata.name", name, BANP_NAME_MESSAGE)
    elif not name and isinstance(prefix, str) and prefix:  # a generated name is never it
        r.invalid("metadata.generateName", prefix, BANP_NAME_MESSAGE)


def _subject(r: Report, value: object, path: str) -> None:
    """Exactly one of ``namespaces`` and ``pods`` (min/maxProperties 1)."""
    subject = r.mapping(value, path)
    if subject is None:
        return
    r.known_fields(subject, path, INGRESS_PEERS)
    _one_property(r, subject, path, INGRESS_PEERS)
    validate_selector(r, subject.get("namespaces"), f"{path}.namespaces")
    _namespaced_pod(r, subject.get("pods"), f"{path}.pods")


def _namespaced_pod(r: Report, value: object, path: str) -> None:
    """Both selectors are required (``{}`` selects all)."""
    pods = r.mapping(value, path)
    if pods is None:
        return
    r.known_fields(pods, path, NAMESPACED_POD_FIELDS)
    for key in NAMESPACED_POD_FIELDS:
        if pods.get(key) is None:
            r.required(f"{path}.{key}")
        else:
            validate_selector(r, pods[key], f"{path}.{key}")


def _rule(r: Report, value: object, path: str, peers_key: str, schema: _Schema) -> None:
    rule = schema_object(r, value, path)
    if rule is None:
        return
    # the other direction's word and the other API version's ports: common slips
    hints = {
        "to" if peers_key == "from" else "from": peers_key,
        "protocols" if schema.ports == "ports" else "ports": schema.ports,
    }
    r.known_fields(rule, path, ("name", "action", peers_key, schema.ports), hints=hints)
    name = r.string(rule.get("name"), f"{path}.name")
    if name is not None and byte_len(name) > MAX_RULE_NAME:
        r.add("TooLong", f"{path}.name", f"may not be longer than {MAX_RULE_NAME}", name)
    action = _required_string(r, rule, "action", path)
    if action is not None and action not in schema.actions:
        r.not_supported(f"{path}.action", action, schema.actions)
    allowed = INGRESS_PEERS if peers_key == "from" else schema.egress_peers
    peers_path = f"{path}.{peers_key}"
    if rule.get(peers_key) is None:
        r.required(peers_path)
        peers: list[object] = []
    else:
        peers = r.sequence(rule[peers_key], peers_path)
        min_items(r, peers_path, peers, rule[peers_key])
        max_items(r, peers_path, peers, schema.max_peers)
    for j, peer in enumerate(peers):
        _peer(r, peer, f"{peers_path}[{j}]", allowed)
    named = _ports(r, rule.get(schema.ports), f"{path}.{schema.ports}", schema)
    if peers_key == "to" and named and any(_sets(p, schema.named_port_peers) for p in peers):
        r.invalid(path, None, schema.named_port_message)


def _peer(r: Report, value: object, path: str, allowed: tuple[str, ...]) -> None:
    peer = schema_object(r, value, path)
    if peer is None:
        return
    r.known_fields(peer, path, allowed)
    _one_property(r, peer, path, allowed)
    for key in ("namespaces", "nodes"):
        if key in allowed:
            validate_selector(r, peer.get(key), f"{path}.{key}")
    _namespaced_pod(r, peer.get("pods"), f"{path}.pods")
    if "networks" in allowed:
        _set_of_strings(r, peer.get("networks"), f"{path}.networks", MAX_NETWORKS, _network)
    if "domainNames" in allowed:
        _set_of_strings(
            r, peer.get("domainNames"), f"{path}.domainNames", MAX_DOMAIN_NAMES, _domain_name
        )


def _network(r: Report, text: str, path: str) -> None:
    """``CIDR``: at most 43 characters and CEL ``isCIDR`` (Go's netip.ParsePrefix)."""
    if byte_len(text) > MAX_CIDR_LENGTH:
        r.add("TooLong", path, f"may not be longer than {MAX_CIDR_LENGTH}", text)
    parsed = parse_cidr(text)
    # netip refuses what ParseCIDRSloppy lets through with leading zeros
    if parsed is None or parsed.leading_zeros:
        r.invalid(path, text, INVALID_CIDR)


def _domain_name(r: Report, text: str, path: str) -> None:
    if not _DOMAIN_NAME.fullmatch(text):
        r.invalid(path, text, f"should match '{DOMAIN_NAME_PATTERN}'")


def _set_of_strings(
    r: Report,
    value: object,
    path: str,
    most: int,
    check: Callable[[Report, str, str], None],
) -> None:
    """A ``listType=set`` list of 1..``most`` strings, each passing ``check``."""
    if value is None:
        return
    items = r.sequence(value, path)
    min_items(r, path, items, value)
    max_items(r, path, items, most)
    seen: set[str] = set()
    for k, item in enumerate(items):
        at = f"{path}[{k}]"
        text = r.item_string(item, at)
        if text is None:
            continue
        check(r, text, at)
        if text in seen:
            r.duplicate(at, text)
        seen.add(text)


def _ports(r: Report, value: object, path: str, schema: _Schema) -> bool:
    """``ports`` (v1alpha1) or ``protocols`` (v1alpha2): 1..N entries, each exactly one
    kind of port; True when one of them is a named port."""
    if value is None:
        return False
    items = r.sequence(value, path)
    min_items(r, path, items, value)
    max_items(r, path, items, schema.max_ports)
    named = False
    for j, item in enumerate(items):
        at = f"{path}[{j}]"
        entry = schema_object(r, item, at)
        if entry is None:
            continue
        if schema.ports == "ports":
            named |= _port(r, entry, at)
        else:
            named |= _protocol(r, entry, at)
    return named


def _port(r: Report, port: LocatedMap, path: str) -> bool:
    """portNumber {protocol, port}, portRange {protocol, start, end} or namedPort.

    ``protocol`` is a plain string in the CRD (no enum), defaulted to TCP; a range whose
    start is above its end is accepted (the CRD does not check it).
    """
    r.known_fields(port, path, PORT_KINDS)
    _one_property(r, port, path, PORT_KINDS)
    number = schema_object(r, port.get("portNumber"), f"{path}.portNumber", null_ok=True)
    if number is not None:
        at = f"{path}.portNumber"
        r.known_fields(number, at, PORT_NUMBER_FIELDS)
        r.string(number.get("protocol"), f"{at}.protocol")
        _port_number(r, number, "port", at)
    span = schema_object(r, port.get("portRange"), f"{path}.portRange", null_ok=True)
    if span is not None:
        at = f"{path}.portRange"
        r.known_fields(span, at, PORT_RANGE_FIELDS)
        r.string(span.get("protocol"), f"{at}.protocol")
        for key in RANGE_FIELDS:
            _port_number(r, span, key, at)
    return r.string(port.get("namedPort"), f"{path}.namedPort") is not None


def _protocol(r: Report, entry: LocatedMap, path: str) -> bool:
    """tcp/udp/sctp {destinationPort: {number | range}} or destinationNamedPort."""
    r.known_fields(entry, path, PROTOCOL_KINDS)
    _one_property(r, entry, path, PROTOCOL_KINDS)
    for key in ("tcp", "udp", "sctp"):
        protocol = schema_object(r, entry.get(key), f"{path}.{key}", null_ok=True)
        if protocol is None:
            continue
        r.known_fields(protocol, f"{path}.{key}", ("destinationPort",))
        at = f"{path}.{key}.destinationPort"
        port = schema_object(r, protocol.get("destinationPort"), at, null_ok=True)
        if port is None:
            continue
        r.known_fields(port, at, DESTINATION_PORT_FIELDS)
        _one_property(r, port, at, DESTINATION_PORT_FIELDS)
        if port.get("number") is not None:
            _port_number(r, port, "number", at)
        span = schema_object(r, port.get("range"), f"{at}.range", null_ok=True)
        if span is not None:
            r.known_fields(span, f"{at}.range", RANGE_FIELDS)
            for key in RANGE_FIELDS:
                _port_number(r, span, key, f"{at}.range")
    return r.string(entry.get("destinationNamedPort"), f"{path}.destinationNamedPort") is not None


def _port_number(r: Report, data: LocatedMap, key: str, path: str) -> None:
    number = _required_integer(r, data, key, path)
    if number is not None:
        in_range(r, f"{path}.{key}", number, 1, 65535)


# -- the schema's generic checks, with apiextensions' messages ---------------------------


def _required_string(r: Report, data: LocatedMap, key: str, path: str) -> str | None:
    if data.get(key) is None:
        r.required(f"{path}.{key}")
        return None
    return r.string(data[key], f"{path}.{key}")


def _required_integer(r: Report, data: LocatedMap, key: str, path: str) -> int | None:
    if data.get(key) is None:
        r.required(f"{path}.{key}")
        return None
    return r.integer(data[key], f"{path}.{key}")


def _one_property(r: Report, data: LocatedMap, path: str, keys: tuple[str, ...]) -> None:
    """minProperties 1 and maxProperties 1 over the fields this schema knows."""
    count = sum(1 for key in keys if data.get(key) is not None)
    if count == 0:
        r.invalid(path, 0, "should have at least 1 properties")
    elif count > 1:
        r.invalid(path, count, "should have at most 1 properties")


def _sets(peer: object, keys: tuple[str, ...]) -> bool:
    return isinstance(peer, dict) and any(peer.get(key) is not None for key in keys)
