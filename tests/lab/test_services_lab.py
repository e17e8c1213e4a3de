"""Services: policy sees the backend pod and its target port after DNAT, never the VIP's port."""

from __future__ import annotations

from typing import Any

import pytest
from dnslib import RCODE, DNSRecord
from tests.conftest import EXAMPLES
from tests.lab.conftest import lab_name, requires_lab

from netpol.lab import inventory, lifecycle, system, tutorial
from netpol.lab.names import NODE_EXTERNAL_IP, LabNames
from netpol.lab.probe import OPEN, Attempt, run_attempts
from netpol.model.options import Options

pytestmark = [pytest.mark.lab, requires_lab, pytest.mark.usefixtures("host_untouched")]


def cluster(policy_port: int | str) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "c",
                                "image": "x",
                                "ports": [{"containerPort": 8080, "name": "http"}],
                            }
                        ]
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web-svc", "namespace": "shop"},
            "spec": {
                "type": "NodePort",
                "selector": {"app": "web"},
                "ports": [{"port": 80, "targetPort": "http", "nodePort": 30080}],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "client", "namespace": "shop", "labels": {"app": "client"}},
            "spec": {"containers": [{"name": "c", "image": "x"}]},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {
                "podSelector": {"matchLabels": {"app": "web"}},
                "ingress": [{"ports": [{"port": policy_port}]}],
            },
        },
    ]


def test_the_policy_must_name_the_target_port_not_the_service_port() -> None:
    lab = lab_name("svc")
    lifecycle.up_objects(cluster(80), lab, Options())
    try:
        check = tutorial.Expectation("shop/client", "web-svc", 80, False, "port 80 is the VIP's")
        (result,) = lifecycle.check_names(lab, [check])
        assert result.holds and result.result.outcome == "refused", result.result
        for allowed_port in (8080, "http"):
            lifecycle.replace(cluster(allowed_port), lab)
            check = tutorial.Expectation("shop/client", "web-svc", 80, True, "target port allowed")
            (result,) = lifecycle.check_names(lab, [check])
            assert result.holds, (allowed_port, result.result)
            assert result.result.answered_by.startswith("shop/web-")
        report, _ = lifecycle.probe_lab(lab, reference=True)
        assert not report.disagreements
        outside = [c for c in report.cells if c.attempt.src == "outside" and c.attempt.port == 8080]
        assert outside and all(c.observed for c in outside)
        # the NodePort, from the outside client, on the node's address
        node_port = Attempt(
            "outside", LabNames(lab).outside_netns, "", NODE_EXTERNAL_IP, 30080, "TCP"
        )
        ((outcome, answered_by),) = run_attempts([node_port])
        assert outcome == OPEN and answered_by.startswith("shop/web-")
    finally:
        inventory.down(lab)


def test_a_thousand_services_fit_through_the_helper() -> None:
    # Every DNS record travels to the helper in one message (once over 64 KiB: refused).
    objects = cluster(8080)
    for i in range(1000):
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": f"svc-{i:04d}", "namespace": "shop"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]},
            }
        )
    lab = lab_name("many")
    view = lifecycle.up_objects(objects, lab, Options())
    try:
        assert len(view.records) > 1000
        check = tutorial.Expectation("shop/client", "svc-0999", 80, True, "the last one")
        (result,) = lifecycle.check_names(lab, [check])
        assert result.holds, result.result
    finally:
        inventory.down(lab)


def dns_in_pod(lab: str, pod: str, name: str, tcp: bool) -> DNSRecord:
    state = lifecycle.require_up(lab)
    view = lifecycle.current_view(state)
    netns = state.pods[lifecycle.find_pod(state, view.cluster, pod)].netns
    with system.in_netns(netns):  # the socket is made in the pod: its policies apply
        raw = DNSRecord.question(name, "A").send(view.nameserver, 53, tcp=tcp, timeout=2)
    return DNSRecord.parse(raw)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_cluster_dns_from_a_pod_over_udp_and_tcp(tcp: bool) -> None:
    lab = lab_name("dns" + ("t" if tcp else "u"))
    lifecycle.up([str(EXAMPLES / "tutorial")], lab, Options())
    try:
        state = lifecycle.require_up(lab)
        view = lifecycle.current_view(state)
        ips = {lp.pod.id: lp.ip for lp in view.pods}
        db = ips["app1-ns/db-sts-0"]
        frontend = "app1-ns/frontend-deploy"

        def answers(name: str) -> tuple[int, list[str]]:
            reply = dns_in_pod(lab, frontend, name, tcp)
            return reply.header.rcode, sorted(str(rr.rdata) for rr in reply.rr)

        # a headless Service answers its pods' IPs; a StatefulSet pod has its own name
        assert answers("db-svc.app1-ns.svc.cluster.local") == (RCODE.NOERROR, [db])
        assert answers("db-sts-0.db-svc.app1-ns.svc.cluster.local") == (RCODE.NOERROR, [db])
        backend_svc = next(s for s in view.cluster.services if s.name == "backend-svc")
        assert answers("backend-svc.app1-ns.svc.cluster.local") == (
            RCODE.NOERROR,
            [backend_svc.cluster_ip],
        )
        assert answers("nothing-here.app1-ns.svc.cluster.local")[0] == RCODE.NXDOMAIN
    finally:
        inventory.down(lab)
