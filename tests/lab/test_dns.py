"""The lab's DNS records and answers, without a network."""

from __future__ import annotations

import pytest
from dnslib import QTYPE, RCODE, DNSRecord
from tests.conftest import EXAMPLES

from netpol.lab.dns import answer, dns_records, resolv_conf, search_domains
from netpol.lab.probe import query_names
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster


def records():
    cluster = load_cluster([str(EXAMPLES / "tutorial")], Options()).cluster
    return cluster, dns_records(cluster, {p.id: p.ips[0] for p in cluster.pods})


def test_services_headless_services_and_statefulset_pods_have_names():
    cluster, recs = records()
    backend_svc = next(s for s in cluster.services if s.name == "backend-svc")
    db = cluster.pod_by_id["app1-ns/db-sts-0"]
    assert recs["backend-svc.app1-ns.svc.cluster.local"] == [backend_svc.cluster_ip]
    assert recs["db-svc.app1-ns.svc.cluster.local"] == [db.ips[0]]
    assert recs["db-sts-0.db-svc.app1-ns.svc.cluster.local"] == [db.ips[0]]
    assert recs["kube-dns.kube-system.svc.cluster.local"] == ["10.96.0.10"]


def test_answers_a_records_nxdomain_for_unknown_names_and_empty_aaaa():
    _, recs = records()
    reply = DNSRecord.parse(
        answer(DNSRecord.question("backend-svc.app1-ns.svc.cluster.local").pack(), recs)
    )
    assert [str(r.rdata) for r in reply.rr] == recs["backend-svc.app1-ns.svc.cluster.local"]
    missing = DNSRecord.parse(
        answer(DNSRecord.question("backend-svc.svc.cluster.local").pack(), recs)
    )
    assert missing.header.rcode == RCODE.NXDOMAIN
    v6 = DNSRecord.parse(
        answer(DNSRecord.question("backend-svc.app1-ns.svc.cluster.local", "AAAA").pack(), recs)
    )
    assert v6.header.rcode == RCODE.NOERROR and not v6.rr
    assert QTYPE.A == 1


def test_garbage_is_not_a_query():
    assert answer(b"netpol-probe\n", {}) is None


def test_resolv_conf_has_the_kubernetes_search_path_and_ndots_5():
    assert resolv_conf("app1-ns", "10.96.0.10").splitlines() == [
        "search app1-ns.svc.cluster.local svc.cluster.local cluster.local",
        "nameserver 10.96.0.10",
        "options ndots:5",
    ]


@pytest.mark.parametrize(
    ("host", "asked"),
    [
        pytest.param(
            "backend-svc",
            [
                "backend-svc.app1-ns.svc.cluster.local",
                "backend-svc.svc.cluster.local",
                "backend-svc.cluster.local",
                "backend-svc",
            ],
            id="short-name-search-path-first",
        ),
        pytest.param(
            "db-sts-0.db-svc.app1-ns.svc.cluster.local",
            [
                "db-sts-0.db-svc.app1-ns.svc.cluster.local",
                "db-sts-0.db-svc.app1-ns.svc.cluster.local.app1-ns.svc.cluster.local",
                "db-sts-0.db-svc.app1-ns.svc.cluster.local.svc.cluster.local",
                "db-sts-0.db-svc.app1-ns.svc.cluster.local.cluster.local",
            ],
            id="five-dots-as-is-first",
        ),
        pytest.param("backend-svc.", ["backend-svc"], id="trailing-dot-no-search"),
    ],
)
def test_a_pod_asks_for_the_names_its_resolver_would(host: str, asked: list[str]) -> None:
    assert query_names(host, search_domains("app1-ns")) == asked
