"""Synthetic clusters of N pods as manifests, deterministic by seed.

Shape: namespaces of 10 to 50 workloads (mostly Deployments, some StatefulSets and Jobs),
1 to 20 replicas each, pods labelled in tiers (app / tier / team), a Service per serving
workload with named target ports, and 1 to 5 NetworkPolicies per workload of the shapes
real clusters have: a default deny per namespace, ingress from selected pods, from other
teams' namespaces (namespaceSelector AND podSelector in one peer) or from either (two
peers, OR), ipBlocks with except, named ports, port ranges (endPort), matchExpressions,
and DNS egress to kube-system. A kube-system namespace with CoreDNS is always there.

    python3 benchmarks/synth.py DIR --pods 10000 --seed 7

Used by benchmarks/load.py and benchmarks/engine.py: ``generate(pods, seed)`` returns the
YAML text, ``write(dir, pods, seed)`` writes it as a few multi-document files.

The default pod CIDR (10.244.0.0/16, like KIND) holds 65,534 pods; for more, pass
``pod_cidr(pods)`` as ``Options.pod_cidr`` (or ``--pod-cidr``), as a real cluster of that
size would be configured.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

TIERS = {
    # tier: (container ports as (name, port, protocol), serves traffic)
    "web": ((("http", 8080, "TCP"), ("metrics", 9090, "TCP")), True),
    "api": ((("https", 8443, "TCP"), ("grpc", 9000, "TCP"), ("metrics", 9090, "TCP")), True),
    "db": ((("postgres", 5432, "TCP"),), True),
    "cache": ((("redis", 6379, "TCP"),), True),
    "queue": ((("amqp", 5672, "TCP"), ("stats", 8125, "UDP")), True),
    "worker": ((("metrics", 9090, "TCP"),), False),
    "batch": ((), False),
}
TIER_NAMES = tuple(TIERS)
TIER_WEIGHTS = (5, 6, 2, 2, 1, 4, 1)
TEAMS = (
    "payments",
    "search",
    "checkout",
    "identity",
    "catalog",
    "ads",
    "infra",
    "data",
    "mobile",
    "growth",
)
ENVS = ("prod", "staging", "dev")
EXTERNAL = ("203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24", "172.16.0.0/12", "100.64.0.0/10")
LARGE_POD_CIDR = "10.128.0.0/9"  # 8M addresses; does not overlap the Service CIDR 10.96.0.0/12


def pod_cidr(pods: int) -> str:
    """A pod CIDR that holds ``pods`` pods: KIND's /16 when it fits, else a /9."""
    return "10.244.0.0/16" if pods <= 60_000 else LARGE_POD_CIDR


@dataclass
class _Workload:
    namespace: str
    team: str
    name: str
    kind: str
    tier: str
    replicas: int


def _plan(pods: int, rng: random.Random) -> Iterator[tuple[str, str, str, list[_Workload]]]:
    """Namespaces with their workloads until ``pods`` pods are planned (CoreDNS counts 2)."""
    remaining = max(pods - 2, 0)
    index = 0
    while remaining > 0:
        team = TEAMS[index % len(TEAMS)]
        env = ENVS[rng.randrange(len(ENVS))]
        namespace = f"{team}-{env}-{index:04d}"
        workloads = []
        for w in range(rng.randint(10, 50)):
            if remaining <= 0:
                break
            tier = rng.choices(TIER_NAMES, TIER_WEIGHTS)[0]
            kind = (
                "StatefulSet"
                if tier in ("db", "cache", "queue")
                else "Job"
                if tier == "batch"
                else "Deployment"
            )
            replicas = min(rng.randint(1, 20), remaining)
            remaining -= replicas
            workloads.append(_Workload(namespace, team, f"{tier}-{w:02d}", kind, tier, replicas))
        yield namespace, team, env, workloads
        index += 1


def _namespace(name: str, team: str, env: str) -> str:
    return f"""apiVersion: v1
kind: Namespace
metadata:
  name: {name}
  labels:
    team: {team}
    env: {env}
"""


