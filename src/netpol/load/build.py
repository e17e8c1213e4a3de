"""Raw documents -> Cluster: kinds dispatched by a table, each object read into the
model; the pods are then placed (``placement``: workloads expanded into pods, nodes and
addresses) and namespaces and Service addresses filled in deterministically.

The documents arrive validated, but this module trusts nothing: an object it cannot read
is skipped with a Diagnostic naming the file, line and field. The result depends only on
the set of objects, not on the order of the documents.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from netpol.load.addons import (
    DNS_NAMESPACE,
    DNS_SERVICE,
    ClusterDnsFound,
    dns_addon,
    runs_cluster_dns,
)
from netpol.load.addresses import (
    SERVICE_CIDR,
    address_int,
    parse_network,
    service_allocator,
)
from netpol.load.endpoints import endpoints_addresses, slice_service_and_addresses
from netpol.load.fields import (
    FieldError,
    FieldWarning,
    api_group,
    mapping,
    sequence,
    string,
    string_map,
    type_name,
)
from netpol.load.gcpause import gc_paused
from netpol.load.imported import imported_on_use as _imported_on_use
from netpol.load.memo import BoundedCache
from netpol.load.naming import canonical, generated_name
from netpol.load.placement import NodeSpec, PodPlacement
from netpol.load.policies import parse_policy
from netpol.load.services import parse_service
from netpol.load.workloads import (
    WORKLOAD_KINDS,
    PodSpec,
    WorkloadSpec,
    parse_pod,
    parse_workload,
)
from netpol.load.yamldoc import LocatedMap, RawDocument, locate
from netpol.model.cilium import (
    CCNP_KIND,
    CIDR_GROUP_KIND,
    CILIUM_GROUP,
    CNP_KIND,
    CIDRGroup,
    CiliumPolicy,
)
from netpol.model.cluster import Cluster
from netpol.model.diagnostics import Diagnostic, Severity
from netpol.model.objects import (
    METADATA_NAME_LABEL,
    Namespace,
    Service,
    ServiceAccount,
    Workload,
)
from netpol.model.options import Options
from netpol.model.policy import NetworkPolicy
from netpol.model.source import GENERATED, Source
from netpol.model.tiers import Tier, TieredPolicy

BUILTIN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def build_cluster(docs: list[RawDocument], options: Options) -> Cluster:
    """The cluster the documents describe; problems become ``Cluster.diagnostics``."""
    with gc_paused():
        builder = _Builder(options)
        for doc in docs:
            builder.add(doc)
        if options.implicit_dns and builder.seen:  # an empty input stays an empty cluster
            builder.add_cluster_dns()
        return builder.finish()


@dataclass(slots=True)
class _Meta:
    """Who a document is: kind, namespace (None for cluster-scoped kinds), name, source."""

    kind: str
    namespace: str | None
    name: str
    source: Source

    @property
    def desc(self) -> str:
        return (
            f"{self.kind}/{self.namespace}/{self.name}"
            if self.namespace
            else f"{self.kind}/{self.name}"
        )


_Handler = Callable[["_Builder", LocatedMap, _Meta], None]


class _Builder:
    """Collects what each document says, then puts pods on nodes and hands out addresses."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.diagnostics: list[Diagnostic] = []
        self.skipped: Counter[str] = Counter()
        self.namespaces: dict[str, tuple[dict[str, str], Source]] = {}
        self.first_user: dict[str, _Meta] = {}  # namespace -> first object in it
        self.nodes: dict[str, NodeSpec] = {}
        self.workloads: dict[tuple[str, str, str], WorkloadSpec] = {}
        self.pods: dict[tuple[str, str], PodSpec] = {}
        self.services: dict[tuple[str, str], Service] = {}
        self.policies: dict[tuple[str, str], NetworkPolicy] = {}
        self.tiered: dict[tuple[str, str, str], TieredPolicy] = {}
        self.tiers: dict[str, Tier] = {}
        self.cilium: dict[tuple[str, str, str], CiliumPolicy] = {}
        self.endpoints: dict[tuple[str, str], tuple[str, ...]] = {}  # Service -> addresses
        self.cidr_groups: dict[str, CIDRGroup] = {}
        self.service_accounts: dict[tuple[str, str], ServiceAccount] = {}
        self.seen: dict[tuple[str, str, str], Source] = {}
        self.pod_network = parse_network(options.pod_cidr)

    # -- reading documents ---------------------------------------------------------------

    def add(self, doc: RawDocument) -> None:
        """One document."""
        self.add_object(doc.path, doc.data, doc.line, None, None)

    def add_object(
        self, path: str, data: LocatedMap, line: int, item_kind: str | None, item_api: object
    ) -> None:
        """One object of the file ``path``, written at ``line``; ``item_kind``/``item_api``
        are what a ``<Kind>List`` gives its items."""
        kind = data.get("kind", item_kind)
        source = _source(path, data, line)
        if not isinstance(kind, str) or not kind:
            self.problem(source, "", "kind", "missing kind: every object needs apiVersion and kind")
            return
        if kind == "List" or (kind.endswith("List") and "items" in data):
            self.add_list(RawDocument(path, line, data), kind)
            return
        api_version = data.get("apiVersion", item_api)
        reading = _reading(kind, api_version)
        if reading is None:
            label = f"{kind} ({api_version})" if any(k == kind for k, _ in KINDS) else kind
            self.skipped[label] += 1
            return
        namespaced, handler, category = reading
        meta = self.meta(data, kind, namespaced, source, category)
        if meta is None:
            return
        try:
            handler(self, data, meta)
        except FieldError as error:
            self.problem(source, meta.desc, error.field, error.message, error.value)
            return
        except RecursionError:  # pragma: no cover - yamldoc bounds the depth first
            self.problem(source, meta.desc, "", "object nested too deeply")
            return
        if meta.namespace is not None:
            self.first_user.setdefault(meta.namespace, meta)

    def add_list(self, doc: RawDocument, kind: str) -> None:
        items = doc.data.get("items")
        if not isinstance(items, list):
            self.problem(
                _source(doc.path, doc.data, doc.line),
                kind,
                "items",
                f"must be a list, not {type_name(items)}",
                items,
            )
            return
        # Items of a `<Kind>List` may leave out their kind and apiVersion, as kubectl allows.
        item_kind = None if kind == "List" else kind[: -len("List")]
        item_api = None if kind == "List" else doc.data.get("apiVersion")
        for i, item in enumerate(items):
            if isinstance(item, LocatedMap):
                self.add_object(doc.path, item, item.line, item_kind, item_api)
            else:
                line = locate(doc.data, f"items[{i}]")
                source = Source(doc.path, line)
                self.problem(
                    source, kind, f"items[{i}]", f"must be a mapping, not {type_name(item)}"
                )

    def meta(
        self,
        data: LocatedMap,
        kind: str,
        namespaced: bool,
        source: Source,
        category: str,
    ) -> _Meta | None:
        """Who the object is; ``category`` is what its name must be unique among."""
        try:
            metadata = mapping(data.get("metadata"), "metadata")
            name = string(metadata.get("name"), "metadata.name")
            if not name:
                prefix = string(metadata.get("generateName"), "metadata.generateName")
                if not prefix:
                    raise FieldError("metadata.name", "is required (or metadata.generateName)")
                name = generated_name(prefix, canonical(data))
            namespace = None
            if namespaced:
                namespace = (
                    string(metadata.get("namespace"), "metadata.namespace")
                    or self.options.default_namespace
                )
        except FieldError as error:
            self.problem(source, kind, error.field, error.message, error.value)
            return None
        meta = _Meta(kind, namespace, name, source)
        key = (category, namespace or "", name)
        earlier = self.seen.get(key)
        if earlier is not None:
            self.diagnostics.append(
                Diagnostic(
                    Severity.WARNING,
                    f"defined again (first at {earlier.at()}); the later definition is used, "
                    "as kubectl apply would",
                    path=source.path,
                    line=source.line,
                    obj=meta.desc,
                    reason="Duplicate",
                )
            )
        self.seen[key] = source
        return meta

    def problem(
        self, source: Source, obj: str, field: str, message: str, value: object = None
    ) -> None:
        """An object that cannot be built: an error, or a warning when invalid objects are skipped."""
        severity = Severity.WARNING if self.options.skip_invalid else Severity.ERROR
        suffix = " (object skipped)" if self.options.skip_invalid else ""
        self.diagnostics.append(
            Diagnostic(
                severity,
                message + suffix,
                path=source.path,
                line=source.line_of(field),
                obj=obj,
                field=field,
                value=value if isinstance(value, str | int | float | bool) else None,
                reason="Invalid",
            )
        )

    def not_modelled(self, meta: _Meta, warnings: list[FieldWarning]) -> None:
        """What an object says that netpol cannot model: built anyway, and said so."""
        for warning in warnings:
            self.diagnostics.append(
                Diagnostic(
                    Severity.WARNING,
                    warning.message,
                    path=meta.source.path,
                    line=meta.source.line_of(warning.field),
                    obj=meta.desc,
                    field=warning.field,
                    value=warning.value,
                    reason="NotModelled",
                )
            )

    def add_namespace(self, data: LocatedMap, meta: _Meta) -> None:
        metadata = mapping(data.get("metadata"), "metadata")
        labels = string_map(metadata.get("labels"), "metadata.labels")
        self.namespaces[meta.name] = (labels, meta.source)

    def add_node(self, data: LocatedMap, meta: _Meta) -> None:
        metadata = mapping(data.get("metadata"), "metadata")
        spec = mapping(data.get("spec"), "spec")
        status = mapping(data.get("status"), "status")
        internal: list[str] = []
        other: list[str] = []
        for i, entry in enumerate(sequence(status.get("addresses"), "status.addresses")):
            entry = mapping(entry, f"status.addresses[{i}]")
            address = string(entry.get("address"), f"status.addresses[{i}].address")
            if address and address_int(address) is not None:
                kind = entry.get("type")
                (internal if kind == "InternalIP" else other).append(address)
        taints = sequence(spec.get("taints"), "spec.taints")
        blocked = spec.get("unschedulable") is True or any(
            isinstance(t, dict) and t.get("effect") in ("NoSchedule", "NoExecute") for t in taints
        )
        self.nodes[meta.name] = NodeSpec(
            meta.name,
            tuple(internal or other[:1]),
            string_map(metadata.get("labels"), "metadata.labels"),
            not blocked,
            meta.source,
        )

    def add_workload(self, data: LocatedMap, meta: _Meta) -> None:
        assert meta.namespace is not None
        spec = parse_workload(meta.kind, data, meta.namespace, meta.name, meta.source)
        self.workloads[spec.key] = spec

    def add_pod(self, data: LocatedMap, meta: _Meta) -> None:
        assert meta.namespace is not None
        pod = parse_pod(data, meta.namespace, meta.name, meta.source)
        for ip in pod.ips:
            if address_int(ip) is None:
                raise FieldError("status.podIP", "must be an IP address", ip)
        self.pods[(pod.namespace, pod.name)] = pod

    def add_service(self, data: LocatedMap, meta: _Meta) -> None:
        assert meta.namespace is not None
        service = parse_service(data, meta.namespace, meta.name, meta.source)
        self.services[(service.namespace, service.name)] = service

    def add_policy(self, data: LocatedMap, meta: _Meta) -> None:
        assert meta.namespace is not None
        policy = parse_policy(data, meta.namespace, meta.name, meta.source)
        self.policies[(policy.namespace, policy.name)] = policy

    def add_tiered_policy(self, policy: TieredPolicy) -> None:
        # no version in the key: crd.projectcalico.org/v1 is how projectcalico.org/v3 is
        # stored, so the two are one object
        self.tiered[(policy.kind, policy.namespace or "", policy.name)] = policy

    def add_tier(self, tier: Tier) -> None:
        self.tiers[tier.name] = tier

    def add_service_account(self, account: ServiceAccount) -> None:
        self.service_accounts[(account.namespace, account.name)] = account

    def add_cluster_dns(self) -> None:
        """KIND's CoreDNS and kube-dns Service, as far as the input lacks them (addons)."""
        found = ClusterDnsFound(
            namespace=DNS_NAMESPACE in self.namespaces,
            pods=any(runs_cluster_dns(w.namespace, w.labels) for w in self.workloads.values())
            or any(runs_cluster_dns(p.namespace, p.labels) for p in self.pods.values()),
            service=(DNS_NAMESPACE, DNS_SERVICE) in self.services,
        )
        docs, note = dns_addon(found, (s.cluster_ip or "" for s in self.services.values()))
        for doc in docs:
            self.add(doc)
        if note is not None:
            self.diagnostics.append(note)

    # -- putting it together -------------------------------------------------------------

    def finish(self) -> Cluster:
        nodes, pods, workloads = PodPlacement(
            self.options, self.pod_network, self.workloads, self.pods, self.nodes, self.diagnostics
        ).place()
        return Cluster(
            namespaces=self.make_namespaces(workloads),
            nodes=tuple(nodes.values()),
            workloads=tuple(sorted(workloads, key=lambda w: (w.namespace, w.name, w.kind))),
            pods=pods,
            services=self.make_services(),
            policies=tuple(self.policies[k] for k in sorted(self.policies)),
            tiered_policies=tuple(self.tiered[k] for k in sorted(self.tiered)),
            tiers=tuple(self.tiers[k] for k in sorted(self.tiers)),
            cilium_policies=tuple(self.cilium[k] for k in sorted(self.cilium)),
            service_endpoints=tuple(
                (namespace, name, ips) for (namespace, name), ips in sorted(self.endpoints.items())
            ),
            cidr_groups=tuple(self.cidr_groups[k] for k in sorted(self.cidr_groups)),
            service_accounts=tuple(self.service_accounts[k] for k in sorted(self.service_accounts)),
            diagnostics=tuple(self.diagnostics),
            skipped_kinds=tuple(sorted(self.skipped.items())),
            pod_cidr=self.options.pod_cidr,
            service_cidr=SERVICE_CIDR,
        )

    def make_namespaces(self, workloads: list[Workload]) -> tuple[Namespace, ...]:
        used = {w.namespace for w in workloads}
        used.update(ns for ns, _ in self.services)
        used.update(ns for ns, _ in self.policies)
        out = []
        for name in sorted(used | set(self.namespaces)):
            declared = self.namespaces.get(name)
            if declared is not None:
                labels, source = declared
                labels = {**labels, METADATA_NAME_LABEL: name}
                out.append(Namespace(name, labels, False, source))
                continue
            out.append(Namespace(name, {METADATA_NAME_LABEL: name}, True, GENERATED))
            user = self.first_user.get(name)
            # Every cluster has these, labelled just so: nothing is assumed, so only a note.
            builtin = name in BUILTIN_NAMESPACES
            self.diagnostics.append(
                Diagnostic(
                    Severity.INFO if builtin else Severity.WARNING,
                    f'namespace "{name}" is not declared in the input; '
                    + ("it exists in every cluster" if builtin else "assuming it exists")
                    + f" with only the label {METADATA_NAME_LABEL}={name}",
                    path=user.source.path if user else "",
                    line=user.source.line if user else 0,
                    obj=user.desc if user else "",
                    reason="ImplicitNamespace",
                )
            )
        return tuple(out)

    def make_services(self) -> tuple[Service, ...]:
        services = [self.services[k] for k in sorted(self.services)]
        allocator = service_allocator(s.cluster_ip for s in services if s.cluster_ip)
        out = []
        for service in services:
            if service.cluster_ip is None and service.type != "ExternalName":
                service = replace(service, cluster_ip=allocator.allocate(service.id))
            out.append(service)
        return tuple(out)


