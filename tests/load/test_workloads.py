"""Every workload kind becomes the pods its controller would run, with names like theirs."""

from __future__ import annotations

import re

from netpol.model.diagnostics import Severity
from netpol.model.objects import WorkloadRef
from netpol.model.options import Options

from .support import build, lines

TEMPLATE = """
  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      containers:
        - name: c
          image: nginx
          command: [nginx]
          args: ["-g", "daemon off;"]
          ports:
            - {containerPort: 80, name: http}
            - {containerPort: 53, protocol: UDP}
"""

SUFFIX = "[bcdfghjklmnpqrstvwxz2456789]{5}"


def workload(kind: str, extra: str = "", api: str = "apps/v1") -> str:
    return f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: web, namespace: shop}}\nspec:\n{extra}{TEMPLATE}"


def names(cluster: object) -> list[str]:
    return [p.name for p in cluster.pods]  # type: ignore[attr-defined]


def test_deployment_pods_carry_a_template_hash_and_a_suffix() -> None:
    cluster = build(workload("Deployment", "  replicas: 3\n"))
    assert len(cluster.pods) == 3
    hashes = set()
    for pod in cluster.pods:
        match = re.fullmatch(rf"web-([bcdfghjklmnpqrstvwxz2456789]{{1,10}})-{SUFFIX}", pod.name)
        assert match, pod.name
        hashes.add(match.group(1))
        assert dict(pod.labels) == {"app": "web", "tier": "front"}  # no pod-template-hash
        assert pod.workload == WorkloadRef("Deployment", "shop", "web")
        assert pod.phase == "Running"
    assert len(hashes) == 1
    (w,) = cluster.workloads
    assert (w.kind, w.id, w.replicas) == ("Deployment", "shop/web", 3)
    (c,) = w.containers
    assert (c.name, c.image, c.command, c.args) == ("c", "nginx", ("nginx",), ("-g", "daemon off;"))
    assert [(p.port, p.protocol, p.name) for p in c.ports] == [
        (80, "TCP", "http"),
        (53, "UDP", None),
    ]


def test_deployment_template_change_changes_the_hash() -> None:
    a = build(workload("Deployment"))
    b = build(workload("Deployment").replace("image: nginx", "image: nginx:1.27"))
    assert a.pods[0].name.rsplit("-", 1)[0] != b.pods[0].name.rsplit("-", 1)[0]


def test_replicas_default_to_one_and_zero_means_none() -> None:
    assert len(build(workload("Deployment")).pods) == 1
    cluster = build(workload("Deployment", "  replicas: 0\n"))
    assert cluster.pods == ()
    assert [(w.id, w.replicas) for w in cluster.workloads] == [("shop/web", 0)]


def test_replicaset_pods_are_name_and_suffix() -> None:
    cluster = build(workload("ReplicaSet", "  replicas: 2\n"))
    assert all(re.fullmatch(rf"web-{SUFFIX}", n) for n in names(cluster))
    assert len(set(names(cluster))) == 2


def test_statefulset_pods_are_numbered_with_hostname_and_subdomain() -> None:
    cluster = build(workload("StatefulSet", "  serviceName: web-hl\n  replicas: 3\n"))
    assert names(cluster) == ["web-0", "web-1", "web-2"]
    assert [(p.hostname, p.subdomain) for p in cluster.pods] == [
        ("web-0", "web-hl"),
        ("web-1", "web-hl"),
        ("web-2", "web-hl"),
    ]
    assert cluster.workloads[0].service_name == "web-hl"


def test_daemonset_runs_one_pod_per_node() -> None:
    cluster = build(workload("DaemonSet"), Options(implicit_dns=False, nodes=4))
    assert sorted(p.node for p in cluster.pods) == sorted(n.name for n in cluster.nodes)
    assert [n.name for n in cluster.nodes] == [
        "kind-control-plane",
        "kind-worker",
        "kind-worker2",
        "kind-worker3",
    ]
    assert all(re.fullmatch(rf"web-{SUFFIX}", n) for n in names(cluster))
    assert cluster.workloads[0].replicas == 4