def _workload(w: _Workload) -> str:
    ports, _ = TIERS[w.tier]
    port_lines = "".join(
        f"            - name: {n}\n              containerPort: {p}\n              protocol: {proto}\n"
        for n, p, proto in ports
    )
    container = f"""        - name: {w.tier}
          image: registry.example/{w.team}/{w.tier}:1.{len(w.name)}
"""
    if port_lines:
        container += "          ports:\n" + port_lines
    labels = f"""        app: {w.name}
        tier: {w.tier}
        team: {w.team}
"""
    if w.kind == "Job":
        return f"""apiVersion: batch/v1
kind: Job
metadata:
  name: {w.name}
  namespace: {w.namespace}
spec:
  parallelism: {w.replicas}
  template:
    metadata:
      labels:
{labels}    spec:
      restartPolicy: Never
      containers:
{container}"""
    extra = f"  serviceName: {w.name}\n" if w.kind == "StatefulSet" else ""
    return f"""apiVersion: apps/v1
kind: {w.kind}
metadata:
  name: {w.name}
  namespace: {w.namespace}
spec:
{extra}  replicas: {w.replicas}
  selector:
    matchLabels:
      app: {w.name}
  template:
    metadata:
      labels:
{labels}    spec:
      containers:
{container}"""


def _service(w: _Workload) -> str:
    ports, _ = TIERS[w.tier]
    lines = "".join(
        f"    - name: {n}\n      port: {80 if i == 0 and n in ('http', 'https') else p}\n"
        f"      targetPort: {n}\n      protocol: {proto}\n"
        for i, (n, p, proto) in enumerate(ports)
    )
    headless = "  clusterIP: None\n" if w.kind == "StatefulSet" else ""
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {w.name}
  namespace: {w.namespace}
spec:
{headless}  selector:
    app: {w.name}
  ports:
{lines}"""


def _subnet(cidr: str, rng: random.Random) -> str:
    """A random strict subnet of ``cidr``, 4 bits longer: a realistic ``except``."""
    network = ipaddress.ip_network(cidr)
    prefix = network.prefixlen + 4
    step = 1 << (32 - prefix)
    start = int(network.network_address) + rng.randrange(1 << 4) * step
    return str(ipaddress.ip_network((start, prefix)))


def _policy(namespace: str, name: str, spec: str) -> str:
    return f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
  namespace: {namespace}
spec:
{spec}"""


DEFAULT_DENY = """  podSelector: {}
  policyTypes:
    - Ingress
    - Egress
"""

DNS_EGRESS = """  podSelector: {}
  policyTypes:
    - Egress
  egress:
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: kube-system
          podSelector:
            matchLabels:
              k8s-app: kube-dns
      ports:
        - protocol: UDP
          port: 53
        - protocol: TCP
          port: 53
"""


def _policies(w: _Workload, peers: list[_Workload], rng: random.Random) -> Iterator[str]:
    """1 to 5 policies selecting ``w``, of varied realistic shapes."""
    ports, serves = TIERS[w.tier]
    first_port = ports[0][0] if ports else None
    shapes = [
        "ingress-pods",
        "ingress-ns-and-pods",
        "ingress-or",
        "ipblock",
        "egress-tiers",
        "range",
    ]
    if not serves or first_port is None:
        shapes = ["egress-tiers", "ipblock-egress"]
    chosen = rng.sample(shapes, k=min(len(shapes), rng.randint(1, 5)))
    select = f"""  podSelector:
    matchLabels:
      app: {w.name}
"""
    for i, shape in enumerate(chosen):
        name = f"{w.name}-{shape}-{i}"
        client = rng.choice(peers) if peers else w
        if shape == "ingress-pods":
            spec = f"""{select}  ingress:
    - from:
        - podSelector:
            matchLabels:
              tier: {client.tier}
      ports:
        - port: {first_port}
"""
        elif shape == "ingress-ns-and-pods":
            other = TEAMS[rng.randrange(len(TEAMS))]
            spec = f"""{select}  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              team: {other}
          podSelector:
            matchExpressions:
              - key: tier
                operator: In
                values: [web, api]
      ports:
        - protocol: TCP
          port: {first_port}
"""
        elif shape == "ingress-or":
            spec = f"""{select}  policyTypes:
    - Ingress
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              env: prod
        - podSelector:
            matchLabels:
              app: {client.name}
"""
        elif shape == "ipblock":
            cidr = EXTERNAL[rng.randrange(len(EXTERNAL))]
            spec = f"""{select}  ingress:
    - from:
        - ipBlock:
            cidr: {cidr}
            except:
              - {_subnet(cidr, rng)}
      ports:
        - port: {first_port}
"""
        elif shape == "ipblock-egress":
            spec = f"""{select}  policyTypes:
    - Egress
  egress:
    - to:
        - ipBlock:
            cidr: 0.0.0.0/0
            except:
              - 10.0.0.0/8
              - 169.254.169.254/32
      ports:
        - protocol: TCP
          port: 443
"""
        elif shape == "range":
            low = 30000 + rng.randrange(0, 2000)
            spec = f"""{select}  ingress:
    - ports:
        - protocol: TCP
          port: {low}
          endPort: {low + rng.randrange(1, 500)}
"""
        else:  # egress-tiers
            spec = f"""{select}  egress:
    - to:
        - podSelector:
            matchExpressions:
              - key: tier
                operator: In
                values: [db, cache, queue]
    - to:
        - podSelector:
            matchLabels:
              tier: {client.tier}
          namespaceSelector:
            matchLabels:
              team: {w.team}
"""
        yield _policy(w.namespace, name, spec)


