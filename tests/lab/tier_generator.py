"""Seeded random small clusters with tiered policies, as YAML, for the lab-vs-engine test.

The cluster and its NetworkPolicies come from ``generator.random_case``; on top of them
each case draws AdminNetworkPolicies (Allow/Deny/Pass), at most one
BaselineAdminNetworkPolicy (Allow/Deny), a Calico Tier (defaultAction Pass or Deny, an
order before, between or after the built-in ones) and Calico GlobalNetworkPolicies and
NetworkPolicies (Allow/Deny/Pass/Log, selector expressions, namespaceSelector,
notSelector, nets/notNets, ports, named ports and notPorts) in it or in ``default``.
Every document is one the validator accepts, so no case silently tests less.
"""

from __future__ import annotations

import random
from typing import Any

import yaml
from tests.lab.generator import LABEL_VALUES, NAMESPACES, NS_LABEL_VALUES, PORT_NAMES, random_case

from netpol.load.scalars import SafeDumper

ANP_API = "policy.networking.k8s.io/v1alpha1"
CALICO_API = "projectcalico.org/v3"
TIER = "t8"
NETS = (
    "10.244.0.0/16",
    "10.244.1.0/24",
    "10.244.2.10/32",
    "10.244.3.10",
    "203.0.113.0/24",
    "0.0.0.0/0",
    "192.168.0.0/16",
)
NUMERIC_PORTS = (
    (80, "TCP"),
    (8080, "TCP"),
    (443, "TCP"),
    (53, "UDP"),
    (5353, "UDP"),
    (9000, "TCP"),
)


# -- AdminNetworkPolicy / BaselineAdminNetworkPolicy ------------------------------------------


