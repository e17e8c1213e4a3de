"""Namespaces, nodes, workloads, pods and services."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from netpol.model.source import GENERATED, Source

METADATA_NAME_LABEL = "kubernetes.io/metadata.name"
PROTOCOLS = ("TCP", "UDP", "SCTP")


@dataclass(frozen=True, slots=True)
class Namespace:
    """A namespace; ``labels`` always carries ``kubernetes.io/metadata.name`` (spec 2.4)."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    implicit: bool = False  # used by objects but never declared in the input
    source: Source = GENERATED


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    ips: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    source: Source = GENERATED


@dataclass(frozen=True, slots=True)
class ContainerPort:
    port: int
    protocol: str = "TCP"
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Container:
    name: str
    image: str = ""
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    ports: tuple[ContainerPort, ...] = ()


@dataclass(frozen=True, slots=True)
class WorkloadRef:
    kind: str
    namespace: str
    name: str

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Workload:
    """A pod controller (Deployment, StatefulSet, ...) or a bare Pod's own entry."""

    kind: str
    namespace: str
    name: str
    replicas: int
    pod_labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    containers: tuple[Container, ...] = ()
    host_network: bool = False
    service_name: str | None = None  # StatefulSet spec.serviceName
    schedule: str | None = None  # CronJob spec.schedule (changes no verdict; printed back)
    source: Source = GENERATED

    @property
    def ref(self) -> WorkloadRef:
        return WorkloadRef(self.kind, self.namespace, self.name)

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Pod:
    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    ips: tuple[str, ...] = ()
    node: str = ""
    host_network: bool = False
    containers: tuple[Container, ...] = ()
    workload: WorkloadRef | None = None
    phase: str = "Running"
    hostname: str | None = None  # StatefulSet pods: the stable DNS label
    subdomain: str | None = None  # StatefulSet pods: the governing headless Service
    source: Source = GENERATED
    service_account: str = "default"  # spec.serviceAccountName (Calico selects by it)

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def workload_id(self) -> str:
        """``ns/name`` of its workload; the pod's own id for a bare pod."""
        return self.workload.id if self.workload is not None else self.id

    @property
    def container_ports(self) -> tuple[ContainerPort, ...]:
        return tuple(p for c in self.containers for p in c.ports)

    def named_port(self, name: str, protocol: str) -> tuple[int, ...]:
        """Port numbers the pod's containers declare under ``name`` for ``protocol``."""
        return tuple(
            sorted(
                {p.port for p in self.container_ports if p.name == name and p.protocol == protocol}
            )
        )


def new_pod(
    namespace: str,
    name: str,
    labels: Mapping[str, str],
    ips: tuple[str, ...],
    node: str,
    host_network: bool,
    containers: tuple[Container, ...],
    workload: WorkloadRef | None,
    phase: str,
    hostname: str | None,
    subdomain: str | None,
    source: Source,
    service_account: str,
) -> Pod:
    """``Pod(...)`` of these fields, equal to it in every way, built in half the time: the
    frozen dataclass's ``__init__`` goes through ``object.__setattr__`` by name for each
    field, and the loader makes one pod per replica (100,000 for a large cluster)."""
    pod = _new_object(Pod)
    _set_namespace(pod, namespace)
    _set_name(pod, name)
    _set_labels(pod, labels)
    _set_ips(pod, ips)
    _set_node(pod, node)
    _set_host_network(pod, host_network)
    _set_containers(pod, containers)
    _set_workload(pod, workload)
    _set_phase(pod, phase)
    _set_hostname(pod, hostname)
    _set_subdomain(pod, subdomain)
    _set_source(pod, source)
    _set_service_account(pod, service_account)
    return pod


# The slots' own setters, which a frozen dataclass leaves in place under its __setattr__
_new_object = object.__new__
# in the order of Pod's fields, as new_pod's parameters are (a test holds the two equal)
(
    _set_namespace,
    _set_name,
    _set_labels,
    _set_ips,
    _set_node,
    _set_host_network,
    _set_containers,
    _set_workload,
    _set_phase,
    _set_hostname,
    _set_subdomain,
    _set_source,
    _set_service_account,
) = (getattr(Pod, field.name).__set__ for field in fields(Pod))


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    """Only its labels matter: Calico's serviceAccountSelector reads them."""

    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    source: Source = GENERATED

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class ServicePort:
    port: int
    protocol: str = "TCP"
    target_port: int | str | None = None  # None: same as port
    name: str | None = None
    node_port: int | None = None

    @property
    def target(self) -> int | str:
        return self.port if self.target_port is None else self.target_port


@dataclass(frozen=True, slots=True)
class Service:
    namespace: str
    name: str
    type: str = "ClusterIP"
    selector: Mapping[str, str] | None = field(default=None, hash=False)
    cluster_ip: str | None = None  # "None" for headless Services
    ports: tuple[ServicePort, ...] = ()
    source: Source = GENERATED

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def headless(self) -> bool:
        return self.cluster_ip == "None"