COREDNS = """apiVersion: v1
kind: Namespace
metadata:
  name: kube-system
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
spec:
  replicas: 2
  selector:
    matchLabels:
      k8s-app: kube-dns
  template:
    metadata:
      labels:
        k8s-app: kube-dns
    spec:
      containers:
        - name: coredns
          image: registry.k8s.io/coredns/coredns:v1.11.3
          ports:
            - {name: dns, containerPort: 53, protocol: UDP}
            - {name: dns-tcp, containerPort: 53, protocol: TCP}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
spec:
  clusterIP: 10.96.0.10
  selector:
    k8s-app: kube-dns
  ports:
    - {name: dns, port: 53, protocol: UDP, targetPort: dns}
    - {name: dns-tcp, port: 53, protocol: TCP, targetPort: dns-tcp}
"""


def _admin(kind: str, name: str, spec: str, api: str = "policy.networking.k8s.io/v1alpha1") -> str:
    return f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n{spec}"


def _ns_is(key: str, value: str) -> str:
    return f"{{namespaces: {{matchLabels: {{{key}: {value}}}}}}}"


def tier_documents() -> list[str]:
    """Guard rails a platform team sets above the namespaces' NetworkPolicies: admin
    policies (DNS always, no dev -> prod, no metadata server, a Pass per team), a Calico
    GlobalNetworkPolicy in a tier of its own, and a baseline default deny for pods no NetworkPolicy isolates."""
    docs = [
        _admin(
            "AdminNetworkPolicy",
            "allow-dns",
            """  priority: 1
  subject: {namespaces: {}}
  egress:
    - name: dns
      action: Allow
      to: [{pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}},
                   podSelector: {matchLabels: {k8s-app: kube-dns}}}}]
      ports: [{portNumber: {protocol: UDP, port: 53}}, {portNumber: {protocol: TCP, port: 53}}]
""",
        ),
        _admin(
            "AdminNetworkPolicy",
            "no-metadata-server",
            """  priority: 2
  subject: {namespaces: {}}
  egress:
    - {name: metadata, action: Deny, to: [{networks: [169.254.169.254/32]}]}
""",
        ),
        _admin(
            "AdminNetworkPolicy",
            "no-dev-to-prod",
            f"""  priority: 5
  subject: {_ns_is("env", "prod")}
  ingress:
    - {{name: dev, action: Deny, from: [{_ns_is("env", "dev")}]}}
""",
        ),
        _admin("Tier", "security", "  order: 100\n  defaultAction: Pass\n", "projectcalico.org/v3"),
        _admin(
            "GlobalNetworkPolicy",
            "security.no-smtp-out",
            """  tier: security
  order: 100
  selector: all()
  types: [Egress]
  egress:
    - {action: Deny, protocol: TCP, destination: {ports: [25]}}
    - {action: Pass}
""",
            "projectcalico.org/v3",
        ),
        _admin(
            "BaselineAdminNetworkPolicy",
            "default",
            """  subject: {namespaces: {}}
  ingress:
    - {name: deny-all, action: Deny, from: [{namespaces: {}}]}
""",
        ),
    ]
    for i, team in enumerate(TEAMS):
        docs.append(
            _admin(
                "AdminNetworkPolicy",
                f"team-{team}-delegates",
                f"""  priority: {10 + i}
  subject: {_ns_is("team", team)}
  ingress:
    - {{name: own-team, action: Pass, from: [{_ns_is("team", team)}]}}
  egress:
    - {{name: own-team, action: Pass, to: [{_ns_is("team", team)}]}}
""",
            )
        )
    return docs


def _cilium(kind: str, name: str, namespace: str | None, spec: str) -> str:
    where = f", namespace: {namespace}" if namespace else ""
    return f"apiVersion: cilium.io/v2\nkind: {kind}\nmetadata: {{name: {name}{where}}}\n{spec}"