def _source(path: str, data: LocatedMap, line: int) -> Source:
    """Where the object ``data`` is: its own line (else ``line``), and its fields' lines."""
    return Source(path, data.line or line, locate=partial(locate, data))


def _service_account(builder: _Builder, data: LocatedMap, meta: _Meta) -> None:
    assert meta.namespace is not None
    from netpol.load.calico import parse_service_account  # only inputs that have any

    account = parse_service_account(data, meta.namespace, meta.name, meta.source)
    builder.add_service_account(account)


def _calico_tier(builder: _Builder, data: LocatedMap, meta: _Meta) -> None:
    from netpol.load.calico import parse_tier  # only inputs that have any

    builder.add_tier(parse_tier(data, meta.name, meta.source))


# Calico's API, and the CRDs it is stored in (the same spec)
CALICO_GROUPS = ("projectcalico.org", "crd.projectcalico.org")


def _cilium_policy(builder: _Builder, data: LocatedMap, meta: _Meta) -> None:
    from netpol.load.cilium import parse_cilium_policy  # only inputs that have any

    policy = parse_cilium_policy(data, meta.kind, meta.namespace, meta.name, meta.source)
    builder.cilium[(meta.kind, meta.namespace or "", meta.name)] = policy


def _endpoints(builder: _Builder, data: LocatedMap, meta: _Meta) -> None:
    assert meta.namespace is not None
    key = (meta.namespace, meta.name)
    builder.endpoints[key] = builder.endpoints.get(key, ()) + endpoints_addresses(data)


