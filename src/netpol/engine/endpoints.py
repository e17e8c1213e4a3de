"""The things a connection runs between: pods, nodes (and hostNetwork pods), external IPs."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from netpol.model.objects import Node, Pod
from netpol.model.options import Profile
from netpol.model.policy import IPAddress

POD, NODE, EXTERNAL = "pod", "node", "external"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One side of a connection.

    ``kind`` is how NetworkPolicy sees it: a ``pod`` can be isolated and selected; a
    ``node`` (a node IP, or a hostNetwork pod under the common implementation) and an
    ``external`` IP can only be matched by ipBlock. ``pod`` keeps the hostNetwork pod
    for display even when it behaves as its node.
    """

    kind: str
    ip: IPAddress | None
    pod: Pod | None = None
    node: Node | None = None

    @property
    def id(self) -> str:
        if self.pod is not None:
            return self.pod.id
        if self.node is not None:
            return f"node:{self.node.name}"
        return f"ip:{self.ip}"

    @property
    def node_name(self) -> str:
        if self.node is not None:
            return self.node.name
        return self.pod.node if self.pod is not None else ""

    def same_pod(self, other: Endpoint) -> bool:
        return self.pod is not None and other.pod is not None and self.pod.id == other.pod.id


def pod_endpoint(pod: Pod, profile: Profile, node: Node | None = None) -> Endpoint:
    """A pod as policy sees it: hostNetwork pods are node traffic under the common reading."""
    ip = ipaddress.ip_address(pod.ips[0]) if pod.ips else None
    if pod.host_network and profile.host_network_is_node:
        return Endpoint(NODE, ip, pod=pod, node=node or Node(pod.node))
    return Endpoint(POD, ip, pod=pod, node=node)


def node_endpoint(node: Node) -> Endpoint:
    ip = ipaddress.ip_address(node.ips[0]) if node.ips else None
    return Endpoint(NODE, ip, node=node)


def ip_endpoint(ip: str | IPAddress) -> Endpoint:
    return Endpoint(EXTERNAL, ipaddress.ip_address(ip))


def endpoint_ips(endpoint: Endpoint) -> list[IPAddress]:
    """Every address of the endpoint (dual-stack pods and nodes have one per family), as the
    matrix's classes record them."""
    if endpoint.pod is not None:
        return [ipaddress.ip_address(ip) for ip in endpoint.pod.ips]
    if endpoint.node is not None and endpoint.node.ips:
        return [ipaddress.ip_address(ip) for ip in endpoint.node.ips]
    return [endpoint.ip] if endpoint.ip is not None else []
