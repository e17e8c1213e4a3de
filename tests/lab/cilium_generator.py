"""Seeded random small clusters with CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies,
as YAML, for the lab-vs-engine test (docs/cilium.md).

The cluster comes from ``generator.random_case`` (0-2 of its NetworkPolicies kept, which
then read as Cilium reads them); on top of it each case draws 1-3 Cilium policies: CNPs in
a random namespace or CCNPs, one rule in ``spec`` or two in ``specs``, with ``ingress``,
``ingressDeny``, ``egress`` and ``egressDeny`` entries whose peers are endpoint selectors
(``{}``, ``k8s:``/``any:`` keys, a namespace, namespace labels, ``reserved:host``),
entities (world, cluster, all, host, remote-node, kube-apiserver, none), CIDRs and CIDR
sets with ``except``, the kube-dns Service, a present empty list, no peer at all (an L4-only
rule) or nothing (``{}``, which matches nothing under Cilium); ports by number, range,
``"0"``, name, with TCP, UDP, ANY or no protocol, some behind an HTTP rule (allowed at L4);
and ``enableDefaultDeny`` off for a direction now and then. Each document is one Cilium
accepts (one peer kind per item, no L7 on a deny, no empty section), so no case silently
tests less.
"""

from __future__ import annotations

import random
from typing import Any

from tests.lab.generator import CIDRS, LABEL_VALUES, NAMESPACES, NS_LABEL_VALUES, random_case

CILIUM_API = "cilium.io/v2"
SECTIONS = ("ingress", "ingressDeny", "egress", "egressDeny")
ENTITIES = ("world", "world", "cluster", "cluster", "all", "host", "remote-node", "none")
PORTS = (
    ("80", "TCP"),
    ("8080", "TCP"),
    ("443", "TCP"),
    ("53", "UDP"),
    ("5353", "UDP"),
    ("9000", None),
    ("53", "ANY"),
)
NAMED = ("http", "dns", "metrics", "nope")


def _key(rng: random.Random, key: str) -> str:
    """A pod label key as a CNP may write it: bare (source any), ``k8s:`` or ``any:``."""
    return rng.choice(("", "", "k8s:", "any:")) + key


def _pod_terms(rng: random.Random) -> dict[str, Any]:
    """A selector over pod labels (empty a quarter of the time)."""
    roll = rng.random()
    if roll < 0.25:
        return {}
    key = rng.choice(list(LABEL_VALUES))
    if roll < 0.65:
        return {"matchLabels": {_key(rng, key): rng.choice(LABEL_VALUES[key])}}
    operator = rng.choice(("In", "NotIn", "Exists", "DoesNotExist"))
    expression: dict[str, Any] = {"key": _key(rng, key), "operator": operator}
    if operator in ("In", "NotIn"):
        values = LABEL_VALUES[key]
        expression["values"] = rng.sample(list(values), rng.randint(1, len(values)))
    return {"matchExpressions": [expression]}


def _endpoint_selector(rng: random.Random) -> dict[str, Any]:
    """A peer selector: pod terms, perhaps narrowed to a namespace (by name or by one of its
    labels), or the node itself (``reserved:host``)."""
    roll = rng.random()
    if roll < 0.05:
        return {"matchLabels": {"reserved:host": ""}}
    selector = _pod_terms(rng)
    if roll < 0.3:
        labels = dict(selector.get("matchLabels", {}))
        labels["k8s:io.kubernetes.pod.namespace"] = rng.choice(NAMESPACES)
        selector = {**selector, "matchLabels": labels}
    elif roll < 0.4:
        key = rng.choice(list(NS_LABEL_VALUES))
        labels = dict(selector.get("matchLabels", {}))
        labels[f"io.cilium.k8s.namespace.labels.{key}"] = rng.choice(NS_LABEL_VALUES[key])
        selector = {**selector, "matchLabels": labels}
    return selector


def _cidr_peer(rng: random.Random, side: str) -> dict[str, Any]:
    cidr = rng.choice(list(CIDRS))
    holes = CIDRS[cidr]
    if holes and rng.random() < 0.6:
        chosen = rng.sample(list(holes), rng.randint(1, min(2, len(holes))))
        return {f"{side}CIDRSet": [{"cidr": cidr, "except": chosen}]}
    if rng.random() < 0.5:
        return {f"{side}CIDRSet": [{"cidr": cidr}]}
    return {f"{side}CIDR": [cidr]}


