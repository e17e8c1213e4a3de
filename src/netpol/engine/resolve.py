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
from netpol.engine.names import Meaning, Names, ResolveError, UnknownName, did_you_mean
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


PROTOCOLS = ("TCP", "UDP", "SCTP")
__all__ = ["PROTOCOLS", "ResolveError", "Resolver", "Target", "parse_port_spec", "split_port"]


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


_PORT_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?")


def split_port(text: str) -> tuple[str, int | str | None, str]:
    """``name:80/UDP`` -> ("name", 80, "UDP"); ``name:http`` -> ("name", "http", "") (a
    named port: its protocol is the named port's unless written); no port -> (text, None,
    "TCP").

    An IPv6 address takes a port only in brackets (``[fd00::1]:80``): ``fd00::1:80`` is
    itself an address. Raises ResolveError naming the part after the colon that is not a
    port: a number outside 1-65535, an unknown protocol, or neither a number nor a name.
    """
    try:
        ipaddress.ip_address(text)
        return text, None, "TCP"
    except ValueError:
        pass
    host, sep, tail = text.rpartition(":")
    if not sep or host.endswith(":"):
        return text, None, "TCP"
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    port, slash, protocol = tail.partition("/")
    if slash and protocol.upper() not in PROTOCOLS:
        raise ResolveError(
            f'{text!r}: unknown protocol "{protocol}": one of {", ".join(PROTOCOLS)}'
        )
    if not port:
        raise ResolveError(f"{text!r}: no port after the colon (write NAME:PORT[/PROTO])")
    if port.isdigit():
        spec = parse_port_spec(tail, text)
        assert spec is not None, "digits and a known protocol are a port spec"
        return host, spec[0], spec[1]
    if _PORT_NAME.fullmatch(port) and not port.isdigit():
        return host, port, protocol.upper()
    raise ResolveError(f'{text!r}: port "{port}" is neither a number (1-65535) nor a port name')


