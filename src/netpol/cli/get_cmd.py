"""``netpol get``: list what the input holds, the way ``kubectl get`` would show it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click
import yaml

from netpol.cli.common import (
    fail,
    input_options,
    load_or_exit,
    options_from,
    output_option,
    scope_from,
    scope_options,
)
from netpol.cli.short_names import SHARED, cnp_kind
from netpol.engine.selectors import matches
from netpol.engine.tiers import effective_tiers
from netpol.load.scalars import SafeDumper
from netpol.model.cilium import (
    CCNP_KIND,
    CIDR_GROUP_KIND,
    CILIUM_GROUP,
    CIDRGroup,
    CiliumPolicy,
)
from netpol.model.cilium import CNP_KIND as CILIUM_CNP_KIND
from netpol.model.cluster import Cluster
from netpol.model.selectors import LabelSelector
from netpol.model.tiers import (
    ANP_KIND,
    BANP_KIND,
    CALICO_GNP_KIND,
    CALICO_NP_KIND,
    CNP_KIND,
    Tier,
    TieredPolicy,
)
from netpol.render.cilium_manifests import cilium_manifest
from netpol.render.get_tables import CALICO_GROUP, resource_table
from netpol.render.manifests import manifest
from netpol.render.table import render_table
from netpol.render.tier_manifests import tiered_manifest


@dataclass(frozen=True)
class Resource:
    """One listable resource: its canonical name, kind (with its API group where the kind
    alone is ambiguous or not core), and an optional workload-kind filter."""

    name: str
    kind: str
    namespaced: bool
    workload_kind: str | None = None
    group: str = ""

    @property
    def key(self) -> str:
        """``NetworkPolicy`` (Kubernetes) or ``NetworkPolicy.projectcalico.org``: what the
        item and table builders are chosen by."""
        return (
            f"{self.kind}.{self.group}"
            if self.kind == "NetworkPolicy" and self.group
            else self.kind
        )

    def item_name(self, name: str) -> str:
        """kubectl's ``-o name``: ``pod/x``, ``adminnetworkpolicy.policy.networking.k8s.io/x``."""
        return f"{self.kind.lower()}{'.' * bool(self.group)}{self.group}/{name}"


ADMIN_GROUP = "policy.networking.k8s.io"


def _grouped(plural: str, kind: str, group: str, *short: str) -> tuple[tuple[str, ...], Resource]:
    """A cluster-scoped kind of an API group, by ``<plural>.<group>``, its plural, its
    singular (the kind in lower case) and its short names."""
    aliases = (f"{plural}.{group}", plural, kind.lower(), *short)
    return aliases, Resource(plural, kind, False, group=group)


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
    _grouped("adminnetworkpolicies", ANP_KIND, ADMIN_GROUP, "anp"),
    _grouped("baselineadminnetworkpolicies", BANP_KIND, ADMIN_GROUP, "banp"),
    _grouped("clusternetworkpolicies", CNP_KIND, ADMIN_GROUP, "cnp"),
    _grouped("globalnetworkpolicies", CALICO_GNP_KIND, CALICO_GROUP, "gnp"),
    _grouped("tiers", "Tier", CALICO_GROUP),
    (
        (
            f"networkpolicies.{CALICO_GROUP}",
            f"networkpolicy.{CALICO_GROUP}",
            "caliconetworkpolicies",
            "caliconetworkpolicy",
            "cnetpol",
        ),
        Resource(f"networkpolicies.{CALICO_GROUP}", CALICO_NP_KIND, True, group=CALICO_GROUP),
    ),
    # Cilium's (its CRDs' names and short names; "cnp" above is shared, see short_names)
    (
        (
            f"ciliumnetworkpolicies.{CILIUM_GROUP}",
            "ciliumnetworkpolicies",
            "ciliumnetworkpolicy",
            "ciliumnp",
        ),
        Resource("ciliumnetworkpolicies", CILIUM_CNP_KIND, True, group=CILIUM_GROUP),
    ),
    _grouped("ciliumclusterwidenetworkpolicies", CCNP_KIND, CILIUM_GROUP, "ccnp"),
    _grouped("ciliumcidrgroups", CIDR_GROUP_KIND, CILIUM_GROUP, "ccg"),
)
RESOURCES: dict[str, Resource] = {alias: r for aliases, r in _RESOURCES for alias in aliases}
CILIUM_NETWORK_POLICIES = RESOURCES["ciliumnp"]


