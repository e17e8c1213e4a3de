"""The whole input: what netpol evaluates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property

from netpol.model.cilium import CIDRGroup, CiliumPolicy
from netpol.model.diagnostics import Diagnostic
from netpol.model.objects import (
    METADATA_NAME_LABEL,
    Namespace,
    Node,
    Pod,
    Service,
    ServiceAccount,
    Workload,
)
from netpol.model.options import DEFAULT_POD_CIDR
from netpol.model.policy import NetworkPolicy
from netpol.model.tiers import Tier, TieredPolicy


@dataclass(frozen=True)
class Cluster:
    """Namespaces, nodes, workloads, pods, services and policies, in a stable order.

    ``diagnostics`` holds what the loader and validator found (warnings survive into
    evaluation; errors stop it unless the user skips invalid objects).
    """

    namespaces: tuple[Namespace, ...] = ()
    nodes: tuple[Node, ...] = ()
    workloads: tuple[Workload, ...] = ()
    pods: tuple[Pod, ...] = ()
    services: tuple[Service, ...] = ()
    policies: tuple[NetworkPolicy, ...] = ()
    # admin, baseline and Calico policies, and the Calico tiers declared in the input
    tiered_policies: tuple[TieredPolicy, ...] = ()
    tiers: tuple[Tier, ...] = ()
    # CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy and CiliumCIDRGroup, as written
    cilium_policies: tuple[CiliumPolicy, ...] = ()
    cidr_groups: tuple[CIDRGroup, ...] = ()
    # (namespace, Service name, addresses) from Endpoints and EndpointSlices
    service_endpoints: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    service_accounts: tuple[ServiceAccount, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    skipped_kinds: tuple[tuple[str, int], ...] = ()
    pod_cidr: str = DEFAULT_POD_CIDR
    service_cidr: str = "10.96.0.0/12"

    @cached_property
    def namespace_by_name(self) -> dict[str, Namespace]:
        return {n.name: n for n in self.namespaces}

    def namespace_labels(self, name: str) -> Mapping[str, str]:
        """The labels namespace selectors see on namespace ``name``: one the input does not
        declare has only the automatic ``kubernetes.io/metadata.name``."""
        namespace = self.namespace_by_name.get(name)
        return namespace.labels if namespace is not None else {METADATA_NAME_LABEL: name}

    @cached_property
    def pod_by_id(self) -> dict[str, Pod]:
        return {p.id: p for p in self.pods}

    @cached_property
    def workload_by_id(self) -> dict[str, Workload]:
        return {w.id: w for w in self.workloads}

    @cached_property
    def pods_by_workload(self) -> dict[str, list[Pod]]:
        """The pods of each workload id, in input order (bare pods are not listed)."""
        found: dict[str, list[Pod]] = {}
        for pod in self.pods:
            if pod.workload is not None:
                found.setdefault(pod.workload.id, []).append(pod)
        return found

    @cached_property
    def service_by_id(self) -> dict[str, Service]:
        return {s.id: s for s in self.services}

    @cached_property
    def policy_by_id(self) -> dict[str, NetworkPolicy]:
        return {p.id: p for p in self.policies}

    @cached_property
    def node_by_name(self) -> dict[str, Node]:
        return {n.name: n for n in self.nodes}

    @cached_property
    def service_account_by_id(self) -> dict[str, ServiceAccount]:
        return {s.id: s for s in self.service_accounts}

    def with_policies(
        self,
        policies: tuple[NetworkPolicy, ...],
        tiered_policies: tuple[TieredPolicy, ...] | None = None,
    ) -> Cluster:
        """The same cluster under another policy set (diff, generate, lab apply); the
        tiered policies stay unless given."""
        if tiered_policies is None:
            return replace(self, policies=policies)
        return replace(self, policies=policies, tiered_policies=tiered_policies)
