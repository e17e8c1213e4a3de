"""``netpol get``: list what the input holds, the way ``kubectl get`` would show it."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import click
import yaml

from netpol.cli.common import input_options, load_or_exit, options_from
from netpol.load.services import all_backends
from netpol.model.cluster import Cluster
from netpol.model.objects import Container, Namespace, Node, Pod, Service, Workload
from netpol.model.policy import NetworkPolicy
from netpol.model.source import Source
from netpol.render.manifests import manifest
from netpol.render.table import render_table


@dataclass(frozen=True)
class Resource:
    """One listable resource: its canonical name, kind, and an optional workload-kind filter."""

    name: str
    kind: str
    namespaced: bool
    workload_kind: str | None = None


_RESOURCES = (
    (("namespaces", "namespace", "ns"), Resource("namespaces", "Namespace", False)),
    (("nodes", "node", "no"), Resource("nodes", "Node", False)),
    (("pods", "pod", "po"), Resource("pods", "Pod", True)),
    (("services", "service", "svc"), Resource("services", "Service", True)),
    (
        ("networkpolicies", "networkpolicy", "netpol", "policies", "policy"),
        Resource("networkpolicies", "NetworkPolicy", True),
    ),
    (("workloads", "workload"), Resource("workloads", "Workload", True)),
    (
        ("deployments", "deployment", "deploy"),
        Resource("deployments", "Workload", True, "Deployment"),
    ),
    (
        ("statefulsets", "statefulset", "sts"),
        Resource("statefulsets", "Workload", True, "StatefulSet"),
    ),
    (("daemonsets", "daemonset", "ds"), Resource("daemonsets", "Workload", True, "DaemonSet")),
    (("replicasets", "replicaset", "rs"), Resource("replicasets", "Workload", True, "ReplicaSet")),
    (("jobs", "job"), Resource("jobs", "Workload", True, "Job")),
    (("cronjobs", "cronjob", "cj"), Resource("cronjobs", "Workload", True, "CronJob")),
)
RESOURCES: dict[str, Resource] = {alias: r for aliases, r in _RESOURCES for alias in aliases}


@click.command("get")
@click.argument("resource", metavar="RESOURCE")
@input_options
@click.option("-n", "--namespace", default=None, help="Only this namespace.")
@click.option(
    "-A",
    "--all-namespaces",
    is_flag=True,
    help="Every namespace (the default: the input is the whole cluster).",
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(["table", "wide", "name", "json", "yaml"]),
    default="table",
    show_default=True,
    help="wide adds columns; json and yaml print Kubernetes manifests, loadable again.",
)
@click.option(
    "--show-labels", is_flag=True, help="Add a LABELS column (namespaces, nodes, pods, workloads)."
)
def command(
    resource: str,
    paths: tuple[str, ...],
    namespace: str | None,
    all_namespaces: bool,
    output: str,
    show_labels: bool,
    **params: object,
) -> None:
    """List namespaces, nodes, pods, services, policies or workloads as netpol models them:
    workloads expanded into pods with their IPs and nodes, policies after defaulting.

    \b
    RESOURCE: namespaces (ns), nodes (no), pods (po), services (svc),
    networkpolicies (netpol, policies), workloads, or one workload kind:
    deployments (deploy), statefulsets (sts), daemonsets (ds), replicasets (rs),
    jobs, cronjobs (cj).

    \b
    Examples:
      netpol get pods examples/tutorial -o wide
      netpol get netpol examples/tutorial -n app1-ns
      helm template ./chart | netpol get svc -
    """
    kind = RESOURCES.get(resource.lower())
    if kind is None:
        raise click.UsageError(
            f'unknown resource type "{resource}"; one of: {", ".join(r.name for _, r in _RESOURCES)}'
        )
    if namespace and all_namespaces:
        raise click.UsageError("-n/--namespace and -A/--all-namespaces exclude each other")
    cluster = load_or_exit(paths, options_from(params))
    items = _items(cluster, kind, namespace)
    if output in ("json", "yaml"):
        document = {"apiVersion": "v1", "kind": "List", "items": [manifest(i) for i in items]}
        if output == "json":
            click.echo(json.dumps(document, indent=2))
        else:
            click.echo(
                yaml.safe_dump(document, sort_keys=False, default_flow_style=False), nl=False
            )
        return
    if not items:
        where = f" in {namespace} namespace" if namespace and kind.namespaced else ""
        click.echo(f"No resources found{where}.", err=True)
        return
    if output == "name":
        for item in items:
            click.echo(f"{kind.kind.lower()}/{item.name}")
        return
    headers, rows = _table(cluster, kind, items, wide=output == "wide")
    if show_labels and kind.kind in ("Namespace", "Node", "Pod", "Workload"):
        headers = [*headers, "LABELS"]
        rows = [[*row, _labels(item)] for row, item in zip(rows, items, strict=True)]
    if kind.namespaced and not namespace:
        headers = ["NAMESPACE", *headers]
        rows = [[item.namespace, *row] for row, item in zip(rows, items, strict=True)]
    click.echo(render_table(headers, rows))


def _items(cluster: Cluster, kind: Resource, namespace: str | None) -> list[Any]:
    everything: Sequence[Any] = {
        "Namespace": cluster.namespaces,
        "Node": cluster.nodes,
        "Pod": cluster.pods,
        "Service": cluster.services,
        "NetworkPolicy": cluster.policies,
        "Workload": cluster.workloads,
    }[kind.kind]
    items = list(everything)
    if kind.workload_kind:
        items = [w for w in items if w.kind == kind.workload_kind]
    if namespace and kind.namespaced:
        items = [i for i in items if i.namespace == namespace]
    return items


# -- tables --------------------------------------------------------------------------------

_Table = tuple[list[str], list[list[object]]]


def _table(cluster: Cluster, kind: Resource, items: list[Any], wide: bool) -> _Table:
    builders: dict[str, Callable[[Cluster, list[Any], bool], _Table]] = {
        "Namespace": _namespace_table,
        "Node": _node_table,
        "Pod": _pod_table,
        "Service": _service_table,
        "NetworkPolicy": _policy_table,
        "Workload": _workload_table,
    }
    return builders[kind.kind](cluster, items, wide)


def _namespace_table(cluster: Cluster, items: list[Namespace], wide: bool) -> _Table:
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


def _node_table(cluster: Cluster, items: list[Node], wide: bool) -> _Table:
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


def _pod_table(cluster: Cluster, items: list[Pod], wide: bool) -> _Table:
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


def _service_table(cluster: Cluster, items: list[Service], wide: bool) -> _Table:
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


def _policy_table(cluster: Cluster, items: list[NetworkPolicy], wide: bool) -> _Table:
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


def _workload_table(cluster: Cluster, items: list[Workload], wide: bool) -> _Table:
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
