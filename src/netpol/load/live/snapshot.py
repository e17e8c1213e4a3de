"""A live read as manifests, to repeat the analysis offline or attach to a bug report.

The files hold Namespaces, Nodes, Pods, Services and NetworkPolicies exactly as read
(less managedFields, literal env values and last-applied annotations), so
``netpol matrix SNAPSHOT`` builds the same cluster as ``netpol matrix --kubeconfig``.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from netpol.load.live.convert import redacted
from netpol.load.live.reader import LiveCluster

# One file per kind in a snapshot directory, in this order.
FILES = (
    ("Namespace", "namespaces.yaml"),
    ("Node", "nodes.yaml"),
    ("Pod", "pods.yaml"),
    ("Service", "services.yaml"),
    ("NetworkPolicy", "networkpolicies.yaml"),
)

try:  # libyaml's emitter: a snapshot of 100,000 pods is large
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Dumper = yaml.SafeDumper


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


def objects_of(live: LiveCluster, kind: str | None = None) -> list[dict[str, Any]]:
    """The snapshot's objects (all, or one kind), redacted."""
    return [redacted(o) for o in live.objects if kind is None or o.get("kind") == kind]


def as_yaml(objects: list[dict[str, Any]]) -> str:
    """Multi-document YAML, keys in the API server's order."""
    if not objects:
        return ""
    text: str = yaml.dump_all(
        objects, Dumper=_Dumper, sort_keys=False, default_flow_style=False, explicit_start=True
    )
    return text


def as_json(objects: list[dict[str, Any]]) -> str:
    """A ``List``, as ``kubectl get -o json`` prints several kinds."""
    document = {"apiVersion": "v1", "kind": "List", "metadata": {}, "items": objects}
    return json.dumps(document, indent=2) + "\n"
