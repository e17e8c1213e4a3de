"""What kube-proxy would program: each Service port's VIP (and NodePort) and its backends.

Backends and named targetPorts come from ``netpol.load.services``, the one place that reads
Services; the lab only keeps the IPv4 ones whose pods it runs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from netpol.load.services import all_backends
from netpol.model.cluster import Cluster

LAB_PROTOCOLS = ("TCP", "UDP")  # this kernel has no SCTP


@dataclass(frozen=True, slots=True)
class ServiceRoute:
    """One Service port: traffic to ``vip:port`` (or any node IP at ``node_port``) goes to a backend."""

    service_id: str
    vip: str | None  # None for headless Services (DNS only) and Services without an IPv4 VIP
    protocol: str
    port: int
    node_port: int | None
    backends: tuple[tuple[str, int], ...]  # (pod IP, target port), in pod id order


def service_routes(
    cluster: Cluster, pod_ips: Mapping[str, str]
) -> tuple[list[ServiceRoute], list[str]]:
    """Routes for every TCP/UDP Service port, and notes on what the lab leaves out."""
    notes: list[str] = []
    backends = all_backends(cluster)
    routes: list[ServiceRoute] = []
    for service in cluster.services:
        vip = _ipv4(service.cluster_ip) if not service.headless else None
        by_port: dict[tuple[str, int], list[tuple[str, int]]] = {}
        for backend in backends.get(service.id, []):
            ip = pod_ips.get(backend.pod.id)
            if ip is None or backend.target_port is None:
                continue
            key = (backend.service_port.protocol, backend.service_port.port)
            by_port.setdefault(key, []).append((ip, backend.target_port))
        for port in service.ports:
            if port.protocol not in LAB_PROTOCOLS:
                notes.append(
                    f"Service {service.id} port {port.port}/{port.protocol} skipped: "
                    "this kernel has no SCTP"
                )
                continue
            node_port = port.node_port if service.type in ("NodePort", "LoadBalancer") else None
            routes.append(
                ServiceRoute(
                    service.id,
                    vip,
                    port.protocol,
                    port.port,
                    node_port,
                    tuple(by_port.get((port.protocol, port.port), ())),
                )
            )
    return routes, notes


def _ipv4(text: str | None) -> str | None:
    if not text or text == "None":
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return str(address) if address.version == 4 else None