def _endpoint_slice(builder: _Builder, data: LocatedMap, meta: _Meta) -> None:
    assert meta.namespace is not None
    service, addresses = slice_service_and_addresses(data)
    if service:
        key = (meta.namespace, service)
        builder.endpoints[key] = builder.endpoints.get(key, ()) + addresses


def _cidr_group(builder: _Builder, data: LocatedMap, meta: _Meta) -> None:
    from netpol.load.cilium import parse_cidr_group  # only inputs that have any

    builder.cidr_groups[meta.name] = parse_cidr_group(data, meta.name, meta.source)


# (kind, API group) -> (namespaced, handler); a kind not listed is counted in
# Cluster.skipped_kinds. One name may live in several groups (NetworkPolicy in
# networking.k8s.io and in projectcalico.org).
KINDS: dict[tuple[str, str], tuple[bool, _Handler]] = {
    ("Namespace", ""): (False, _Builder.add_namespace),
    ("Node", ""): (False, _Builder.add_node),
    ("Pod", ""): (True, _Builder.add_pod),
    ("Service", ""): (True, _Builder.add_service),
    **{
        (kind, group): (True, _Builder.add_workload)
        for kind, groups in (
            ("Deployment", ("apps", "extensions")),
            ("ReplicaSet", ("apps", "extensions")),
            ("StatefulSet", ("apps",)),
            ("DaemonSet", ("apps", "extensions")),
            ("Job", ("batch",)),
            ("CronJob", ("batch",)),
        )
        for group in groups
    },
    ("NetworkPolicy", "networking.k8s.io"): (True, _Builder.add_policy),
    ("ServiceAccount", ""): (True, _service_account),
    **{("Tier", group): (False, _calico_tier) for group in CALICO_GROUPS},
    (CNP_KIND, CILIUM_GROUP): (True, _cilium_policy),
    (CCNP_KIND, CILIUM_GROUP): (False, _cilium_policy),
    (CIDR_GROUP_KIND, CILIUM_GROUP): (False, _cidr_group),
    ("Endpoints", ""): (True, _endpoints),
    ("EndpointSlice", "discovery.k8s.io"): (True, _endpoint_slice),
}


