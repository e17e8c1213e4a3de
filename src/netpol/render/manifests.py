"""Model objects back as Kubernetes manifests: what ``get -o yaml`` prints, loadable again.

Pods come out as the cluster would show them (status.podIP, nodeName, ownerReferences to
their workload), so ``netpol get pods ... -o yaml | netpol matrix -`` sees the same pods;
policies come out after defaulting (explicit protocols and policyTypes); every object
keeps where it came from in the ``netpol.io/source`` annotation.
"""

from __future__ import annotations

from typing import Any

from netpol.model.objects import Container, Namespace, Node, Pod, Service, Workload
from netpol.model.policy import NetworkPolicy, Peer, PolicyPort, Rule
from netpol.model.selectors import LabelSelector
from netpol.model.source import GENERATED, Source

SOURCE_ANNOTATION = "netpol.io/source"
WORKLOAD_API = {
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
}


def manifest(item: Namespace | Node | Pod | Service | NetworkPolicy | Workload) -> dict[str, Any]:
    """The object as a Kubernetes manifest (apiVersion, kind, metadata, spec, status)."""
    if isinstance(item, Namespace):
        return _object("v1", "Namespace", metadata(item.name, None, item.labels, item.source))
    if isinstance(item, Node):
        document = _object("v1", "Node", metadata(item.name, None, item.labels, item.source))
        document["status"] = {
            "addresses": [{"type": "InternalIP", "address": ip} for ip in item.ips]
        }
        return document
    if isinstance(item, Pod):
        return _pod(item)
    if isinstance(item, Service):
        return _service(item)
    if isinstance(item, NetworkPolicy):
        return _policy(item)
    return _workload(item)


