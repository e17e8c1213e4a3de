"""Tiny builders for model objects, for tests that skip the loader (hypothesis strategies).

Tests that start from manifests use the ``yaml_cluster`` fixture instead.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence

from netpol.model.cluster import Cluster
from netpol.model.objects import (
    METADATA_NAME_LABEL,
    Container,
    ContainerPort,
    Namespace,
    Node,
    Pod,
)
from netpol.model.policy import IPBlock, NetworkPolicy, Rule, default_policy_types
from netpol.model.selectors import LabelSelector


def ip_block(cidr: str, *excepts: str) -> IPBlock:
    """Masked like Go's ParseCIDR (host bits allowed), as the loader does."""
    return IPBlock(
        cidr,
        ipaddress.ip_network(cidr, strict=False),
        tuple(excepts),
        tuple(ipaddress.ip_network(x, strict=False) for x in excepts),
    )


def policy(
    namespace: str,
    name: str,
    select: LabelSelector,
    ingress: Sequence[Rule] = (),
    egress: Sequence[Rule] = (),
    types: Sequence[str] | None = None,
) -> NetworkPolicy:
    """A NetworkPolicy after defaulting (D2): ``types=None`` lets the API server choose."""
    given = tuple(types) if types else None
    return NetworkPolicy(
        namespace=namespace,
        name=name,
        pod_selector=select,
        policy_types=default_policy_types(given, bool(egress)),
        ingress=tuple(ingress),
        egress=tuple(egress),
        policy_types_defaulted=given is None,
    )


def namespace(name: str, labels: Mapping[str, str] | None = None) -> Namespace:
    """A namespace carrying the automatic ``kubernetes.io/metadata.name`` label (spec 2.4)."""
    return Namespace(name, {**(labels or {}), METADATA_NAME_LABEL: name})


def pod(
    pod_id: str,
    ip: str,
    labels: Mapping[str, str],
    node: str,
    ports: Sequence[tuple[str, int, str]] = (),
    host_network: bool = False,
) -> Pod:
    """A running pod with one container declaring ``(name, number, protocol)`` ports."""
    ns, name = pod_id.split("/")
    declared = tuple(ContainerPort(number, protocol, port) for port, number, protocol in ports)
    return Pod(
        ns,
        name,
        dict(labels),
        (ip,),
        node,
        host_network=host_network,
        containers=(Container("main", ports=declared),),
    )


def cluster(
    namespaces: Iterable[Namespace],
    pods: Iterable[Pod],
    policies: Iterable[NetworkPolicy],
    nodes: Iterable[Node],
) -> Cluster:
    return Cluster(
        namespaces=tuple(namespaces),
        nodes=tuple(nodes),
        pods=tuple(pods),
        policies=tuple(policies),
    )
