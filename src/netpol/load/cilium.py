"""Cilium's documents -> ``model.cilium``: CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy
(``spec`` and ``specs``) and CiliumCIDRGroup.

Only the shape is read here; what the API server and the agent refuse is validate's job
(``validate.cilium``), which runs first. "Absent" and "present but empty" stay apart for
every peer list, as Cilium keeps them apart (an empty list matches nothing).
"""

from __future__ import annotations

from typing import Any

from netpol.load.fields import FieldError, boolean, integer, mapping, sequence, string, string_map
from netpol.load.policies import selector
from netpol.model.cidr import parse_prefix
from netpol.model.cilium import (
    ANY_PROTOCOL_NAME,
    SECTIONS,
    CIDRGroup,
    CIDRRule,
    CiliumEntry,
    CiliumPolicy,
    CiliumPort,
    CiliumPortRule,
    CiliumRule,
    FQDNSelector,
    ServiceRef,
)
from netpol.model.cilium_ports import port_key
from netpol.model.policy import IPNetwork
from netpol.model.selectors import EVERYTHING, LabelSelector
from netpol.model.source import Source

# the L7 parts of a port rule: each makes the proxy filter what L4 lets through
L7_RULE_KINDS = ("http", "dns", "kafka", "l7proto")
L7_PORT_FIELDS = ("serverNames", "terminatingTLS", "originatingTLS", "listener")


def parse_cilium_policy(
    data: Any, kind: str, namespace: str | None, name: str, source: Source
) -> CiliumPolicy:
    """A CNP (``namespace`` set) or CCNP (None): ``spec`` first, then each of ``specs``."""
    rules = []
    if data.get("spec") is not None:
        rules.append(_rule(data.get("spec"), "spec", source))
    for i, item in enumerate(sequence(data.get("specs"), "specs")):
        rules.append(_rule(item, f"specs[{i}]", source))
    api_version = data.get("apiVersion")
    return CiliumPolicy(
        kind=kind,
        name=name,
        namespace=namespace,
        rules=tuple(rules),
        api_version=api_version if isinstance(api_version, str) else "cilium.io/v2",
        source=source,
    )


def parse_cidr_group(data: Any, name: str, source: Source) -> CIDRGroup:
    metadata = mapping(data.get("metadata"), "metadata")
    labels = string_map(metadata.get("labels"), "metadata.labels")
    spec = mapping(data.get("spec"), "spec")
    cidrs = tuple(
        _network(item, f"spec.externalCIDRs[{i}]")
        for i, item in enumerate(sequence(spec.get("externalCIDRs"), "spec.externalCIDRs"))
    )
    return CIDRGroup(name, tuple(sorted(labels.items())), cidrs, source)


def _rule(value: Any, path: str, source: Source) -> CiliumRule:
    data = mapping(value, path)
    entries: list[CiliumEntry] = []
    for section in SECTIONS:
        for i, item in enumerate(sequence(data.get(section), f"{path}.{section}")):
            entries.append(_entry(item, section, i, f"{path}.{section}[{i}]", source))
    default_deny = mapping(data.get("enableDefaultDeny"), f"{path}.enableDefaultDeny")
    return CiliumRule(
        path=path,
        endpoint_selector=selector(data.get("endpointSelector"), f"{path}.endpointSelector"),
        node_selector=selector(data.get("nodeSelector"), f"{path}.nodeSelector"),
        entries=tuple(entries),
        default_deny_ingress=_optional_bool(default_deny, "ingress", f"{path}.enableDefaultDeny"),
        default_deny_egress=_optional_bool(default_deny, "egress", f"{path}.enableDefaultDeny"),
        source=source,
    )


def _optional_bool(data: Any, key: str, field: str) -> bool | None:
    if data.get(key) is None:
        return None
    return boolean(data.get(key), f"{field}.{key}")


def _entry(value: Any, section: str, index: int, at: str, source: Source) -> CiliumEntry:
    data = mapping(value, at)
    side = "from" if section.startswith("ingress") else "to"
    empty: list[str] = []

    def present(key: str) -> list[Any] | None:
        raw = data.get(f"{side}{key}")
        if raw is None:
            return None
        items = sequence(raw, f"{at}.{side}{key}")
        if not items:
            empty.append(f"{side}{key}")
        return items

    endpoints = present("Endpoints")
    entities = present("Entities")
    cidr = present("CIDR")
    cidr_set = present("CIDRSet")
    services = present("Services")
    fqdns = present("FQDNs")
    groups = present("Groups")
    nodes = present("Nodes")
    cidrs: list[CIDRRule] | None = None
    if cidr is not None or cidr_set is not None:
        cidrs = [_cidr(item, f"{at}.{side}CIDR[{i}]") for i, item in enumerate(cidr or ())]
        cidrs += [
            _cidr_set(item, f"{at}.{side}CIDRSet[{i}]") for i, item in enumerate(cidr_set or ())
        ]
    ports = data.get("toPorts")
    icmps = data.get("icmps")
    auth = mapping(data.get("authentication"), f"{at}.authentication")
    return CiliumEntry(
        section=section,
        index=index,
        endpoints=_selectors(endpoints, f"{at}.{side}Endpoints"),
        entities=_strings(entities, f"{at}.{side}Entities"),
        cidrs=tuple(cidrs) if cidrs is not None else None,
        services=(
            tuple(_service(s, f"{at}.toServices[{i}]") for i, s in enumerate(services))
            if services is not None
            else None
        ),
        fqdns=(
            tuple(_fqdn(f, f"{at}.toFQDNs[{i}]") for i, f in enumerate(fqdns))
            if fqdns is not None
            else None
        ),
        groups=len(groups) if groups is not None else None,
        nodes=_selectors(nodes, f"{at}.{side}Nodes"),
        empty_peer_field=empty[0] if empty else None,
        port_rules=(
            tuple(
                _port_rule(item, f"{at}.toPorts[{i}]", source)
                for i, item in enumerate(sequence(ports, f"{at}.toPorts"))
            )
            if ports is not None
            else None
        ),
        icmp_types=_icmp_types(icmps, f"{at}.icmps") if icmps is not None else None,
        authentication=string(auth.get("mode"), f"{at}.authentication.mode"),
        source=source,
    )


