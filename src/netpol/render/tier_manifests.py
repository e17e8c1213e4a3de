"""Tiered policies and Calico tiers back as manifests: what ``get anp|banp|cnp|gnp|tiers
-o yaml`` prints, loadable again into the same model.

Each kind is written the way its API writes it: AdminNetworkPolicy and
BaselineAdminNetworkPolicy (``policy.networking.k8s.io/v1alpha1``: ``ports`` as
portNumber/portRange/namedPort), ClusterNetworkPolicy (``v1alpha2``: ``protocols``, Accept
for Allow) and Calico's NetworkPolicy, GlobalNetworkPolicy and Tier (``projectcalico.org/v3``:
source and destination entities, selector expressions). What the loader defaulted is
written out (Calico's tier, types and selector; the protocol of every port).

A rule the model keeps as ``unmatchable`` has lost what it could not match on (the domain
names, the ICMP type, the HTTP match): it is written as a rule that matches nothing, in
the API's own terms, so it loads back as a rule that decides nothing, without the reason.
"""

from __future__ import annotations

from typing import Any

from netpol.load.calico_selector import SelectorError, parse_selector, selector_text
from netpol.model.expressions import CalicoSelector
from netpol.model.objects import METADATA_NAME_LABEL, PROTOCOLS
from netpol.model.policy import PolicyPort
from netpol.model.selectors import LabelSelector, Requirement
from netpol.model.tiers import (
    ADMIN_TIER,
    ALLOW,
    ANP_KIND,
    ANY,
    ANY_PROTOCOL,
    BANP_KIND,
    BASELINE_TIER,
    CNP_KIND,
    NODES,
    EndpointMatch,
    Tier,
    TieredPolicy,
    TierRule,
    order_number,
)
from netpol.render.manifests import metadata, selector

CALICO_API = "projectcalico.org/v3"
CNP_TIERS_SHOWN = {ADMIN_TIER.name: "Admin", BASELINE_TIER.name: "Baseline"}
# a namespaces peer no pod can match (every namespace carries its name label): what an
# admin rule whose peers netpol could not read is written with
NO_NAMESPACE = LabelSelector(match_expressions=(Requirement(METADATA_NAME_LABEL, "DoesNotExist"),))
# the protocol Calico is told to match and not to match, for a rule that matches nothing
NOTHING_PROTOCOL = "TCP"


def tiered_manifest(item: TieredPolicy | Tier) -> dict[str, Any]:
    """The policy or tier as a manifest of its own kind and API version."""
    if isinstance(item, Tier):
        return _tier(item)
    if item.kind in (ANP_KIND, BANP_KIND, CNP_KIND):
        return _admin(item)
    return _calico(item)


def _document(policy: TieredPolicy, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": policy.api_version,
        "kind": policy.kind,
        "metadata": metadata(policy.name, policy.namespace, {}, policy.source, policy.annotations),
        "spec": spec,
    }


# -- AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy --------------------


def _admin(policy: TieredPolicy) -> dict[str, Any]:
    cnp = policy.kind == CNP_KIND
    spec: dict[str, Any] = {}
    if cnp:
        spec["tier"] = CNP_TIERS_SHOWN.get(policy.tier, policy.tier)
    if policy.order is not None:
        spec["priority"] = int(policy.order)
    spec["subject"] = _admin_pods(policy.subject)
    for direction, key, peers_key in (("Ingress", "ingress", "from"), ("Egress", "egress", "to")):
        rules = policy.rules(direction)
        if rules:
            spec[key] = [_admin_rule(r, peers_key, cnp) for r in rules]
    return _document(policy, spec)


