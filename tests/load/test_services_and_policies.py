"""Service backends with named targetPorts per pod, DNS names, and policy defaulting."""

from __future__ import annotations

import ipaddress

from netpol.load.services import (
    DnsIndex,
    all_backends,
    find_service,
    resolve_name,
    service_backends,
)
from netpol.model.selectors import EVERYTHING, LabelSelector, Requirement

from .support import build, lines

NAMED = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: old, namespace: shop}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: new, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api, v: "2"}}
    spec: {containers: [{name: c, ports: [{containerPort: 9090, name: http}, {containerPort: 53, name: dns, protocol: UDP}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: stray, namespace: shop, labels: {app: api}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports:
    - {name: web, port: 80, targetPort: http}
    - {name: dns, port: 53, protocol: UDP, targetPort: dns}
    - {name: raw, port: 7000}
---
apiVersion: v1
kind: Service
metadata: {name: manual, namespace: shop}
spec: {ports: [{port: 1}]}
"""


def test_named_target_ports_resolve_per_pod() -> None:
    cluster = build(NAMED)
    api = cluster.service_by_id["shop/api"]
    got = {
        (b.pod.name.split("-")[0], b.service_port.name, b.target_port)
        for b in service_backends(cluster, api)
    }
    assert got == {
        ("old", "web", 8080),
        ("old", "dns", None),  # old pods declare no UDP port named dns
        ("old", "raw", 7000),
        ("new", "web", 9090),
        ("new", "dns", 53),
        ("new", "raw", 7000),
        ("stray", "web", None),
        ("stray", "dns", None),
        ("stray", "raw", 7000),
    }
    assert len(service_backends(cluster, api)) == 4 * 3  # 2 old + 1 new + 1 stray pods, 3 ports
    pod, port, target = service_backends(cluster, api)[0]  # plain tuples too
    assert port.name == "web" and pod.namespace == "shop"
    del target


def test_services_without_selector_have_no_backends() -> None:
    cluster = build(NAMED)
    assert service_backends(cluster, cluster.service_by_id["shop/manual"]) == []
    assert cluster.service_by_id["shop/manual"].selector is None


def test_all_backends_agrees_with_service_backends() -> None:
    cluster = build(NAMED)
    index = all_backends(cluster)
    for service in cluster.services:

        def key(b: object) -> tuple[str, str, int]:
            return (b.pod.id, b.service_port.protocol, b.service_port.port)  # type: ignore[attr-defined]

        assert sorted(index[service.id], key=key) == sorted(
            service_backends(cluster, service), key=key
        )


DNS = """
{apiVersion: v1, kind: Service, metadata: {name: backend-svc, namespace: app1-ns}, spec: {selector: {a: b}}}
---
{apiVersion: v1, kind: Service, metadata: {name: db-svc, namespace: app1-ns}, spec: {clusterIP: None, selector: {role: db}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db-sts, namespace: app1-ns}
spec:
  serviceName: db-svc
  replicas: 2
  template: {metadata: {labels: {role: db}}, spec: {containers: []}}
"""


def test_services_resolve_by_every_dns_form() -> None:
    cluster = build(DNS)
    for name in (
        "backend-svc",
        "backend-svc.app1-ns",
        "backend-svc.app1-ns.svc",
        "backend-svc.app1-ns.svc.cluster.local",
        "backend-svc.app1-ns.svc.cluster.local.",
        "Backend-Svc.App1-ns",
    ):
        found = find_service(cluster, name, "app1-ns")
        assert found is not None and found.id == "app1-ns/backend-svc", name
    assert find_service(cluster, "backend-svc", "default") is None  # short names are per namespace
    assert find_service(cluster, "backend-svc.app1-ns", "default") is not None
    assert find_service(cluster, "nope.app1-ns", "default") is None


def test_statefulset_pods_resolve_through_their_headless_service() -> None:
    cluster = build(DNS)
    index = DnsIndex(cluster)
    for name in ("db-sts-1.db-svc", "db-sts-1.db-svc.app1-ns.svc.cluster.local"):
        pod = index.resolve(name, "app1-ns")
        assert pod is not None and pod.id == "app1-ns/db-sts-1", name
    assert resolve_name(cluster, "db-sts-0.db-svc.app1-ns", "default") is not None
    assert resolve_name(cluster, "db-sts-9.db-svc.app1-ns", "default") is None


POLICY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: p
  namespace: shop
  annotations: {owner: team-a}
spec:
  podSelector: {matchLabels: {app: api}, matchExpressions: [{key: tier, operator: NotIn, values: [x]}]}
  ingress:
    - from:
        - podSelector: {}
        - namespaceSelector: {matchLabels: {team: a}}
          podSelector: {matchLabels: {role: client}}
        - ipBlock: {cidr: 10.0.0.5/8, except: [10.1.0.0/16]}
      ports:
        - port: http
        - {protocol: UDP, port: 53}
        - {port: 30000, endPort: 32767}
        - {}
  egress:
    - {}
"""


def test_policies_are_defaulted_and_keep_absent_versus_empty() -> None:
    cluster = build(POLICY)
    (policy,) = cluster.policies
    assert policy.policy_types == ("Ingress", "Egress") and policy.policy_types_defaulted
    assert policy.pod_selector == LabelSelector(
        (("app", "api"),), (Requirement("tier", "NotIn", ("x",)),)
    )
    assert policy.annotations == (("owner", "team-a"),)
    (rule,) = policy.ingress
    first, second, third = rule.peers
    assert (first.pod_selector, first.namespace_selector, first.ip_block) == (
        EVERYTHING,
        None,
        None,
    )
    assert second.namespace_selector == LabelSelector.of({"team": "a"})
    assert second.pod_selector == LabelSelector.of({"role": "client"})
    assert third.ip_block is not None
    assert third.ip_block.network == ipaddress.ip_network("10.0.0.0/8")
    assert third.ip_block.except_networks == (ipaddress.ip_network("10.1.0.0/16"),)
    assert [(p.protocol, p.port, p.end_port) for p in rule.ports] == [
        ("TCP", "http", None),
        ("UDP", 53, None),
        ("TCP", 30000, 32767),
        ("TCP", None, None),
    ]
    assert policy.egress[0].peers == () and policy.egress[0].ports == ()


def test_explicit_policy_types_are_deduplicated_not_defaulted() -> None:
    cluster = build(POLICY.replace("  ingress:", "  policyTypes: [Egress, Egress]\n  ingress:", 1))
    assert cluster.policies[0].policy_types == ("Egress",)
    assert not cluster.policies[0].policy_types_defaulted


def test_empty_egress_list_defaults_to_ingress_only() -> None:
    cluster = build(POLICY.replace("  egress:\n    - {}\n", "  egress: []\n"))
    assert cluster.policies[0].policy_types == ("Ingress",)


def test_policy_sources_point_at_fields() -> None:
    cluster = build(POLICY)
    source = cluster.policies[0].source
    assert source.at() == "test.yaml:2"
    assert source.at("spec.ingress[0].from[2].ipBlock") == "test.yaml:15"
    assert source.at("spec.ingress[0].ports[2]") == "test.yaml:19"


def test_an_unparsable_cidr_skips_the_policy_with_its_line() -> None:
    cluster = build(POLICY.replace("10.0.0.5/8", "10.0.0/8"))
    assert cluster.policies == ()
    assert lines(cluster) == [
        "test.yaml:15: error: NetworkPolicy/shop/p: spec.ingress[0].from[2].ipBlock.cidr: must be a "
        'valid CIDR (e.g. 10.0.0.0/8 or fd00::/64) (value: "10.0.0/8")',
    ]


SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: shop}\nspec:\n  ports:\n"


def test_a_service_port_without_a_number_is_an_error() -> None:
    cluster = build(SERVICE + "    - {name: web, targetPort: 8080}\n")
    assert cluster.services == ()
    assert lines(cluster) == ["test.yaml:6: error: Service/shop/s: spec.ports[0].port: is required"]


def test_a_service_port_of_another_protocol_is_an_error() -> None:
    cluster = build(SERVICE + "    - {port: 53, protocol: ICMP}\n")
    assert cluster.services == ()
    assert lines(cluster) == [
        "test.yaml:6: error: Service/shop/s: spec.ports[0].protocol: must be one of TCP, UDP, "
        'SCTP (value: "ICMP")'
    ]
