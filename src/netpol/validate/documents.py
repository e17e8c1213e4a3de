"""One document -> its problems: the kind and apiVersion decide which checks apply.

Unknown kinds are not errors (the loader skips and counts them), and neither are kinds of
another API group that share a name (a Knative ``serving.knative.dev/v1`` Service is not
a core Service). A known kind under a removed version (``extensions/v1beta1``
NetworkPolicy, ``apps/v1beta2`` Deployment) is an error, as on a current cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from netpol.load.fields import api_group, type_name
from netpol.load.imported import imported_on_use
from netpol.load.memo import BoundedCache
from netpol.load.yamldoc import LocatedMap, RawDocument, settle
from netpol.model.diagnostics import Diagnostic
from netpol.validate.metadata import object_id
from netpol.validate.networkpolicy import validate_network_policy
from netpol.validate.objects import (
    Validator,
    validate_cronjob,
    validate_job,
    validate_namespace,
    validate_node,
    validate_pod,
    validate_service,
    workload_validator,
)
from netpol.validate.quick import (
    QuickCheck,
    cronjob_is_clean,
    job_is_clean,
    namespace_is_clean,
    network_policy_is_clean,
    pod_is_clean,
    service_is_clean,
    workload_is_clean,
)
from netpol.validate.report import Report


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind netpol understands: where it lives in the API and how it is checked."""

    api_version: str
    namespaced: bool
    validate: Validator
    legacy_groups: tuple[str, ...] = ()  # groups that once served it (now "no matches")
    # True only for an object ``validate`` finds nothing in, in a fraction of its time
    # (``quick``); None: every object is validated in full
    is_clean: QuickCheck | None = None

    @property
    def group(self) -> str:
        return api_group(self.api_version)


_ADMIN, _CALICO, _CILIUM = (
    "netpol.validate.adminnetworkpolicy",
    "netpol.validate.calico",
    "netpol.validate.cilium",
)
validate_admin_network_policy = imported_on_use(_ADMIN, "validate_admin_network_policy")
validate_baseline_admin_network_policy = imported_on_use(
    _ADMIN, "validate_baseline_admin_network_policy"
)
validate_cluster_network_policy = imported_on_use(_ADMIN, "validate_cluster_network_policy")
validate_calico_network_policy = imported_on_use(_CALICO, "validate_calico_network_policy")
validate_global_network_policy = imported_on_use(_CALICO, "validate_global_network_policy")
validate_service_account = imported_on_use(_CALICO, "validate_service_account")
validate_tier = imported_on_use(_CALICO, "validate_tier")
validate_cilium_network_policy = imported_on_use(_CILIUM, "validate_cilium_network_policy")
validate_cilium_clusterwide_network_policy = imported_on_use(
    _CILIUM, "validate_cilium_clusterwide_network_policy"
)
validate_cilium_cidr_group = imported_on_use(_CILIUM, "validate_cilium_cidr_group")


