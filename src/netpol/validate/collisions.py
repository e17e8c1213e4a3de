"""What two objects may not both claim: a pod IP, a NodePort, a Service's cluster IP.

The API server's allocators refuse a NodePort or a cluster IP already taken ("provided port
is already allocated"); IPAM never gives two running pods one address. Each document alone
is fine, so these checks look across documents, after each was validated on its own. The
object written later (in the order the documents were read, as ``kubectl apply`` creates
them) gets the error, naming the one that holds the value. An object defined twice is one
object (the later definition is used, as everywhere), so it never collides with itself.

Two Services whose NodePorts or cluster IPs collide would make the lab's nftables maps
refuse the ruleset, and two pods with one IP would be two endpoints to the engine but one
host to the lab's probes: refusing them here keeps every verb and the lab in agreement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from netpol.load.addresses import KUBE_DNS_SERVICE_IP, KUBERNETES_SERVICE_IP
from netpol.load.fields import api_group
from netpol.load.yamldoc import LocatedMap, RawDocument, locate
from netpol.model.cidr import parse_ip_sloppy
from netpol.model.diagnostics import Diagnostic, Severity
from netpol.validate.metadata import DEFAULT_NAMESPACE

FINISHED_PHASES = ("Succeeded", "Failed")  # a finished pod's IP is free for another
NODE_PORT_TYPES = ("NodePort", "LoadBalancer")
TAKEN_PORT = "provided port is already allocated"
TWO_PODS = "no two running pods have the same IP"
# The Services every cluster has at fixed addresses (kubeadm and KIND), unless the input
# declares them itself: the loader's allocator and the lab's cluster DNS use these.
WELL_KNOWN_SERVICES = {
    ("kube-system", "kube-dns"): KUBE_DNS_SERVICE_IP,
    ("default", "kubernetes"): KUBERNETES_SERVICE_IP,
}


@dataclass(frozen=True, slots=True)
class _Object:
    """One core object of a document (a List's items one by one)."""

    doc: RawDocument
    data: LocatedMap
    kind: str
    namespace: str
    name: str

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"

    def at(self, field: str) -> str:
        line = locate(self.data, field) or self.data.line or self.doc.line
        return f"{self.doc.path}:{line}" if line else self.doc.path


@dataclass(frozen=True, slots=True)
class _Claim:
    """``holder`` holds ``value`` (an address or a port), written at ``field`` of ``owner``;
    no ``owner`` for a Service every cluster has, which the input does not declare."""

    holder: str  # Kind/namespace/name
    field: str
    value: str | int
    owner: _Object | None = None

    def where(self) -> str:
        """``file:line`` of the claim, or why the cluster holds the value anyway."""
        if self.owner is None:
            return "which kubeadm and KIND clusters give this address"
        return self.owner.at(self.field)


Collision = tuple[RawDocument, Diagnostic]  # the document of the object that gets the error


def validate_collisions(
    docs: Sequence[RawDocument], default_namespace: str = DEFAULT_NAMESPACE
) -> list[Collision]:
    """Every pod IP, NodePort and cluster IP claimed by two objects, on the later one."""
    pods: dict[tuple[str, str], _Object] = {}
    services: dict[tuple[str, str], _Object] = {}
    for obj in _core_objects(docs, default_namespace):
        table = pods if obj.kind == "Pod" else services if obj.kind == "Service" else None
        if table is not None:
            table.pop((obj.namespace, obj.name), None)  # the later definition is used
            table[(obj.namespace, obj.name)] = obj
    found: list[Collision] = []
    found += _collisions(
        [c for pod in pods.values() for c in _pod_ips(pod)],
        lambda held: f"Duplicate value: also the IP of {held.holder} ({held.where()}); {TWO_PODS}",
        "Duplicate",
    )
    found += _collisions(
        [c for service in services.values() for c in _node_ports(service)],
        lambda held: f"{TAKEN_PORT} (by {held.holder}, {held.where()})",
        "Invalid",
    )
    reserved = [
        _Claim(f"Service/{namespace}/{name}", "", ip)
        for (namespace, name), ip in WELL_KNOWN_SERVICES.items()
        if (namespace, name) not in services
    ]
    found += _collisions(
        reserved + [c for service in services.values() for c in _cluster_ips(service)],
        lambda held: (
            f"failed to allocate IP {held.value}: provided IP is already allocated "
            f"(by {held.holder}, {held.where()})"
        ),
        "Invalid",
    )
    return found


def _collisions(
    claims: list[_Claim], message: Callable[[_Claim], str], reason: str
) -> list[Collision]:
    """A diagnostic for each claim of a value an earlier claim (of another object) holds."""
    holders: dict[object, _Claim] = {}
    out: list[Collision] = []
    for claim in claims:
        key = _key(claim.value)
        held = holders.setdefault(key, claim)
        owner = claim.owner
        if held is claim or owner is None or held.owner is owner:
            continue  # the first claim, or one object saying it twice (podIP and podIPs[0])
        diagnostic = Diagnostic(
            Severity.ERROR,
            message(held),
            path=owner.doc.path,
            line=locate(owner.data, claim.field) or owner.data.line,
            obj=owner.id,
            field=claim.field,
            value=claim.value,
            reason=reason,
        )
        out.append((owner.doc, diagnostic))
    return out


def _key(value: str | int) -> object:
    """Two spellings of one address are one address (``2001:DB8::1``, ``2001:db8:0::1``)."""
    return (parse_ip_sloppy(value) or value) if isinstance(value, str) else value


def _pod_ips(pod: _Object) -> list[_Claim]:
    spec, status = _mapping(pod.data, "spec"), _mapping(pod.data, "status")
    if spec.get("hostNetwork") is True or status.get("phase") in FINISHED_PHASES:
        return []  # the node's IP, shared; or a pod that no longer holds its IP
    claims = []
    if isinstance(status.get("podIP"), str) and status["podIP"]:
        claims.append(_Claim(pod.id, "status.podIP", status["podIP"], pod))
    items = status.get("podIPs")
    for i, entry in enumerate(items if isinstance(items, list) else []):
        ip = entry.get("ip") if isinstance(entry, dict) else None
        if isinstance(ip, str) and ip:
            claims.append(_Claim(pod.id, f"status.podIPs[{i}].ip", ip, pod))
    return claims


def _node_ports(service: _Object) -> list[_Claim]:
    """The NodePorts of a NodePort or LoadBalancer Service: one port number per node, for
    every protocol (the allocator does not tell TCP from UDP)."""
    spec = _mapping(service.data, "spec")
    if spec.get("type") not in NODE_PORT_TYPES:
        return []
    ports = spec.get("ports")
    claims = []
    for i, port in enumerate(ports if isinstance(ports, list) else []):
        number = port.get("nodePort") if isinstance(port, dict) else None
        if type(number) is int and number:
            claims.append(_Claim(service.id, f"spec.ports[{i}].nodePort", number, service))
    return claims


def _cluster_ips(service: _Object) -> list[_Claim]:
    spec = _mapping(service.data, "spec")
    texts = [("spec.clusterIP", spec.get("clusterIP"))]
    items = spec.get("clusterIPs")
    texts += [(f"spec.clusterIPs[{i}]", t) for i, t in enumerate(items or [])]
    return [
        _Claim(service.id, field, text, service)
        for field, text in texts
        if isinstance(text, str) and text and text != "None"
    ]


def _core_objects(docs: Sequence[RawDocument], default_namespace: str) -> Iterator[_Object]:
    """Each Pod and Service (``v1``) of ``docs``, the items of a List one by one."""
    for doc in docs:
        yield from _objects_of(doc, doc.data, None, None, default_namespace)


def _objects_of(
    doc: RawDocument,
    data: LocatedMap,
    default_kind: object,
    default_version: object,
    default_namespace: str,
) -> Iterator[_Object]:
    kind = data.get("kind", default_kind)
    version = data.get("apiVersion", default_version)
    if kind == "List" or (isinstance(kind, str) and kind.endswith("List") and "items" in data):
        items = data.get("items")
        item_kind, item_version = (None, None) if kind == "List" else (kind[:-4], version)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, LocatedMap):
                yield from _objects_of(doc, item, item_kind, item_version, default_namespace)
        return
    if kind not in ("Pod", "Service") or api_group(version) != "":
        return
    metadata = _mapping(data, "metadata")
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if isinstance(name, str) and name:
        namespace = namespace if isinstance(namespace, str) and namespace else default_namespace
        yield _Object(doc, data, kind, namespace, name)


def _mapping(data: LocatedMap, key: str) -> LocatedMap:
    value = data.get(key)
    return value if isinstance(value, LocatedMap) else LocatedMap()


__all__ = ["Collision", "validate_collisions"]
