"""Pod controllers and Pod documents -> what their pods look like, before placement and IPs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netpol.load.fields import (
    FieldError,
    boolean,
    integer,
    mapping,
    port_protocol,
    required_integer,
    sequence,
    string,
    string_map,
    strings,
)
from netpol.load.memo import Memo, written
from netpol.model.objects import Container, ContainerPort
from netpol.model.source import Source

WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob")
# Kubernetes supports 150,000 pods per cluster; more than that in one object is a typo
# (or a hostile input) that would only exhaust memory.
MAX_REPLICAS = 150_000


@dataclass(slots=True)
class WorkloadSpec:
    """A controller as written: what each of its pods carries and how many there are."""

    kind: str
    namespace: str
    name: str
    replicas: int
    labels: dict[str, str]
    containers: tuple[Container, ...]
    host_network: bool
    node_name: str | None  # spec.template.spec.nodeName pins every pod
    service_name: str | None
    template: Any  # the raw pod template, for the pod-template-hash
    source: Source
    owner: tuple[str, str] | None  # controller ownerReference (kind, name)
    real_pods: list[PodSpec] = field(default_factory=list)
    owned: bool = False  # its owner is in the input and makes the pods
    schedule: str | None = None  # CronJob spec.schedule (kept so the object can be printed back)
    service_account: str = "default"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)


@dataclass(slots=True)
class PodSpec:
    """A Pod document: labels, containers and whatever its status says."""

    namespace: str
    name: str
    labels: dict[str, str]
    containers: tuple[Container, ...]
    host_network: bool
    node_name: str | None
    phase: str | None
    ips: tuple[str, ...]
    host_ip: str | None
    hostname: str | None
    subdomain: str | None
    source: Source
    owner: tuple[str, str] | None
    service_account: str = "default"


def parse_workload(kind: str, data: Any, namespace: str, name: str, source: Source) -> WorkloadSpec:
    """A Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or CronJob document."""
    spec = mapping(data.get("spec"), "spec")
    prefix = "spec"
    replicas: int | None = 1
    if kind == "CronJob":
        # One run at a time is what a policy has to allow; a suspended CronJob runs none.
        replicas = 0 if boolean(spec.get("suspend"), "spec.suspend") else 1
        job = mapping(
            mapping(spec.get("jobTemplate"), "spec.jobTemplate").get("spec"),
            "spec.jobTemplate.spec",
        )
        prefix = "spec.jobTemplate.spec"
        template_data = job.get("template")
    else:
        template_data = spec.get("template")
        if kind in ("Deployment", "ReplicaSet", "StatefulSet"):
            replicas = integer(spec.get("replicas"), "spec.replicas")
            replicas = 1 if replicas is None else replicas
        elif kind == "Job":
            parallelism = integer(spec.get("parallelism"), "spec.parallelism")
            completions = integer(spec.get("completions"), "spec.completions")
            replicas = 1 if parallelism is None else parallelism
            if completions is not None:
                replicas = min(replicas, completions)
        else:  # DaemonSet: one per node, counted when the nodes are known
            replicas = 0
    if replicas < 0:
        raise FieldError(f"{prefix}.replicas", "must not be negative", replicas)
    if replicas > MAX_REPLICAS:
        raise FieldError(
            f"{prefix}.replicas",
            f"{replicas:,} pods is more than a cluster holds (at most {MAX_REPLICAS:,})",
            replicas,
        )
    template = mapping(template_data, f"{prefix}.template")
    meta = mapping(template.get("metadata"), f"{prefix}.template.metadata")
    # Pod labels are the template's: the pod-template-hash and statefulset.kubernetes.io/
    # pod-name labels that controllers add are left out on purpose, because they differ
    # between pods of one workload and would only split the engine's equivalence classes.
    labels = string_map(meta.get("labels"), f"{prefix}.template.metadata.labels")
    pod = mapping(template.get("spec"), f"{prefix}.template.spec")
    service_name = (
        string(spec.get("serviceName"), "spec.serviceName") if kind == "StatefulSet" else None
    )
    return WorkloadSpec(
        kind=kind,
        namespace=namespace,
        name=name,
        replicas=replicas,
        labels=labels,
        containers=containers(pod.get("containers"), f"{prefix}.template.spec.containers"),
        host_network=boolean(pod.get("hostNetwork"), f"{prefix}.template.spec.hostNetwork"),
        node_name=string(pod.get("nodeName"), f"{prefix}.template.spec.nodeName") or None,
        service_name=service_name or None,
        template=template,
        source=source,
        owner=controller_owner(data),
        schedule=string(spec.get("schedule"), "spec.schedule") if kind == "CronJob" else None,
        service_account=service_account(pod, f"{prefix}.template.spec"),
    )


def parse_pod(data: Any, namespace: str, name: str, source: Source) -> PodSpec:
    """A Pod document, status included (an exported live pod keeps its IPs and node)."""
    meta = mapping(data.get("metadata"), "metadata")
    spec = mapping(data.get("spec"), "spec")
    status = mapping(data.get("status"), "status")
    ips: list[str] = []
    for i, entry in enumerate(sequence(status.get("podIPs"), "status.podIPs")):
        ip = string(mapping(entry, f"status.podIPs[{i}]").get("ip"), f"status.podIPs[{i}].ip")
        if ip and ip not in ips:
            ips.append(ip)
    pod_ip = string(status.get("podIP"), "status.podIP")
    if pod_ip and pod_ip not in ips:
        ips.insert(0, pod_ip)
    return PodSpec(
        namespace=namespace,
        name=name,
        labels=string_map(meta.get("labels"), "metadata.labels"),
        containers=containers(spec.get("containers"), "spec.containers"),
        host_network=boolean(spec.get("hostNetwork"), "spec.hostNetwork"),
        node_name=string(spec.get("nodeName"), "spec.nodeName") or None,
        phase=string(status.get("phase"), "status.phase") or None,
        ips=tuple(ips),
        host_ip=string(status.get("hostIP"), "status.hostIP") or None,
        hostname=string(spec.get("hostname"), "spec.hostname") or None,
        subdomain=string(spec.get("subdomain"), "spec.subdomain") or None,
        source=source,
        owner=controller_owner(data),
        service_account=service_account(spec, "spec"),
    )


def service_account(pod: Any, field: str) -> str:
    """``serviceAccountName``, else the deprecated ``serviceAccount``, else "default"."""
    name = string(pod.get("serviceAccountName"), f"{field}.serviceAccountName")
    return name or string(pod.get("serviceAccount"), f"{field}.serviceAccount") or "default"


def controller_owner(data: Any) -> tuple[str, str] | None:
    """(kind, name) of the controlling ownerReference, if the object has one."""
    refs = sequence(
        mapping(data.get("metadata"), "metadata").get("ownerReferences"), "metadata.ownerReferences"
    )
    for i, ref in enumerate(refs):
        ref = mapping(ref, f"metadata.ownerReferences[{i}]")
        if ref.get("controller") is True:
            kind = string(ref.get("kind"), f"metadata.ownerReferences[{i}].kind")
            name = string(ref.get("name"), f"metadata.ownerReferences[{i}].name")
            if kind and name:
                return (kind, name)
    return None


def containers(value: Any, field: str) -> tuple[Container, ...]:
    """``containers`` of a pod spec with their ports (protocol defaults to TCP)."""
    return _CONTAINERS.read(_containers_key(value), _containers, value, field)


_CONTAINERS: Memo[tuple[Container, ...]] = Memo()
_CONTAINER_FIELDS = ("name", "image", "command", "args", "ports")


def _containers_key(value: Any) -> str | None:
    """The fields ``containers`` reads, as written: a pod spec's containers also hold
    environments, volumes and resources, which differ more often and matter not here."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        return None
    return written([[item.get(name) for name in _CONTAINER_FIELDS] for item in value])


def _containers(value: Any, field: str) -> tuple[Container, ...]:
    out = []
    for i, item in enumerate(sequence(value, field)):
        where = f"{field}[{i}]"
        data = mapping(item, where)
        ports = []
        for j, port in enumerate(sequence(data.get("ports"), f"{where}.ports")):
            at = f"{where}.ports[{j}]"
            port = mapping(port, at)
            ports.append(
                ContainerPort(
                    required_integer(port, "containerPort", at),
                    port_protocol(port.get("protocol"), f"{at}.protocol"),
                    string(port.get("name"), f"{at}.name") or None,
                )
            )
        out.append(
            Container(
                name=string(data.get("name"), f"{where}.name") or "",
                image=string(data.get("image"), f"{where}.image") or "",
                command=strings(data.get("command"), f"{where}.command"),
                args=strings(data.get("args"), f"{where}.args"),
                ports=tuple(ports),
            )
        )
    return tuple(out)