def cilium_documents(namespaces: list[str]) -> list[str]:
    """What a Cilium shop writes beside its NetworkPolicies: cluster-wide DNS with an L7
    rule, no metadata server, kubelet probes from the host; per namespace a deny of dev
    namespaces towards the databases and an L7 allow of the world to the web tier."""
    docs = [
        _cilium(
            "CiliumClusterwideNetworkPolicy",
            "dns-visibility",
            None,
            """spec:
  endpointSelector: {}
  enableDefaultDeny: {egress: false}
  egress:
  - toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]
    toPorts: [{ports: [{port: "53", protocol: ANY}], rules: {dns: [{matchPattern: "*"}]}}]
""",
        ),
        _cilium(
            "CiliumClusterwideNetworkPolicy",
            "no-metadata-server",
            None,
            """spec:
  endpointSelector: {}
  egressDeny: [{toCIDR: [169.254.169.254/32]}]
  enableDefaultDeny: {egress: false}
""",
        ),
        _cilium(
            "CiliumClusterwideNetworkPolicy",
            "probes-from-host",
            None,
            """specs:
- endpointSelector: {matchLabels: {tier: web}}
  ingress: [{fromEntities: [host, remote-node], toPorts: [{ports: [{port: "9090", protocol: TCP}]}]}]
  enableDefaultDeny: {ingress: false}
""",
        ),
    ]
    for namespace in namespaces:
        docs.append(
            _cilium(
                "CiliumNetworkPolicy",
                "no-dev-to-db",
                namespace,
                """spec:
  endpointSelector: {matchLabels: {tier: db}}
  ingressDeny: [{fromEndpoints: [{matchLabels: {io.cilium.k8s.namespace.labels.env: dev}}]}]
  enableDefaultDeny: {ingress: false}
""",
            )
        )
        docs.append(
            _cilium(
                "CiliumNetworkPolicy",
                "web-from-world",
                namespace,
                """spec:
  endpointSelector: {matchLabels: {tier: web}}
  ingress:
  - fromEntities: [world]
    toPorts: [{ports: [{port: "8080", protocol: TCP}], rules: {http: [{method: GET}]}}]
""",
            )
        )
    return docs


def files(pods: int, seed: int, tiers: bool = False, cilium: bool = False) -> dict[str, str]:
    """File name -> multi-document YAML: namespaces, workloads, services, policies (and,
    with ``tiers``, admin, baseline and Calico policies; with ``cilium``, Cilium's own)."""
    rng = random.Random(seed)
    parts: dict[str, list[str]] = {
        "00-namespaces.yaml": [],
        "10-workloads.yaml": [],
        "20-services.yaml": [],
        "30-policies.yaml": [],
    }
    for namespace, team, env, workloads in _plan(pods, rng):
        parts["00-namespaces.yaml"].append(_namespace(namespace, team, env))
        parts["30-policies.yaml"].append(_policy(namespace, "default-deny", DEFAULT_DENY))
        parts["30-policies.yaml"].append(_policy(namespace, "allow-dns", DNS_EGRESS))
        for w in workloads:
            parts["10-workloads.yaml"].append(_workload(w))
            if TIERS[w.tier][1]:
                parts["20-services.yaml"].append(_service(w))
            parts["30-policies.yaml"].extend(_policies(w, workloads, rng))
    if tiers:
        parts["40-tiers.yaml"] = tier_documents()
    if cilium:
        names = [doc.split("name: ", 1)[1].split("\n", 1)[0] for doc in parts["00-namespaces.yaml"]]
        parts["50-cilium.yaml"] = cilium_documents(names)
    out = {name: "---\n".join(docs) for name, docs in parts.items()}
    out["01-kube-system.yaml"] = COREDNS
    return dict(sorted(out.items()))


def generate(pods: int, seed: int) -> str:
    """The whole synthetic cluster as one multi-document YAML text."""
    return "---\n".join(text for text in files(pods, seed).values() if text)


def write(
    directory: str, pods: int, seed: int, tiers: bool = False, cilium: bool = False
) -> list[str]:
    """Write the cluster into ``directory`` as a few multi-document files; their paths."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    for name, text in files(pods, seed, tiers, cilium).items():
        path = os.path.join(directory, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        paths.append(path)
    return paths


def measure_in_child(script: str, directory: str, pods: int) -> dict[str, float]:
    """``script --measure DIRECTORY`` run in a fresh interpreter (so its peak memory is its
    own), and the JSON numbers it prints; the child's error ends the benchmark."""
    child = subprocess.run(
        [sys.executable, script, "--measure", directory, "--pod-cidr", pod_cidr(pods)],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(child.stderr.strip() or child.stdout.strip())
    numbers: dict[str, float] = json.loads(child.stdout)
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory")
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tiers", action="store_true", help="add admin/baseline/Calico policies")
    parser.add_argument("--cilium", action="store_true", help="add Cilium policies (CNP, CCNP)")
    args = parser.parse_args()
    for path in write(args.directory, args.pods, args.seed, args.tiers, args.cilium):
        print(path)


if __name__ == "__main__":
    main()
