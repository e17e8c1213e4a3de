"""CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy (``cilium.io/v2``, ``spec`` and
``specs``) and CiliumCIDRGroup, as the API server (the CRD schema) and then Cilium's agent
(``Rule.Sanitize``) check them (Cilium semantics §9).

Every error says which of the two refuses the object (``validate.cilium_layers``): the API
server's refusals fail ``kubectl apply``; the agent's leave a policy that is stored and does
nothing at all, which ``--skip-invalid`` reproduces by dropping it.
"""

from __future__ import annotations

from netpol.load.yamldoc import LocatedMap
from netpol.model.cilium import CCNP_KIND, CNP_KIND, EGRESS, EGRESS_DENY, INGRESS, INGRESS_DENY
from netpol.validate.cilium_layers import (
    AGENT_SKIPS_PREFIX,
    name_api_server_layer,
    non_empty_list,
    object_items,
    refuse,
    string_items,
)
from netpol.validate.cilium_peers import validate_cidr, validate_endpoint_selector, validate_peers
from netpol.validate.cilium_ports import (
    validate_authentication,
    validate_icmps,
    validate_port_rules,
)
from netpol.validate.metadata import validate_metadata
from netpol.validate.names import name_is_dns_subdomain
from netpol.validate.report import Report

TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec", "specs", "status")
CIDR_GROUP_TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
RULE_FIELDS = (
    "endpointSelector",
    "nodeSelector",
    "ingress",
    "ingressDeny",
    "egress",
    "egressDeny",
    "enableDefaultDeny",
    "labels",
    "description",
    "log",
)
SECTIONS = (INGRESS, INGRESS_DENY, EGRESS, EGRESS_DENY)
INGRESS_PEERS = (
    "fromEndpoints",
    "fromCIDR",
    "fromCIDRSet",
    "fromEntities",
    "fromGroups",
    "fromNodes",
)
EGRESS_PEERS = (
    "toEndpoints",
    "toCIDR",
    "toCIDRSet",
    "toEntities",
    "toServices",
    "toGroups",
    "toNodes",
    "toFQDNs",
)
# what each section's items may hold; the peers of the other direction are hinted
ITEM_FIELDS = {
    INGRESS: (*INGRESS_PEERS, "fromRequires", "toPorts", "icmps", "authentication"),
    INGRESS_DENY: (*INGRESS_PEERS, "fromRequires", "toPorts", "icmps"),
    EGRESS: (*EGRESS_PEERS, "toRequires", "toPorts", "icmps", "authentication"),
    EGRESS_DENY: (*EGRESS_PEERS[:-1], "toRequires", "toPorts", "icmps"),
}
DENY_ONLY_MISSING = {"toFQDNs": "a deny rule cannot name DNS names", "authentication": ""}
LABEL_FIELDS = ("key", "value", "source")
LOG_VALUE_MAX = 32


def validate_cilium_network_policy(
    r: Report, data: LocatedMap, metadata: LocatedMap | None
) -> None:
    _policy(r, data, metadata, CNP_KIND)


def validate_cilium_clusterwide_network_policy(
    r: Report, data: LocatedMap, metadata: LocatedMap | None
) -> None:
    _policy(r, data, metadata, CCNP_KIND)


def validate_cilium_cidr_group(r: Report, data: LocatedMap, metadata: LocatedMap | None) -> None:
    """``spec.externalCIDRs``: a list of CIDRs (the CRD's ``format: cidr``)."""
    start = len(r.diagnostics)
    r.known_fields(data, "", CIDR_GROUP_TOP_FIELDS)
    name_api_server_layer(r, start)
    validate_metadata(r, metadata, name_is_dns_subdomain, namespaced=False)
    start = len(r.diagnostics)
    spec = r.mapping(data.get("spec"), "spec")
    if data.get("spec") is None:
        r.required("spec")
    if spec is not None:
        r.known_fields(spec, "spec", ("externalCIDRs",))
        if spec.get("externalCIDRs") is None:
            r.required("spec.externalCIDRs")
        for at, text, line in string_items(r, spec.get("externalCIDRs"), "spec.externalCIDRs"):
            validate_cidr(r, text, at, line, AGENT_SKIPS_PREFIX)
    name_api_server_layer(r, start)


def _policy(r: Report, data: LocatedMap, metadata: LocatedMap | None, kind: str) -> None:
    start = len(r.diagnostics)
    r.known_fields(data, "", TOP_FIELDS, hints={"description": "spec.description"})
    name_api_server_layer(r, start)
    validate_metadata(r, metadata, name_is_dns_subdomain, namespaced=kind == CNP_KIND)
    start = len(r.diagnostics)
    if data.get("spec") is None and data.get("specs") is None:
        r.required("spec", "spec or specs is required")
    rule = r.mapping(data.get("spec"), "spec")
    if rule is not None:
        _rule(r, rule, "spec", kind)
    for at, item in object_items(r, data.get("specs"), "specs"):
        _rule(r, item, at, kind)
    if data.get("spec") is None and data.get("specs") == []:
        r.warning("specs", "an empty list and no spec: the policy has no rule and does nothing")
    name_api_server_layer(r, start)


