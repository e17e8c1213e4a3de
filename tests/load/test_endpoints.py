"""Endpoints and EndpointSlices give a selector-less Service its addresses (Cilium's
toServices reads them); a bad address is one line naming the field."""

from __future__ import annotations

from netpol.load.build import build_cluster
from netpol.load.yamldoc import parse_text
from netpol.model.options import Options

ENDPOINTS = """apiVersion: v1
kind: Endpoints
metadata: {name: external, namespace: ns}
subsets:
- addresses: [{ip: 192.0.2.10}, {ip: 192.0.2.11}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: external-abc, namespace: ns, labels: {kubernetes.io/service-name: external}}
addressType: IPv4
endpoints:
- addresses: [192.0.2.12]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: orphan, namespace: ns}
endpoints:
- addresses: [192.0.2.13]
"""


def build(text: str):  # type: ignore[no-untyped-def]
    docs, problems = parse_text(text, "e.yaml")
    assert problems == []
    return build_cluster(docs, Options(implicit_dns=False))


def test_endpoints_and_slices_are_gathered_per_service() -> None:
    cluster = build(ENDPOINTS)

    # a slice without its Service's label belongs to no Service
    assert cluster.service_endpoints == (
        ("ns", "external", ("192.0.2.10", "192.0.2.11", "192.0.2.12")),
    )
    assert cluster.diagnostics == ()


def test_a_bad_address_names_its_field() -> None:
    cluster = build(
        "apiVersion: v1\nkind: Endpoints\nmetadata: {name: e, namespace: ns}\n"
        "subsets: [{addresses: [{ip: nope}]}]\n"
    )

    assert [d.one_line() for d in cluster.diagnostics] == [
        "e.yaml:4: error: Endpoints/ns/e: subsets[0].addresses[0].ip: 'nope' is not an IP "
        'address (value: "nope")'
    ]
