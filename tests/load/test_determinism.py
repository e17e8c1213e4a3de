"""Same input, same cluster: names and addresses do not depend on document order."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.model.diagnostics import Severity
from netpol.model.options import Options

from .support import build, lines, snapshot

DOCS = [
    "{apiVersion: v1, kind: Namespace, metadata: {name: shop}}",
    "{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: shop}, spec: "
    "{replicas: 3, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c}]}}}}",
    "{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: db, namespace: shop}, spec: "
    "{replicas: 2, serviceName: db, template: {metadata: {labels: {app: db}}, spec: {containers: []}}}}",
    "{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: agent, namespace: ops}, spec: "
    "{template: {metadata: {labels: {app: agent}}, spec: {containers: []}}}}",
    "{apiVersion: v1, kind: Pod, metadata: {name: fixed, namespace: shop}, spec: {containers: []}, "
    "status: {podIP: 10.244.0.1}}",
    "{apiVersion: v1, kind: Pod, metadata: {name: loose, namespace: shop}, spec: {containers: []}}",
    "{apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: "
    "{selector: {app: web}, ports: [{port: 80}]}}",
    "{apiVersion: v1, kind: Service, metadata: {name: db, namespace: shop}, spec: "
    "{clusterIP: None, selector: {app: db}, ports: [{port: 3306}]}}",
    "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny, namespace: shop}, "
    "spec: {podSelector: {}}}",
]


def pod(name: str, ip: str = "") -> str:
    status = ", status: {podIP: ADDR}".replace("ADDR", ip) if ip else ""
    return (
        "{apiVersion: v1, kind: Pod, metadata: {name: NAME, namespace: a}, spec: {containers: []}"
        + status
        + "}"
    ).replace("NAME", name)


def text(order: list[int]) -> str:
    return "---\n".join(DOCS[i] + "\n" for i in order)


def test_the_same_input_gives_the_same_cluster() -> None:
    assert snapshot(build(text(list(range(len(DOCS)))))) == snapshot(
        build(text(list(range(len(DOCS)))))
    )


@settings(max_examples=25, deadline=None)
@given(st.permutations(list(range(len(DOCS)))))
def test_document_order_does_not_matter(order: list[int]) -> None:
    assert snapshot(build(text(order))) == snapshot(build(text(list(range(len(DOCS))))))


def test_objects_come_out_sorted() -> None:
    cluster = build(text(list(reversed(range(len(DOCS))))))
    assert [p.id for p in cluster.pods] == sorted(p.id for p in cluster.pods)
    assert [s.id for s in cluster.services] == ["shop/db", "shop/web"]
    assert [n.name for n in cluster.namespaces] == ["ops", "shop"]


def test_pod_ips_are_in_the_pod_cidr_and_distinct() -> None:
    cluster = build(text(list(range(len(DOCS)))))
    network = ipaddress.ip_network("10.244.0.0/16")
    ips = [p.ips[0] for p in cluster.pods if not p.host_network]
    assert len(ips) == len(set(ips))
    assert all(ipaddress.ip_address(ip) in network for ip in ips)
    assert cluster.pod_by_id["shop/fixed"].ips == ("10.244.0.1",)
    assert cluster.pod_cidr == "10.244.0.0/16" and cluster.service_cidr == "10.96.0.0/12"


def test_adding_a_workload_does_not_renumber_the_others() -> None:
    before = build(text([1]))
    after = build(text([1, 3]))
    ips = {p.id: p.ips for p in before.pods}
    assert all(after.pod_by_id[pid].ips == ip for pid, ip in ips.items())


def test_status_ips_are_never_handed_out_again() -> None:
    """A /29 has six usable addresses: five claimed by status, the sixth is the only one left."""
    claimed = [pod(f"p{i}", f"10.1.0.{i}") for i in range(1, 6)]
    loose = [pod(f"q{i}") for i in range(2)]
    cluster = build(
        "---\n".join(d + "\n" for d in claimed + loose),
        Options(implicit_dns=False, pod_cidr="10.1.0.0/29"),
    )
    assert [p.ips for p in cluster.pods if p.name.startswith("q")] == [("10.1.0.6",), ()]
    assert lines(cluster, Severity.ERROR) == [
        "test.yaml:13: error: Pod/a/q1: pod CIDR 10.1.0.0/29 has room for 6 pods; "
        "1 more need an address "
        "(first: a/q1); pass a larger --pod-cidr, e.g. 10.128.0.0/9"
    ]


def test_network_and_broadcast_addresses_are_never_pod_ips() -> None:
    pods = [pod(f"p{i}") for i in range(2)]
    cluster = build(
        "---\n".join(d + "\n" for d in pods), Options(implicit_dns=False, pod_cidr="10.1.0.0/30")
    )
    assert sorted(p.ips[0] for p in cluster.pods) == ["10.1.0.1", "10.1.0.2"]


def test_service_cluster_ips_skip_kubernetes_and_kube_dns_and_claimed_ones() -> None:
    services = [
        "{apiVersion: v1, kind: Service, metadata: {name: NAME, namespace: a}, spec: {ports: [{port: 80}]}}".replace(
            "NAME", f"s{i}"
        )
        for i in range(40)
    ]
    services.append(
        "{apiVersion: v1, kind: Service, metadata: {name: fixed, namespace: a}, spec: {clusterIP: 10.96.5.5}}"
    )
    cluster = build("---\n".join(d + "\n" for d in services))
    ips = [s.cluster_ip for s in cluster.services]
    assert len(set(ips)) == len(ips)
    assert "10.96.0.1" not in ips and "10.96.0.10" not in ips
    assert cluster.service_by_id["a/fixed"].cluster_ip == "10.96.5.5"
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("10.96.0.0/12") for ip in ips)


def test_headless_services_stay_headless() -> None:
    cluster = build(text([7]))
    (svc,) = cluster.services
    assert svc.cluster_ip == "None" and svc.headless


def test_node_ips_are_kind_like_and_outside_the_pod_cidr() -> None:
    cluster = build(text([0]), Options(implicit_dns=False, nodes=3))
    assert [(n.name, n.ips) for n in cluster.nodes] == [
        ("kind-control-plane", ("172.18.0.2",)),
        ("kind-worker", ("172.18.0.3",)),
        ("kind-worker2", ("172.18.0.4",)),
    ]
    clash = build(text([0]), Options(implicit_dns=False, pod_cidr="172.16.0.0/12"))
    assert clash.nodes[0].ips == ("192.168.0.2",)


def test_an_invalid_pod_cidr_is_reported_once() -> None:
    cluster = build(text([5]), Options(implicit_dns=False, pod_cidr="banana"))
    assert cluster.pods[0].ips == ()
    assert lines(cluster, Severity.ERROR) == [
        '<input>: error: pod CIDR "banana" is not a network (e.g. 10.244.0.0/16)'
    ]


def test_the_tutorial_names_and_addresses_are_pinned() -> None:
    """Golden files across the project show these; a change here renames the world."""
    from pathlib import Path

    from netpol.load.build import build_cluster
    from netpol.load.paths import read_paths

    docs, _ = read_paths([str(Path(__file__).resolve().parents[2] / "examples" / "tutorial")])
    cluster = build_cluster(docs, Options())  # with KIND's CoreDNS, as every verb models it
    assert [(p.name, p.ips[0], p.node) for p in cluster.pods] == [
        ("backend-deploy-5c694bf5fc-6vgxk", "10.244.160.12", "kind-worker"),
        ("db-sts-0", "10.244.50.34", "kind-worker"),
        ("frontend-deploy-65856887c-q62wc", "10.244.149.137", "kind-worker"),
        ("coredns-568b66bc96-cktnl", "10.244.203.180", "kind-worker2"),
        ("coredns-568b66bc96-dmttr", "10.244.251.210", "kind-worker"),
    ]
    assert [s.cluster_ip for s in cluster.services] == [
        "10.103.62.27",
        "None",
        "10.102.142.187",
        "10.96.0.10",
    ]


def test_an_ipv6_pod_cidr_gives_ipv6_pods() -> None:
    cluster = build(text([1]), Options(implicit_dns=False, pod_cidr="fd00:10:244::/64"))
    network = ipaddress.ip_network("fd00:10:244::/64")
    assert all(ipaddress.ip_address(p.ips[0]) in network for p in cluster.pods)
    assert all(p.ips[0] != "fd00:10:244::" for p in cluster.pods)


def test_a_pod_name_generated_twice_is_kept_once_with_a_warning() -> None:
    sts = (
        "{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: web, namespace: a}, spec: "
        "{replicas: 1, template: {metadata: {labels: {app: web}}, spec: {containers: []}}}}\n"
    )
    cluster = build(sts + "---\n" + pod("web-0"))
    assert [(p.name, p.workload.kind if p.workload else None) for p in cluster.pods] == [
        ("web-0", "Pod")
    ]
    assert (
        "test.yaml:1: warning: StatefulSet/a/web: pod name web-0 is also generated by another "
        "object; this copy is left out"
    ) in lines(cluster, Severity.WARNING)
