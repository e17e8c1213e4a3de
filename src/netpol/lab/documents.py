"""The lab's object store: the objects applied so far, like the API server's, by object key.

``lab apply`` replaces an object with the same kind, namespace and name (or adds it);
``lab delete`` removes objects. The store is a plain JSON list in the lab's private state
directory, rebuilt into a Cluster through the same loader every verb uses. It keeps only
what that needs: objects of the kinds netpol models (a Secret or a ConfigMap never gets in)
with literal ``env`` values and the last-applied annotation redacted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netpol.lab.private import read_file
from netpol.lab.state import write_json_atomic
from netpol.load.build import (
    CALICO_GROUPS,
    KINDS,
    is_namespaced,
    kind_entry,
)
from netpol.load.live.convert import redacted
from netpol.load.yamldoc import RawDocument, locate_plain

KIND_ALIASES = {
    "networkpolicy": "NetworkPolicy",
    "networkpolicies": "NetworkPolicy",
    "netpol": "NetworkPolicy",
    "deployment": "Deployment",
    "deployments": "Deployment",
    "deploy": "Deployment",
    "statefulset": "StatefulSet",
    "statefulsets": "StatefulSet",
    "sts": "StatefulSet",
    "daemonset": "DaemonSet",
    "daemonsets": "DaemonSet",
    "ds": "DaemonSet",
    "replicaset": "ReplicaSet",
    "replicasets": "ReplicaSet",
    "rs": "ReplicaSet",
    "job": "Job",
    "jobs": "Job",
    "cronjob": "CronJob",
    "cronjobs": "CronJob",
    "service": "Service",
    "services": "Service",
    "svc": "Service",
    "pod": "Pod",
    "pods": "Pod",
    "po": "Pod",
    "namespace": "Namespace",
    "namespaces": "Namespace",
    "ns": "Namespace",
    "node": "Node",
    "nodes": "Node",
    "serviceaccount": "ServiceAccount",
    "serviceaccounts": "ServiceAccount",
    "sa": "ServiceAccount",
    # the Network Policy API's CRDs (their kubectl short names too)
    "adminnetworkpolicy": "AdminNetworkPolicy",
    "adminnetworkpolicies": "AdminNetworkPolicy",
    "anp": "AdminNetworkPolicy",
    "baselineadminnetworkpolicy": "BaselineAdminNetworkPolicy",
    "baselineadminnetworkpolicies": "BaselineAdminNetworkPolicy",
    "banp": "BaselineAdminNetworkPolicy",
    "clusternetworkpolicy": "ClusterNetworkPolicy",
    "clusternetworkpolicies": "ClusterNetworkPolicy",
    # Calico's (its API server's names; "cnp" is left out: both ClusterNetworkPolicy and
    # Calico's NetworkPolicy claim it)
    "globalnetworkpolicy": "GlobalNetworkPolicy",
    "globalnetworkpolicies": "GlobalNetworkPolicy",
    "gnp": "GlobalNetworkPolicy",
    "calicoglobalnetworkpolicy": "GlobalNetworkPolicy",
    "calicoglobalnetworkpolicies": "GlobalNetworkPolicy",
    "cgnp": "GlobalNetworkPolicy",
    "caliconetworkpolicy": "NetworkPolicy.projectcalico.org",
    "caliconetworkpolicies": "NetworkPolicy.projectcalico.org",
    "tier": "Tier",
    "tiers": "Tier",
    # Cilium's (kubectl's short names; "cnp" stays out here too)
    "ciliumnetworkpolicy": "CiliumNetworkPolicy",
    "ciliumnetworkpolicies": "CiliumNetworkPolicy",
    "ciliumnp": "CiliumNetworkPolicy",
    "ciliumclusterwidenetworkpolicy": "CiliumClusterwideNetworkPolicy",
    "ciliumclusterwidenetworkpolicies": "CiliumClusterwideNetworkPolicy",
    "ccnp": "CiliumClusterwideNetworkPolicy",
    "ciliumcidrgroup": "CiliumCIDRGroup",
    "ciliumcidrgroups": "CiliumCIDRGroup",
    "ccg": "CiliumCIDRGroup",
}


@dataclass(frozen=True, slots=True)
class StoredObject:
    kind: str
    namespace: str  # "" for cluster-scoped kinds
    name: str
    data: dict[str, Any]

    @property
    def resource(self) -> str:
        """The kind as the store tells kinds apart (``resource_of``)."""
        return resource_of(self.kind, self.data.get("apiVersion"))

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.resource, self.namespace, self.name)

    @property
    def label(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.resource}/{where}{self.name}"


def resource_of(kind: str, api_version: object) -> str:
    """``kind``, or ``NetworkPolicy.projectcalico.org`` for Calico's: a kind whose name
    another API group also uses is a different object there (its own key in the store)."""
    group = api_version.rpartition("/")[0] if isinstance(api_version, str) else ""
    shared = any(k == kind and g not in CALICO_GROUPS for k, g in KINDS)
    return f"{kind}.projectcalico.org" if group in CALICO_GROUPS and shared else kind


def objects_of(docs: Iterable[RawDocument], default_namespace: str) -> list[StoredObject]:
    """Every object of ``docs`` (``List`` kinds expanded), keyed as the API server would."""
    return objects_of_data([doc.data for doc in docs], default_namespace)


def objects_of_data(items: Iterable[Any], default_namespace: str) -> list[StoredObject]:
    """Like ``objects_of``, for objects that are plain data already."""
    found: list[StoredObject] = []
    for item in items:
        _collect(_plain(item), default_namespace, found)
    return found


def _collect(
    data: Any, default_namespace: str, found: list[StoredObject], kind_hint: str = ""
) -> None:
    if not isinstance(data, dict):
        return
    kind = data.get("kind") or kind_hint
    if isinstance(kind, str) and (kind == "List" or (kind.endswith("List") and "items" in data)):
        item_kind = "" if kind == "List" else kind[: -len("List")]
        for item in data.get("items") or []:
            if isinstance(item, dict) and item_kind and "kind" not in item:
                item = {**item, "kind": item_kind, "apiVersion": data.get("apiVersion")}
            _collect(item, default_namespace, found)
        return
    if not isinstance(kind, str) or not modelled(kind, data.get("apiVersion")):
        return  # the lab never needs it, and it may be a Secret: not kept
    raw_meta = data.get("metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    name = str(meta.get("name") or meta.get("generateName") or "")
    namespaced = is_namespaced(str(kind), data.get("apiVersion"))
    namespace = str(meta.get("namespace") or default_namespace) if namespaced else ""
    found.append(StoredObject(kind, namespace, name, redacted(data)))


def modelled(kind: str, api_version: object) -> bool:
    """Whether the loader reads objects of this kind (the rest are only counted as skipped)."""
    return kind_entry(kind, api_version) is not None


def _plain(data: Any) -> Any:
    return json.loads(json.dumps(data))


def load_store(path: Path) -> list[StoredObject]:
    try:
        raw = json.loads(read_file(path))
    except FileNotFoundError:
        return []
    return [StoredObject(o["kind"], o["namespace"], o["name"], o["data"]) for o in raw]


def save_store(path: Path, objects: Sequence[StoredObject]) -> None:
    write_json_atomic(
        path,
        [
            {"kind": o.kind, "namespace": o.namespace, "name": o.name, "data": o.data}
            for o in objects
        ],
        compact=True,
    )


def merged(store: Sequence[StoredObject], new: Sequence[StoredObject]) -> list[StoredObject]:
    """``store`` with each of ``new`` replacing the object with its key, or appended."""
    out = list(store)
    index = {o.key: i for i, o in enumerate(out)}
    for obj in new:
        if obj.key in index:
            out[index[obj.key]] = obj
        else:
            index[obj.key] = len(out)
            out.append(obj)
    return out


def raw_documents(objects: Sequence[StoredObject], path: str) -> list[RawDocument]:
    """The store as the loader's documents, without printing and parsing it again."""
    return [RawDocument(path, 0, locate_plain(o.data)) for o in objects]


def resolve_kind(text: str) -> str | None:
    """The store's kind (``StoredObject.resource``) that ``text`` names, as kubectl reads it:
    a kind or a resource or short name (``anp``, ``gnp``, ``netpol``), optionally followed
    by its API group (``networkpolicies.projectcalico.org`` is Calico's); None if none."""
    name, dot, group = text.partition(".")
    kind = name if any(k == name for k, _ in KINDS) else KIND_ALIASES.get(name.lower())
    if kind is None or not dot:
        return kind
    if (kind, group) not in KINDS:
        return None
    return resource_of(kind, f"{group}/")
