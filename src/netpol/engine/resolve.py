"""What ``--from`` / ``--to`` name: pods, workloads, Services (by name or DNS), nodes or IPs.

A Service resolves to its backend pods and its port to each backend's target port, as
kube-proxy would (ports are evaluated after DNAT, spec 3); a headless Service or a
StatefulSet pod DNS name resolves to the pods themselves, as DNS would.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace
from functools import cached_property

from netpol.engine.compile import CompiledCluster
from netpol.engine.endpoints import Endpoint, ip_endpoint, node_endpoint
from netpol.load.services import DnsIndex, service_backends
from netpol.model.objects import Node, Pod, Service

WORKLOAD_KINDS = {
    "deployment": "Deployment",
    "deploy": "Deployment",
    "statefulset": "StatefulSet",
    "sts": "StatefulSet",
    "daemonset": "DaemonSet",
    "ds": "DaemonSet",
    "replicaset": "ReplicaSet",
    "rs": "ReplicaSet",
    "job": "Job",
    "cronjob": "CronJob",
    "cj": "CronJob",
}
SERVICE_KINDS = {"service", "svc"}
POD_KINDS = {"pod", "po"}
NODE_KINDS = {"node", "no"}


class ResolveError(ValueError):
    """A name that matches nothing, with a one-line reason for the user."""


@dataclass(frozen=True, slots=True)
class Target:
    """An endpoint a name resolved to, and the port a connection reaches it on (post-DNAT)."""

    endpoint: Endpoint
    port: int | None
    protocol: str
    via: str = ""  # e.g. "Service app1-ns/backend-svc 10.96.0.20:5678/TCP -> pod port 5678"


_PORT = re.compile(r"(?P<port>\d{1,5})(?:/(?P<proto>TCP|UDP|SCTP|tcp|udp|sctp))?")


def parse_port_spec(text: str, written: str = "") -> tuple[int, str] | None:
    """``80`` / ``80/TCP`` / ``53/udp`` -> (port, PROTOCOL); None when it is not a port spec.

    Raises ResolveError when it is one but the number is outside 1-65535.
    """
    match = _PORT.fullmatch(text)
    if not match:
        return None
    port = int(match.group("port"))
    if not 1 <= port <= 65535:
        where = f" in {written!r}" if written else ""
        raise ResolveError(f"port {port}{where} is outside 1-65535")
    return port, (match.group("proto") or "TCP").upper()


def split_port(text: str) -> tuple[str, int | None, str]:
    """``name:80/UDP`` -> ("name", 80, "UDP"); no port -> (text, None, "TCP").

    An IPv6 address takes a port only in brackets (``[fd00::1]:80``): ``fd00::1:80`` is
    itself an address.
    """
    try:
        ipaddress.ip_address(text)
        return text, None, "TCP"
    except ValueError:
        pass
    host, sep, tail = text.rpartition(":")
    if not sep or host.endswith(":"):
        return text, None, "TCP"
    if "/" in tail and _PORT.fullmatch(tail) is None:
        number, _, protocol = tail.partition("/")
        if number.isdigit():
            raise ResolveError(f"unknown protocol {protocol!r} in {text!r} (TCP, UDP or SCTP)")
    spec = parse_port_spec(tail, text)
    if spec is None:
        return text, None, "TCP"
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return host, spec[0], spec[1]


class Resolver:
    """Resolves user-written endpoint names against one compiled cluster."""

    def __init__(self, cc: CompiledCluster) -> None:
        self.cc = cc
        self.cluster = cc.cluster
        self._dns: DnsIndex | None = None

    @property
    def dns(self) -> DnsIndex:
        if self._dns is None:
            self._dns = DnsIndex(self.cluster)
        return self._dns

    def _pod(self, pod: Pod) -> Endpoint:
        if not pod.ips:  # spec 2.3: no IP, no traffic; never "allowed" by an empty verdict
            raise ResolveError(
                f"pod {pod.id} has no IP ({pod.phase}): it can neither send nor receive"
            )
        return self.cc.endpoint(pod)

    def sources(self, text: str, namespace: str | None) -> list[Endpoint]:
        """Endpoints a source name stands for (a Service as source means its pods)."""
        return [t.endpoint for t in self.targets(text, namespace, None, "TCP", as_source=True)]

    def targets(
        self,
        text: str,
        namespace: str | None,
        port: int | None,
        protocol: str,
        as_source: bool = False,
    ) -> list[Target]:
        """Endpoints a destination name stands for, each with its post-DNAT port."""
        text = text.strip()
        if not text:
            raise ResolveError("empty endpoint name")
        try:
            address = self._ip_of(text)
        except ValueError:
            address = None
        if address is not None:
            return self._by_ip(str(address), port, protocol, as_source)
        kind, slash, rest = text.partition("/")
        lowered = kind.lower()
        if slash and lowered in WORKLOAD_KINDS | dict.fromkeys(
            SERVICE_KINDS | POD_KINDS | NODE_KINDS
        ):
            return self._by_kind(lowered, rest, namespace, port, protocol, as_source)
        if slash:  # ns/name: a pod, a workload or a Service of that namespace
            return self._in_namespace(kind, rest, port, protocol, as_source, text)
        return self._bare(text, namespace or self.cluster_default(), port, protocol, as_source)

    def cluster_default(self) -> str:
        return self.cc.options.default_namespace

    def _by_ip(
        self, address: str, port: int | None, protocol: str, as_source: bool
    ) -> list[Target]:
        """A pod's IP is that pod, a node's IP that node, a ClusterIP its Service (DNAT)."""
        owner = self._ip_owners.get(address)
        if isinstance(owner, Pod):
            return [Target(self._pod(owner), port, protocol)]
        if isinstance(owner, Service):
            return self._service(owner, port, protocol, as_source)
        if owner is not None:
            return self._node(owner, port, protocol, as_source)
        return [Target(ip_endpoint(address), port, protocol)]

    def _node(self, node: Node, port: int | None, protocol: str, as_source: bool) -> list[Target]:
        """A node, or on a NodePort the Service's backends: kube-proxy DNATs it to a pod's
        target port, which the pod's policies then judge (whether the source is SNATed to the
        node is left to the implementation, spec 4.4: netpol keeps the client's address)."""
        if as_source or port is None:
            return [Target(node_endpoint(node), port, protocol)]
        for service in self.cluster.services:
            for service_port in service.ports:
                if service_port.node_port == port and service_port.protocol == protocol:
                    targets = self._service(service, service_port.port, protocol, False)
                    via = f"NodePort {port}/{protocol} on node {node.name} -> "
                    return [replace(t, via=via + t.via) for t in targets]
        return [Target(node_endpoint(node), port, protocol)]

    @cached_property
    def _ip_owners(self) -> dict[str, Pod | Service | Node]:
        owners: dict[str, Pod | Service | Node] = {}
        for node in self.cluster.nodes:
            owners.update(dict.fromkeys(node.ips, node))
        for service in self.cluster.services:
            if service.cluster_ip and not service.headless:
                owners[service.cluster_ip] = service
        for pod in self.cluster.pods:  # hostNetwork pods share their node's IP: the node wins
            for ip in pod.ips:
                owners.setdefault(ip, pod)
        return owners

    @staticmethod
    def _ip_of(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return ipaddress.ip_address(text)

    def _by_kind(
        self,
        kind: str,
        name: str,
        namespace: str | None,
        port: int | None,
        protocol: str,
        as_source: bool,
    ) -> list[Target]:
        if kind in NODE_KINDS:
            node = self.cluster.node_by_name.get(name)
            if node is None:
                raise ResolveError(
                    f"no node {name!r} (nodes: {_listing(self.cluster.node_by_name)})"
                )
            return self._node(node, port, protocol, as_source)
        if "/" in name:
            namespace, name = name.split("/", 1)
        namespace = namespace or self.cluster_default()
        if kind in POD_KINDS:
            pod = self.cluster.pod_by_id.get(f"{namespace}/{name}")
            if pod is None:
                raise ResolveError(f"no pod {name!r} in namespace {namespace}")
            return [Target(self._pod(pod), port, protocol)]
        if kind in SERVICE_KINDS:
            service = self.cluster.service_by_id.get(f"{namespace}/{name}")
            if service is None:
                raise ResolveError(f"no Service {name!r} in namespace {namespace}")
            return self._service(service, port, protocol, as_source)
        workload = self.cluster.workload_by_id.get(f"{namespace}/{name}")
        if workload is None or workload.kind != WORKLOAD_KINDS[kind]:
            raise ResolveError(f"no {WORKLOAD_KINDS[kind]} {name!r} in namespace {namespace}")
        return self._workload_pods(workload.id, port, protocol)

    def _in_namespace(
        self, namespace: str, name: str, port: int | None, protocol: str, as_source: bool, text: str
    ) -> list[Target]:
        key = f"{namespace}/{name}"
        pod = self.cluster.pod_by_id.get(key)
        workload = self.cluster.workload_by_id.get(key)
        service = self.cluster.service_by_id.get(key)
        meanings = [
            f"pod/{key}" if pod is not None else "",
            f"{workload.kind.lower()}/{key}"
            if workload is not None and workload.kind != "Pod"
            else "",
            f"svc/{key}" if service is not None else "",
        ]
        meanings = [m for m in meanings if m]
        if len(meanings) > 1:  # a bare pod and a Service often share a name; never guess
            raise ResolveError(f"{text!r} is ambiguous: write {' or '.join(meanings)}")
        if pod is not None:
            return [Target(self._pod(pod), port, protocol)]
        if workload is not None:
            return self._workload_pods(key, port, protocol)
        if service is not None:
            return self._service(service, port, protocol, as_source)
        if namespace not in self.cluster.namespace_by_name:
            raise ResolveError(f"{text!r}: no namespace {namespace!r}")
        raise ResolveError(
            f"{text!r}: no pod, workload or Service {name!r} in namespace {namespace}"
        )

    def _bare(
        self, name: str, namespace: str, port: int | None, protocol: str, as_source: bool
    ) -> list[Target]:
        found = self.dns.resolve(name, namespace)
        if isinstance(found, Service):
            return self._service(found, port, protocol, as_source)
        if isinstance(found, Pod):
            return [Target(self._pod(found), port, protocol, via=f"DNS {name} -> {found.id}")]
        pod = self.cluster.pod_by_id.get(f"{namespace}/{name}")
        if pod is not None:
            return [Target(self._pod(pod), port, protocol)]
        if f"{namespace}/{name}" in self.cluster.workload_by_id:
            return self._workload_pods(f"{namespace}/{name}", port, protocol)
        node = self.cluster.node_by_name.get(name)
        if node is not None:
            return self._node(node, port, protocol, as_source)
        raise ResolveError(
            f"{name!r} is not a Service, pod or workload in namespace {namespace}, nor a DNS "
            "name the cluster answers (write NAMESPACE/NAME, KIND/NAME or an IP)"
        )

    def _workload_pods(self, workload_id: str, port: int | None, protocol: str) -> list[Target]:
        pods = [p for p in self.cluster.pods_by_workload.get(workload_id, ()) if p.ips]
        if not pods:
            raise ResolveError(f"workload {workload_id} has no running pod (replicas: 0?)")
        return [Target(self._pod(p), port, protocol) for p in pods]

    def _service(
        self, service: Service, port: int | None, protocol: str, as_source: bool
    ) -> list[Target]:
        backends = service_backends(self.cluster, service)
        if not backends:
            raise ResolveError(f"Service {service.id} selects no pod")
        if as_source or port is None:
            pods = list(dict.fromkeys(b.pod.id for b in backends))
            return [Target(self._pod(self.cluster.pod_by_id[p]), None, protocol) for p in pods]
        if service.headless:  # DNS answers the pod IPs: no translation
            pods = list(dict.fromkeys(b.pod.id for b in backends))
            via = f"headless Service {service.id} -> pod IPs"
            return [Target(self._pod(self.cluster.pod_by_id[p]), port, protocol, via) for p in pods]
        matching = [
            b
            for b in backends
            if b.service_port.port == port and b.service_port.protocol == protocol
        ]
        if not matching:
            ports = ", ".join(f"{p.port}/{p.protocol}" for p in service.ports) or "none"
            raise ResolveError(
                f"Service {service.id} has no port {port}/{protocol} (its ports: {ports})"
            )
        targets = []
        for backend in matching:
            if backend.target_port is None:
                continue  # a named targetPort the pod does not define: kube-proxy sends nothing
            via = (
                f"Service {service.id} {service.cluster_ip}:{port}/{protocol} -> "
                f"{backend.pod.id} port {backend.target_port}"
            )
            targets.append(Target(self._pod(backend.pod), backend.target_port, protocol, via))
        if not targets:
            raise ResolveError(
                f"Service {service.id} port {port}/{protocol}: no backend pod defines its targetPort"
            )
        return targets


def _listing(names: object) -> str:
    items = sorted(names) if isinstance(names, dict) else []
    return ", ".join(items[:10]) or "none"
