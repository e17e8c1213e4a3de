"""NetworkPolicy documents -> defaulted ``NetworkPolicy`` objects (spec 1.2, D1 and D2)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from netpol.load.fields import FieldError, integer, mapping, sequence, string, string_map, strings
from netpol.load.memo import Memo, written
from netpol.model.cidr import parse_cidr_sloppy
from netpol.model.policy import (
    IPBlock,
    IPNetwork,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Rule,
    default_policy_types,
)
from netpol.model.selectors import EVERYTHING, LabelSelector, Requirement
from netpol.model.source import Source


def parse_policy(data: Any, namespace: str, name: str, source: Source) -> NetworkPolicy:
    """The policy as the API server stores it: protocols and policyTypes defaulted."""
    spec = mapping(data.get("spec"), "spec")
    pod_selector = selector(spec.get("podSelector"), "spec.podSelector") or EVERYTHING
    ingress = tuple(
        rule(item, f"spec.ingress[{i}]", "from")
        for i, item in enumerate(sequence(spec.get("ingress"), "spec.ingress"))
    )
    egress = tuple(
        rule(item, f"spec.egress[{i}]", "to")
        for i, item in enumerate(sequence(spec.get("egress"), "spec.egress"))
    )
    written = strings(spec.get("policyTypes"), "spec.policyTypes")
    annotations = string_map(
        mapping(data.get("metadata"), "metadata").get("annotations"), "metadata.annotations"
    )
    return NetworkPolicy(
        namespace=namespace,
        name=name,
        pod_selector=pod_selector,
        policy_types=default_policy_types(written or None, bool(egress)),
        ingress=ingress,
        egress=egress,
        policy_types_defaulted=not written,
        written=frozenset(k for k, v in spec.items() if v is not None and isinstance(k, str)),
        annotations=tuple(sorted(annotations.items())),
        source=source,
    )


def selector(value: Any, field: str) -> LabelSelector | None:
    """A label selector; None when the field is absent or null (a peer's "not used")."""
    if value is None:
        return None
    return _SELECTORS.read(written(value), _selector, value, field)


def _selector(value: Any, field: str) -> LabelSelector:
    data = mapping(value, field)
    labels = string_map(data.get("matchLabels"), f"{field}.matchLabels")
    expressions = []
    for i, item in enumerate(sequence(data.get("matchExpressions"), f"{field}.matchExpressions")):
        at = f"{field}.matchExpressions[{i}]"
        item = mapping(item, at)
        expressions.append(
            Requirement(
                key=string(item.get("key"), f"{at}.key") or "",
                operator=string(item.get("operator"), f"{at}.operator") or "",
                values=strings(item.get("values"), f"{at}.values"),
            )
        )
    if not labels and not expressions:
        return EVERYTHING
    return LabelSelector(tuple(sorted(labels.items())), tuple(expressions))


def rule(value: Any, field: str, peers_key: str) -> Rule:
    text = written(value)
    key = (peers_key, text) if text is not None else None
    return _RULES.read(key, _rule, value, field, peers_key)


def _rule(value: Any, field: str, peers_key: str) -> Rule:
    data = mapping(value, field)
    peers = tuple(
        peer(item, f"{field}.{peers_key}[{i}]")
        for i, item in enumerate(sequence(data.get(peers_key), f"{field}.{peers_key}"))
    )
    ports = tuple(
        port(item, f"{field}.ports[{i}]")
        for i, item in enumerate(sequence(data.get("ports"), f"{field}.ports"))
    )
    return Rule(peers, ports)


def peer(value: Any, field: str) -> Peer:
    data = mapping(value, field)
    block = data.get("ipBlock")
    return Peer(
        pod_selector=selector(data.get("podSelector"), f"{field}.podSelector"),
        namespace_selector=selector(data.get("namespaceSelector"), f"{field}.namespaceSelector"),
        ip_block=None if block is None else ip_block(block, f"{field}.ipBlock"),
    )


def port(value: Any, field: str) -> PolicyPort:
    data = mapping(value, field)
    protocol = data.get("protocol")
    number = data.get("port")
    if not (number is None or isinstance(number, str)):
        number = integer(number, f"{field}.port")
    return PolicyPort(
        protocol="TCP" if protocol is None else (string(protocol, f"{field}.protocol") or ""),
        port=number,
        end_port=integer(data.get("endPort"), f"{field}.endPort"),
        protocol_defaulted=protocol is None,
    )


def ip_block(value: Any, field: str) -> IPBlock:
    data = mapping(value, field)
    cidr = string(data.get("cidr"), f"{field}.cidr")
    if not cidr:
        raise FieldError(f"{field}.cidr", "is required")
    excepts = strings(data.get("except"), f"{field}.except")
    return IPBlock(
        cidr=cidr,
        network=_network(cidr, f"{field}.cidr"),
        except_=excepts,
        except_networks=tuple(_network(x, f"{field}.except[{i}]") for i, x in enumerate(excepts)),
    )


def _network(text: str, field: str) -> IPNetwork:
    network = _parse_cidr(text)
    if network is None:
        raise FieldError(field, "must be a valid CIDR (e.g. 10.0.0.0/8 or fd00::/64)", text)
    return network


# The same few CIDRs recur across thousands of policies (0.0.0.0/0, 10.0.0.0/8, ...), and
# the networks are immutable, so parsing each text once is safe and saves a third of the
# time spent on policies.
_parse_cidr = lru_cache(maxsize=4096)(parse_cidr_sloppy)


_SELECTORS: Memo[LabelSelector] = Memo()
_RULES: Memo[Rule] = Memo()