def test_job_runs_parallelism_pods_capped_by_completions() -> None:
    assert len(build(workload("Job", "  parallelism: 3\n", "batch/v1")).pods) == 3
    assert len(build(workload("Job", "  parallelism: 3\n  completions: 2\n", "batch/v1")).pods) == 2
    assert len(build(workload("Job", "", "batch/v1")).pods) == 1


def test_cronjob_runs_one_pod_from_its_job_template() -> None:
    text = """
    apiVersion: batch/v1
    kind: CronJob
    metadata: {name: backup, namespace: ops}
    spec:
      schedule: "*/5 * * * *"
      jobTemplate:
        spec:
          template:
            metadata: {labels: {app: backup}}
            spec:
              containers: [{name: c, image: busybox}]
    """
    cluster = build(text)
    (pod,) = cluster.pods
    assert re.fullmatch(rf"backup-\d{{8}}-{SUFFIX}", pod.name), pod.name
    assert dict(pod.labels) == {"app": "backup"}
    assert pod.workload == WorkloadRef("CronJob", "ops", "backup")
    suspended = build(text.replace('schedule: "*/5 * * * *"', "suspend: true"))
    assert suspended.pods == ()


def test_bare_pod_keeps_its_labels_status_ip_and_node() -> None:
    cluster = build(
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: probe, namespace: shop, labels: {app: probe}}
        spec:
          nodeName: kind-worker2
          containers: [{name: c, image: busybox}]
        status:
          phase: Running
          podIP: 10.244.7.7
          podIPs: [{ip: 10.244.7.7}, {ip: "fd00::7"}]
        """
    )
    (pod,) = cluster.pods
    assert (pod.name, dict(pod.labels), pod.ips, pod.node) == (
        "probe",
        {"app": "probe"},
        ("10.244.7.7", "fd00::7"),
        "kind-worker2",
    )
    assert pod.workload == WorkloadRef("Pod", "shop", "probe")
    assert [(w.kind, w.id) for w in cluster.workloads] == [("Pod", "shop/probe")]


def test_finished_pods_are_absent_and_pending_pods_have_no_ip() -> None:
    cluster = build(
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: done, namespace: shop}
        spec: {containers: [{name: c, image: busybox}]}
        status: {phase: Succeeded, podIP: 10.244.0.9}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: waiting, namespace: shop}
        spec: {containers: [{name: c, image: busybox}]}
        status: {phase: Pending}
        """
    )
    assert [(p.name, p.phase, p.ips) for p in cluster.pods] == [("waiting", "Pending", ())]
    assert lines(cluster, Severity.INFO) == [
        "test.yaml:2: info: Pod/shop/done: pod is Succeeded: a finished pod takes no part in "
        "the network (spec 2.3); left out"
    ]


def test_host_network_pods_take_their_node_ip() -> None:
    cluster = build(
        workload("DaemonSet").replace("    spec:\n", "    spec:\n      hostNetwork: true\n")
    )
    node_ips = {n.name: n.ips for n in cluster.nodes}
    assert node_ips["kind-control-plane"] == ("172.18.0.2",)
    for pod in cluster.pods:
        assert pod.host_network
        assert pod.ips == node_ips[pod.node]


def test_workloads_avoid_the_kind_control_plane() -> None:
    cluster = build(workload("Deployment", "  replicas: 20\n"))
    nodes = {p.node for p in cluster.pods}
    assert nodes == {"kind-worker", "kind-worker2"}
    single = build(workload("Deployment", "  replicas: 2\n"), Options(implicit_dns=False, nodes=1))
    assert {p.node for p in single.pods} == {"kind-control-plane"}


