"""A live read as manifests, to repeat the analysis offline or attach to a bug report.

The files hold Namespaces, Nodes, Pods, Services, NetworkPolicies and, where the cluster
has them, ServiceAccounts, admin and baseline policies, Calico's tiers and policies and
Cilium's policies and CIDR groups, exactly as read (less managedFields, literal env values and last-applied annotations), so
``netpol matrix SNAPSHOT`` builds the same cluster as ``netpol matrix --kubeconfig``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from netpol.load.fields import api_group
from netpol.load.live.convert import redacted
from netpol.load.live.reader import LiveCluster
from netpol.load.scalars import SafeDumper
from netpol.model.cilium import CCNP_KIND, CIDR_GROUP_KIND, CILIUM_GROUP, CNP_KIND

CALICO = ("projectcalico.org", "crd.projectcalico.org")
ADMIN = ("policy.networking.k8s.io",)
CILIUM = (CILIUM_GROUP,)


@dataclass(frozen=True, slots=True)
class SnapshotFile:
    """One file of a snapshot directory: the objects of one kind (of these API groups)."""

    name: str
    label: str  # how the summary counts them
    kind: str
    groups: tuple[str, ...] = ("",)
    always: bool = False  # written, and counted, even when the cluster has none

    def holds(self, obj: dict[str, Any]) -> bool:
        return obj.get("kind") == self.kind and api_group(obj.get("apiVersion")) in self.groups


# One file per kind in a snapshot directory, in this order.
FILES = (
    SnapshotFile("namespaces.yaml", "namespaces", "Namespace", always=True),
    SnapshotFile("nodes.yaml", "nodes", "Node", always=True),
    SnapshotFile("pods.yaml", "pods", "Pod", always=True),
    SnapshotFile("services.yaml", "services", "Service", always=True),
    SnapshotFile(
        "networkpolicies.yaml",
        "networkpolicies",
        "NetworkPolicy",
        ("networking.k8s.io",),
        always=True,
    ),
    SnapshotFile("serviceaccounts.yaml", "serviceaccounts", "ServiceAccount"),
    SnapshotFile("adminnetworkpolicies.yaml", "adminnetworkpolicies", "AdminNetworkPolicy", ADMIN),
    SnapshotFile(
        "baselineadminnetworkpolicies.yaml",
        "baselineadminnetworkpolicies",
        "BaselineAdminNetworkPolicy",
        ADMIN,
    ),
    SnapshotFile(
        "clusternetworkpolicies.yaml", "clusternetworkpolicies", "ClusterNetworkPolicy", ADMIN
    ),
    SnapshotFile("calico-tiers.yaml", "Calico tiers", "Tier", CALICO),
    SnapshotFile(
        "calico-globalnetworkpolicies.yaml",
        "Calico globalnetworkpolicies",
        "GlobalNetworkPolicy",
        CALICO,
    ),
    SnapshotFile("calico-networkpolicies.yaml", "Calico networkpolicies", "NetworkPolicy", CALICO),
    SnapshotFile("ciliumnetworkpolicies.yaml", "ciliumnetworkpolicies", CNP_KIND, CILIUM),
    SnapshotFile(
        "ciliumclusterwidenetworkpolicies.yaml",
        "ciliumclusterwidenetworkpolicies",
        CCNP_KIND,
        CILIUM,
    ),
    SnapshotFile("ciliumcidrgroups.yaml", "ciliumcidrgroups", CIDR_GROUP_KIND, CILIUM),
)


def files_of(live: LiveCluster) -> list[tuple[SnapshotFile, list[dict[str, Any]]]]:
    """The files of a snapshot directory with their objects, redacted: the five the model
    always has, and the tiered kinds the cluster has."""
    out = []
    for file in FILES:
        objects = [redacted(o) for o in live.objects if file.holds(o)]
        if objects or file.always:
            out.append((file, objects))
    return out


def summary(live: LiveCluster) -> str:
    """What was read, counted by file: ``6 namespaces, 3 nodes, ...``."""
    return ", ".join(f"{len(objects)} {file.label}" for file, objects in files_of(live))


def header(live: LiveCluster, taken: str, lines: list[str]) -> str:
    """The comment that opens each file: where, when, and what to run offline."""
    version = f"Kubernetes {live.version}" if live.version else "Kubernetes version unknown"
    scope = f"namespaces {', '.join(live.scope)}" if live.scope else "all namespaces"
    text = [
        f"netpol snapshot of {live.server} (context {live.context}), {version}, {scope}",
        f"taken {taken} with get and list only; Secrets are never read; literal env values",
        "and last-applied annotations are redacted.",
        *lines,
    ]
    return "".join(f"# {line}\n" for line in text)


def objects_of(live: LiveCluster) -> list[dict[str, Any]]:
    """The snapshot's objects, redacted."""
    return [redacted(o) for o in live.objects]


_NO_WRAP = 2**31 - 1


def as_yaml(objects: list[dict[str, Any]]) -> str:
    """Multi-document YAML, keys in the API server's order."""
    if not objects:
        return ""
    # no width: a long string folded over several lines would send the whole file from
    # the fast block reader (load.blockyaml) to PyYAML when the snapshot is read back
    text: str = yaml.dump_all(
        objects,
        Dumper=SafeDumper,
        sort_keys=False,
        default_flow_style=False,
        explicit_start=True,
        width=_NO_WRAP,
    )
    return text


def as_json(objects: list[dict[str, Any]]) -> str:
    """A ``List``, as ``kubectl get -o json`` prints several kinds."""
    document = {"apiVersion": "v1", "kind": "List", "metadata": {}, "items": objects}
    return json.dumps(document, indent=2) + "\n"
