"""What `--from` / `--to` say when a name stands for no endpoint: one line, naming why."""

from __future__ import annotations

import pytest

from netpol.engine.compile import compile_cluster
from netpol.engine.resolve import ResolveError, Resolver
from netpol.model.cluster import Cluster
from netpol.model.objects import (
    Container,
    ContainerPort,
    Node,
    Pod,
    Service,
    ServicePort,
    Workload,
    WorkloadRef,
)
from netpol.model.options import Options

from .builders import namespace

WEB = WorkloadRef("Deployment", "shop", "web")
CLUSTER = Cluster(
    namespaces=(namespace("shop"),),
    nodes=(Node("n1", ("192.168.0.1",)),),
    workloads=(
        Workload("Deployment", "shop", "web", 1, {"app": "web"}),
        Workload("Deployment", "shop", "idle", 0, {"app": "idle"}),
    ),
    pods=(
        Pod(
            "shop",
            "web-0",
            {"app": "web"},
            ("10.0.1.1",),
            "n1",
            containers=(Container("main", ports=(ContainerPort(8080, "TCP", "http"),)),),
            workload=WEB,
        ),
    ),
    services=(
        Service(
            "shop",
            "web-svc",
            selector={"app": "web"},
            cluster_ip="10.96.0.10",
            ports=(ServicePort(80, "TCP", "metrics"),),  # a name web-0 does not declare
        ),
        Service("shop", "nobody", selector={"app": "none"}, cluster_ip="10.96.0.11"),
    ),
)


@pytest.mark.parametrize(
    ("name", "port", "message"),
    [
        ("  ", None, "empty endpoint name"),
        (
            "nosuch",
            None,
            "'nosuch' is not a Service, pod or workload in namespace shop, nor a DNS name the "
            "cluster answers (write NAMESPACE/NAME, KIND/NAME or an IP)",
        ),
        ("node/n9", None, "no node 'n9' (nodes: n1)"),
        (
            "sts/web",
            None,
            "no StatefulSet 'web' in namespace shop (did you mean deployment/shop/web?)",
        ),
        ("pod/web-1", None, "no pod 'web-1' in namespace shop (did you mean web-0?)"),
        ("svc/web-sv", None, "no Service 'web-sv' in namespace shop (did you mean web-svc?)"),
        (
            "shop/wbe",
            None,
            "'shop/wbe': no pod, workload or Service 'wbe' in namespace shop (did you mean web?)",
        ),
        ("shpo/web", None, "'shpo/web': no namespace 'shpo' (did you mean shop?)"),
        (
            "svc/web-svc",
            "metrics-x",
            "Service shop/web-svc has no port named 'metrics-x' (TCP) (its ports: 80/TCP)",
        ),
        (
            "shop/web",
            "grpc",
            "pod shop/web-0 has no port named 'grpc' (TCP) (its named ports: http 8080/TCP)",
        ),
        (
            "10.0.9.9",
            "http",
            "10.0.9.9 (no pod, node or Service of the input) has no port names: write a number "
            "instead of 'http'",
        ),
        ("deploy/idle", None, "workload shop/idle has no running pod (replicas: 0?)"),
        ("svc/nobody", None, "Service shop/nobody selects no pod"),
        (
            "svc/web-svc",
            80,
            "Service shop/web-svc port 80/TCP: no backend pod defines its targetPort",
        ),
    ],
)
def test_a_name_that_resolves_to_nothing_says_why(
    name: str, port: int | str | None, message: str
) -> None:
    resolver = Resolver(compile_cluster(CLUSTER, Options()))
    with pytest.raises(ResolveError) as error:
        resolver.targets(name, "shop", port, "TCP")
    assert str(error.value) == message