KINDS: dict[str, tuple[Kind, ...]] = {
    "Namespace": (Kind("v1", False, validate_namespace, is_clean=namespace_is_clean),),
    "Node": (Kind("v1", False, validate_node),),
    "Pod": (Kind("v1", True, validate_pod, is_clean=pod_is_clean),),
    "Service": (Kind("v1", True, validate_service, is_clean=service_is_clean),),
    **{
        kind: (
            Kind(
                "apps/v1",
                True,
                workload_validator(kind),
                () if kind == "StatefulSet" else ("extensions",),
                workload_is_clean(kind),
            ),
        )
        for kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")
    },
    "Job": (Kind("batch/v1", True, validate_job, is_clean=job_is_clean),),
    "CronJob": (Kind("batch/v1", True, validate_cronjob, is_clean=cronjob_is_clean),),
    "AdminNetworkPolicy": (
        Kind("policy.networking.k8s.io/v1alpha1", False, validate_admin_network_policy),
    ),
    "BaselineAdminNetworkPolicy": (
        Kind("policy.networking.k8s.io/v1alpha1", False, validate_baseline_admin_network_policy),
    ),
    "ClusterNetworkPolicy": (
        Kind("policy.networking.k8s.io/v1alpha2", False, validate_cluster_network_policy),
    ),
    "NetworkPolicy": (
        Kind(
            "networking.k8s.io/v1",
            True,
            validate_network_policy,
            ("extensions",),
            network_policy_is_clean,
        ),
        # Calico's API and the CRD it is stored in (same spec)
        Kind("projectcalico.org/v3", True, validate_calico_network_policy),
        Kind("crd.projectcalico.org/v1", True, validate_calico_network_policy),
    ),
    "GlobalNetworkPolicy": (
        Kind("projectcalico.org/v3", False, validate_global_network_policy),
        Kind("crd.projectcalico.org/v1", False, validate_global_network_policy),
    ),
    "Tier": (
        Kind("projectcalico.org/v3", False, validate_tier),
        Kind("crd.projectcalico.org/v1", False, validate_tier),
    ),
    "ServiceAccount": (Kind("v1", True, validate_service_account),),
    "CiliumNetworkPolicy": (Kind("cilium.io/v2", True, validate_cilium_network_policy),),
    "CiliumClusterwideNetworkPolicy": (
        Kind("cilium.io/v2", False, validate_cilium_clusterwide_network_policy),
    ),
    # served as v2alpha1, and also as v2 by recent releases
    "CiliumCIDRGroup": (
        Kind("cilium.io/v2alpha1", False, validate_cilium_cidr_group),
        Kind("cilium.io/v2", False, validate_cilium_cidr_group),
    ),
}


def known_kind(kind: object, api_version: object) -> Kind | None:
    """The Kind for this (kind, apiVersion) pair if netpol reads it; None for foreign kinds.

    A known kind under a retired version of its own group (``apps/v1beta2``) or of a group
    that once served it (``extensions``) still counts as known: it is reported as an error,
    not skipped as foreign. One name may live in several groups (NetworkPolicy in
    networking.k8s.io and in projectcalico.org): the group picks, and within a group that
    serves the kind in several versions (CiliumCIDRGroup), the version.
    """
    if not isinstance(kind, str) or not isinstance(api_version, str):
        return None
    key = (kind, api_version)
    if key not in _KNOWN:
        return _KNOWN.keep(key, _known_kind(kind, api_version))
    return _KNOWN[key]


# (kind, apiVersion) -> its Kind: a cluster has a few pairs, and 100,000 objects (a
# hostile input has many made-up kinds)
_KNOWN: BoundedCache[tuple[str, str], Kind | None] = BoundedCache(10_000)


def _known_kind(kind: str, api_version: str) -> Kind | None:
    group = api_group(api_version)
    specs = KINDS.get(kind, ())
    exact = next((spec for spec in specs if spec.api_version == api_version), None)
    if exact is not None:
        return exact
    for spec in specs:
        if group == spec.group or group in spec.legacy_groups:
            return spec
    return None


def validate_document(doc: RawDocument) -> list[Diagnostic]:
    """Every problem of the object(s) in ``doc``; [] for a valid or an unknown kind."""
    return _validate_object(doc, doc.data, None, None)


def validate_documents(docs: list[RawDocument]) -> list[Diagnostic]:
    """The problems of every document, in order."""
    return [d for doc in docs for d in validate_document(doc)]


class ObjectKind(NamedTuple):
    kind: str  # "" when the object names none
    api_version: str
    checked: bool  # a kind netpol reads (and so validates)


def object_kinds(doc: RawDocument) -> list[ObjectKind]:
    """Each object in ``doc``, a List counting as its items."""
    data = doc.data
    kind, api_version = data.get("kind"), data.get("apiVersion")
    if not _is_list(kind, data):
        return [_object_kind(kind, api_version)]
    items = data.get("items")
    typed = isinstance(kind, str) and kind != "List"
    default_kind = kind[:-4] if typed and isinstance(kind, str) else None
    default_version = api_version if typed else None
    return [
        _object_kind(item.get("kind", default_kind), item.get("apiVersion", default_version))
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict)
    ]


