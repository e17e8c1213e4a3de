"""Services: their documents, their backends (named targetPorts resolved per pod), their DNS names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from netpol.load.fields import (
    integer,
    mapping,
    port_protocol,
    required_integer,
    sequence,
    string,
    string_map,
)
from netpol.load.memo import Memo, written
from netpol.model.cluster import Cluster
from netpol.model.objects import Pod, Service, ServicePort
from netpol.model.source import Source

CLUSTER_DOMAIN = "cluster.local"


def parse_service(data: Any, namespace: str, name: str, source: Source) -> Service:
    """A Service document; ``cluster_ip`` is None until the loader assigns one."""
    spec = data.get("spec")
    # one read per distinct spec: the Services of many namespaces are written alike
    kind, selector, cluster_ip, ports = _SPECS.read(written(spec), _spec, spec)
    return Service(namespace, name, kind, selector, cluster_ip, ports, source)


_ServiceSpec = tuple[str, dict[str, str] | None, str | None, tuple[ServicePort, ...]]
_SPECS: Memo[_ServiceSpec] = Memo()


def _spec(value: Any) -> _ServiceSpec:
    """A Service's type, selector, cluster IP (None when the spec sets none) and ports."""
    spec = mapping(value, "spec")
    selector = spec.get("selector")
    ports = []
    for i, item in enumerate(sequence(spec.get("ports"), "spec.ports")):
        at = f"spec.ports[{i}]"
        item = mapping(item, at)
        number = required_integer(item, "port", at)
        protocol = port_protocol(item.get("protocol"), f"{at}.protocol")
        target = item.get("targetPort")
        if not (target is None or isinstance(target, str)):
            target = integer(target, f"{at}.targetPort")
        ports.append(
            ServicePort(
                port=number,
                protocol=protocol,
                target_port=target if target != "" else None,
                name=string(item.get("name"), f"{at}.name") or None,
                node_port=integer(item.get("nodePort"), f"{at}.nodePort"),
            )
        )
    cluster_ip = string(spec.get("clusterIP"), "spec.clusterIP") or None
    if cluster_ip is None:
        ips = sequence(spec.get("clusterIPs"), "spec.clusterIPs")
        cluster_ip = string(ips[0], "spec.clusterIPs[0]") if ips else None
    return (
        string(spec.get("type"), "spec.type") or "ClusterIP",
        string_map(selector, "spec.selector") if selector is not None else None,
        cluster_ip,
        tuple(ports),
    )


class Backend(NamedTuple):
    """A pod behind one port of a Service, and the pod port the traffic reaches.

    ``target_port`` is None when a named targetPort names no port of this pod for the
    Service port's protocol: kube-proxy then sends nothing to the pod on that port.
    """

    pod: Pod
    service_port: ServicePort
    target_port: int | None


def selects(service: Service, pod: Pod) -> bool:
    """The Service's selector picks ``pod`` (same namespace, every selector label equal)."""
    if not service.selector or pod.namespace != service.namespace:
        return False
    labels = pod.labels
    return all(labels.get(k) == v for k, v in service.selector.items())


def target_port(pod: Pod, port: ServicePort) -> int | None:
    """The pod port ``port`` forwards to: the number, or the named port of the pod's containers."""
    target = port.target
    if isinstance(target, int):
        return target
    numbers = pod.named_port(target, port.protocol)
    return numbers[0] if numbers else None


def service_backends(cluster: Cluster, service: Service) -> list[Backend]:
    """Every (pod, service port, pod port) the Service sends traffic to, like its Endpoints.

    A Service without selector has no backends here (its Endpoints are managed by hand);
    pods without an IP are not ready and not backends. Order: pods by id, then ports.
    """
    if not service.selector:
        return []
    backends = []
    for pod in cluster.pods:
        if pod.ips and selects(service, pod):
            backends += [Backend(pod, port, target_port(pod, port)) for port in service.ports]
    return backends


def all_backends(cluster: Cluster) -> dict[str, list[Backend]]:
    """``service_backends`` of every Service, by Service id, with pods indexed by label once."""
    index = BackendIndex(cluster)
    return {service.id: index.backends(service) for service in cluster.services}


class BackendIndex:
    """``service_backends`` of one Service at a time, with pods indexed by label once: a verb
    that asks of a few Services (generate: the DNS Service and the flows') does not pay for
    all of them (3 s at 100k pods)."""

    def __init__(self, cluster: Cluster) -> None:
        self._pods: dict[tuple[str, str, str], list[Pod]] = {}
        for pod in cluster.pods:
            if pod.ips:
                for key, value in pod.labels.items():
                    self._pods.setdefault((pod.namespace, key, value), []).append(pod)
        self._found: dict[str, list[Backend]] = {}

    def backends(self, service: Service) -> list[Backend]:
        found = self._found.get(service.id)
        if found is None:
            found = self._found[service.id] = self._backends(service)
        return found

    def _backends(self, service: Service) -> list[Backend]:
        if not service.selector:
            return []
        candidates = min(
            (self._pods.get((service.namespace, k, v), []) for k, v in service.selector.items()),
            key=len,
        )
        backends: list[Backend] = []
        for pod in candidates:
            if selects(service, pod):
                backends += [Backend(pod, port, target_port(pod, port)) for port in service.ports]
        return backends


@dataclass
class DnsIndex:
    """Names the cluster DNS answers: Services and StatefulSet pods, resolved like a pod does.

    ``resolve("backend-svc", "app1-ns")`` tries the search path of a pod in ``app1-ns``
    (``app1-ns.svc.cluster.local``, ``svc.cluster.local``, ``cluster.local``) and then the
    name as written, so ``backend-svc``, ``backend-svc.app1-ns``, ``backend-svc.app1-ns.svc``,
    ``backend-svc.app1-ns.svc.cluster.local`` and ``db-sts-0.db-svc.app1-ns.svc.cluster.local``
    all work, as ``telnet`` inside a pod would see them.
    """

    cluster: Cluster
    _names: dict[str, Service | Pod] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        headless = set()
        for service in self.cluster.services:
            self._names[f"{service.name}.{service.namespace}.svc.{CLUSTER_DOMAIN}"] = service
            if service.headless:
                headless.add((service.namespace, service.name))
        # Pod A records exist only for a pod whose subdomain names a headless Service.
        for pod in self.cluster.pods:
            if pod.hostname and pod.subdomain and (pod.namespace, pod.subdomain) in headless:
                name = f"{pod.hostname}.{pod.subdomain}.{pod.namespace}.svc.{CLUSTER_DOMAIN}"
                self._names[name] = pod

    def resolve(self, name: str, namespace: str) -> Service | Pod | None:
        """What ``name`` resolves to from a pod in ``namespace``, or None (NXDOMAIN)."""
        name = name.strip().lower()
        if name.endswith("."):
            return self._names.get(name[:-1])
        for suffix in (
            f".{namespace}.svc.{CLUSTER_DOMAIN}",
            f".svc.{CLUSTER_DOMAIN}",
            f".{CLUSTER_DOMAIN}",
            "",
        ):
            found = self._names.get(name + suffix)
            if found is not None:
                return found
        return None


def find_service(cluster: Cluster, name: str, namespace: str) -> Service | None:
    """The Service ``name`` (short or DNS form) means from ``namespace``, or None."""
    found = DnsIndex(cluster).resolve(name, namespace)
    return found if isinstance(found, Service) else None


def resolve_name(cluster: Cluster, name: str, namespace: str) -> Service | Pod | None:
    """A Service or StatefulSet pod by DNS name, from ``namespace`` (builds the index once)."""
    return DnsIndex(cluster).resolve(name, namespace)