@click.command("get")
@click.argument("resource", metavar="RESOURCE")
@input_options
@scope_options
@output_option(
    "table",
    "wide",
    "name",
    "json",
    "yaml",
    default="table",
    meaning={"json": "a Kubernetes List, loadable again", "yaml": "the same List as YAML"},
)
@click.option(
    "--show-labels", is_flag=True, help="Add a LABELS column (namespaces, nodes, pods, workloads)."
)
def command(
    resource: str,
    paths: tuple[str, ...],
    namespace: str | None,
    output: str,
    show_labels: bool,
    **params: Any,
) -> None:
    """List namespaces, nodes, pods, services, policies or workloads as netpol models them:
    workloads expanded into pods with their IPs and nodes, policies after defaulting.

    \b
    RESOURCE: namespaces (ns), nodes (no), pods (po), services (svc),
    networkpolicies (netpol, policies), workloads, or one workload kind:
    deployments (deploy), statefulsets (sts), daemonsets (ds), replicasets (rs),
    jobs, cronjobs (cj); the policy tiers: adminnetworkpolicies (anp),
    baselineadminnetworkpolicies (banp), clusternetworkpolicies (cnp),
    globalnetworkpolicies (gnp), networkpolicies.projectcalico.org
    (caliconetworkpolicies, cnetpol), tiers; Cilium's ciliumnetworkpolicies
    (ciliumnp; cnp when the input has no clusternetworkpolicies),
    ciliumclusterwidenetworkpolicies (ccnp), ciliumcidrgroups (ccg).

    -n lists one namespace's objects, -A (the default) every namespace's; -l keeps the
    objects whose labels match (pods, namespaces, nodes and Cilium CIDR groups by their
    own labels, workloads by their pods' template labels). json and yaml print Kubernetes
    manifests, loadable again.

    \b
    Examples:
      netpol get pods examples/tutorial -o wide
      netpol get netpol examples/tutorial -n app1-ns
      netpol get pods examples/tutorial -l 'role in (frontend,backend)'
      netpol get anp examples/admin-tiers -o yaml
      netpol get cnp -n app1-ns --live
      helm template ./chart | netpol get svc -
    """
    kind = RESOURCES.get(resource.lower())
    if kind is None:
        raise click.UsageError(
            f'unknown resource type "{resource}"; one of: {", ".join(r.name for _, r in _RESOURCES)}'
        )
    scope = scope_from({**params, "namespace": namespace})  # kubectl: an unknown -n lists none
    cluster = load_or_exit(paths, options_from(params))
    if resource.lower() == SHARED:
        meant, warning = cnp_kind(cluster)
        if warning:
            click.echo(f"warning: {warning}", err=True)
        if meant == CILIUM_CNP_KIND:
            kind = CILIUM_NETWORK_POLICIES
    items = _items(cluster, kind, namespace)
    if scope.selector is not None:
        items = _labelled(items, kind, scope.selector)
    if output in ("json", "yaml"):
        printed = [_manifest(i) for i in items]
        document = {"apiVersion": "v1", "kind": "List", "items": printed}
        if output == "json":
            click.echo(json.dumps(document, indent=2))
        else:
            click.echo(
                yaml.dump(document, Dumper=SafeDumper, sort_keys=False, default_flow_style=False),
                nl=False,
            )
        return
    if not items:
        where = f" in {namespace} namespace" if namespace and kind.namespaced else ""
        click.echo(f"No resources found{where}.", err=True)
        return
    if output == "name":
        for item in items:
            click.echo(kind.item_name(item.name))
        return
    headers, rows = resource_table(
        cluster,
        kind.key,
        items,
        wide=output == "wide",
        show_labels=show_labels,
        with_namespace=kind.namespaced and not namespace,
    )
    click.echo(render_table(headers, rows))


def _manifest(item: Any) -> dict[str, Any]:
    if isinstance(item, TieredPolicy | Tier):
        return tiered_manifest(item)
    if isinstance(item, CiliumPolicy | CIDRGroup):
        return cilium_manifest(item)
    return manifest(item)


def _labelled(items: list[Any], kind: Resource, selector: LabelSelector) -> list[Any]:
    """The items whose labels match ``-l``; exit 2 for kinds whose labels netpol drops."""
    if kind.key not in ("Namespace", "Node", "Pod", "Workload", CIDR_GROUP_KIND):
        fail(
            f"-l/--selector: netpol keeps no labels of {kind.name}; it filters pods, "
            "workloads, namespaces, nodes and Cilium CIDR groups"
        )
    if kind.key == "Workload":
        return [w for w in items if matches(selector, w.pod_labels)]
    # a CIDR group keeps its labels as pairs; the other kinds as a mapping
    return [
        i
        for i in items
        if matches(selector, dict(i.labels) if isinstance(i, CIDRGroup) else i.labels)
    ]


def _items(cluster: Cluster, kind: Resource, namespace: str | None) -> list[Any]:
    everything: Sequence[Any] = {
        "Namespace": cluster.namespaces,
        "Node": cluster.nodes,
        "Pod": cluster.pods,
        "Service": cluster.services,
        "NetworkPolicy": cluster.policies,
        "Workload": cluster.workloads,
        "Tier": effective_tiers(cluster),
    }.get(kind.key, ())
    if kind.group == CILIUM_GROUP:
        everything = [
            *(p for p in cluster.cilium_policies if p.kind == kind.kind),
            *(g for g in cluster.cidr_groups if kind.kind == CIDR_GROUP_KIND),
        ]
    elif kind.group and kind.kind != "Tier":
        everything = [p for p in cluster.tiered_policies if p.kind == kind.kind]
    items = list(everything)
    if kind.workload_kind:
        items = [w for w in items if w.kind == kind.workload_kind]
    if namespace and kind.namespaced:
        items = [i for i in items if i.namespace == namespace]
    return items
