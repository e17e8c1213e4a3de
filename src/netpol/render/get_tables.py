"""``netpol get`` tables: one row per object, the columns ``kubectl get`` would show."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from netpol.load.services import all_backends
from netpol.model.cilium import CCNP_KIND, CIDR_GROUP_KIND
from netpol.model.cilium import CNP_KIND as CILIUM_CNP_KIND
from netpol.model.cluster import Cluster
from netpol.model.objects import Container, Namespace, Node, Pod, Service, Workload
from netpol.model.policy import NetworkPolicy
from netpol.model.source import Source
from netpol.model.tiers import (
    ANP_KIND,
    BANP_KIND,
    BUILTIN_TIERS,
    CALICO_GNP_KIND,
    CALICO_NP_KIND,
    CNP_KIND,
    DEFAULT_TIER,
    EndpointMatch,
    Tier,
    TieredPolicy,
    order_number,
)
from netpol.render.cilium_tables import cidr_group_table, cilium_policy_table
from netpol.render.tier_manifests import CNP_TIERS_SHOWN

CALICO_GROUP = "projectcalico.org"
Table = tuple[list[str], list[list[object]]]


def resource_table(
    cluster: Cluster,
    key: str,
    items: list[Any],
    wide: bool,
    show_labels: bool = False,
    with_namespace: bool = False,
) -> Table:
    """The table for the objects of one resource (``key``: a kind, or KIND.group), with a
    LABELS column (``--show-labels``) and a NAMESPACE column first (across namespaces)."""
    headers, rows = _table(cluster, key, items, wide)
    if show_labels and key in ("Namespace", "Node", "Pod", "Workload"):
        headers = [*headers, "LABELS"]
        rows = [[*row, _labels(item)] for row, item in zip(rows, items, strict=True)]
    if with_namespace:
        headers = ["NAMESPACE", *headers]
        rows = [[item.namespace, *row] for row, item in zip(rows, items, strict=True)]
    return headers, rows


def _table(cluster: Cluster, key: str, items: list[Any], wide: bool) -> Table:
    builders: dict[str, Callable[[Cluster, list[Any], bool], Table]] = {
        "Namespace": _namespace_table,
        "Node": _node_table,
        "Pod": _pod_table,
        "Service": _service_table,
        "NetworkPolicy": _policy_table,
        "Workload": _workload_table,
        ANP_KIND: _admin_table,
        BANP_KIND: _admin_table,
        CNP_KIND: _admin_table,
        CALICO_GNP_KIND: _calico_table,
        f"{CALICO_NP_KIND}.{CALICO_GROUP}": _calico_table,
        "Tier": _tier_table,
        CILIUM_CNP_KIND: cilium_policy_table,
        CCNP_KIND: cilium_policy_table,
        CIDR_GROUP_KIND: cidr_group_table,
    }
    return builders[key](cluster, items, wide)


def _namespace_table(cluster: Cluster, items: list[Namespace], wide: bool) -> Table:
    pods = Counter(p.namespace for p in cluster.pods)
    policies = Counter(p.namespace for p in cluster.policies)
    headers = ["NAME", "STATUS", "PODS", "POLICIES"] + (["SOURCE"] if wide else [])
    rows: list[list[object]] = []
    for ns in items:
        row: list[object] = [
            ns.name,
            "Implicit" if ns.implicit else "Active",
            pods[ns.name],
            policies[ns.name],
        ]
        rows.append(row + ([_source(ns.source)] if wide else []))
    return headers, rows


def _node_table(cluster: Cluster, items: list[Node], wide: bool) -> Table:
    pods = Counter(p.node for p in cluster.pods)
    headers = ["NAME", "STATUS", "ROLES", "INTERNAL-IP", "PODS"] + (["SOURCE"] if wide else [])
    rows: list[list[object]] = []
    for node in items:
        roles = sorted(
            k.split("/", 1)[1] for k in node.labels if k.startswith("node-role.kubernetes.io/")
        )
        row: list[object] = [
            node.name,
            "Ready",
            ",".join(roles),
            ",".join(node.ips),
            pods[node.name],
        ]
        rows.append(row + ([_source(node.source)] if wide else []))
    return headers, rows


def _pod_table(cluster: Cluster, items: list[Pod], wide: bool) -> Table:
    headers = ["NAME", "READY", "STATUS"]
    if wide:
        headers += ["IP", "NODE", "WORKLOAD", "PORTS", "SOURCE"]
    rows: list[list[object]] = []
    for pod in items:
        total = len(pod.containers)
        ready = total if pod.phase == "Running" else 0
        row: list[object] = [pod.name, f"{ready}/{total}", pod.phase]
        if wide:
            workload = f"{pod.workload.kind}/{pod.workload.name}" if pod.workload else None
            ports = ",".join(_container_port(c) for c in pod.containers if c.ports)
            row += [",".join(pod.ips), pod.node, workload, ports, _source(pod.source)]
        rows.append(row)
    return headers, rows


def _container_port(container: Container) -> str:
    return ",".join(f"{p.name}:" * bool(p.name) + f"{p.port}/{p.protocol}" for p in container.ports)


def _service_table(cluster: Cluster, items: list[Service], wide: bool) -> Table:
    headers = ["NAME", "TYPE", "CLUSTER-IP", "PORT(S)"]
    backends = all_backends(cluster) if wide else {}
    if wide:
        headers += ["SELECTOR", "ENDPOINTS", "SOURCE"]
    rows: list[list[object]] = []
    for svc in items:
        ports = ",".join(
            f"{p.port}" + (f":{p.node_port}" if p.node_port else "") + f"/{p.protocol}"
            for p in svc.ports
        )
        row: list[object] = [svc.name, svc.type, svc.cluster_ip, ports]
        if wide:
            selector = ",".join(f"{k}={v}" for k, v in sorted((svc.selector or {}).items()))
            endpoints = list(
                dict.fromkeys(
                    f"{b.pod.ips[0]}:{b.target_port}"
                    for b in backends.get(svc.id, [])
                    if b.target_port is not None
                )
            )
            shown = ",".join(endpoints[:3]) + (
                f" + {len(endpoints) - 3} more..." if len(endpoints) > 3 else ""
            )
            row += [selector, shown, _source(svc.source)]
        rows.append(row)
    return headers, rows


def _policy_table(cluster: Cluster, items: list[NetworkPolicy], wide: bool) -> Table:
    headers = ["NAME", "POD-SELECTOR", "TYPES"] + (["INGRESS", "EGRESS", "SOURCE"] if wide else [])
    rows: list[list[object]] = []
    for policy in items:
        types = ",".join(policy.policy_types) + (
            " (defaulted)" if policy.policy_types_defaulted else ""
        )
        row: list[object] = [policy.name, policy.pod_selector.text(), types]
        if wide:
            row += [
                _rules_summary(policy, "Ingress"),
                _rules_summary(policy, "Egress"),
                _source(policy.source),
            ]
        rows.append(row)
    return headers, rows


def _rules_summary(policy: NetworkPolicy, direction: str) -> str:
    """``-`` when the direction is not isolated, ``deny all`` with no rules, else the rule count."""
    if direction not in policy.policy_types:
        return "-"
    count = len(policy.rules(direction))
    if count == 0:
        return "deny all"
    return f"{count} rule" + ("s" if count != 1 else "")


def _tier_table(cluster: Cluster, items: list[Tier], wide: bool) -> Table:
    policies = Counter(p.tier for p in cluster.tiered_policies)
    policies[DEFAULT_TIER.name] += len(cluster.policies)  # Kubernetes NetworkPolicies
    declared = {t.name for t in cluster.tiers}
    headers = ["NAME", "ORDER", "DEFAULT-ACTION", "POLICIES", "ORIGIN"] + (
        ["SOURCE"] if wide else []
    )
    rows: list[list[object]] = []
    for tier in items:
        if tier.name in declared:
            origin = "declared"
        elif tier in BUILTIN_TIERS:
            origin = "built-in"
        else:
            origin = "undeclared"  # named by a policy, no Tier object in the input
        row: list[object] = [
            tier.name,
            _order(tier.order),
            tier.default_action,
            policies[tier.name],
            origin,
        ]
        rows.append(row + ([_source(tier.source)] if wide else []))
    return headers, rows


def _admin_table(cluster: Cluster, items: list[TieredPolicy], wide: bool) -> Table:
    """AdminNetworkPolicy, BaselineAdminNetworkPolicy (no priority) or ClusterNetworkPolicy
    (with its tier)."""
    cnp = bool(items) and items[0].kind == CNP_KIND
    banp = bool(items) and items[0].kind == BANP_KIND
    headers = ["NAME"] + ["TIER"] * cnp + ["PRIORITY"] * (not banp)
    headers += ["SUBJECT", "INGRESS", "EGRESS"] + ["SOURCE"] * wide
    rows: list[list[object]] = []
    for policy in items:
        row: list[object] = [policy.name]
        row += [CNP_TIERS_SHOWN.get(policy.tier, policy.tier)] * cnp
        row += [_order(policy.order)] * (not banp)
        row += [
            policy.subject.text(),
            _actions(policy, "Ingress"),
            _actions(policy, "Egress"),
        ]
        rows.append(row + [_source(policy.source)] * wide)
    return headers, rows


def _calico_table(cluster: Cluster, items: list[TieredPolicy], wide: bool) -> Table:
    headers = ["NAME", "TIER", "ORDER", "SELECTOR", "TYPES"]
    if wide:
        headers += ["INGRESS", "EGRESS", "SOURCE"]
    rows: list[list[object]] = []
    for policy in items:
        row: list[object] = [
            policy.name,
            policy.tier,
            _order(policy.order),
            _calico_subject(policy.subject),
            ",".join(policy.types),
        ]
        if wide:
            row += [
                _actions(policy, "Ingress"),
                _actions(policy, "Egress"),
                _source(policy.source),
            ]
        rows.append(row)
    return headers, rows


def _calico_subject(subject: EndpointMatch) -> str:
    """The selector, with the namespace and service account selectors when set."""
    parts = [subject.pods.text() if subject.pods is not None else "all()"]
    if subject.namespaces is not None:
        parts.append(f"namespaceSelector: {subject.namespaces.text()}")
    if subject.service_accounts is not None:
        parts.append(f"serviceAccountSelector: {subject.service_accounts.text()}")
    return "; ".join(parts)


def _actions(policy: TieredPolicy, direction: str) -> str:
    """Each rule's action in order (``Pass,Deny``); ``-`` when the policy leaves the
    direction alone, ``none`` when it applies to it without rules."""
    if direction not in policy.types:
        return "-"
    return ",".join(r.action for r in policy.rules(direction)) or "none"


def _order(order: float | None) -> str | None:
    return None if order is None else str(order_number(order))


def _workload_table(cluster: Cluster, items: list[Workload], wide: bool) -> Table:
    by_kind = Counter((p.workload.kind, p.workload.id) for p in cluster.pods if p.workload)
    headers = ["NAME", "KIND", "PODS"] + (
        ["CONTAINERS", "IMAGES", "PORTS", "SOURCE"] if wide else []
    )
    rows: list[list[object]] = []
    for w in items:
        row: list[object] = [w.name, w.kind, f"{by_kind[(w.kind, w.id)]}/{w.replicas}"]
        if wide:
            row += [
                ",".join(c.name for c in w.containers),
                ",".join(c.image for c in w.containers),
                ",".join(_container_port(c) for c in w.containers if c.ports),
                _source(w.source),
            ]
        rows.append(row)
    return headers, rows


def _labels(item: Namespace | Node | Pod | Workload) -> str:
    labels = item.pod_labels if isinstance(item, Workload) else item.labels
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _source(source: Source) -> str:
    return source.at() if source.path != "<generated>" else "-"
