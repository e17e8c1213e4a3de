"""The peers of a Cilium rule item (the L3 fields) and Cilium's label selectors, as the CRD
schema and the agent check them (Cilium semantics §2.1, §4, §9)."""

from __future__ import annotations

import re
from ipaddress import IPv4Network, IPv6Network

from netpol.load.yamldoc import LocatedMap
from netpol.model.cidr import parse_cidr, parse_prefix
from netpol.model.cilium import ENTITIES
from netpol.validate.cilium_layers import AGENT, object_items, refuse, string_items
from netpol.validate.names import is_dns1123_subdomain, is_qualified_name, is_valid_label_value
from netpol.validate.report import Report
from netpol.validate.schema import max_items
from netpol.validate.selectors import OPERATORS, VALUES_FORBIDDEN, VALUES_REQUIRED

SELECTOR_FIELDS = ("matchLabels", "matchExpressions")
REQUIREMENT_FIELDS = ("key", "operator", "values")
CIDR_RULE_FIELDS = ("cidr", "cidrGroupRef", "cidrGroupSelector", "except")
CIDR_RULE_KINDS = ("cidr", "cidrGroupRef", "cidrGroupSelector")
SERVICE_FIELDS = ("k8sService", "k8sServiceSelector")
GROUP_FIELDS = ("aws",)
AWS_FIELDS = ("labels", "securityGroupsIds", "securityGroupsNames", "region")
FQDN_FIELDS = ("matchName", "matchPattern")

# the agent also knows world-ipv4 and world-ipv6, the v1.20 CRD enum does not (Cilium
# semantics §11.6)
AGENT_ONLY_ENTITIES = ("world-ipv4", "world-ipv6")
CRD_ENTITIES = tuple(e for e in ENTITIES if e not in AGENT_ONLY_ENTITIES)
FQDN_MAX = 255
NAMESPACE_LABELS = "io.cilium.k8s.namespace.labels."
CIDR_GROUP_REF_MAX = 253

# The CRD's toFQDNs patterns ^([-a-zA-Z0-9_]+[.]?)+$ and ^([-a-zA-Z0-9_*]+[.]?)+$, shown as
# written; matched as their equivalents without nested quantifiers (Go's regexps never
# backtrack, Python's would, exponentially, on a long name that fails)
MATCH_NAME_PATTERN = "^([-a-zA-Z0-9_]+[.]?)+$"
MATCH_PATTERN_PATTERN = "^([-a-zA-Z0-9_*]+[.]?)+$"
_MATCH_NAME = re.compile(r"[-a-zA-Z0-9_]+(?:\.[-a-zA-Z0-9_]+)*\.?")
_MATCH_PATTERN = re.compile(r"[-a-zA-Z0-9_*]+(?:\.[-a-zA-Z0-9_*]+)*\.?")
_SOURCE = re.compile("[A-Za-z0-9]+")

NOT_A_CIDR = "must be a CIDR: an address and a prefix length (10.0.0.0/8, 192.0.2.1/32, fd00::/64)"
STRICT_CIDR = (
    "Cilium reads CIDRs with Go's netip.ParsePrefix: no leading zero in an octet or in the "
    "prefix length"
)


def validate_endpoint_selector(r: Report, value: object, path: str) -> None:
    """A Cilium label selector: the CRD checks operators and matchLabels values, the agent
    keys (``source:key``), values of expressions and the In/Exists value rules."""
    data = r.mapping(value, path)
    if data is None:
        return
    r.known_fields(data, path, SELECTOR_FIELDS)
    for key, text, line in r.string_entries(
        data.get("matchLabels"), f"{path}.matchLabels", "label"
    ):
        _label_key(r, key, f"{path}.matchLabels", line)
        for message in is_valid_label_value(text):
            r.invalid(f"{path}.matchLabels", text, message, line=line)
    for at, requirement in object_items(
        r, data.get("matchExpressions"), f"{path}.matchExpressions"
    ):
        _requirement(r, requirement, at)


def _label_key(r: Report, key: str, path: str, line: int = 0) -> None:
    """``[source:]key``, the key a Kubernetes qualified name; ``$host`` is ``reserved:host``."""
    source, colon, name = key.partition(":")
    if not colon:
        source, name = "", key.removeprefix("$")
    elif not _SOURCE.fullmatch(source):
        refuse(
            r, path, f'key "{key}": its source (before ":") must be letters and digits', key, line
        )
        return
    # io.cilium.k8s.namespace.labels.<key> names a namespace's label: <key> is the label key
    # to check, which may itself be as long as a label key can be (edge case 20)
    for message in is_qualified_name(name.removeprefix(NAMESPACE_LABELS)):
        refuse(r, path, f'key "{key}": {message}', key, line)


