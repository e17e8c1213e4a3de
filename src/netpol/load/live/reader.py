"""What netpol reads from a live cluster, read-only, and the documents the loader builds from.

Pods are read as they run (real names, IPs, nodes, owners): no workload is listed, so
build_cluster never invents pods for a controller; a pod owned by a ReplicaSet
``<deployment>-<hash>`` is attributed to its Deployment by the loader. DaemonSets are read
for CNI detection only and are not part of the model.

The tiered kinds (admin and baseline policies, Calico's tiers and policies, and the
ServiceAccounts Calico rules select) are read when the cluster serves them: a kind it does
not serve (404, no CRD) is nothing to read; one the user may not list (403) is a note, since
verdicts then ignore it. Calico's are read from its API server (``projectcalico.org/v3``)
or, when that is not served, from the CRDs that store them (``crd.projectcalico.org/v1``):
never both, they are the same objects. Cilium's policies (CiliumNetworkPolicy,
CiliumClusterwideNetworkPolicy, ``cilium.io/v2``) and CIDR groups (``cilium.io/v2alpha1``,
else ``v2``) are read the same way: a cluster without Cilium's CRDs answers 404, silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netpol.load.live.client import Connection, LiveError, LiveTarget, connect
from netpol.load.live.convert import api_object, to_document
from netpol.load.live.listing import (
    ADMIN_POLICIES,
    CALICO_API,
    CALICO_CRDS,
    CILIUM_CIDR_GROUPS,
    CILIUM_POLICIES,
    DAEMON_SETS,
    NAMESPACES,
    NETWORK_POLICIES,
    NODES,
    PODS,
    RBAC_DOC,
    SERVICE_ACCOUNTS,
    SERVICES,
    Progress,
    Resource,
    get_namespace,
    get_version,
    list_items,
)
from netpol.load.yamldoc import RawDocument

MODELLED = (NAMESPACES, NODES, PODS, SERVICES, NETWORK_POLICIES)
SYSTEM_NAMESPACE = "kube-system"


@dataclass(frozen=True)
class LiveCluster:
    """Everything read from one cluster, as manifests (apiVersion and kind set)."""

    server: str
    context: str
    version: str | None  # gitVersion, e.g. v1.29.2; None when /version was refused
    objects: tuple[dict[str, Any], ...]  # namespaces, nodes, pods, services, policies, tiers,
    # service accounts
    daemonsets: tuple[dict[str, Any], ...] = ()  # for CNI detection, not modelled
    system_pods: tuple[dict[str, Any], ...] = ()  # kube-system pods read outside the scope
    scope: tuple[str, ...] = ()  # namespaces read; empty: the whole cluster
    notes: tuple[str, ...] = field(default=())

    def documents(self) -> list[RawDocument]:
        """The objects as RawDocuments, for check_and_build."""
        return [to_document(obj) for obj in self.objects]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o.get("kind") == kind]

    def cni_pods(self) -> list[dict[str, Any]]:
        """Every pod read, the model's and those read only to detect the CNI."""
        return self.of_kind("Pod") + list(self.system_pods)


def read_cluster(target: LiveTarget, progress: Progress | None = None) -> LiveCluster:
    """List the cluster of ``target`` (get and list only); a LiveError on any refusal."""
    conn = connect(target)
    version = _version(conn)
    if target.namespaces:
        return _read_scoped(conn, version, progress)
    objects: list[dict[str, Any]] = []
    for resource in MODELLED:
        objects += _listed(conn, resource, None, progress)
    notes: list[str] = []
    objects += _tiered(conn, (), progress, notes)
    daemonsets = _optional(conn, DAEMON_SETS, None, progress, notes)
    return LiveCluster(
        conn.server, conn.context, version, tuple(objects), tuple(daemonsets), notes=tuple(notes)
    )


def _read_scoped(conn: Connection, version: str | None, progress: Progress | None) -> LiveCluster:
    """Only the given namespaces: what a user with namespaced RBAC (a Role) may read."""
    scope = conn.target.namespaces
    notes = [
        f"only namespaces {', '.join(scope)} were read: flows to and from other namespaces "
        "are not modelled"
    ]
    objects = [
        api_object(get_namespace(conn, name), NAMESPACES.kind, NAMESPACES.api_version)
        for name in scope
    ]
    objects += _optional(conn, NODES, None, progress, notes)
    for resource in (PODS, SERVICES, NETWORK_POLICIES):
        for name in scope:
            objects += _listed(conn, resource, name, progress)
    objects += _tiered(conn, scope, progress, notes)
    daemonsets = _optional(conn, DAEMON_SETS, SYSTEM_NAMESPACE, progress, notes)
    system_pods: list[dict[str, Any]] = []
    if SYSTEM_NAMESPACE not in scope:
        system_pods = _optional(conn, PODS, SYSTEM_NAMESPACE, progress, notes)
    return LiveCluster(
        conn.server,
        conn.context,
        version,
        tuple(objects),
        tuple(daemonsets),
        tuple(system_pods),
        scope,
        tuple(notes),
    )


