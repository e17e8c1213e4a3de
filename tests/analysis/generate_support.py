"""What the generate tests share: the examples loaded without their policies, the
engine's connectivity of a cluster, and a small cluster with a Service across namespaces."""

from __future__ import annotations

from pathlib import Path

from netpol.engine.compile import compile_cluster
from netpol.engine.endpoints import ip_endpoint, pod_endpoint
from netpol.engine.matrix import class_matrix
from netpol.engine.verdict import allowed
from netpol.model.cluster import Cluster
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
THREE_TIER = EXAMPLES / "three-tier"

# Probe addresses for the outside world: public, inside the pod range, a node, IPv6.
OUTSIDE = ("203.0.113.7", "8.8.8.8", "10.244.255.254", "172.18.0.2", "2001:db8::1")


def load(path: Path, options: Options | None = None, without_policies: bool = True) -> Cluster:
    result = load_cluster([str(path)], options or Options())
    assert result.ok, [d.one_line() for d in result.errors]
    cluster = result.cluster
    return cluster.with_policies(()) if without_policies else cluster


def connectivity(cluster: Cluster, options: Options) -> dict[tuple[str, str], str]:
    """Every pod pair and every (outside address, pod) pair both ways, as the engine says."""
    cc = compile_cluster(cluster, options)
    matrix = class_matrix(cc)
    out = {}
    pods = [p for p in cluster.pods if p.ips]
    for a in pods:
        for b in pods:
            if a.id != b.id:
                out[(a.id, b.id)] = matrix.pod_connections(a.id, b.id).text()
    for ip in OUTSIDE:
        for p in pods:
            endpoint = pod_endpoint(p, options.profile)
            out[(ip, p.id)] = allowed(cc, ip_endpoint(ip), endpoint).text()
            out[(p.id, ip)] = allowed(cc, endpoint, ip_endpoint(ip)).text()
    return out


SERVICE_CLUSTER = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      containers:
        - name: web
          image: nginx
          ports: [{containerPort: 8443, name: https}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: shop}
spec:
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client}}
    spec:
      containers: [{name: c, image: busybox}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: scraper, namespace: monitoring}
spec:
  selector: {matchLabels: {app: scraper}}
  template:
    metadata: {labels: {app: scraper, role: metrics}}
    spec:
      containers: [{name: s, image: prom}]
---
apiVersion: v1
kind: Service
metadata: {name: web-svc, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 443, targetPort: https}]
"""

# client -> web through its Service, and the monitoring scraper (another namespace) -> web
SHOP_FLOWS = """
apiVersion: netpol/v1alpha1
kind: Flows
namespace: shop
flows:
  - from: {workload: client}
    to: {service: web-svc}
    ports: [443/TCP]
  - from: {namespace: monitoring, labels: {role: metrics}}
    to: {workload: web}
    ports: [8443]
"""
