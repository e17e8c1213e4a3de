"""A static (mirror) pod, owned by its Node in a live export, is a workload of its own."""

from __future__ import annotations

from pathlib import Path

from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

STATIC = """\
apiVersion: v1
kind: Pod
metadata:
  name: etcd-kind-control-plane
  namespace: kube-system
  labels: {component: etcd, tier: control-plane}
  ownerReferences:
    - {apiVersion: v1, kind: Node, name: kind-control-plane, uid: "1", controller: true}
spec:
  nodeName: kind-control-plane
  hostNetwork: true
  containers: [{name: etcd, image: etcd}]
status: {podIP: 172.18.0.2, phase: Running}
"""


def test_a_node_owned_pod_is_a_bare_pod(tmp_path: Path) -> None:
    (tmp_path / "static.yaml").write_text(STATIC)

    cluster = load_cluster([str(tmp_path)], Options(implicit_dns=False)).cluster

    assert [(w.kind, w.id) for w in cluster.workloads] == [
        ("Pod", "kube-system/etcd-kind-control-plane")
    ]
    (pod,) = cluster.pods
    assert pod.workload is not None and pod.workload.kind == "Pod"
    assert pod.ips == ("172.18.0.2",) and pod.node == "kind-control-plane"
