"""Endpoints that no policy can tell apart, grouped into classes.

Two pods are equivalent when they share the namespace, the values of every label key
some pod selector mentions, the named ports some rule mentions, and the IP atom of each
address (so every ipBlock treats them alike). Nodes and external IP blocks are classes
of their own. The matrix is computed per class and expanded only when printed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from netpol.engine.compile import CompiledCluster
from netpol.engine.endpoints import EXTERNAL, NODE, POD, Endpoint, node_endpoint
from netpol.engine.ipspace import IPAtoms
from netpol.model.cluster import Cluster
from netpol.model.objects import Node, Pod
from netpol.model.policy import IPBlock, NetworkPolicy
from netpol.model.selectors import LabelSelector


@dataclass(eq=False)
class EndpointClass:
    index: int
    kind: str  # POD, NODE or EXTERNAL
    namespace: str  # "" for nodes and external blocks
    representative: Endpoint
    pods: list[Pod] = field(default_factory=list)
    atoms: tuple[int, ...] = ()  # IP atoms of the members' addresses
    cidrs: tuple[str, ...] = ()  # external blocks: the CIDRs they cover
    node: str = ""

    @property
    def id(self) -> str:
        if self.kind == EXTERNAL:
            return f"external:{self.cidrs[0]}"
        if self.kind == NODE and not self.pods:
            return f"node:{self.node}"
        return self.representative.id


def policy_blocks(policies: Iterable[NetworkPolicy]) -> list[IPBlock]:
    return [
        peer.ip_block
        for policy in policies
        for rule in policy.ingress + policy.egress
        for peer in rule.peers
        if peer.ip_block is not None
    ]


def cluster_blocks(cluster: Cluster) -> list[IPBlock]:
    """The ipBlocks of the NetworkPolicies and the networks of the tiered policies."""
    blocks = policy_blocks(cluster.policies)
    if cluster.tiered_policies:
        from netpol.engine.tiers import tiered_blocks  # the tiers' model, only where used

        blocks += tiered_blocks(cluster.tiered_policies)
    return blocks


def _selectors(policies: Iterable[NetworkPolicy]) -> Iterable[LabelSelector]:
    for policy in policies:
        yield policy.pod_selector
        for rule in policy.ingress + policy.egress:
            for peer in rule.peers:
                if peer.pod_selector is not None:
                    yield peer.pod_selector


def relevant_label_keys(policies: Iterable[NetworkPolicy]) -> frozenset[str]:
    keys: set[str] = set()
    for selector in _selectors(policies):
        keys.update(selector.keys())
    return frozenset(keys)


def relevant_port_names(policies: Iterable[NetworkPolicy]) -> frozenset[tuple[str, str]]:
    return frozenset(
        (str(port.port), port.protocol)
        for policy in policies
        for rule in policy.ingress + policy.egress
        for port in rule.ports
        if port.is_named
    )


def _named_ports(pod: Pod, names: frozenset[tuple[str, str]]) -> tuple[tuple[str, str, int], ...]:
    """The pod's declarations of the port names some rule mentions: part of its class key."""
    return tuple(
        sorted(
            (p.name, p.protocol, p.port)
            for c in pod.containers
            for p in c.ports
            if p.name is not None and (p.name, p.protocol) in names
        )
    )