def _listed(
    conn: Connection, resource: Resource, namespace: str | None, progress: Progress | None
) -> list[dict[str, Any]]:
    items = list_items(conn, resource, namespace, progress)
    return [api_object(item, resource.kind, resource.api_version) for item in items]


def _optional(
    conn: Connection,
    resource: Resource,
    namespace: str | None,
    progress: Progress | None,
    notes: list[str],
) -> list[dict[str, Any]]:
    """A list netpol can do without (nodes in a namespaced scope, CNI DaemonSets)."""
    try:
        return _listed(conn, resource, namespace, progress)
    except LiveError as exc:
        if exc.status not in (403, 404):
            raise
        where = f" in {namespace}" if namespace else ""
        notes.append(f"{resource.name}{where} not read ({exc.status}); going on without them")
        return []


# What verdicts miss when a tiered kind may not be read, for the note that says so
IGNORED = {
    SERVICE_ACCOUNTS.name: "Calico rules that select service accounts by label see none",
    "tiers": "Calico's policies are placed as in tiers with no order, after every other tier",
    "ciliumcidrgroups": "Cilium rules that name CIDR groups match no address",
}
IGNORED_POLICIES = "verdicts ignore them, and any the cluster has can change what is allowed"


@dataclass
class _Listing:
    """One tiered kind as far as it could be read (in every namespace of the scope)."""

    resource: Resource
    items: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # a note per list answered 403
    answered: bool = False  # some list of it succeeded: the server serves it


def _tiered(
    conn: Connection, scope: tuple[str, ...], progress: Progress | None, notes: list[str]
) -> list[dict[str, Any]]:
    """ServiceAccounts, admin policies, Calico's and Cilium's, where served; notes for what
    was refused."""
    listings = [
        _listing(conn, r, scope, progress)
        for r in (SERVICE_ACCOUNTS, *ADMIN_POLICIES, *CILIUM_POLICIES)
    ]
    listings += _first_served(conn, scope, progress, CALICO_API, CALICO_CRDS)
    listings += _first_served(conn, scope, progress, *((r,) for r in CILIUM_CIDR_GROUPS))
    objects: list[dict[str, Any]] = []
    for listing in listings:
        objects += listing.items
        notes += listing.refused
    return objects


def _first_served(
    conn: Connection,
    scope: tuple[str, ...],
    progress: Progress | None,
    preferred: tuple[Resource, ...],
    fallback: tuple[Resource, ...],
) -> list[_Listing]:
    """The same objects served two ways (Calico's kinds from its API server, else from its
    CRDs; a CiliumCIDRGroup as v2alpha1, else v2): the first way any of them is served,
    never both."""
    served = [_listing(conn, r, scope, progress) for r in preferred]
    if any(listing.answered for listing in served):
        return served
    stored = [_listing(conn, r, scope, progress) for r in fallback]
    if any(listing.answered for listing in stored):
        return stored
    # Neither could be read: say once per kind what was refused (nothing if neither exists)
    return [first if first.refused else then for first, then in zip(served, stored, strict=True)]


def _listing(
    conn: Connection, resource: Resource, scope: tuple[str, ...], progress: Progress | None
) -> _Listing:
    """``resource`` in each namespace of ``scope`` (if namespaced) or cluster-wide."""
    listing = _Listing(resource)
    for namespace in scope if scope and resource.namespaced else (None,):
        try:
            listing.items += _listed(conn, resource, namespace, progress)
        except LiveError as exc:
            if exc.status == 404:  # not served: no CRD, or no Calico API server
                return listing
            if exc.status != 403:
                raise
            listing.refused.append(_refused(resource, namespace))
        else:
            listing.answered = True
    return listing


def _refused(resource: Resource, namespace: str | None) -> str:
    where = f' in namespace "{namespace}"' if namespace else ""
    ignored = IGNORED.get(resource.name, IGNORED_POLICIES)
    return (
        f"list {resource.title}{where} refused (403 Forbidden): {ignored}; netpol needs get "
        f"and list on them ({RBAC_DOC})"
    )


def _version(conn: Connection) -> str | None:
    """The server's gitVersion; also the first request, so it reports bad credentials."""
    try:
        body = get_version(conn)
    except LiveError as exc:
        if exc.status in (403, 404):
            return None
        raise
    version = body.get("gitVersion")
    return version if isinstance(version, str) else None