Port = int | str | None  # a number, a port name (resolved on the pod or Service), or every port


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

    @cached_property
    def names(self) -> Names:
        return Names(
            self.cluster.pods, self.cluster.services, (n.name for n in self.cluster.namespaces)
        )

    def _pod(self, pod: Pod) -> Endpoint:
        if not pod.ips:  # spec 2.3: no IP, no traffic; never "allowed" by an empty verdict
            raise ResolveError(
                f"pod {pod.id} has no IP ({pod.phase}): it can neither send nor receive"
            )
        return self.cc.endpoint(pod)

    def _at(self, pod: Pod, port: Port, protocol: str, via: str = "") -> Target:
        """The pod reached on ``port``; a port name is the pod's container port of that name."""
        if not isinstance(port, str):
            return Target(self._pod(pod), port, protocol or "TCP", via)
        declared = [cp for c in pod.containers for cp in c.ports if cp.name]
        named = [cp for cp in declared if cp.name == port and protocol in ("", cp.protocol)]
        if not named:
            shown = f"{port!r}" + (f" ({protocol})" if protocol else "")
            ports = ", ".join(f"{cp.name} {cp.port}/{cp.protocol}" for cp in declared) or "none"
            raise ResolveError(f"pod {pod.id} has no port named {shown} (its named ports: {ports})")
        return Target(self._pod(pod), named[0].port, named[0].protocol, via)

    @staticmethod
    def _numbered(port: Port, what: str) -> int | None:
        if isinstance(port, str):
            raise ResolveError(f"{what} has no port names: write a number instead of {port!r}")
        return port

    def sources(self, text: str, namespace: str | None) -> list[Endpoint]:
        """Endpoints a source name stands for (a Service as source means its pods).

        ``namespace`` None means the user named none: a bare name is looked up in the
        default namespace, then as the only pod, workload or Service of that name anywhere."""
        return [t.endpoint for t in self.targets(text, namespace, None, "TCP", as_source=True)]

    def targets(
        self,
        text: str,
        namespace: str | None,
        port: Port,
        protocol: str,
        as_source: bool = False,
    ) -> list[Target]:
        """Endpoints a destination name stands for, each with its post-DNAT port (a port
        name resolved on the Service, or on each pod, with its protocol when ``protocol``
        is empty)."""
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
        return self._bare(text, namespace, port, protocol, as_source)

    def cluster_default(self) -> str:
        return self.cc.options.default_namespace

    def _by_ip(self, address: str, port: Port, protocol: str, as_source: bool) -> list[Target]:
        """A pod's IP is that pod, a node's IP that node, a ClusterIP its Service (DNAT)."""
        owner = self._ip_owners.get(address)
        if isinstance(owner, Pod):
            return [self._at(owner, port, protocol)]
        if isinstance(owner, Service):
            return self._service(owner, port, protocol, as_source)
        if owner is not None:
            return self._node(owner, port, protocol, as_source)
        number = self._numbered(port, f"{address} (no pod, node or Service of the input)")
        return [Target(ip_endpoint(address), number, protocol or "TCP")]

    def _node(self, node: Node, port: Port, protocol: str, as_source: bool) -> list[Target]:
        """A node, or on a NodePort the Service's backends: kube-proxy DNATs it to a pod's
        target port, which the pod's policies then judge (whether the source is SNATed to the
        node is left to the implementation, spec 4.4: netpol keeps the client's address)."""
        number = self._numbered(port, f"node {node.name}")
        protocol = protocol or "TCP"
        if as_source or number is None:
            return [Target(node_endpoint(node), number, protocol)]
        for service in self.cluster.services:
            for service_port in service.ports:
                if service_port.node_port == number and service_port.protocol == protocol:
                    targets = self._service(service, service_port.port, protocol, False)
                    via = f"NodePort {number}/{protocol} on node {node.name} -> "
                    return [replace(t, via=via + t.via) for t in targets]
        return [Target(node_endpoint(node), number, protocol)]

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
        port: Port,
        protocol: str,
        as_source: bool,
    ) -> list[Target]:
        if kind in NODE_KINDS:
            node = self.cluster.node_by_name.get(name)
            if node is None:
                raise UnknownName(
                    f"no node {name!r} (nodes: {_listing(self.cluster.node_by_name)})",
                    did_you_mean(name, self.cluster.node_by_name),
                )
            return self._node(node, port, protocol, as_source)
        if "/" in name:
            namespace, name = name.split("/", 1)
        namespace = namespace or self.cluster_default()
        if kind in POD_KINDS:
            pod = self.cluster.pod_by_id.get(f"{namespace}/{name}")
            if pod is None:
                pods = [p.name for p in self.cluster.pods if p.namespace == namespace]
                raise UnknownName(
                    f"no pod {name!r} in namespace {namespace}", did_you_mean(name, pods)
                )
            return [self._at(pod, port, protocol)]
        if kind in SERVICE_KINDS:
            service = self.cluster.service_by_id.get(f"{namespace}/{name}")
            if service is None:
                services = [s.name for s in self.cluster.services if s.namespace == namespace]
                raise UnknownName(
                    f"no Service {name!r} in namespace {namespace}", did_you_mean(name, services)
                )
            return self._service(service, port, protocol, as_source)
        workload = self.cluster.workload_by_id.get(f"{namespace}/{name}")
        wanted = WORKLOAD_KINDS[kind]
        if workload is None or workload.kind != wanted:
            same_kind = [
                w.name
                for w in self.cluster.workloads
                if w.namespace == namespace and w.kind == wanted
            ]
            other = [m.shown for m in self.names.exact(f"{namespace}/{name}")]
            hint = f" (did you mean {', '.join(other)}?)" if other else ""
            raise UnknownName(
                f"no {wanted} {name!r} in namespace {namespace}",
                did_you_mean(name, same_kind) or hint,
            )
        return self._workload_pods(workload.id, port, protocol)

    def _in_namespace(
        self, namespace: str, name: str, port: Port, protocol: str, as_source: bool, text: str
    ) -> list[Target]:
        return self._meaning(self.names.lookup(namespace, name, text), port, protocol, as_source)

    def _meaning(
        self, meaning: Meaning, port: Port, protocol: str, as_source: bool
    ) -> list[Target]:
        if meaning.service is not None:
            return self._service(meaning.service, port, protocol, as_source)
        if len(meaning.pods) == 1 and meaning.shown.startswith("pod/"):
            return [self._at(meaning.pods[0], port, protocol)]
        return self._workload_pods(meaning.shown.partition("/")[2], port, protocol)

    def _bare(
        self, name: str, namespace: str | None, port: Port, protocol: str, as_source: bool
    ) -> list[Target]:
        """A DNS name, or a pod, workload or node of that name; with no namespace given and
        nothing in the default one, the only pod, workload or Service of the name anywhere."""
        here = namespace or self.cluster_default()
        found = self.dns.resolve(name, here)
        if isinstance(found, Service):
            return self._service(found, port, protocol, as_source)
        if isinstance(found, Pod):
            return [self._at(found, port, protocol, via=f"DNS {name} -> {found.id}")]
        pod = self.cluster.pod_by_id.get(f"{here}/{name}")
        if pod is not None:
            return [self._at(pod, port, protocol)]
        if f"{here}/{name}" in self.cluster.workload_by_id:
            return self._workload_pods(f"{here}/{name}", port, protocol)
        node = self.cluster.node_by_name.get(name)
        if node is not None:
            return self._node(node, port, protocol, as_source)
        if namespace is None and "." not in name:
            try:
                meaning = self.names.lookup(None, name, name)
            except UnknownName:
                pass
            else:
                return self._meaning(meaning, port, protocol, as_source)
        near = did_you_mean(name, self.names.names_in(here)) or did_you_mean(
            name, self.names.names_in(None)
        )
        raise UnknownName(
            f"{name!r} is not a Service, pod or workload in namespace {here}, nor a DNS "
            "name the cluster answers (write NAMESPACE/NAME, KIND/NAME or an IP)",
            near,
        )

    def _workload_pods(self, workload_id: str, port: Port, protocol: str) -> list[Target]:
        pods = [p for p in self.cluster.pods_by_workload.get(workload_id, ()) if p.ips]
        if not pods:
            raise ResolveError(f"workload {workload_id} has no running pod (replicas: 0?)")
        return [self._at(p, port, protocol) for p in pods]

    def _service(
        self, service: Service, port: Port, protocol: str, as_source: bool
    ) -> list[Target]:
        backends = service_backends(self.cluster, service)
        if not backends:
            raise ResolveError(f"Service {service.id} selects no pod")
        if isinstance(port, str) and not as_source:
            port, protocol = self._service_port_named(service, port, protocol)
        protocol = protocol or "TCP"
        if as_source or port is None:
            pods = list(dict.fromkeys(b.pod.id for b in backends))
            return [Target(self._pod(self.cluster.pod_by_id[p]), None, protocol) for p in pods]
        if service.headless:  # DNS answers the pod IPs: no translation
            pods = list(dict.fromkeys(b.pod.id for b in backends))
            via = f"headless Service {service.id} -> pod IPs"
            return [self._at(self.cluster.pod_by_id[p], port, protocol, via) for p in pods]
        matching = [
            b
            for b in backends
            if b.service_port.port == port and b.service_port.protocol == protocol
        ]
        if not matching:
            raise ResolveError(
                f"Service {service.id} has no port {port}/{protocol} (its ports: "
                f"{_service_ports(service)})"
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

    @staticmethod
    def _service_port_named(service: Service, name: str, protocol: str) -> tuple[int, str]:
        """The Service port called ``name`` (of ``protocol`` when one is written)."""
        for service_port in service.ports:
            if service_port.name == name and protocol in ("", service_port.protocol):
                return service_port.port, service_port.protocol
        shown = f"{name!r}" + (f" ({protocol})" if protocol else "")
        raise ResolveError(
            f"Service {service.id} has no port named {shown} (its ports: {_service_ports(service)})"
        )


def _service_ports(service: Service) -> str:
    return (
        ", ".join(f"{p.name + ' ' if p.name else ''}{p.port}/{p.protocol}" for p in service.ports)
        or "none"
    )


def _listing(names: object) -> str:
    items = sorted(names) if isinstance(names, dict) else []
    return ", ".join(items[:10]) or "none"