class ClassKeys:
    """What puts a pod in its class, worked out one pod at a time: pods with the same key
    are alike to every policy. A verb that needs the classes of a few pods (verify's
    expectations, describe's pod) asks for theirs without partitioning the whole cluster."""

    def __init__(self, cc: CompiledCluster, include_nodes: bool = False) -> None:
        self.cc = cc
        policies = cc.cluster.policies
        self.ip_atoms = IPAtoms(cluster_blocks(cc.cluster))
        self.keys = relevant_label_keys(policies)
        self.names = relevant_port_names(policies)
        self.accounts = False
        if cc.tiered is not None:
            self.keys |= cc.tiered.label_keys()
            self.names |= cc.tiered.port_names()
            self.accounts = cc.tiered.uses_service_accounts
        self._ports_cache: dict[int, tuple[tuple[str, str, int], ...]] = {}
        self._labels_cache: dict[int, tuple[Mapping[str, str], tuple[tuple[str, str], ...]]] = {}
        # Cilium's host and remote-node (and allow-localhost) are relative to the pod's
        # node, and only node peers can be host or remote-node: with node classes present,
        # the node is part of a pod's class
        self.by_node = cc.cilium and (
            include_nodes or any(not cc.is_policy_pod(p) for p in cc.cluster.pods)
        )

    def key(self, pod: Pod) -> tuple[object, ...] | None:
        """The pod's class key, its kind first (POD, or NODE for a hostNetwork pod that is
        its node's traffic); None for a pod without an IP (it cannot send or receive)."""
        if not pod.ips:
            return None  # spec 2.3
        atoms = self.atoms(pod)
        if not self.cc.is_policy_pod(pod):
            return (NODE, pod.node, atoms)  # hostNetwork pod: its node's traffic
        labels = self._label_key(pod.labels)
        ports = self._named_ports(pod) if self.names else ()
        # no node in the key: the node exceptions are applied per pod pair on top
        # (see ClassMatrix.overridden), so one hostNetwork DaemonSet does not
        # multiply the classes by the number of nodes
        account = pod.service_account if self.accounts else ""
        node = pod.node if self.by_node else ""
        return (POD, pod.namespace, labels, ports, atoms, account, node)

    def atoms(self, pod: Pod) -> tuple[int, ...]:
        """The IP atoms of the pod's addresses (ipBlocks tell pods apart by them)."""
        return tuple(self.ip_atoms.atom_of_text(ip) for ip in pod.ips)

    def _label_key(self, labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        """The labels some selector reads, sorted. Replicas share their labels mapping, so
        this is worked out once per workload; the mapping is kept beside its key, so its id
        cannot be reused by another while it is cached."""
        found = self._labels_cache.get(id(labels))
        if found is None or found[0] is not labels:
            key = tuple(sorted((k, v) for k, v in labels.items() if k in self.keys))
            found = self._labels_cache[id(labels)] = (labels, key)
        return found[1]

    def _named_ports(self, pod: Pod) -> tuple[tuple[str, str, int], ...]:
        """Replicas share their containers tuple, so the key is computed once per workload."""
        found = self._ports_cache.get(id(pod.containers))
        if found is None:
            found = self._ports_cache[id(pod.containers)] = _named_ports(pod, self.names)
        return found


class Partition:
    """The classes of a compiled cluster, and which class each pod belongs to."""

    def __init__(
        self,
        cc: CompiledCluster,
        include_external: bool = False,
        include_nodes: bool = False,
    ) -> None:
        self.cc = cc
        keys = ClassKeys(cc, include_nodes)
        self.ip_atoms = keys.ip_atoms
        self.classes: list[EndpointClass] = []
        self.class_of_pod: dict[str, int] = {}
        index: dict[tuple[object, ...], int] = {}
        for pod in cc.cluster.pods:
            key = keys.key(pod)
            if key is None:
                continue  # no IP: cannot send or receive (spec 2.3)
            found = index.get(key)
            if found is None:
                found = len(self.classes)
                index[key] = found
                kind = str(key[0])
                endpoint = cc.endpoint(pod)
                self.classes.append(
                    EndpointClass(
                        found,
                        kind,
                        pod.namespace if kind == POD else "",
                        endpoint,
                        atoms=keys.atoms(pod),
                        node=pod.node,
                    )
                )
            self.classes[found].pods.append(pod)
            self.class_of_pod[pod.id] = found
        if include_nodes:
            self._add_nodes(cc.cluster.nodes)
        if include_external:
            self._add_external(cc.cluster)

    def _add_nodes(self, nodes: Iterable[Node]) -> None:
        for node in nodes:
            if not node.ips:
                continue
            atoms = tuple(self.ip_atoms.atom_of(ipaddress.ip_address(ip)) for ip in node.ips)
            endpoint = node_endpoint(node)
            self.classes.append(
                EndpointClass(len(self.classes), NODE, "", endpoint, atoms=atoms, node=node.name)
            )

    def _add_external(self, cluster: Cluster) -> None:
        """One class per group of atoms that every ipBlock treats alike."""
        blocks = list(dict.fromkeys(cluster_blocks(cluster)))
        masks = [self.ip_atoms.block_mask(b) for b in blocks]
        groups: dict[tuple[int, ...], list[int]] = {}
        for atom_id in range(len(self.ip_atoms.atoms)):
            bit = 1 << atom_id
            signature = tuple(i for i, m in enumerate(masks) if m & bit)
            groups.setdefault(signature, []).append(atom_id)
        for atom_ids in groups.values():
            cidrs = tuple(c for a in atom_ids for c in self.ip_atoms.atoms[a].cidrs())
            first = ipaddress.ip_network(cidrs[0]).network_address
            endpoint = Endpoint(EXTERNAL, first)
            self.classes.append(
                EndpointClass(
                    len(self.classes), EXTERNAL, "", endpoint, atoms=tuple(atom_ids), cidrs=cidrs
                )
            )

    def __len__(self) -> int:
        return len(self.classes)
