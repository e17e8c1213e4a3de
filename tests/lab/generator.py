"""Seeded random small clusters and policy sets, as manifests, for the lab-vs-engine test.

The pods keep their names and addresses from case to case (so the lab reuses its
namespaces and only labels, ports, namespaces' labels and policies change); everything
the spec lets a policy say is drawn: selectors with every operator, namespace selectors,
AND and OR peers, ipBlocks with except ranges over pod IPs and the outside client, numeric,
named and ranged ports, TCP and UDP, port-less entries, ingress, egress, defaulted types.
"""

from __future__ import annotations

import random
from typing import Any

NAMESPACES = ("ns-a", "ns-b", "ns-c")
PODS = (
    ("ns-a", "a0", "10.244.1.10"),
    ("ns-a", "a1", "10.244.1.11"),
    ("ns-b", "b0", "10.244.2.10"),
    ("ns-b", "b1", "10.244.2.11"),
    ("ns-c", "c0", "10.244.3.10"),
)
# (port, protocol, name): "http" means 80 on some pods and 8080 on others, on purpose
PORTS = (
    (80, "TCP", "http"),
    (8080, "TCP", "http"),
    (443, "TCP", None),
    (53, "UDP", "dns"),
    (5353, "UDP", "dns"),
    (9000, "TCP", "metrics"),
    (9000, "UDP", None),
)
LABEL_VALUES = {"app": ("web", "api", "db"), "tier": ("1", "2"), "role": ("x", "y")}
NS_LABEL_VALUES = {"team": ("x", "y"), "env": ("prod", "dev")}
CIDRS = {
    "0.0.0.0/0": ("10.244.0.0/16", "10.244.1.0/24", "203.0.113.0/24", "10.244.2.10/32"),
    "10.244.0.0/16": ("10.244.1.0/24", "10.244.2.0/24", "10.244.1.10/32", "10.244.3.10/32"),
    "10.244.1.0/24": ("10.244.1.10/32", "10.244.1.11/32"),
    "10.244.2.0/23": ("10.244.2.11/32", "10.244.3.0/24"),
    "10.244.1.11/32": (),
    "203.0.113.0/24": ("203.0.113.10/32",),
    "192.168.0.0/16": (),
}
PORT_NAMES = ("http", "dns", "metrics", "nope")


def _labels(rng: random.Random, values: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {k: rng.choice(v) for k, v in values.items() if rng.random() < 0.6}


def _selector(
    rng: random.Random, values: dict[str, tuple[str, ...]], extra_key: str | None = None
) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.25:
        return {}
    keys = list(values) + ([extra_key] if extra_key else [])
    key = rng.choice(keys)
    options = values.get(key, NAMESPACES)
    if roll < 0.6:
        return {"matchLabels": {key: rng.choice(options)}}
    operator = rng.choice(("In", "NotIn", "Exists", "DoesNotExist"))
    expression: dict[str, Any] = {"key": key, "operator": operator}
    if operator in ("In", "NotIn"):
        expression["values"] = rng.sample(list(options), rng.randint(1, len(options)))
    selector: dict[str, Any] = {"matchExpressions": [expression]}
    if rng.random() < 0.3:
        other = rng.choice(list(values))
        selector["matchLabels"] = {other: rng.choice(values[other])}
    return selector


def _peer(rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.3:
        return {"podSelector": _selector(rng, LABEL_VALUES)}
    if roll < 0.5:
        return {"namespaceSelector": _selector(rng, NS_LABEL_VALUES, "kubernetes.io/metadata.name")}
    if roll < 0.7:
        return {
            "namespaceSelector": _selector(rng, NS_LABEL_VALUES, "kubernetes.io/metadata.name"),
            "podSelector": _selector(rng, LABEL_VALUES),
        }
    cidr = rng.choice(list(CIDRS))
    block: dict[str, Any] = {"cidr": cidr}
    holes = CIDRS[cidr]
    if holes and rng.random() < 0.6:
        block["except"] = rng.sample(list(holes), rng.randint(1, min(2, len(holes))))
    return {"ipBlock": block}


def _port(rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    protocol = rng.choice(("TCP", "TCP", "UDP"))
    if roll < 0.4:
        candidates = [p for p, proto, _ in PORTS if proto == protocol]
        return {"protocol": protocol, "port": rng.choice(candidates)}
    if roll < 0.65:
        return {"protocol": protocol, "port": rng.choice(PORT_NAMES)}
    if roll < 0.85:
        low = rng.choice((50, 80, 443, 5000, 8080))
        return {"protocol": protocol, "port": low, "endPort": low + rng.choice((0, 10, 1000, 8000))}
    return {"protocol": protocol} if rng.random() < 0.7 else {}


def _rule(rng: random.Random, peers_key: str) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    if rng.random() < 0.8:
        rule[peers_key] = [_peer(rng) for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.7:
        rule["ports"] = [_port(rng) for _ in range(rng.randint(1, 2))]
    return rule


def _policy(rng: random.Random, index: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": _selector(rng, LABEL_VALUES)}
    types = rng.choice((None, ["Ingress"], ["Egress"], ["Ingress", "Egress"]))
    if types is not None:
        spec["policyTypes"] = types
    if rng.random() < 0.8:
        spec["ingress"] = [_rule(rng, "from") for _ in range(rng.randint(0, 2))]
    if rng.random() < 0.7:
        spec["egress"] = [_rule(rng, "to") for _ in range(rng.randint(0, 2))]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"np{index}", "namespace": rng.choice(NAMESPACES)},
        "spec": spec,
    }


def random_case(seed: int) -> list[dict[str, Any]]:
    """Namespaces, pods (fixed names and IPs) and 1-4 policies drawn from ``seed``."""
    rng = random.Random(seed)
    objects: list[dict[str, Any]] = []
    for ns in NAMESPACES:
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": ns, "labels": _labels(rng, NS_LABEL_VALUES)},
            }
        )
    for ns, name, ip in PODS:
        chosen: dict[tuple[int, str], tuple[int, str, str | None]] = {}
        for port in rng.sample(PORTS, rng.randint(1, 3)):
            chosen.setdefault((port[0], port[1]), port)
        ports = []
        names: set[str] = set()
        for port, protocol, port_name in chosen.values():
            entry: dict[str, Any] = {"containerPort": port, "protocol": protocol}
            if port_name and port_name not in names and rng.random() < 0.8:
                entry["name"] = port_name  # names are unique within a container
                names.add(port_name)
            ports.append(entry)
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": ns, "labels": _labels(rng, LABEL_VALUES)},
                "spec": {"containers": [{"name": "main", "image": "busybox", "ports": ports}]},
                "status": {"podIP": ip, "phase": "Running"},
            }
        )
    for i in range(rng.randint(1, 4)):
        objects.append(_policy(rng, i))
    return objects
