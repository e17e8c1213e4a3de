"""Cilium's policies and CIDR groups back as manifests: what ``get cnp|ccnp|ciliumcidrgroups
-o yaml`` prints, loadable again into the same model.

Written from the model, as the other kinds are: every field that decides an L3/L4 verdict
comes back as it was written (``enableDefaultDeny`` only where the policy set it: its
defaulting is the agent's, not the API server's). What the model does not keep is written
as a stand-in and said so: the body of an L7 rule (only its kind is kept: it filters
requests, never connections) is one item that matches every request, noted in the
``netpol.io/l7-not-kept`` annotation; an ICMP type's family is not kept either (IPv4).
``fromCIDR`` items come back as ``fromCIDRSet`` items, which mean the same.
"""

from __future__ import annotations

from typing import Any

from netpol.model.cilium import (
    CIDR_GROUP_KIND,
    CIDRGroup,
    CIDRRule,
    CiliumEntry,
    CiliumPolicy,
    CiliumPort,
    CiliumPortRule,
    CiliumRule,
    ServiceRef,
)
from netpol.render.manifests import metadata, selector

L7_ANNOTATION = "netpol.io/l7-not-kept"
CIDR_GROUP_API = "cilium.io/v2alpha1"  # the version every release with the kind serves
# an L7 part that lets every request through: what stands in for a body the model dropped
_L7_STAND_INS: dict[str, Any] = {
    "http": [{}],
    "kafka": [{}],
    "dns": [{"matchPattern": "*"}],
    "l7proto": "",
}


def cilium_manifest(item: CiliumPolicy | CIDRGroup) -> dict[str, Any]:
    """The policy or CIDR group as a manifest (apiVersion, kind, metadata, spec/specs)."""
    if isinstance(item, CIDRGroup):
        meta = metadata(item.name, None, item.labels, item.source)
        spec = {"externalCIDRs": [str(c) for c in item.cidrs]}
        return {
            "apiVersion": CIDR_GROUP_API,
            "kind": CIDR_GROUP_KIND,
            "metadata": meta,
            "spec": spec,
        }
    dropped: list[str] = []
    body: dict[str, Any] = {}
    for rule in item.rules:
        written = _rule(rule, dropped)
        if rule.path == "spec":
            body["spec"] = written
        else:
            body.setdefault("specs", []).append(written)
    notes = {L7_ANNOTATION: "; ".join(dropped)} if dropped else {}
    meta = metadata(item.name, item.namespace, {}, item.source, notes)
    return {"apiVersion": item.api_version, "kind": item.kind, "metadata": meta, **body}


def _rule(rule: CiliumRule, dropped: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rule.endpoint_selector is not None:
        out["endpointSelector"] = selector(rule.endpoint_selector)
    if rule.node_selector is not None:
        out["nodeSelector"] = selector(rule.node_selector)
    for entry in rule.entries:
        at = f"{rule.path}.{entry.section}[{entry.index}]"
        out.setdefault(entry.section, []).append(_entry(entry, at, dropped))
    written = {
        direction: value
        for direction, value in (
            ("ingress", rule.default_deny_ingress),
            ("egress", rule.default_deny_egress),
        )
        if value is not None
    }
    if written:
        out["enableDefaultDeny"] = written
    return out


def _entry(entry: CiliumEntry, at: str, dropped: list[str]) -> dict[str, Any]:
    side = entry.prefix
    out: dict[str, Any] = {}
    if entry.endpoints is not None:
        out[f"{side}Endpoints"] = [selector(s) for s in entry.endpoints]
    if entry.entities is not None:
        out[f"{side}Entities"] = list(entry.entities)
    if entry.cidrs is not None:
        # an empty fromCIDR stays fromCIDR: which list was written empty is what the
        # model reports (``empty_peer_field``)
        plain = entry.empty_peer_field == f"{side}CIDR" and not entry.cidrs
        out[f"{side}CIDR" if plain else f"{side}CIDRSet"] = [_cidr(c) for c in entry.cidrs]
    if entry.services is not None:
        out["toServices"] = [_service(s) for s in entry.services]
    if entry.fqdns is not None:
        out["toFQDNs"] = [
            {"matchName": f.match_name}
            if f.match_name is not None
            else {"matchPattern": f.match_pattern}
            for f in entry.fqdns
        ]
    if entry.groups is not None:
        out[f"{side}Groups"] = [{}] * entry.groups  # cloud groups: only their number is kept
    if entry.nodes is not None:
        out[f"{side}Nodes"] = [selector(s) for s in entry.nodes]
    if entry.port_rules is not None:
        out["toPorts"] = [
            _port_rule(r, f"{at}.toPorts[{i}]", dropped) for i, r in enumerate(entry.port_rules)
        ]
    if entry.icmp_types is not None:
        out["icmps"] = [{"fields": [{"type": _icmp_type(t)} for t in entry.icmp_types]}]
    if entry.authentication is not None:
        out["authentication"] = {"mode": entry.authentication}
    return out


def _cidr(rule: CIDRRule) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rule.cidr is not None:
        out["cidr"] = rule.cidr_text or str(rule.cidr)
    elif rule.group_ref is not None:
        out["cidrGroupRef"] = rule.group_ref
    elif rule.group_selector is not None:
        out["cidrGroupSelector"] = selector(rule.group_selector)
    if rule.excepts:
        out["except"] = list(rule.except_text or map(str, rule.excepts))
    return out


def _service(ref: ServiceRef) -> dict[str, Any]:
    where = {"namespace": ref.namespace} if ref.namespace else {}
    if ref.name is not None:
        return {"k8sService": {"serviceName": ref.name, **where}}
    assert ref.selector is not None
    return {"k8sServiceSelector": {"selector": selector(ref.selector), **where}}


def _port_rule(rule: CiliumPortRule, at: str, dropped: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"ports": [_port(p) for p in rule.ports]}
    rules = {kind: _L7_STAND_INS[kind] for kind in rule.l7 if kind in _L7_STAND_INS}
    if rules:
        out["rules"] = rules
    for field in rule.l7:
        if field not in _L7_STAND_INS:  # serverNames, TLS contexts, listener
            out[field] = [] if field == "serverNames" else {}
    if rule.l7:
        dropped.append(f"{at} ({', '.join(rule.l7)})")
    return out


def _port(port: CiliumPort) -> dict[str, Any]:
    out: dict[str, Any] = {"port": port.port, "protocol": port.protocol}
    if port.end_port is not None:
        out["endPort"] = port.end_port
    return out


def _icmp_type(value: str) -> int | str:
    """A number stays a number: the CRD reads a string as a type name (``EchoRequest``)."""
    return int(value) if value.isdigit() else value