# parse(data, namespace, name, source, warnings) -> the policy; what it reads but cannot
# model it appends to ``warnings`` (the policy is still built, the user is told)
TieredParser = Callable[[LocatedMap, str | None, str, Source, list[FieldWarning]], TieredPolicy]


def tiered_handler(parse: TieredParser) -> _Handler:
    """A handler for a kind of tiered policy, from the function that parses its documents."""

    def handle(builder: _Builder, data: LocatedMap, meta: _Meta) -> None:
        warnings: list[FieldWarning] = []
        builder.add_tiered_policy(parse(data, meta.namespace, meta.name, meta.source, warnings))
        builder.not_modelled(meta, warnings)

    return handle


KINDS.update(
    {
        (kind, group): (
            namespaced,
            tiered_handler(_imported_on_use("netpol.load.calico", "parse_calico_policy")),
        )
        for kind, namespaced in (("NetworkPolicy", True), ("GlobalNetworkPolicy", False))
        for group in CALICO_GROUPS
    }
)


KINDS.update(
    {
        (kind, "policy.networking.k8s.io"): (
            False,
            tiered_handler(_imported_on_use("netpol.load.admin_policies", parse)),
        )
        for kind, parse in (
            ("AdminNetworkPolicy", "parse_admin_network_policy"),
            ("BaselineAdminNetworkPolicy", "parse_baseline_admin_network_policy"),
            ("ClusterNetworkPolicy", "parse_cluster_network_policy"),
        )
    }
)