def _object(api_version: str, kind: str, meta: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def metadata(
    name: str, namespace: str | None, labels: Any, source: Source, annotations: Any = ()
) -> dict[str, Any]:
    """name, namespace, labels, and the annotations with where the object came from."""
    out: dict[str, Any] = {"name": name}
    if namespace is not None:
        out["namespace"] = namespace
    if labels:
        out["labels"] = dict(labels)
    notes = dict(annotations)
    if source.path and source != GENERATED:
        notes[SOURCE_ANNOTATION] = source.at()
    if notes:
        out["annotations"] = notes
    return out


def _containers(containers: tuple[Container, ...]) -> list[dict[str, Any]]:
    out = []
    for c in containers:
        container: dict[str, Any] = {"name": c.name, "image": c.image or "unknown"}
        if c.command:
            container["command"] = list(c.command)
        if c.args:
            container["args"] = list(c.args)
        if c.ports:
            container["ports"] = [
                {
                    **({"name": p.name} if p.name else {}),
                    "containerPort": p.port,
                    "protocol": p.protocol,
                }
                for p in c.ports
            ]
        out.append(container)
    return out


def _pod(pod: Pod) -> dict[str, Any]:
    meta = metadata(pod.name, pod.namespace, pod.labels, pod.source)
    if pod.workload is not None and pod.workload.kind != "Pod":
        meta["ownerReferences"] = [
            {
                "apiVersion": WORKLOAD_API.get(pod.workload.kind, "apps/v1"),
                "kind": pod.workload.kind,
                "name": pod.workload.name,
                "controller": True,
                "uid": f"netpol-{pod.workload.namespace}-{pod.workload.name}",
            }
        ]
    spec: dict[str, Any] = {"containers": _containers(pod.containers)}
    if pod.node:
        spec["nodeName"] = pod.node
    if pod.host_network:
        spec["hostNetwork"] = True
    if pod.hostname:
        spec["hostname"] = pod.hostname
    if pod.subdomain:
        spec["subdomain"] = pod.subdomain
    if pod.service_account != "default":
        spec["serviceAccountName"] = pod.service_account
    status: dict[str, Any] = {"phase": pod.phase}
    if pod.ips:
        status["podIP"] = pod.ips[0]
        status["podIPs"] = [{"ip": ip} for ip in pod.ips]
    return {**_object("v1", "Pod", meta), "spec": spec, "status": status}


def _service(service: Service) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": service.type}
    if service.selector is not None:
        spec["selector"] = dict(service.selector)
    if service.cluster_ip:
        spec["clusterIP"] = service.cluster_ip
    ports = []
    for p in service.ports:
        port: dict[str, Any] = {"port": p.port, "protocol": p.protocol, "targetPort": p.target}
        if p.name:
            port["name"] = p.name
        if p.node_port is not None:
            port["nodePort"] = p.node_port
        ports.append(port)
    spec["ports"] = ports
    meta = metadata(service.name, service.namespace, {}, service.source)
    return {**_object("v1", "Service", meta), "spec": spec}


def selector(value: LabelSelector) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if value.match_labels:
        out["matchLabels"] = dict(value.match_labels)
    if value.match_expressions:
        out["matchExpressions"] = [
            {
                "key": r.key,
                "operator": r.operator,
                **({"values": list(r.values)} if r.values else {}),
            }
            for r in value.match_expressions
        ]
    return out


def _peer(peer: Peer) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if peer.pod_selector is not None:
        out["podSelector"] = selector(peer.pod_selector)
    if peer.namespace_selector is not None:
        out["namespaceSelector"] = selector(peer.namespace_selector)
    if peer.ip_block is not None:
        block: dict[str, Any] = {"cidr": peer.ip_block.cidr}
        if peer.ip_block.except_:
            block["except"] = list(peer.ip_block.except_)
        out["ipBlock"] = block
    return out


def _port(port: PolicyPort) -> dict[str, Any]:
    out: dict[str, Any] = {"protocol": port.protocol}
    if port.port is not None:
        out["port"] = port.port
    if port.end_port is not None:
        out["endPort"] = port.end_port
    return out


def _rule(rule: Rule, peers_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rule.peers:
        out[peers_key] = [_peer(p) for p in rule.peers]
    if rule.ports:
        out["ports"] = [_port(p) for p in rule.ports]
    return out


def _policy(policy: NetworkPolicy) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "podSelector": selector(policy.pod_selector),
        "policyTypes": list(policy.policy_types),
    }
    if policy.ingress:
        spec["ingress"] = [_rule(r, "from") for r in policy.ingress]
    if policy.egress:
        spec["egress"] = [_rule(r, "to") for r in policy.egress]
    meta = metadata(policy.name, policy.namespace, {}, policy.source, policy.annotations)
    return {**_object("networking.k8s.io/v1", "NetworkPolicy", meta), "spec": spec}


def _workload(workload: Workload) -> dict[str, Any]:
    template = {
        "metadata": {"labels": dict(workload.pod_labels)},
        "spec": {
            "containers": _containers(workload.containers),
            **({"hostNetwork": True} if workload.host_network else {}),
        },
    }
    meta = metadata(workload.name, workload.namespace, {}, workload.source)
    api = WORKLOAD_API.get(workload.kind, "v1")
    if workload.kind == "Pod":
        return {**_object("v1", "Pod", meta), "spec": template["spec"]}
    spec: dict[str, Any] = {}
    if workload.kind in ("Deployment", "ReplicaSet", "StatefulSet"):
        spec["replicas"] = workload.replicas
    if workload.kind == "Job":
        spec["parallelism"] = workload.replicas
    if workload.kind != "Job" and workload.kind != "CronJob":
        spec["selector"] = {"matchLabels": dict(workload.pod_labels)}
    if workload.service_name:
        spec["serviceName"] = workload.service_name
    if workload.kind == "CronJob":
        spec["schedule"] = workload.schedule
        spec["jobTemplate"] = {"spec": {"template": template}}
    else:
        spec["template"] = template
    return {**_object(api, workload.kind, meta), "spec": spec}
