"""A dual-stack node is matched by an ipBlock of either family, pairwise and in the matrix."""

from __future__ import annotations

from pathlib import Path

from netpol.engine.compile import compile_cluster
from netpol.engine.endpoints import node_endpoint, pod_endpoint
from netpol.engine.matrix import class_matrix
from netpol.engine.verdict import allowed
from netpol.engine.views import MatrixView
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

DUAL = """\
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 172.18.0.2}, {type: InternalIP, address: "fd00::2"}]}
---
apiVersion: v1
kind: Node
metadata: {name: n2}
status: {addresses: [{type: InternalIP, address: 172.18.0.3}, {type: InternalIP, address: "fd00::3"}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: a}
spec: {nodeName: n1, containers: [{name: c, image: i}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: eg, namespace: a}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: "fd00::3/128"}}]
      ports: [{port: 80}]
"""


def test_an_ipv6_block_matches_the_nodes_ipv6_address(tmp_path: Path) -> None:
    (tmp_path / "dual.yaml").write_text(DUAL)
    options = Options(profile=Options().profile)
    cc = compile_cluster(load_cluster([str(tmp_path)], options).cluster, options)
    client = cc.cluster.pod_by_id["a/client"]
    n2 = cc.cluster.node_by_name["n2"]

    pairwise = allowed(cc, pod_endpoint(client, cc.profile), node_endpoint(n2))
    view = MatrixView(class_matrix(cc, include_nodes=True), "pod")
    bulk = {
        (view.endpoints[p.src].id, view.endpoints[p.dst].id): p.connections for p in view.pairs()
    }

    assert pairwise.text() == "TCP 80"
    assert bulk[("a/client", "node:n2")] == pairwise