def _object_kind(kind: object, api_version: object) -> ObjectKind:
    return ObjectKind(
        kind if isinstance(kind, str) else "",
        api_version if isinstance(api_version, str) else "",
        known_kind(kind, api_version) is not None,
    )


def _validate_object(
    doc: RawDocument,
    data: LocatedMap,
    default_kind: str | None,
    default_api_version: str | None,
) -> list[Diagnostic]:
    kind = data.get("kind", default_kind)
    api_version = data.get("apiVersion", default_api_version)
    header = _header_problem(kind, api_version)
    if header is not None:
        field, message, value = header
        r = Report(doc, data, _fallback_id(kind, data))
        r.bad_request(field, message, value)
        return r.diagnostics
    assert isinstance(kind, str) and isinstance(api_version, str)
    if _is_list(kind, data):
        return _validate_list(doc, data, kind, api_version)
    spec = known_kind(kind, api_version)
    if spec is None:
        return []
    metadata = data.get("metadata")
    clean = spec.is_clean
    if clean is not None and api_version == spec.api_version and clean(data, metadata):
        return []  # nothing to report: the full path below would find nothing either
    r = Report(doc, data, object_id(kind, metadata, spec.namespaced))
    if api_version != spec.api_version:
        r.bad_request(
            "apiVersion",
            f'no matches for kind "{kind}" in version "{api_version}": '
            f"use apiVersion: {spec.api_version}",
            api_version,
        )
        return r.diagnostics
    if metadata is not None and not isinstance(metadata, LocatedMap):
        r.wrong_type("metadata", metadata, "a mapping (an object)")
        return r.diagnostics
    spec.validate(r, data, metadata)
    return r.diagnostics


def _validate_list(
    doc: RawDocument, data: LocatedMap, kind: str, api_version: str
) -> list[Diagnostic]:
    """``List`` (items carry their own kind) or ``<Kind>List`` (items may omit it)."""
    r = Report(doc, data, kind)
    items = r.sequence(data.get("items"), "items")
    item_kind = None if kind == "List" else kind[:-4]
    item_api_version = None if kind == "List" else api_version
    out = r.diagnostics
    for i, item in enumerate(items):
        if isinstance(item, LocatedMap):
            located_later = item.pending is not None
            found = _validate_object(doc, item, item_kind, item_api_version)
            if found and located_later:
                # the lines of a large JSON List's items are found only when one is needed
                # (load/jsondoc.py): validated again, located, so every line is the field's
                settle(item)
                found = _validate_object(doc, item, item_kind, item_api_version)
            out += found
        else:
            r.wrong_type(f"items[{i}]", item, "a mapping (an object)")
    return out


def _header_problem(kind: object, api_version: object) -> tuple[str, str, object] | None:
    """kubectl's "apiVersion not set" / "kind not set", as one diagnostic."""
    if kind.__class__ is str and kind and api_version.__class__ is str and api_version:
        return None  # the common case, first
    missing = [name for name, v in (("apiVersion", api_version), ("kind", kind)) if v in (None, "")]
    if missing:
        return (
            missing[0],
            f"{' and '.join(missing)} not set: every object needs apiVersion and kind",
            None,
        )
    for name, value in (("apiVersion", api_version), ("kind", kind)):
        if not isinstance(value, str):
            return name, f"must be a string, not {type_name(value)}", value
    return None


def _is_list(kind: object, data: LocatedMap) -> bool:
    """``List``, or ``<Kind>List`` with items (as the loader reads them)."""
    if kind == "List":
        return True
    return isinstance(kind, str) and len(kind) > 4 and kind.endswith("List") and "items" in data


def _fallback_id(kind: object, data: LocatedMap) -> str:
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    label = kind if isinstance(kind, str) and kind else "<no kind>"
    return f"{label}/{name}" if isinstance(name, str) and name else label


__all__ = [
    "KINDS",
    "Kind",
    "ObjectKind",
    "known_kind",
    "object_kinds",
    "validate_document",
    "validate_documents",
]