def test_exported_live_pods_replace_the_generated_ones() -> None:
    """`kubectl get deploy,rs,pods -o yaml`: the real pods count, once, under the Deployment."""
    cluster = build(
        workload("Deployment", "  replicas: 2\n")
        + """---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-7d4b9c
  namespace: shop
  ownerReferences: [{kind: Deployment, name: web, controller: true}]
spec:
  replicas: 2"""
        + TEMPLATE
        + """---
apiVersion: v1
kind: Pod
metadata:
  name: web-7d4b9c-abcde
  namespace: shop
  labels: {app: web, tier: front, pod-template-hash: 7d4b9c}
  ownerReferences: [{kind: ReplicaSet, name: web-7d4b9c, controller: true}]
spec: {nodeName: node-a, containers: [{name: c, image: nginx}]}
status: {phase: Running, podIP: 10.244.1.5, hostIP: 192.168.1.10}
"""
    )
    assert [(p.name, p.ips, p.node) for p in cluster.pods] == [
        ("web-7d4b9c-abcde", ("10.244.1.5",), "node-a")
    ]
    assert [(w.kind, w.name) for w in cluster.workloads] == [("Deployment", "web")]
    assert cluster.pods[0].workload == WorkloadRef("Deployment", "shop", "web")
    assert cluster.node_by_name["node-a"].ips == ("192.168.1.10",)


def test_exported_pod_without_its_owner_names_the_deployment() -> None:
    cluster = build(
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: api-5f9c7-xkq2p
          namespace: shop
          labels: {app: api, pod-template-hash: 5f9c7}
          ownerReferences: [{kind: ReplicaSet, name: api-5f9c7, controller: true}]
        spec: {containers: [{name: c, image: api}]}
        status: {podIP: 10.244.3.3}
        """
    )
    assert cluster.pods[0].workload == WorkloadRef("Deployment", "shop", "api")
    assert [(w.kind, w.id, w.replicas) for w in cluster.workloads] == [
        ("Deployment", "shop/api", 1)
    ]


def test_absurd_replica_counts_are_refused_not_allocated() -> None:
    cluster = build(workload("Deployment", "  replicas: 1000000000\n"))
    assert cluster.pods == ()
    assert lines(cluster) == [
        "test.yaml:5: error: Deployment/shop/web: spec.replicas: 1,000,000,000 pods is more "
        "than a cluster holds (at most 150,000) (value: 1000000000)"
    ]


def test_generate_name_gets_a_stable_suffix() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {generateName: job-, namespace: a}\nspec: {containers: []}\n"
    first, second = build(text), build(text)
    assert re.fullmatch(rf"job-{SUFFIX}", first.pods[0].name)
    assert first.pods[0].name == second.pods[0].name


def test_circular_owner_references_end() -> None:
    """Two ReplicaSets owning each other: both still run their pods, nothing loops."""
    rs = (
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: NAME\n  namespace: shop\n"
        "  ownerReferences: [{kind: ReplicaSet, name: OTHER, controller: true}]\nspec:\n"
    )
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: shop\n"
        "  ownerReferences: [{kind: ReplicaSet, name: a, controller: true}]\nspec: {containers: []}\n"
    )
    text = (
        rs.replace("NAME", "a").replace("OTHER", "b")
        + TEMPLATE
        + "---\n"
        + rs.replace("NAME", "b").replace("OTHER", "a")
        + TEMPLATE
        + "---\n"
        + pod
    )
    cluster = build(text)
    assert sorted(p.workload.name for p in cluster.pods if p.workload) == ["a", "b"]


def test_generated_pod_names_are_cut_to_63_characters_as_the_api_server_cuts_them() -> None:
    """names.SimpleNameGenerator cuts the base to 58 characters: a pod name is a DNS label."""
    long = "d" * 200
    deployments = "".join(
        workload("Deployment", "  replicas: 2\n").replace("name: web,", f"name: {long}{i},")
        + "---\n"
        for i in "ab"
    )
    generated = "apiVersion: v1\nkind: Pod\nmetadata: {generateName: %s-, namespace: a}\nspec: {containers: []}\n"
    cluster = build(deployments + generated % long)
    pods = names(cluster)
    assert len(pods) == len(set(pods)) == 5
    for name in pods:
        assert len(name) == 63 and re.fullmatch(rf"d{{58}}{SUFFIX}", name), name