def kind_entry(kind: str, api_version: object) -> tuple[bool, _Handler] | None:
    """How to read (kind, apiVersion); a missing apiVersion means the kind's first group."""
    if isinstance(api_version, str):
        return KINDS.get((kind, api_group(api_version)))
    return next((entry for (k, _), entry in KINDS.items() if k == kind), None)


def _reading(kind: str, api_version: object) -> tuple[bool, _Handler, str] | None:
    """``kind_entry`` and the category whose names the object shares (every workload kind
    is one, a Calico kind is not the upstream one), once per (kind, apiVersion) text."""
    key = (kind, api_version) if isinstance(api_version, str) else None
    found = _READINGS.get(key) if key is not None else None
    if found is not None:
        return found
    entry = kind_entry(kind, api_version)
    if entry is None:
        return None
    category = "Workload" if kind in WORKLOAD_KINDS else kind
    if api_group(api_version) in CALICO_GROUPS:
        category = f"{kind}.projectcalico.org"  # not networking.k8s.io's NetworkPolicy
    found = (*entry, category)
    if key is not None:
        _READINGS.keep(key, found)
    return found


# kinds and apiVersions a hostile input invents make it start over
_READINGS: BoundedCache[tuple[str, str], tuple[bool, _Handler, str]] = BoundedCache(1000)


def is_namespaced(kind: str, api_version: object) -> bool:
    """Whether objects of this kind live in a namespace (unknown kinds are taken as namespaced)."""
    entry = kind_entry(kind, api_version)
    return True if entry is None else entry[0]
