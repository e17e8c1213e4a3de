"""API objects -> the manifests ``kubectl get -o json`` prints, and -> RawDocuments.

List items from the API server carry no kind or apiVersion; they get them back here.
managedFields are dropped (kubectl hides them too). For a snapshot that may be attached to
a bug report, ``redacted`` also removes literal env values and the last-applied
annotation, which can hold credentials; nothing netpol evaluates is in them.
"""

from __future__ import annotations

import copy
from typing import Any

from netpol.load.yamldoc import LocatedMap, RawDocument, locate_plain

LIVE_PATH = "live"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
REDACTED = "<redacted by netpol snapshot>"


def api_object(item: dict[str, Any], kind: str, api_version: str) -> dict[str, Any]:
    """``item`` with apiVersion and kind first, as kubectl prints it, without managedFields."""
    out: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    for key, value in item.items():
        if key in ("apiVersion", "kind"):
            continue
        if key == "metadata" and isinstance(value, dict) and "managedFields" in value:
            value = {k: v for k, v in value.items() if k != "managedFields"}
        out[key] = value
    return out


def to_document(obj: dict[str, Any]) -> RawDocument:
    """The object as the file loader's RawDocument; its Source is ``live`` (no line)."""
    data = locate_plain(obj)
    assert isinstance(data, LocatedMap)
    return RawDocument(LIVE_PATH, 0, data, served=True)


def redacted(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy without literal env values and the last-applied annotation (see module doc)."""
    out = copy.deepcopy(obj)
    annotations = (out.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict) and LAST_APPLIED in annotations:
        annotations[LAST_APPLIED] = REDACTED
    for spec in _pod_specs(out):
        for key in ("containers", "initContainers", "ephemeralContainers"):
            for container in spec.get(key) or []:
                for env in container.get("env") or [] if isinstance(container, dict) else []:
                    if isinstance(env, dict) and "value" in env:
                        env["value"] = REDACTED
    return out


def _pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return []
    if obj.get("kind") == "Pod":
        return [spec]
    job = spec.get("jobTemplate")  # a CronJob's pods are one level further down
    if isinstance(job, dict) and isinstance(job.get("spec"), dict):
        spec = job["spec"]
    template = spec.get("template")
    inner = template.get("spec") if isinstance(template, dict) else None
    return [inner] if isinstance(inner, dict) else []
