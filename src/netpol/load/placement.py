"""Workloads and Pods -> pods on nodes, each with its addresses.

A controller is expanded into its replicas (named as its controller names them), exported
Pods are grouped under the workload that owns them, every pod is put on a node (declared,
or KIND-like ones) and handed an address from the pod CIDR. The result depends only on the
set of objects, not on the order of the documents.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple

from netpol.load.addresses import Allocator, IPNetwork, address_int, node_allocator
from netpol.load.naming import pod_names
from netpol.load.workloads import PodSpec, WorkloadSpec
from netpol.model.diagnostics import Diagnostic, Severity
from netpol.model.objects import Container, Node, Pod, Workload, WorkloadRef, new_pod
from netpol.model.options import Options
from netpol.model.source import GENERATED, Source

# Far beyond any real cluster (Kubernetes supports 150,000 pods); a guard against inputs
# built to exhaust memory, such as a DaemonSet on 10,000 nodes times a thousand.
MAX_PODS = 1_000_000
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
FINISHED_PHASES = ("Succeeded", "Failed")


@dataclass(slots=True)
class NodeSpec:
    name: str
    ips: tuple[str, ...]
    labels: dict[str, str]
    schedulable: bool
    source: Source


class PodPlacement:
    """The pods of the workloads and Pods read, put on nodes and given addresses;
    what cannot be placed is said in ``diagnostics``."""

    def __init__(
        self,
        options: Options,
        pod_network: IPNetwork | None,
        workloads: dict[tuple[str, str, str], WorkloadSpec],
        pods: dict[tuple[str, str], PodSpec],
        nodes: dict[str, NodeSpec],
        diagnostics: list[Diagnostic],
    ) -> None:
        self.options = options
        self.pod_network = pod_network
        self.workloads = workloads
        self.pods = pods
        self.nodes = nodes
        self.diagnostics = diagnostics
        self.schedulable: list[str] = []

    def report(
        self, severity: Severity, message: str, source: Source, obj: str, reason: str
    ) -> None:
        """A diagnostic about the object read at ``source``."""
        self.diagnostics.append(
            Diagnostic(
                severity, message, path=source.path, line=source.line, obj=obj, reason=reason
            )
        )

    def place(self) -> tuple[dict[str, Node], tuple[Pod, ...], list[Workload]]:
        """The nodes, the pods (sorted by namespace and name) and the workloads."""
        groups = self.group_pods()
        nodes = self.make_nodes(groups)
        pods, workloads = self.make_pods(groups, nodes)
        return nodes, pods, workloads

    def group_pods(self) -> list[WorkloadSpec]:
        """Workloads that own pods: controllers, owners of exported Pods, and bare Pods.

        A ReplicaSet (Job) whose Deployment (CronJob) is in the input makes no pods of its
        own, and a controller whose Pods are in the input (an export of a live cluster) uses
        those instead of generating new ones.
        """
        specs = self.workloads
        for spec in specs.values():
            # Only these pairs: an owner that is itself never owned, so no chain of
            # ownerReferences (a hostile input can make one circular) is ever followed far.
            parent = {"ReplicaSet": "Deployment", "Job": "CronJob"}.get(spec.kind)
            if spec.owner and spec.owner[0] == parent:
                spec.owned = (parent, spec.namespace, spec.owner[1]) in specs
        synthetic: dict[tuple[str, str, str], WorkloadSpec] = {}
        groups = [s for s in specs.values() if not s.owned]
        for key in sorted(self.pods):
            pod = self.pods[key]
            # a static (mirror) pod is "owned" by its Node: it is its own workload
            if pod.owner is None or pod.owner[0] == "Node":
                groups.append(_single(pod, "Pod", pod.name))
                continue
            owner = specs.get((pod.owner[0], pod.namespace, pod.owner[1]))
            while owner is not None and owner.owned and owner.owner:
                owner = specs.get((owner.owner[0], owner.namespace, owner.owner[1]))
            if owner is None:
                kind, name = _owner_guess(pod)
                owner = specs.get((kind, pod.namespace, name)) or synthetic.get(
                    (kind, pod.namespace, name)
                )
                if owner is None:
                    owner = synthetic[(kind, pod.namespace, name)] = _single(pod, kind, name)
                    groups.append(owner)
                    continue
            owner.real_pods.append(pod)
            if owner.template is None:  # a synthetic owner counts the pods it finds
                owner.replicas = len(owner.real_pods)
        return groups

    def make_nodes(self, groups: list[WorkloadSpec]) -> dict[str, Node]:
        """Declared nodes, or KIND-like ones, plus any node a pod names that is missing."""
        specs = dict(sorted(self.nodes.items())) or _kind_nodes(self.options.nodes)
        for group in groups:
            wanted = [p.node_name for p in group.real_pods] or [group.node_name]
            host_ips = [p.host_ip for p in group.real_pods] or [None]
            for name, host_ip in zip(wanted, host_ips, strict=False):
                if name and name not in specs:
                    known = (host_ip,) if host_ip and address_int(host_ip) is not None else ()
                    specs[name] = NodeSpec(
                        name, known, {"kubernetes.io/hostname": name}, True, GENERATED
                    )
                    self.report(
                        Severity.INFO,
                        f'node "{name}" is not in the input; modelled as a plain node',
                        group.source,
                        f"{group.kind}/{group.namespace}/{group.name}",
                        "ImplicitNode",
                    )
        if self.pod_network is None:
            self.diagnostics.append(
                Diagnostic(
                    Severity.ERROR,
                    f'pod CIDR "{self.options.pod_cidr}" is not a network (e.g. 10.244.0.0/16)',
                    reason="Invalid",
                )
            )
        claimed = [ip for s in specs.values() for ip in s.ips]
        allocator = node_allocator(self.pod_network, claimed)
        nodes = {}
        for name, spec in specs.items():
            ips = spec.ips
            if not ips:
                ip = allocator.next_free()
                ips = (ip,) if ip else ()
            nodes[name] = Node(name, ips, spec.labels, spec.source)
        self.schedulable = [n for n, s in specs.items() if s.schedulable] or list(specs)
        return nodes

    def make_pods(
        self, groups: list[WorkloadSpec], nodes: dict[str, Node]
    ) -> tuple[tuple[Pod, ...], list[Workload]]:
        drafts: list[_Draft] = []
        workloads: list[Workload] = []
        total = 0
        node_names = list(nodes)
        for group in sorted(groups, key=lambda g: g.key):
            ref = WorkloadRef(group.kind, group.namespace, group.name)
            if group.real_pods:
                start = len(drafts)
                drafts += self.real_drafts(group, ref)
                count = len(drafts) - start
            else:
                count = len(nodes) if group.kind == "DaemonSet" else group.replicas
                if total + count > MAX_PODS:
                    self.too_many(group, total + count)
                    count = 0
                drafts += self.generated_drafts(group, ref, count, node_names)
            total += count
            replicas = count if group.kind == "DaemonSet" else group.replicas
            workloads.append(
                Workload(
                    kind=group.kind,
                    namespace=group.namespace,
                    name=group.name,
                    replicas=replicas,
                    pod_labels=group.labels,
                    containers=group.containers,
                    host_network=group.host_network,
                    service_name=group.service_name,
                    schedule=group.schedule,
                    source=group.source,
                )
            )
        drafts.sort(key=_POD_ID)
        addresses = self.assign_ips(drafts, nodes)
        pods = []
        previous = None
        for (namespace, name, node, hostname, _, shape), ips in zip(drafts, addresses, strict=True):
            if (namespace, name) == previous:
                self.report(
                    Severity.WARNING,
                    f"pod name {name} is also generated by another object; this copy is left out",
                    shape.source,
                    f"{shape.ref.kind}/{namespace}/{shape.ref.name}",
                    "Duplicate",
                )
                continue
            previous = (namespace, name)
            pods.append(
                new_pod(
                    namespace,
                    name,
                    shape.labels,
                    ips,
                    node,
                    shape.host_network,
                    shape.containers,
                    shape.ref,
                    shape.phase,
                    hostname,
                    shape.subdomain,
                    shape.source,
                    shape.service_account,
                )
            )
        return tuple(pods), workloads

    def real_drafts(self, group: WorkloadSpec, ref: WorkloadRef) -> list[_Draft]:
        drafts = []
        for pod in group.real_pods:
            if pod.phase in FINISHED_PHASES:
                self.report(
                    Severity.INFO,
                    f"pod is {pod.phase}: a finished pod takes no part in the network "
                    "(spec 2.3); left out",
                    pod.source,
                    f"Pod/{pod.namespace}/{pod.name}",
                    "FinishedPod",
                )
                continue
            node = (
                pod.node_name
                or self.schedulable[_spread(f"{pod.namespace}/{pod.name}", len(self.schedulable))]
            )
            shape = _Shape(
                pod.labels,
                pod.host_network,
                pod.containers,
                ref,
                pod.phase or "Running",
                pod.subdomain,
                pod.source,
                pod.service_account,
            )
            drafts.append((pod.namespace, pod.name, node, pod.hostname, pod.ips, shape))
        return drafts

    def generated_drafts(
        self, group: WorkloadSpec, ref: WorkloadRef, count: int, node_names: list[str]
    ) -> list[_Draft]:
        if count <= 0:
            return []
        names = pod_names(group.kind, group.name, count, group.template)
        stateful = group.kind == "StatefulSet"
        if group.kind == "DaemonSet":
            placed = node_names
        elif group.node_name:
            placed = [group.node_name] * count
        else:
            # Replicas of one workload spread over the nodes, as the scheduler's spreading
            # does, from a start that depends on the workload alone.
            nodes = self.schedulable
            start = _spread(f"{group.kind}/{group.namespace}/{group.name}", len(nodes))
            placed = [nodes[(start + i) % len(nodes)] for i in range(count)]
        # One shape for every replica: a workload's pods differ only in name, node and address
        shape = _Shape(
            group.labels,
            group.host_network,
            group.containers,
            ref,
            "Running",
            group.service_name if stateful else None,
            group.source,
            group.service_account,
        )
        namespace = group.namespace
        if stateful:  # a StatefulSet pod's hostname is its name
            return [
                (namespace, name, node, name, (), shape)
                for name, node in zip(names, placed, strict=False)
            ]
        return [
            (namespace, name, node, None, (), shape)
            for name, node in zip(names, placed, strict=False)
        ]

    def too_many(self, group: WorkloadSpec, total: int) -> None:
        self.report(
            Severity.ERROR,
            f"the input asks for {total:,} pods, more than netpol models "
            f"(at most {MAX_PODS:,}); this object's pods are left out",
            group.source,
            f"{group.kind}/{group.namespace}/{group.name}",
            "TooLarge",
        )

    def assign_ips(self, drafts: list[_Draft], nodes: dict[str, Node]) -> list[tuple[str, ...]]:
        """Each draft's addresses: status IPs as given; hostNetwork pods get their node's;
        the rest a hashed pod IP.

        ``drafts`` are sorted by pod id, so the allocation ignores document order; every
        address some pod's status or node claims is kept out of the pool.
        """
        claimed = [ip for d in drafts for ip in d[4]]
        claimed += [ip for node in nodes.values() for ip in node.ips]
        allocator = Allocator(self.pod_network, claimed) if self.pod_network else None
        addresses: list[tuple[str, ...]] = []
        wanted: list[int] = []  # drafts that need a pod IP, in order
        for i, (_, _, node, _, ips, shape) in enumerate(drafts):
            if ips:
                addresses.append(ips)
            elif shape.host_network:
                found = nodes.get(node)
                addresses.append(found.ips if found else ())
            else:
                addresses.append(())
                if shape.phase != "Pending":  # a pending pod has no IP yet
                    wanted.append(i)
        if allocator is None:
            return addresses
        starved = []
        allocated = allocator.allocate_many([f"{drafts[i][0]}/{drafts[i][1]}" for i in wanted])
        for i, ip in zip(wanted, allocated, strict=True):
            if ip is None:
                starved.append(drafts[i])
            else:
                addresses[i] = (ip,)
        if starved:
            namespace, name, *_, shape = starved[0]
            self.report(
                Severity.ERROR,
                f"pod CIDR {self.options.pod_cidr} has room for {allocator.capacity:,} "
                f"pods; {len(starved):,} more need an address (first: {namespace}/{name}); "
                "pass a larger --pod-cidr, e.g. 10.128.0.0/9",
                shape.source,
                f"Pod/{namespace}/{name}",
                "PodCIDRExhausted",
            )
        return addresses


class _Shape(NamedTuple):
    """What the pods of one workload share (a Pod document has a shape of its own)."""

    labels: dict[str, str]
    host_network: bool
    containers: tuple[Container, ...]
    ref: WorkloadRef
    phase: str
    subdomain: str | None
    source: Source
    service_account: str


# A pod before its address: (namespace, name, node, hostname, status IPs, shape)
_Draft = tuple[str, str, str, str | None, tuple[str, ...], _Shape]
_POD_ID = itemgetter(0, 1)  # (namespace, name) of a pod's draft


def _spread(key: str, size: int) -> int:
    return zlib.crc32(key.encode()) % size


def _single(pod: PodSpec, kind: str, name: str) -> WorkloadSpec:
    """The workload entry of a bare Pod, or of exported Pods whose owner is not in the input."""
    return WorkloadSpec(
        kind=kind,
        namespace=pod.namespace,
        name=name,
        replicas=1,
        labels=pod.labels,
        containers=pod.containers,
        host_network=pod.host_network,
        node_name=pod.node_name,
        service_name=pod.subdomain,
        template=None,
        source=pod.source,
        owner=None,
        real_pods=[pod],
        service_account=pod.service_account,
    )


def _owner_guess(pod: PodSpec) -> tuple[str, str]:
    """The top controller of a pod whose owner is not in the input.

    A ReplicaSet named ``<deployment>-<pod-template-hash>`` belongs to that Deployment, as
    the pod's own pod-template-hash label shows.
    """
    assert pod.owner is not None
    kind, name = pod.owner
    hash_label = pod.labels.get("pod-template-hash")
    if kind == "ReplicaSet" and hash_label and name.endswith(f"-{hash_label}"):
        return ("Deployment", name[: -len(hash_label) - 1])
    return (kind, name)


def _kind_nodes(count: int) -> dict[str, NodeSpec]:
    """Nodes named as KIND names them; workloads avoid the control plane when workers exist."""
    names = ["kind-control-plane"] + [
        "kind-worker" + (str(i + 1) if i else "") for i in range(max(count, 1) - 1)
    ]
    nodes = {}
    for i, name in enumerate(names):
        labels = {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
        }
        if i == 0:
            labels[CONTROL_PLANE_LABEL] = ""
        nodes[name] = NodeSpec(name, (), labels, i > 0 or count <= 1, GENERATED)
    return nodes