def _rule(r: Report, rule: LocatedMap, path: str, kind: str) -> None:
    r.known_fields(rule, path, RULE_FIELDS)
    _subject(r, rule, path, kind)
    written = False
    for section in SECTIONS:
        written |= non_empty_list(rule.get(section))
        for at, item in object_items(r, rule.get(section), f"{path}.{section}"):
            _item(r, item, at, section)
    if not written:
        refuse(
            r,
            path,
            "rule must have at least one of ingress, ingressDeny, egress, egressDeny "
            "(an empty list does not count)",
        )
    defaults = r.mapping(rule.get("enableDefaultDeny"), f"{path}.enableDefaultDeny")
    if defaults is not None:
        r.known_fields(defaults, f"{path}.enableDefaultDeny", ("ingress", "egress"))
        for key in ("ingress", "egress"):
            r.boolean(defaults.get(key), f"{path}.enableDefaultDeny.{key}")
    for at, label in object_items(r, rule.get("labels"), f"{path}.labels"):
        r.known_fields(label, at, LABEL_FIELDS)
        if label.get("key") is None:
            r.required(f"{at}.key")
        for key in LABEL_FIELDS:
            r.string(label.get(key), f"{at}.{key}")
    r.string(rule.get("description"), f"{path}.description")
    _log(r, rule.get("log"), f"{path}.log")


def _subject(r: Report, rule: LocatedMap, path: str, kind: str) -> None:
    """Exactly one of endpointSelector and nodeSelector; nodeSelector only in a CCNP."""
    validate_endpoint_selector(r, rule.get("endpointSelector"), f"{path}.endpointSelector")
    validate_endpoint_selector(r, rule.get("nodeSelector"), f"{path}.nodeSelector")
    has_endpoints = rule.get("endpointSelector") is not None
    has_nodes = rule.get("nodeSelector") is not None
    if has_endpoints and has_nodes:
        refuse(r, path, "endpointSelector and nodeSelector are mutually exclusive: set one")
    elif not has_endpoints and not has_nodes:
        refuse(
            r,
            path,
            "must set endpointSelector (or, in a CiliumClusterwideNetworkPolicy, nodeSelector)",
        )
    elif has_nodes and kind == CNP_KIND:
        refuse(
            r,
            f"{path}.nodeSelector",
            "a CiliumNetworkPolicy cannot select nodes: nodeSelector needs a "
            "CiliumClusterwideNetworkPolicy",
        )


def _item(r: Report, item: LocatedMap, path: str, section: str) -> None:
    side, other = ("from", "to") if section.startswith("ingress") else ("to", "from")
    allowed = ITEM_FIELDS[section]
    hints = {
        other + key.removeprefix(side): key
        for key in allowed
        if key.startswith(side) and key != "toPorts"
    }
    missing = [key for key in DENY_ONLY_MISSING if key in item and key not in allowed]
    r.known_fields(item, path, (*allowed, *missing), hints=hints)
    for key in missing:
        why = DENY_ONLY_MISSING[key] or f"{section} items have no {key}"
        r.bad_request(f"{path}.{key}", f'unknown field "{key}": {why}')
    validate_peers(r, item, path, side, INGRESS_PEERS if side == "from" else EGRESS_PEERS)
    validate_port_rules(r, item.get("toPorts"), f"{path}.toPorts", section)
    validate_icmps(r, item.get("icmps"), f"{path}.icmps")
    if "authentication" in allowed:
        validate_authentication(r, item.get("authentication"), f"{path}.authentication")
    if non_empty_list(item.get("icmps")) and non_empty_list(item.get("toPorts")):
        refuse(
            r,
            f"{path}.icmps",
            "the ICMPs block may only be present without ToPorts: define a separate rule to "
            "use ToPorts",
        )


def _log(r: Report, value: object, path: str) -> None:
    log = r.mapping(value, path)
    if log is None:
        return
    r.known_fields(log, path, ("value",))
    text = r.string(log.get("value"), f"{path}.value")
    if text is None:
        return
    if len(text) > LOG_VALUE_MAX:
        r.add("TooLong", f"{path}.value", f"may not be longer than {LOG_VALUE_MAX}", text)
    if not text.isprintable():
        r.invalid(f"{path}.value", text, "must be printable characters")