def _requirement(r: Report, data: LocatedMap, path: str) -> None:
    r.known_fields(data, path, REQUIREMENT_FIELDS)
    key = r.string(data.get("key"), f"{path}.key")
    if data.get("key") is None:
        r.required(f"{path}.key")
    elif key is not None:
        _label_key(r, key, f"{path}.key")
    operator = r.string(data.get("operator"), f"{path}.operator")
    if data.get("operator") is None:
        r.required(f"{path}.operator")
    elif operator is not None and operator not in OPERATORS:
        hint = next((o for o in OPERATORS if o.lower() == operator.lower()), None)
        listed = ", ".join(f'"{o}"' for o in OPERATORS)
        case = f' (operators are case-sensitive: "{hint}")' if hint else ""
        r.add("NotSupported", f"{path}.operator", f"supported values: {listed}{case}", operator)
    values = string_items(r, data.get("values"), f"{path}.values")
    for at, text, line in values:
        for message in is_valid_label_value(text):
            refuse(r, at, message, text, line)
    if operator in ("In", "NotIn") and not values:
        refuse(r, f"{path}.values", VALUES_REQUIRED)
    elif operator in ("Exists", "DoesNotExist") and values:
        refuse(r, f"{path}.values", VALUES_FORBIDDEN)


def validate_peers(
    r: Report, item: LocatedMap, path: str, side: str, peers: tuple[str, ...]
) -> None:
    """Every peer field of one rule item (``side`` is ``from`` or ``to``), then the agent's
    rule that one item names one kind of peer."""
    for at, selector in object_items(r, item.get(f"{side}Endpoints"), f"{path}.{side}Endpoints"):
        validate_endpoint_selector(r, selector, at)
    _entities(r, item.get(f"{side}Entities"), f"{path}.{side}Entities", side)
    for at, text, line in string_items(r, item.get(f"{side}CIDR"), f"{path}.{side}CIDR"):
        validate_cidr(r, text, at, line)
    for at, rule in object_items(r, item.get(f"{side}CIDRSet"), f"{path}.{side}CIDRSet"):
        _cidr_rule(r, rule, at)
    for at, group in object_items(r, item.get(f"{side}Groups"), f"{path}.{side}Groups"):
        _group(r, group, at)
    nodes = object_items(r, item.get(f"{side}Nodes"), f"{path}.{side}Nodes")
    for at, selector in nodes:
        validate_endpoint_selector(r, selector, at)
    if item.get(f"{side}Nodes") is not None:
        refuse(
            r,
            f"{path}.{side}Nodes",
            f"{side}Nodes needs the agent option enable-node-selector-labels, which is off by "
            f"default (select nodes with {side}Entities: [host, remote-node])",
        )
    requires = r.sequence(item.get(f"{side}Requires"), f"{path}.{side}Requires")
    max_items(
        r,
        f"{path}.{side}Requires",
        requires,
        0,
        f": {side}Requires was removed in Cilium 1.19 (add the label to each selector instead)",
    )
    if side == "to":
        for at, service in object_items(r, item.get("toServices"), f"{path}.toServices"):
            _service(r, service, at)
        for at, fqdn in object_items(r, item.get("toFQDNs"), f"{path}.toFQDNs"):
            validate_fqdn_selector(r, fqdn, at)
    _one_kind_of_peer(r, item, path, peers)


def _one_kind_of_peer(r: Report, item: LocatedMap, path: str, peers: tuple[str, ...]) -> None:
    """The agent refuses an item with two non-empty peer fields of different kinds."""
    written = [key for key in item if key in peers and isinstance(item[key], list) and item[key]]
    for other in written[1:]:
        refuse(
            r,
            f"{path}.{other}",
            f"combining {written[0]} and {other} is not supported yet: write them as two "
            "items of the list",
        )


def _entities(r: Report, value: object, path: str, side: str) -> None:
    listed = ", ".join(f'"{e}"' for e in CRD_ENTITIES)
    for at, text, line in string_items(r, value, path):
        if text in CRD_ENTITIES:
            continue
        note = ""
        if text in AGENT_ONLY_ENTITIES:
            note = (
                f' ("{text}" is known to Cilium\'s agent but missing from the v1.20 CRD enum: '
                f'use "world", or {side}CIDR 0.0.0.0/0 or ::/0)'
            )
        r.add("NotSupported", at, f"supported values: {listed}{note}", text, line=line)


def validate_cidr(
    r: Report, text: str, path: str, line: int = 0, consequence: str = AGENT
) -> IPv4Network | IPv6Network | None:
    """``format: cidr`` for the API server (Go's sloppy parser), then netip.ParsePrefix for
    the agent; the network as the agent reads it, or None."""
    if parse_cidr(text) is None:
        r.invalid(path, text, NOT_A_CIDR, line=line)
        return None
    network = parse_prefix(text)
    if network is None:
        refuse(r, path, STRICT_CIDR, text, line, consequence)
    return network