def _admin_rule(rule: TierRule, peers_key: str, cnp: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rule.name:
        out["name"] = rule.name
    out["action"] = "Accept" if cnp and rule.action == ALLOW else rule.action
    peers = [_admin_peer(p) for p in rule.peers]
    if rule.unmatchable or not peers:
        peers = [{"namespaces": selector(NO_NAMESPACE)}]
    out[peers_key] = peers
    if rule.ports:
        port = _cnp_protocol if cnp else _anp_port
        out["protocols" if cnp else "ports"] = [port(p) for p in rule.ports]
    return out


def _label(value: object) -> dict[str, Any]:
    assert isinstance(value, LabelSelector), "admin policies select with label selectors"
    return selector(value)


def _admin_pods(match: EndpointMatch) -> dict[str, Any]:
    """A subject or a pods/namespaces peer."""
    if match.pods is None:
        return {"namespaces": _label(match.namespaces)}
    return {
        "pods": {
            "namespaceSelector": _label(match.namespaces),
            "podSelector": _label(match.pods),
        }
    }


def _admin_peer(match: EndpointMatch) -> dict[str, Any]:
    if match.scope == NODES:
        return {"nodes": _label(match.nodes)}
    if match.scope == ANY and match.nets:
        return {"networks": list(match.nets_shown)}
    if match.scope == ANY:
        # a Deny that failed closed (a peer of a kind netpol does not know): every
        # endpoint, which the API can only approach with every namespace
        return {"namespaces": {}}
    return _admin_pods(match)


def _anp_port(port: PolicyPort) -> dict[str, Any]:
    if port.protocol == ANY_PROTOCOL:
        return {"namedPort": port.port}
    if port.port is None:
        return {"portRange": {"protocol": port.protocol, "start": 1, "end": 65535}}
    if port.end_port is None:
        return {"portNumber": {"protocol": port.protocol, "port": port.port}}
    return {"portRange": {"protocol": port.protocol, "start": port.port, "end": port.end_port}}


def _cnp_protocol(port: PolicyPort) -> dict[str, Any]:
    if port.protocol == ANY_PROTOCOL:
        return {"destinationNamedPort": port.port}
    destination: dict[str, Any] = {}
    if port.port is not None and port.end_port is None:
        destination["destinationPort"] = {"number": port.port}
    elif port.port is not None:
        destination["destinationPort"] = {"range": {"start": port.port, "end": port.end_port}}
    return {port.protocol.lower(): destination}


# -- Calico NetworkPolicy, GlobalNetworkPolicy, Tier ---------------------------------------


def _tier(tier: Tier) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if tier.order is not None:
        spec["order"] = order_number(tier.order)
    spec["defaultAction"] = tier.default_action
    return {
        "apiVersion": CALICO_API,
        "kind": "Tier",
        "metadata": metadata(tier.name, None, {}, tier.source),
        "spec": spec,
    }


def _calico(policy: TieredPolicy) -> dict[str, Any]:
    subject = policy.subject
    spec: dict[str, Any] = {"tier": policy.tier}
    if policy.order is not None:
        spec["order"] = order_number(policy.order)
    if subject.namespaces is not None:
        spec["namespaceSelector"] = calico_text(subject.namespaces)
    spec["selector"] = calico_text(subject.pods) if subject.pods is not None else "all()"
    if subject.service_accounts is not None:
        spec["serviceAccountSelector"] = calico_text(subject.service_accounts)
    spec["types"] = list(policy.types)
    for direction, key in (("Ingress", "ingress"), ("Egress", "egress")):
        rules = policy.ingress if direction == "Ingress" else policy.egress
        if rules:
            spec[key] = [_calico_rule(r, direction) for r in rules]
    return _document(policy, spec)


def calico_text(value: object) -> str:
    """The selector as written when that text still says the expression, else canonical."""
    assert isinstance(value, CalicoSelector), "Calico policies select with Calico selectors"
    try:
        if parse_selector(value.source_text).expression == value.expression:
            return value.source_text
    except SelectorError:
        pass
    return selector_text(value.expression)


def _calico_rule(rule: TierRule, direction: str) -> dict[str, Any]:
    out: dict[str, Any] = {"action": rule.action}
    out.update(_calico_protocols(rule))
    peer = rule.peers[0] if rule.peers else None
    if peer is not None and peer.ip_version is not None:
        out["ipVersion"] = peer.ip_version
    peer_entity = _entity(peer) if peer is not None else {}
    local_entity = _entity(rule.local) if rule.local is not None else {}
    source, destination = (
        (peer_entity, local_entity) if direction == "Ingress" else (local_entity, peer_entity)
    )
    if rule.ports:
        destination["ports"] = [_calico_port(p) for p in rule.ports]
    if rule.not_ports:
        destination["notPorts"] = [_calico_port(p) for p in rule.not_ports]
    if source:
        out["source"] = source
    if destination:
        out["destination"] = destination
    return out


def _calico_protocols(rule: TierRule) -> dict[str, Any]:
    """protocol / notProtocol giving back ``rule.protocols`` (None: every protocol)."""
    ported = next((p.protocol for p in rule.ports + rule.not_ports), None)
    if rule.unmatchable or rule.protocols == ():
        protocol = ported or NOTHING_PROTOCOL
        return {"protocol": protocol, "notProtocol": protocol}
    if rule.protocols is None:
        return {}
    if len(rule.protocols) == 1:
        return {"protocol": rule.protocols[0]}
    missing = [p for p in PROTOCOLS if p not in rule.protocols]
    # every modelled protocol: a notProtocol netpol does not model (ICMP stands for it)
    return {"notProtocol": missing[0] if missing else "ICMP"}


def _entity(match: EndpointMatch) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if match.nets:
        out["nets"] = list(match.nets_shown)
    if match.not_nets:
        out["notNets"] = list(match.not_nets_shown)
    if match.pods is not None:
        out["selector"] = calico_text(match.pods)
    if match.not_pods is not None:
        out["notSelector"] = calico_text(match.not_pods)
    if match.namespaces is not None:
        out["namespaceSelector"] = calico_text(match.namespaces)
    accounts: dict[str, Any] = {}
    if match.service_account_names:
        accounts["names"] = list(match.service_account_names)
    if match.service_accounts is not None:
        accounts["selector"] = calico_text(match.service_accounts)
    if accounts:
        out["serviceAccounts"] = accounts
    return out


def _calico_port(port: PolicyPort) -> int | str:
    if port.is_named or port.port is None:
        return str(port.port or "")
    if port.end_port is None:
        return port.port
    return f"{port.port}:{port.end_port}"