def _label_selector(rng: random.Random, values: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.3:
        return {}
    key = rng.choice(list(values))
    if roll < 0.7:
        return {"matchLabels": {key: rng.choice(values[key])}}
    operator = rng.choice(("In", "NotIn", "Exists", "DoesNotExist"))
    expression: dict[str, Any] = {"key": key, "operator": operator}
    if operator in ("In", "NotIn"):
        expression["values"] = rng.sample(list(values[key]), rng.randint(1, len(values[key])))
    return {"matchExpressions": [expression]}


def _namespaces(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.3:
        name = rng.choice(NAMESPACES)
        return {"matchLabels": {"kubernetes.io/metadata.name": name}}
    return _label_selector(rng, NS_LABEL_VALUES)


def _admin_pods_or_namespaces(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.4:
        return {"namespaces": _namespaces(rng)}
    return {
        "pods": {
            "namespaceSelector": _namespaces(rng),
            "podSelector": _label_selector(rng, LABEL_VALUES),
        }
    }


def _admin_port(rng: random.Random, named: bool) -> dict[str, Any]:
    roll = rng.random()
    if roll >= 0.45 and roll < 0.75 and not named:
        roll = 0.0
    if roll < 0.45:
        port, protocol = rng.choice(NUMERIC_PORTS)
        number: dict[str, Any] = {"port": port}
        if protocol != "TCP" or rng.random() < 0.5:
            number["protocol"] = protocol
        return {"portNumber": number}
    if roll < 0.75:
        return {"namedPort": rng.choice(PORT_NAMES)}
    start = rng.choice((50, 80, 443, 5000, 8080))
    protocol = rng.choice(("TCP", "UDP"))
    return {
        "portRange": {
            "protocol": protocol,
            "start": start,
            "end": start + rng.choice((0, 10, 5000)),
        }
    }


def _admin_rule(
    rng: random.Random, actions: tuple[str, ...], peers_key: str, index: int
) -> dict[str, Any]:
    peers: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 2)):
        if peers_key == "to" and rng.random() < 0.25:
            # the CRD wants CIDRs here, not bare addresses
            nets = [n for n in NETS if "/" in n]
            peers.append({"networks": rng.sample(nets, rng.randint(1, 2))})
        else:
            peers.append(_admin_pods_or_namespaces(rng))
    rule: dict[str, Any] = {"name": f"r{index}", "action": rng.choice(actions), peers_key: peers}
    if rng.random() < 0.6:
        # a networks peer has no named ports (the CRD refuses the pair)
        named = not any("networks" in p for p in peers)
        rule["ports"] = [_admin_port(rng, named) for _ in range(rng.randint(1, 2))]
    return rule


def _admin_spec(rng: random.Random, actions: tuple[str, ...]) -> dict[str, Any]:
    spec: dict[str, Any] = {"subject": _admin_pods_or_namespaces(rng)}
    directions = rng.choice((("ingress",), ("egress",), ("ingress", "egress")))
    for direction in directions:
        peers_key = "from" if direction == "ingress" else "to"
        spec[direction] = [
            _admin_rule(rng, actions, peers_key, i) for i in range(rng.randint(1, 3))
        ]
    return spec


def _anp(rng: random.Random, index: int) -> dict[str, Any]:
    spec = _admin_spec(rng, ("Allow", "Deny", "Pass"))
    return {
        "apiVersion": ANP_API,
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": f"anp{index}"},
        # distinct priorities: two ANPs of one priority are undefined (lint reports it)
        "spec": {"priority": index * 10 + rng.randint(0, 9), **spec},
    }


def _banp(rng: random.Random) -> dict[str, Any]:
    return {
        "apiVersion": ANP_API,
        "kind": "BaselineAdminNetworkPolicy",
        "metadata": {"name": "default"},
        "spec": _admin_spec(rng, ("Allow", "Deny")),
    }


# -- Calico -------------------------------------------------------------------------------


def _calico_term(rng: random.Random, values: dict[str, tuple[str, ...]]) -> str:
    key = rng.choice(list(values))
    value = rng.choice(values[key])
    roll = rng.random()
    if roll < 0.35:
        return f"{key} == '{value}'"
    if roll < 0.5:
        return f"{key} != '{value}'"
    if roll < 0.65:
        return f"has({key})"
    if roll < 0.75:
        return f"!has({key})"
    chosen = rng.sample(list(values[key]), rng.randint(1, len(values[key])))
    listed = ", ".join(f"'{v}'" for v in chosen)
    return f"{key} {'in' if roll < 0.9 else 'not in'} {{{listed}}}"


def _calico_selector(rng: random.Random, values: dict[str, tuple[str, ...]]) -> str:
    roll = rng.random()
    if roll < 0.15:
        return "all()"
    first = _calico_term(rng, values)
    if roll < 0.7:
        return first
    return f"{first} {rng.choice(('&&', '||'))} {_calico_term(rng, values)}"


def _calico_entity(rng: random.Random, global_policy: bool) -> dict[str, Any]:
    entity: dict[str, Any] = {}
    roll = rng.random()
    if roll < 0.35:
        entity["selector"] = _calico_selector(rng, LABEL_VALUES)
    elif roll < 0.5:
        entity["namespaceSelector"] = _calico_selector(rng, NS_LABEL_VALUES)
        if rng.random() < 0.5:
            entity["selector"] = _calico_selector(rng, LABEL_VALUES)
    elif roll < 0.6 and global_policy:
        entity["notSelector"] = _calico_selector(rng, LABEL_VALUES)  # alone: scope "any"
    elif roll < 0.8:
        entity["nets"] = rng.sample(NETS, rng.randint(1, 2))
        if rng.random() < 0.3:
            entity["notNets"] = ["10.244.1.10/32"]
    elif roll < 0.85:
        entity["notNets"] = rng.sample(NETS, 1)
    return entity


def _calico_port(rng: random.Random) -> int | str:
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(NUMERIC_PORTS)[0]
    if roll < 0.75:
        return rng.choice(PORT_NAMES)
    start = rng.choice((50, 80, 443, 5000, 8080))
    return f"{start}:{start + rng.choice((0, 10, 5000))}"


def _calico_rule(rng: random.Random, direction: str, global_policy: bool) -> dict[str, Any]:
    rule: dict[str, Any] = {"action": rng.choice(("Allow", "Deny", "Pass", "Log"))}
    protocol = rng.choice((None, "TCP", "TCP", "UDP"))
    if protocol is not None:
        rule["protocol"] = protocol
    peer_side, local_side = ("source", "destination")
    if direction == "egress":
        peer_side, local_side = local_side, peer_side
    peer = _calico_entity(rng, global_policy) if rng.random() < 0.8 else {}
    # ports are always the destination's; without a protocol Calico refuses them
    destination_ports = protocol is not None
    if peer_side == "destination":
        peer = {**peer, **_port_fields(rng, destination_ports)}
    if peer:
        rule[peer_side] = peer
    local: dict[str, Any] = {}
    if rng.random() < 0.2:
        local["selector"] = _calico_selector(rng, LABEL_VALUES)
    if local_side == "destination":
        local.update(_port_fields(rng, destination_ports))
    if local:
        rule[local_side] = local
    return rule


def _port_fields(rng: random.Random, allowed: bool) -> dict[str, Any]:
    if not allowed:
        return {}
    fields: dict[str, Any] = {}
    if rng.random() < 0.6:
        fields["ports"] = [_calico_port(rng) for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.25:
        fields["notPorts"] = [_calico_port(rng)]
    return fields


def _calico_policy(
    rng: random.Random, index: int, tier: str | None, namespace: str | None
) -> dict[str, Any]:
    global_policy = namespace is None
    spec: dict[str, Any] = {"selector": _calico_selector(rng, LABEL_VALUES)}
    if global_policy and rng.random() < 0.3:
        spec["namespaceSelector"] = _calico_selector(rng, NS_LABEL_VALUES)
    if tier is not None:
        spec["tier"] = tier
    order = rng.choice((None, 50, 100, 999, 1000, 1001, 2000))
    if order is not None:
        spec["order"] = order
    for direction in ("ingress", "egress"):
        if rng.random() < 0.6:
            spec[direction] = [
                _calico_rule(rng, direction, global_policy) for _ in range(rng.randint(0, 3))
            ]
    if rng.random() < 0.5:
        spec["types"] = rng.choice((["Ingress"], ["Egress"], ["Ingress", "Egress"]))
        for direction, kind in (("ingress", "Ingress"), ("egress", "Egress")):
            if kind not in spec["types"]:
                spec.pop(direction, None)  # rules a type leaves out only draw a warning
    elif not spec.get("ingress") and not spec.get("egress"):
        spec["types"] = ["Ingress"]  # a rule-less policy with types: a default deny
    # Calico names a policy of a tier other than default "<tier>.<name>"
    name = f"{tier}.cnp{index}" if tier else f"cnp{index}"
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    kind = "GlobalNetworkPolicy" if global_policy else "NetworkPolicy"
    return {"apiVersion": CALICO_API, "kind": kind, "metadata": metadata, "spec": spec}


def _tier(rng: random.Random) -> dict[str, Any]:
    spec: dict[str, Any] = {"defaultAction": rng.choice(("Pass", "Deny"))}
    # before the admin tier, between it and default, between default and baseline, or last
    order = rng.choice((100, 5000, 2_000_000, None))
    if order is not None:
        spec["order"] = order
    return {"apiVersion": CALICO_API, "kind": "Tier", "metadata": {"name": TIER}, "spec": spec}


def random_tiered_case(seed: int) -> list[dict[str, Any]]:
    """``random_case(seed)`` (0-2 of its NetworkPolicies kept) plus tiered policies."""
    rng = random.Random(f"tiers-{seed}")
    base = random_case(seed)
    plain = [o for o in base if o["kind"] != "NetworkPolicy"]
    policies = [o for o in base if o["kind"] == "NetworkPolicy"][: rng.randint(0, 2)]
    tiered: list[dict[str, Any]] = []
    for i in range(rng.randint(0, 2)):
        tiered.append(_anp(rng, i))
    if rng.random() < 0.5:
        tiered.append(_banp(rng))
    with_tier = rng.random() < 0.6
    if with_tier:
        tiered.append(_tier(rng))
    for i in range(rng.randint(0, 3)):
        tier = TIER if with_tier and rng.random() < 0.6 else None
        namespace = rng.choice(NAMESPACES) if rng.random() < 0.3 else None
        tiered.append(_calico_policy(rng, i, tier, namespace))
    if not any(o["kind"] != "Tier" for o in tiered):
        tiered.append(_anp(rng, 9))
    return plain + policies + tiered


def yaml_text(objects: list[dict[str, Any]]) -> str:
    """The objects as one multi-document YAML file, as a user would write them."""
    return yaml.dump_all(objects, Dumper=SafeDumper, sort_keys=False)