def _cidr_rule(r: Report, rule: LocatedMap, path: str) -> None:
    """Exactly one of cidr/cidrGroupRef/cidrGroupSelector; excepts inside the cidr."""
    r.known_fields(rule, path, CIDR_RULE_FIELDS)
    network = None
    cidr = r.string(rule.get("cidr"), f"{path}.cidr")
    if cidr is not None:
        network = validate_cidr(r, cidr, f"{path}.cidr")
    ref = r.string(rule.get("cidrGroupRef"), f"{path}.cidrGroupRef")
    if ref is not None:
        validate_cidr_group_ref(r, ref, f"{path}.cidrGroupRef")
    validate_endpoint_selector(r, rule.get("cidrGroupSelector"), f"{path}.cidrGroupSelector")
    kinds = [k for k in CIDR_RULE_KINDS if rule.get(k) not in (None, "")]
    if len(kinds) != 1:
        refuse(
            r,
            path,
            "must set exactly one of cidr, cidrGroupRef and cidrGroupSelector"
            + (f" (not {' and '.join(kinds)})" if kinds else ""),
        )
    for at, text, line in string_items(r, rule.get("except"), f"{path}.except"):
        excepted = validate_cidr(r, text, at, line)
        if network is None or excepted is None:
            continue  # a group's prefixes are not known here: the agent checks none
        inside = excepted.version == network.version and excepted.network_address in network
        if not inside or excepted.prefixlen < network.prefixlen:
            refuse(
                r, at, f"must be inside cidr {cidr} (an except outside it is refused)", text, line
            )


def validate_cidr_group_ref(r: Report, ref: str, path: str) -> None:
    if len(ref) > CIDR_GROUP_REF_MAX:
        r.add("TooLong", path, f"may not be longer than {CIDR_GROUP_REF_MAX}", ref)
    for message in is_dns1123_subdomain(ref):
        r.invalid(path, ref, message)


def _service(r: Report, service: LocatedMap, path: str) -> None:
    r.known_fields(service, path, SERVICE_FIELDS)
    by_name = r.mapping(service.get("k8sService"), f"{path}.k8sService")
    if by_name is not None:
        r.known_fields(by_name, f"{path}.k8sService", ("serviceName", "namespace"))
        for key in ("serviceName", "namespace"):
            r.string(by_name.get(key), f"{path}.k8sService.{key}")
    by_labels = r.mapping(service.get("k8sServiceSelector"), f"{path}.k8sServiceSelector")
    if by_labels is not None:
        at = f"{path}.k8sServiceSelector"
        r.known_fields(by_labels, at, ("selector", "namespace"))
        r.string(by_labels.get("namespace"), f"{at}.namespace")
        if by_labels.get("selector") is None:
            r.required(f"{at}.selector")
        validate_endpoint_selector(r, by_labels.get("selector"), f"{at}.selector")
    if by_name is None and by_labels is None:
        r.required(path, "must set k8sService or k8sServiceSelector")


def _group(r: Report, group: LocatedMap, path: str) -> None:
    r.known_fields(group, path, GROUP_FIELDS)
    aws = r.mapping(group.get("aws"), f"{path}.aws")
    if aws is None:
        return
    r.known_fields(aws, f"{path}.aws", AWS_FIELDS)
    r.string_entries(aws.get("labels"), f"{path}.aws.labels", "label")
    for key in ("securityGroupsIds", "securityGroupsNames"):
        string_items(r, aws.get(key), f"{path}.aws.{key}")
    r.string(aws.get("region"), f"{path}.aws.region")


def validate_fqdn_selector(r: Report, data: LocatedMap, path: str) -> None:
    """``matchName`` xor ``matchPattern`` (the agent), each of the CRD's pattern (also the
    shape of an L7 ``dns`` rule)."""
    r.known_fields(data, path, FQDN_FIELDS)
    for key, pattern, shape in (
        ("matchName", MATCH_NAME_PATTERN, _MATCH_NAME),
        ("matchPattern", MATCH_PATTERN_PATTERN, _MATCH_PATTERN),
    ):
        text = r.string(data.get(key), f"{path}.{key}")
        if text is None:
            continue
        if len(text) > FQDN_MAX:
            r.add("TooLong", f"{path}.{key}", f"may not be longer than {FQDN_MAX}", text)
        if not shape.fullmatch(text):
            r.invalid(f"{path}.{key}", text, f"should match '{pattern}'")
    written = [k for k in FQDN_FIELDS if data.get(k) not in (None, "")]
    if len(written) != 1:
        refuse(r, path, "must set exactly one of matchName and matchPattern")
