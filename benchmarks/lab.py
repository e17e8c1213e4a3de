"""Lab benchmark: bring up 50 and 200 pods, apply 1k policies, probe 200 pods on 2 ports.

Usage (root, nftables): python3 benchmarks/lab.py [--sizes 50,200] [--policies 1000] [--seed 7]
       [--tiers]

Each pod runs listeners on 80/TCP and 53/UDP; the lab adds its CoreDNS pod. "up" is
``lab up`` from objects to rules in force (namespaces, veths, routes, neighbours, the
helper's listeners, DNS, nftables). "apply" replaces the policy set with N policies
(compile, load the table in one transaction). "probe" connects every ordered pair of pods
on both ports (the outside client too) with the policies in force, and reports the time of
the real connections and, separately, of the engine's prediction for every pair.
``--tiers`` applies, with the policies, an AdminNetworkPolicy per namespace (Pass from its
team, Deny from the other), a Calico GlobalNetworkPolicy in a tier of its own, and a
baseline default deny: the same probe then checks the tier segments on real packets.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

from netpol.lab import lifecycle  # noqa: E402
from netpol.model.options import Options  # noqa: E402

NAMESPACES = 5
APPS = 20


def cluster(pods: int) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": f"ns{i}", "labels": {"team": f"t{i % 2}"}},
        }
        for i in range(NAMESPACES)
    ]
    for app in range(APPS):
        per_app = pods // APPS + (1 if app < pods % APPS else 0)
        objects.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": f"app{app}", "namespace": f"ns{app % NAMESPACES}"},
                "spec": {
                    "replicas": per_app,
                    "selector": {"matchLabels": {"app": f"app{app}"}},
                    "template": {
                        "metadata": {"labels": {"app": f"app{app}", "tier": str(app % 3)}},
                        "spec": {
                            "containers": [
                                {
                                    "name": "c",
                                    "image": "x",
                                    "ports": [
                                        {"containerPort": 80, "name": "http"},
                                        {"containerPort": 53, "protocol": "UDP", "name": "dns"},
                                    ],
                                }
                            ]
                        },
                    },
                },
            }
        )
    return objects


def policies(count: int, rng: random.Random) -> list[dict[str, Any]]:
    found = []
    for i in range(count):
        subject = rng.randrange(APPS)
        ns = subject % NAMESPACES  # the subject's own namespace: every policy selects pods
        peer: dict[str, Any] = {
            "podSelector": {"matchLabels": {"app": f"app{rng.randrange(APPS)}"}}
        }
        if rng.random() < 0.4:
            peer["namespaceSelector"] = {"matchLabels": {"team": f"t{rng.randrange(2)}"}}
        port = rng.choice(
            (
                {"port": 80},
                {"port": "http"},
                {"protocol": "UDP", "port": 53},
                {"port": 1000 + i, "endPort": 2000 + i},
                {"port": 10000 + i},  # a port of its own: every policy adds rules
                {"port": 20000 + i},
            )
        )
        spec: dict[str, Any] = {
            "podSelector": {"matchLabels": {"app": f"app{subject}"}},
            "ingress": [{"from": [peer], "ports": [port]}],
        }
        if rng.random() < 0.3:
            spec["egress"] = [
                {
                    "to": [
                        {
                            "ipBlock": {
                                "cidr": "10.244.0.0/16",
                                "except": [f"10.244.{rng.randrange(256)}.0/24"],
                            }
                        }
                    ]
                },
                {"to": [{"namespaceSelector": {}}], "ports": [{"protocol": "UDP", "port": 53}]},
            ]
        found.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": f"p{i}", "namespace": f"ns{ns}"},
                "spec": spec,
            }
        )
    return found


def tier_objects() -> list[dict[str, Any]]:
    api = "policy.networking.k8s.io/v1alpha1"
    found: list[dict[str, Any]] = []
    for i in range(NAMESPACES):
        own = {"namespaces": {"matchLabels": {"team": f"t{i % 2}"}}}
        other = {"namespaces": {"matchLabels": {"team": f"t{(i + 1) % 2}"}}}
        found.append(
            {
                "apiVersion": api,
                "kind": "AdminNetworkPolicy",
                "metadata": {"name": f"ns{i}-boundary"},
                "spec": {
                    "priority": 10 + i,
                    "subject": {
                        "namespaces": {"matchLabels": {"kubernetes.io/metadata.name": f"ns{i}"}}
                    },
                    "ingress": [
                        {"name": "team", "action": "Pass", "from": [own]},
                        {
                            "name": "others-web",
                            "action": "Deny",
                            "from": [other],
                            "ports": [{"portNumber": {"protocol": "TCP", "port": 80}}],
                        },
                    ],
                },
            }
        )
    found += [
        {
            "apiVersion": "projectcalico.org/v3",
            "kind": "Tier",
            "metadata": {"name": "security"},
            "spec": {"order": 100, "defaultAction": "Pass"},
        },
        {
            "apiVersion": "projectcalico.org/v3",
            "kind": "GlobalNetworkPolicy",
            "metadata": {"name": "security.no-dns-from-ns4"},
            "spec": {
                "tier": "security",
                "order": 10,
                "selector": "projectcalico.org/namespace == 'ns4'",
                "types": ["Egress"],
                "egress": [
                    {"action": "Deny", "protocol": "UDP", "destination": {"ports": [53]}},
                    {"action": "Pass"},
                ],
            },
        },
        {
            "apiVersion": api,
            "kind": "BaselineAdminNetworkPolicy",
            "metadata": {"name": "default"},
            "spec": {
                "subject": {"namespaces": {}},
                "ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}],
            },
        },
    ]
    return found


def timed(label: str, func: Any) -> Any:
    start = time.perf_counter()
    result = func()
    print(f"  {label:<42} {time.perf_counter() - start:7.2f} s", flush=True)
    return result


def run_size(
    size: int, biggest: bool, count: int, no_probe: bool, rng: random.Random, tiers: bool
) -> None:
    lab = f"bench{size}"
    lifecycle.down(lab)
    base = cluster(size)
    try:
        view = timed(f"up {size} pods", lambda: lifecycle.up_objects(base, lab, Options()))
        print(f"    ({len(view.pods)} pods with the lab's CoreDNS)")
        if not biggest:
            return
        with_policies = base + policies(count, rng) + (tier_objects() if tiers else [])
        what = f"{count} policies" + (" + admin/baseline/Calico tiers" if tiers else "")
        change = timed(f"apply {what}", lambda: lifecycle.replace(with_policies, lab))
        print(f"    ({change.rules_after} rules)")
        timed(
            "apply 1 more policy (incremental change)",
            lambda: lifecycle.replace(with_policies + policies(1, rng), lab),
        )
        if no_probe:
            return
        report, _ = timed(
            f"probe {size} pods x 2 ports (with prediction)",
            lambda: lifecycle.probe_lab(lab, timeout=2.0),
        )
        connected = sum(c.observed for c in report.cells)
        print(
            f"    ({len(report.cells)} connections in {report.elapsed:.2f} s of real traffic, "
            f"{connected} connected, {len(report.disagreements)} disagreements)"
        )
    finally:
        timed(f"down {size} pods", lambda: lifecycle.down(lab))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="50,200")
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-probe", action="store_true")
    parser.add_argument("--tiers", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"lab benchmark: {os.cpu_count()} cores, sizes {sizes}, {args.policies} policies")
    for size in sizes:
        run_size(size, size == max(sizes), args.policies, args.no_probe, rng, args.tiers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
