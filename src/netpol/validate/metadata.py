"""ObjectMeta (spec 5.1): name or generateName, namespace, labels and annotations."""

from __future__ import annotations

from collections.abc import Callable

from netpol.load.yamldoc import LocatedMap
from netpol.validate.names import name_is_dns_label
from netpol.validate.report import Report
from netpol.validate.selectors import validate_annotations, validate_labels

NameRule = Callable[[str, bool], list[str]]

DEFAULT_NAMESPACE = "default"

OBJECT_META_FIELDS = (
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
)


def object_id(kind: str, metadata: object, namespaced: bool) -> str:
    """``Kind/namespace/name`` (``Kind/name`` when cluster-scoped), from whatever is there.

    A missing namespace is "default", as kubectl fills it from the context.
    """
    meta = metadata if isinstance(metadata, dict) else {}
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        prefix = meta.get("generateName")
        name = f"{prefix}*" if isinstance(prefix, str) and prefix else "<unnamed>"
    if not namespaced:
        return f"{kind}/{name}"
    namespace = meta.get("namespace")
    if not isinstance(namespace, str) or not namespace:
        namespace = DEFAULT_NAMESPACE
    return f"{kind}/{namespace}/{name}"


def validate_metadata(
    r: Report, metadata: LocatedMap | None, name_rule: NameRule, namespaced: bool
) -> dict[str, str]:
    """Every ObjectMeta rule the API server applies on create; returns the labels."""
    meta: LocatedMap = metadata if metadata is not None else LocatedMap()
    r.known_fields(meta, "metadata", OBJECT_META_FIELDS)
    generate_name = r.string(meta.get("generateName"), "metadata.generateName") or ""
    if generate_name:
        for message in name_rule(generate_name, True):
            r.invalid("metadata.generateName", generate_name, message)
    raw_name = meta.get("name")
    name = r.string(raw_name, "metadata.name")
    if raw_name is None or name == "":
        if not generate_name:  # with generateName the server makes the name
            r.required("metadata.name", "name or generateName is required")
    elif name is not None:
        for message in name_rule(name, False):
            r.invalid("metadata.name", name, message)
    namespace = r.string(meta.get("namespace"), "metadata.namespace")
    if namespaced and namespace:
        for message in name_is_dns_label(namespace, False):
            r.invalid("metadata.namespace", namespace, message)
    labels = validate_labels(r, meta.get("labels"), "metadata.labels")
    validate_annotations(r, meta.get("annotations"), "metadata.annotations")
    return labels