def _peer(rng: random.Random, side: str, egress: bool) -> dict[str, Any]:
    """One kind of peer for an item (Cilium refuses endpoints and CIDRs together)."""
    roll = rng.random()
    if roll < 0.35:
        return {f"{side}Endpoints": [_endpoint_selector(rng) for _ in range(rng.randint(1, 2))]}
    if roll < 0.6:
        entities = rng.sample(ENTITIES, rng.randint(1, 2))
        if egress and rng.random() < 0.15:
            entities.append("kube-apiserver")
        return {f"{side}Entities": sorted(set(entities))}
    if roll < 0.8:
        return _cidr_peer(rng, side)
    if roll < 0.85 and egress:
        return {
            "toServices": [{"k8sService": {"serviceName": "kube-dns", "namespace": "kube-system"}}]
        }
    if roll < 0.9:
        return {f"{side}{rng.choice(('Endpoints', 'Entities', 'CIDR'))}": []}  # selects nothing
    return {}  # no peer: L4-only with toPorts, else an item that matches nothing


def _port(rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.55:
        port, protocol = rng.choice(PORTS)
        found: dict[str, Any] = {"port": port}
        if protocol is not None:
            found["protocol"] = protocol
        return found
    if roll < 0.7:
        return {"port": rng.choice(NAMED), "protocol": rng.choice(("TCP", "UDP"))}
    if roll < 0.85:
        start = rng.choice((50, 80, 443, 5000, 8080))
        end = start + rng.choice((-10, 0, 10, 1000, 8000))
        return {"port": str(start), "endPort": end, "protocol": rng.choice(("TCP", "UDP"))}
    # every port of one protocol, or of TCP, UDP and SCTP (a port must be written: the
    # agent refuses an item without one)
    return (
        {"port": "0", "protocol": rng.choice(("TCP", "UDP"))}
        if rng.random() < 0.7
        else {"port": "0"}
    )


def _entry(rng: random.Random, section: str) -> dict[str, Any]:
    egress = section.startswith("egress")
    entry = _peer(rng, "to" if egress else "from", egress)
    if rng.random() < (0.8 if not entry else 0.5):
        ports = [_port(rng) for _ in range(rng.randint(1, 2))]
        port_rule: dict[str, Any] = {"ports": ports}
        http_ok = all(p.get("protocol") == "TCP" and p.get("port", "0") != "0" for p in ports)
        if not section.endswith("Deny") and http_ok and rng.random() < 0.3:
            port_rule["rules"] = {"http": [{"method": "GET", "path": "/"}]}
        entry["toPorts"] = [port_rule]
    return entry


def _rule(rng: random.Random, clusterwide: bool) -> dict[str, Any]:
    selector = _pod_terms(rng)
    if clusterwide and rng.random() < 0.3:
        labels = dict(selector.get("matchLabels", {}))
        labels["io.kubernetes.pod.namespace"] = rng.choice(NAMESPACES)
        selector = {**selector, "matchLabels": labels}
    rule: dict[str, Any] = {"endpointSelector": selector}
    sections = rng.sample(SECTIONS, rng.randint(1, 3))
    for section in SECTIONS:  # written in the usual order
        if section in sections:
            rule[section] = [_entry(rng, section) for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.3:
        directions = rng.sample(("ingress", "egress"), rng.randint(1, 2))
        rule["enableDefaultDeny"] = {d: rng.random() < 0.2 for d in directions}
    return rule


def _cilium_policy(rng: random.Random, index: int) -> dict[str, Any]:
    clusterwide = rng.random() < 0.4
    metadata: dict[str, Any] = {"name": f"cil{index}"}
    if not clusterwide:
        metadata["namespace"] = rng.choice(NAMESPACES)
    policy: dict[str, Any] = {
        "apiVersion": CILIUM_API,
        "kind": "CiliumClusterwideNetworkPolicy" if clusterwide else "CiliumNetworkPolicy",
        "metadata": metadata,
    }
    if rng.random() < 0.8:
        policy["spec"] = _rule(rng, clusterwide)
    else:
        policy["specs"] = [_rule(rng, clusterwide) for _ in range(2)]
    return policy


def random_cilium_case(seed: int) -> list[dict[str, Any]]:
    """``random_case(seed)`` (0-2 of its NetworkPolicies kept) plus 1-3 Cilium policies."""
    rng = random.Random(f"cilium-{seed}")
    base = random_case(seed)
    plain = [o for o in base if o["kind"] != "NetworkPolicy"]
    policies = [o for o in base if o["kind"] == "NetworkPolicy"][: rng.randint(0, 2)]
    cilium = [_cilium_policy(rng, i) for i in range(rng.randint(1, 3))]
    return plain + policies + cilium