def _selectors(items: list[Any] | None, field: str) -> tuple[LabelSelector, ...] | None:
    if items is None:
        return None
    return tuple(selector(item, f"{field}[{i}]") or EVERYTHING for i, item in enumerate(items))


def _strings(items: list[Any] | None, field: str) -> tuple[str, ...] | None:
    if items is None:
        return None
    return tuple(string(item, f"{field}[{i}]") or "" for i, item in enumerate(items))


def _network(value: Any, field: str) -> IPNetwork:
    text = string(value, field) or ""
    # as the agent reads it (netip.ParsePrefix): an IPv4-mapped prefix stays IPv6
    network = parse_prefix(text)
    if network is None:
        raise FieldError(field, f"{text!r} is not a CIDR (address/prefix length)", text)
    return network


def _cidr(value: Any, field: str) -> CIDRRule:
    text = string(value, field) or ""
    return CIDRRule(cidr=_network(text, field), cidr_text=text)


def _cidr_set(value: Any, field: str) -> CIDRRule:
    data = mapping(value, field)
    excepts = sequence(data.get("except"), f"{field}.except")
    networks = tuple(_network(e, f"{field}.except[{i}]") for i, e in enumerate(excepts))
    shown = tuple(str(e) for e in excepts)
    if data.get("cidr") is not None:
        text = string(data.get("cidr"), f"{field}.cidr") or ""
        network = _network(text, f"{field}.cidr")
        return CIDRRule(cidr=network, cidr_text=text, excepts=networks, except_text=shown)
    if data.get("cidrGroupRef") is not None:
        ref = string(data.get("cidrGroupRef"), f"{field}.cidrGroupRef")
        return CIDRRule(group_ref=ref, excepts=networks, except_text=shown)
    group_selector = selector(data.get("cidrGroupSelector"), f"{field}.cidrGroupSelector")
    if group_selector is None:
        raise FieldError(field, "needs one of cidr, cidrGroupRef or cidrGroupSelector")
    return CIDRRule(group_selector=group_selector, excepts=networks, except_text=shown)


def _service(value: Any, field: str) -> ServiceRef:
    data = mapping(value, field)
    if data.get("k8sService") is not None:
        ref = mapping(data.get("k8sService"), f"{field}.k8sService")
        return ServiceRef(
            name=string(ref.get("serviceName"), f"{field}.k8sService.serviceName") or "",
            namespace=string(ref.get("namespace"), f"{field}.k8sService.namespace") or None,
        )
    ref = mapping(data.get("k8sServiceSelector"), f"{field}.k8sServiceSelector")
    return ServiceRef(
        selector=selector(ref.get("selector"), f"{field}.k8sServiceSelector.selector")
        or EVERYTHING,
        namespace=string(ref.get("namespace"), f"{field}.k8sServiceSelector.namespace") or None,
    )


def _fqdn(value: Any, field: str) -> FQDNSelector:
    data = mapping(value, field)
    return FQDNSelector(
        match_name=string(data.get("matchName"), f"{field}.matchName"),
        match_pattern=string(data.get("matchPattern"), f"{field}.matchPattern"),
    )


def _port_rule(value: Any, field: str, source: Source) -> CiliumPortRule:
    data = mapping(value, field)
    ports = tuple(
        _port(item, f"{field}.ports[{i}]")
        for i, item in enumerate(sequence(data.get("ports"), f"{field}.ports"))
    )
    rules = mapping(data.get("rules"), f"{field}.rules")
    l7 = [kind for kind in L7_RULE_KINDS if rules.get(kind) is not None]
    l7 += [key for key in L7_PORT_FIELDS if data.get(key) is not None]
    return CiliumPortRule(ports=ports, l7=tuple(l7), source=source)


def _port(value: Any, field: str) -> CiliumPort:
    data = mapping(value, field)
    port = data.get("port")
    if isinstance(port, int) and not isinstance(port, bool):
        port = str(port)  # the CRD refuses an integer (validate says so); read it as meant
    # as the agent keeps it: "010" is port 8 (Go's base 0), "HTTP" the name "http"
    text = port_key(string(port, f"{field}.port") or "0")
    protocol = string(data.get("protocol"), f"{field}.protocol") or ANY_PROTOCOL_NAME
    return CiliumPort(
        port=text, protocol=protocol, end_port=integer(data.get("endPort"), f"{field}.endPort")
    )


def _icmp_types(value: Any, field: str) -> tuple[str, ...]:
    found = []
    for i, item in enumerate(sequence(value, field)):
        fields = sequence(mapping(item, f"{field}[{i}]").get("fields"), f"{field}[{i}].fields")
        for j, entry in enumerate(fields):
            kind = mapping(entry, f"{field}[{i}].fields[{j}]").get("type")
            found.append(str(kind))
    return tuple(found)
