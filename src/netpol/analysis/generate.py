"""Least-privilege NetworkPolicies (or CiliumNetworkPolicies, ``analysis.generate_cilium``)
from intended flows, checked by the engine before use.

Every workload named by a ``workload`` or ``service`` end gets one policy that isolates
it in both directions and allows exactly its flows (plus DNS when it has egress rules).
Other pods keep the policies they would have without us (none), unless
``--default-deny`` locks their namespaces. The result is proved, not trusted: the YAML is
loaded back through the validator and the engine's matrix of the cluster under the new
policies must equal the relation the flows describe, pair by pair (docs/generate.md).
"""

from __future__ import annotations

import ipaddress
import itertools
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from netpol.analysis.flows import Flow, FlowEnd, FlowsFile, PortSpec
from netpol.analysis.generate_cilium import render_cilium_yaml
from netpol.analysis.generate_yaml import PolicyPlan, RulePlan, render_yaml
from netpol.engine.cilium import identity_label_kept
from netpol.engine.classes import EndpointClass
from netpol.engine.compile import compile_cluster
from netpol.engine.endpoints import EXTERNAL, POD
from netpol.engine.ipspace import address_of_text
from netpol.engine.masks import MaskTable
from netpol.engine.matrix import ClassMatrix, class_matrix
from netpol.engine.names import AmbiguousName, Names, ResolveError, did_you_mean
from netpol.engine.ports import ConnectionSet
from netpol.engine.selectors import matches
from netpol.load.services import Backend, BackendIndex, target_port
from netpol.load.yamldoc import parse_text
from netpol.model.cidr import parse_cidr_sloppy
from netpol.model.cilium import CiliumPolicy
from netpol.model.cluster import Cluster
from netpol.model.objects import METADATA_NAME_LABEL, Pod, Service, ServicePort, Workload
from netpol.model.options import PROFILES, Options
from netpol.model.policy import IPBlock, NetworkPolicy, Peer, PolicyPort
from netpol.model.progress import SILENT, Progress
from netpol.model.selectors import LabelSelector, Requirement
from netpol.validate.pipeline import check_and_build

DNS_MODES = ("none", "cluster", "auto")
NETWORK_POLICY, CILIUM = "networkpolicy", "cilium"
KINDS = (NETWORK_POLICY, CILIUM)
DNS_NAMESPACE = "kube-system"
DNS_LABELS = (("k8s-app", "kube-dns"),)
DNS_SERVICE = "kube-system/kube-dns"
MAX_DIFFERENCES = 8


class FlowResolveError(ValueError):
    """A flow names something the input does not have (bad input: exit 2)."""


class GenerateError(ValueError):
    """The flows cannot be expressed exactly, or the check found a difference (exit 1)."""


@dataclass(frozen=True, slots=True)
class GenerateSettings:
    default_deny: bool = False
    dns: str = "auto"  # one of DNS_MODES
    numeric_ports: bool = False
    kind: str = NETWORK_POLICY  # one of KINDS: what the policies are written as


@dataclass(frozen=True)
class GenerateResult:
    yaml: str
    policies: tuple[NetworkPolicy, ...] | tuple[CiliumPolicy, ...]  # as settings.kind asks
    cluster: Cluster  # the input cluster under the generated policies
    flows: tuple[Flow, ...]  # the user's flows plus the DNS flows added
    notes: tuple[str, ...] = ()


def generate(
    cluster: Cluster,
    flows: FlowsFile,
    options: Options,
    settings: GenerateSettings,
    progress: Progress = SILENT,
) -> GenerateResult:
    """Policies for ``flows``, proved by the engine to allow exactly them (plus DNS).

    CiliumNetworkPolicies, and any policies next to Cilium's own, are proved under the
    cilium profile, as Cilium enforces them (the engine picks it for such input too).
    """
    cilium = settings.kind == CILIUM
    options = _checking_options(cluster, options, settings)
    planner = _Planner(cluster, options, settings)
    progress.phase(f"planning the policies of {len(flows.flows):,} flows")
    plans, all_flows, notes = planner.plan(flows.flows)
    text = (render_cilium_yaml if cilium else render_yaml)(plans, flows.path)
    docs, problems = parse_text(text, "<generated>")
    loaded = check_and_build(docs, problems, options)
    if not loaded.ok:
        raise GenerateError(
            "the generated YAML does not validate (a bug): "
            + "; ".join(d.one_line() for d in loaded.errors[:3])
        )
    policies: tuple[NetworkPolicy, ...] | tuple[CiliumPolicy, ...]
    if cilium:
        # the generated CNPs replace the input's NetworkPolicies and CNPs; CCNPs stay
        policies = loaded.cluster.cilium_policies
        wide = tuple(p for p in cluster.cilium_policies if p.namespace is None)
        result_cluster = replace(cluster, policies=(), cilium_policies=wide + policies)
    else:
        policies = loaded.cluster.policies
        result_cluster = cluster.with_policies(policies)
    differences = planner.check(result_cluster, all_flows, progress)
    if differences:
        shown = "\n  ".join(differences[:MAX_DIFFERENCES])
        more = len(differences) - MAX_DIFFERENCES
        tail = f"\n  ... and {more} more" if more > 0 else ""
        raise GenerateError(
            "the generated policies would not give exactly the flows"
            f"{_kept_note(result_cluster, policies)} "
            "(nothing written):\n  " + shown + tail
        )
    return GenerateResult(text, policies, result_cluster, tuple(all_flows), tuple(notes))


def _kept_note(cluster: Cluster, generated: tuple[object, ...]) -> str:
    """The input's policies that decide beside the ``generated`` ones, if any."""
    kept = []
    if cluster.tiered_policies:
        kept.append(
            f"{len(cluster.tiered_policies)} admin, baseline or Calico policies (they decide "
            "before or after the NetworkPolicies; see docs/tiers.md)"
        )
    cilium = len([p for p in cluster.cilium_policies if p not in generated])
    if cilium:
        kept.append(
            f"{cilium} Cilium polic{'y' if cilium == 1 else 'ies'} (a Cilium deny beats every "
            "allow, and their allows add to the generated ones; see docs/cilium.md)"
        )
    return f" under the input's {' and '.join(kept)}" if kept else ""


def differences(
    cluster: Cluster, flows: FlowsFile, options: Options, settings: GenerateSettings
) -> list[str]:
    """Pairs where ``cluster``'s own policies differ from what ``generate`` promises for ``flows``.

    The same check ``generate`` runs on its output, usable on any policy set (tests, audits).
    """
    planner = _Planner(cluster, _checking_options(cluster, options, settings), settings)
    _, all_flows, _ = planner.plan(flows.flows)
    return planner.check(cluster, all_flows)


def _checking_options(cluster: Cluster, options: Options, settings: GenerateSettings) -> Options:
    """``options`` under the cilium profile when Cilium policies are written or present,
    as the engine evaluates them (``engine.compile``): plan and check must agree."""
    if (settings.kind == CILIUM or cluster.cilium_policies) and not options.profile.cilium_identity:
        return replace(options, profile=PROFILES[CILIUM])
    return options


# --- planning -----------------------------------------------------------------------------


# The check compares at once the pairs of a row where the flows expect nothing (or, from an
# unrestricted source, everything); with this off every pair is worked out one by one (the
# tests hold the two equal)
ROWS_AT_ONCE = True


class _Planner:
    def __init__(self, cluster: Cluster, options: Options, settings: GenerateSettings) -> None:
        if settings.dns not in DNS_MODES:
            raise ValueError(f"dns must be one of {', '.join(DNS_MODES)}")
        if settings.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        self.cluster = cluster
        self.options = options
        self.settings = settings
        self.pods_of: dict[str, list[Pod]] = {}
        for pod in cluster.pods:
            key = pod.workload_id
            self.pods_of.setdefault(key, []).append(pod)
        # the label sets of each namespace (workloads' templates, then pods), each mapping
        # once per owner (replicas share theirs): what a workload's selector must not
        # match, asked for every workload a flow names
        self._labels_in: dict[str, dict[tuple[int, str], Mapping[str, str]]] = {}
        for w in cluster.workloads:
            self._labels_in.setdefault(w.namespace, {})[(id(w.pod_labels), w.id)] = w.pod_labels
        for pod in cluster.pods:
            owner = pod.workload.id if pod.workload is not None else ""
            self._labels_in.setdefault(pod.namespace, {})[(id(pod.labels), owner)] = pod.labels
        self._backends: BackendIndex | None = None
        # workloads of each (namespace, name): a Deployment and a StatefulSet may share one
        self._same_name = Counter((w.namespace, w.name) for w in cluster.workloads)
        self._selectors: dict[str, LabelSelector] = {}
        self._member_cache: dict[FlowEnd, frozenset[str]] = {}
        self._externals: list[IPBlock] = []
        self._match_cache: dict[tuple[FlowEnd, int], bool] = {}
        self._service_cache: dict[tuple[int, int], ConnectionSet] = {}
        self.restricted: set[str] = set()
        self.default_deny_namespaces: list[str] = []
        self._names: Names | None = None

    # ends -> workloads ----------------------------------------------------------------
    def workload(self, end: FlowEnd) -> Workload:
        found = self.cluster.workload_by_id.get(end.id)
        if found is None and not end.workload_kind:
            found = self._workload_named(end)
        if found is None or (end.workload_kind and found.kind != end.workload_kind):
            kind = end.workload_kind or "workload"
            known = sorted(w.name for w in self.cluster.workloads if w.namespace == end.namespace)
            listing = ", ".join(known[:10]) or "none"
            hint = did_you_mean(end.id.partition("/")[2], known)
            raise FlowResolveError(
                f"no {kind} {end.id} in the input"
                + (hint or f" (workloads in {end.namespace}: {listing})")
            )
        return found

    def _workload_named(self, end: FlowEnd) -> Workload | None:
        """The workload a short name stands for, as every verb reads it (``engine.names``):
        the pod of that name's workload, or the only workload the name begins."""
        if self._names is None:
            self._names = Names(self.cluster.pods)
        try:
            meaning = self._names.lookup(end.namespace, end.name, end.id, services=False)
        except AmbiguousName as exc:
            raise FlowResolveError(str(exc)) from None
        except ResolveError:
            return None  # the caller says what is missing, with the near names
        return self.cluster.workload_by_id.get(meaning.pods[0].workload_id)

    def service(self, end: FlowEnd) -> Service:
        found = self.cluster.service_by_id.get(end.id)
        if found is None:
            here = [s.name for s in self.cluster.services if s.namespace == end.namespace]
            hint = did_you_mean(end.id.partition("/")[2], here)
            raise FlowResolveError(f"no Service {end.id} in the input{hint}")
        return found

    def workloads(self, end: FlowEnd) -> list[Workload]:
        """The workloads an end stands for (none for external and CIDR ends)."""
        if end.kind == "workload":
            return [self.workload(end)]
        if end.kind == "service":
            service = self.service(end)
            ids = dict.fromkeys(b.pod.workload.id for b in self.backends(service) if b.pod.workload)
            if not ids:
                raise GenerateError(
                    f"Service {service.id} selects no pod of the input: no workload to allow"
                )
            return [self.cluster.workload_by_id[i] for i in ids if i in self.cluster.workload_by_id]
        if end.kind in ("namespace", "labels"):
            if end.namespace is not None and end.namespace not in self.cluster.namespace_by_name:
                hint = did_you_mean(end.namespace, self.cluster.namespace_by_name)
                raise FlowResolveError(
                    f"{end.text()}: no namespace {end.namespace!r} in the input{hint}"
                )
            selector = LabelSelector(match_labels=end.labels)
            return [
                w
                for w in self.cluster.workloads
                if (end.namespace is None or w.namespace == end.namespace)
                and matches(selector, w.pod_labels)
            ]
        return []

    def backends(self, service: Service) -> list[Backend]:
        """``service_backends``, through a label index built once."""
        if self._backends is None:
            self._backends = BackendIndex(self.cluster)
        return self._backends.backends(service)

    # selectors --------------------------------------------------------------------------
    def selector_of(self, workload: Workload) -> LabelSelector:
        """The smallest label set of the pod template that selects exactly ``workload``."""
        found = self._selectors.get(workload.id)
        if found is None:
            found = self._smallest_selector(workload)
            self._selectors[workload.id] = found
        return found

    def _smallest_selector(self, workload: Workload) -> LabelSelector:
        if workload.host_network:
            why = (
                "a CiliumNetworkPolicy cannot select or isolate it (it has its node's "
                "identity, host or remote-node: docs/cilium.md)"
                if self.settings.kind == CILIUM
                else "NetworkPolicy cannot select or isolate it (its traffic is node traffic, "
                "spec 2.6)"
            )
            raise GenerateError(f"{workload.id} runs with hostNetwork: {why}")
        labels = dict(workload.pod_labels)
        dropped = ""
        if self.options.profile.cilium_identity:
            # Cilium matches selectors, NetworkPolicies' too, against identity labels,
            # which leave some keys out (docs/cilium.md): a selector on one matches nothing
            gone = sorted(k for k in labels if not identity_label_kept(k))
            labels = {k: v for k, v in labels.items() if k not in gone}
            dropped = f" (Cilium leaves {', '.join(gone)} out of identities)" if gone else ""
        if not labels:
            raise GenerateError(
                f"{workload.id} has no pod labels{dropped}: no selector can single it out "
                "(add a label to its pod template)"
            )
        mine = self.pods_of.get(workload.id, [])
        others = [
            found
            for (_, owner), found in self._labels_in.get(workload.namespace, {}).items()
            if owner != workload.id
        ]
        keys = sorted(labels)
        for size in range(1, len(keys) + 1):
            for combo in itertools.combinations(keys, size):
                selector = LabelSelector(match_labels=tuple((k, labels[k]) for k in combo))
                if not any(matches(selector, o) for o in others):
                    return selector
        # The template's labels are a subset of another's: exclude it by its extra keys.
        full = LabelSelector(match_labels=tuple(sorted(labels.items())))
        absent: list[str] = []
        for other in others:
            selector = _with_absent(full, absent)
            if not matches(selector, other):
                continue
            extra = sorted(k for k in other if k not in labels)
            usable = [
                k
                for k in extra
                if not any(k in p.labels for p in mine)
                and (not self.options.profile.cilium_identity or identity_label_kept(k))
            ]
            if not usable:
                raise GenerateError(
                    f"no label selector singles out {workload.id}: another workload or pod in "
                    f"{workload.namespace} carries the same pod labels "
                    f"({_labels_text(labels)}){dropped}; give its pod template a "
                    "distinguishing label"
                )
            absent.append(usable[0])
        return _with_absent(full, absent)

    def peer_for_workload(self, workload: Workload, policy_namespace: str) -> Peer:
        selector = self.selector_of(workload)
        if workload.namespace == policy_namespace:
            return Peer(pod_selector=selector)
        return Peer(
            pod_selector=selector, namespace_selector=_namespace_selector(workload.namespace)
        )

    def peers_for(self, end: FlowEnd, policy_namespace: str) -> list[Peer]:
        """Peers for an end that is not resolved workload by workload."""
        if end.kind == "external":
            return [Peer(ip_block=b) for b in self.external_blocks()]
        if end.kind == "cidr":
            return [Peer(ip_block=_block(c)) for c in end.cidrs]
        pods = LabelSelector(match_labels=end.labels)
        if end.namespace is None:
            return [Peer(pod_selector=pods, namespace_selector=LabelSelector())]
        if end.namespace == policy_namespace:
            return [Peer(pod_selector=pods)]
        return [Peer(pod_selector=pods, namespace_selector=_namespace_selector(end.namespace))]

    def external_blocks(self) -> list[IPBlock]:
        """Everything outside the pods: 0.0.0.0/0 (and ::/0 on IPv6 clusters) minus pod ranges."""
        # (family, integer) of each address: 100,000 ipaddress objects, sorted through their
        # Python-level comparisons, cost 3 s at 100k pods
        addresses = {address_of_text(ip) for p in self.cluster.pods for ip in p.ips}
        families = sorted({family for family, _ in addresses} or {4})
        pod_net = parse_cidr_sloppy(self.cluster.pod_cidr)
        blocks = []
        for family in families:
            everything = "0.0.0.0/0" if family == 4 else "::/0"
            excepts: list[str] = []
            inside = range(0)
            if pod_net is not None and pod_net.version == family:
                excepts.append(str(pod_net))
                inside = range(int(pod_net.network_address), int(pod_net.broadcast_address) + 1)
            address = ipaddress.IPv4Address if family == 4 else ipaddress.IPv6Address
            for _, value in sorted(a for a in addresses if a[0] == family):
                if value not in inside:
                    excepts.append(f"{address(value)}/{32 if family == 4 else 128}")
            blocks.append(_block(everything, excepts))
        return blocks

    # ports ------------------------------------------------------------------------------
    def ports_for(
        self, flow: Flow, workload: Workload | None, numeric: bool = False
    ) -> tuple[PolicyPort, ...] | None:
        """Policy ports for the flow towards ``workload`` (None: the flow never reaches it).

        Service ports become the backend's target ports; a port the container names is
        written by name unless numeric ports were asked for (``numeric`` or the settings).
        () means every connection.
        """
        numeric = numeric or self.settings.numeric_ports
        if flow.dst.kind == "service":
            return self._service_ports(flow, self.service(flow.dst), workload, numeric)
        if not flow.ports:
            return ()
        return tuple(self._policy_port(spec, workload, numeric) for spec in flow.ports)

    def _policy_port(self, spec: PortSpec, workload: Workload | None, numeric: bool) -> PolicyPort:
        if spec.lo is None:
            return PolicyPort(spec.protocol)
        if not spec.single:
            return PolicyPort(spec.protocol, spec.lo, spec.hi)
        return self._named_or_number(spec.protocol, spec.lo, None if numeric else workload)

    def _named_or_number(self, protocol: str, port: int, workload: Workload | None) -> PolicyPort:
        """The container's name for ``port`` when it has exactly one (None: the number)."""
        if workload is not None:
            names = {
                p.name
                for c in workload.containers
                for p in c.ports
                if p.port == port and p.protocol == protocol and p.name
            }
            if len(names) == 1:
                (name,) = names
                numbers = {
                    p.port
                    for c in workload.containers
                    for p in c.ports
                    if p.name == name and p.protocol == protocol
                }
                if numbers == {port}:
                    return PolicyPort(protocol, name)
        return PolicyPort(protocol, port)

    def _service_ports(
        self, flow: Flow, service: Service, workload: Workload | None, numeric: bool
    ) -> tuple[PolicyPort, ...] | None:
        chosen: list[ServicePort] = []
        if not flow.ports:
            chosen = list(service.ports)
        for spec in flow.ports:
            found = [
                sp
                for sp in service.ports
                if sp.protocol == spec.protocol
                and (spec.lo is None or (spec.lo <= sp.port <= (spec.hi or spec.lo)))
            ]
            if not found:
                listing = ", ".join(f"{p.port}/{p.protocol}" for p in service.ports) or "none"
                raise FlowResolveError(
                    f"{flow.label()}: Service {service.id} has no port {spec.text()} "
                    f"(its ports: {listing})"
                )
            chosen += found
        pods = self.pods_of.get(workload.id, []) if workload is not None else []
        out: list[PolicyPort] = []
        for sp in dict.fromkeys(chosen):
            if isinstance(sp.target, int):
                named_from = None if numeric else workload
                out.append(self._named_or_number(sp.protocol, sp.target, named_from))
                continue
            numbers = {n for n in (target_port(p, sp) for p in pods) if n is not None}
            if not numbers and workload is not None:
                numbers = {
                    p.port
                    for c in workload.containers
                    for p in c.ports
                    if p.name == sp.target and p.protocol == sp.protocol
                }
            if not numbers:
                continue  # kube-proxy sends nothing to this backend on that port
            if numeric:
                out += [PolicyPort(sp.protocol, n) for n in sorted(numbers)]
            else:
                out.append(PolicyPort(sp.protocol, sp.target))
        return tuple(dict.fromkeys(out)) or None

    # flows -> plans -------------------------------------------------------------------
    def plan(self, flows: Iterable[Flow]) -> tuple[list[PolicyPlan], list[Flow], list[str]]:
        user_flows = list(flows)
        notes: list[str] = []
        named: dict[str, Workload] = {}
        for flow in user_flows:
            for end in (flow.src, flow.dst):
                if end.kind in ("workload", "service"):
                    for w in self.workloads(end):
                        named[w.id] = w
        for flow in user_flows:  # resolve every end now, so unknown names fail first
            self.workloads(flow.src)
            self.workloads(flow.dst)
        self.restricted = set(named)
        if self.settings.default_deny:
            self.default_deny_namespaces = sorted({w.namespace for w in named.values()})
            self.restricted |= {
                w.id for w in self.cluster.workloads if w.namespace in self.default_deny_namespaces
            }
        plans: dict[str, PolicyPlan] = {}
        for flow in user_flows:
            self._add_flow(flow, plans)
        dns_flows = self._dns_flows([p for p in plans.values() if p.egress])
        for flow in dns_flows:
            self._add_flow(flow, plans, dns=True)
        for wid, w in sorted(named.items()):
            if wid not in plans:
                plans[wid] = self._new_plan(w)
        for flow in user_flows:
            ends = self.workloads(flow.src) + self.workloads(flow.dst)
            if not any(w.id in self.restricted for w in ends):
                notes.append(
                    f"{flow.label()}: {flow.text()}: neither end is restricted by a generated "
                    "policy, so nothing needs writing for it"
                )
        ordered = [
            PolicyPlan(
                ns,
                "default-deny",
                LabelSelector(),
                f"Default deny for {ns}: every pod isolated in both directions; "
                "the policies below allow the flows.",
            )
            for ns in self.default_deny_namespaces
        ]
        ordered += sorted(plans.values(), key=lambda p: (p.namespace, p.name))
        return ordered, user_flows + dns_flows, notes

    def _new_plan(self, workload: Workload) -> PolicyPlan:
        return PolicyPlan(
            workload.namespace,
            self._policy_name(workload),
            self.selector_of(workload),
            f"Least privilege for {workload.kind} {workload.id}: isolated in both directions, "
            "allowing only the flows below.",
            workload=workload.id,
        )

    def _policy_name(self, workload: Workload) -> str:
        alone = self._same_name[workload.namespace, workload.name] == 1
        base = workload.name if alone else f"{workload.name}-{workload.kind.lower()}"
        return f"{base[:246]}-policy"

    def _plan(self, workload: Workload, plans: dict[str, PolicyPlan]) -> PolicyPlan:
        found = plans.get(workload.id)
        if found is None:
            found = self._new_plan(workload)
            plans[workload.id] = found
        return found

    def _add_flow(self, flow: Flow, plans: dict[str, PolicyPlan], dns: bool = False) -> None:
        """The rules ``flow`` needs: egress on restricted sources, ingress on restricted
        targets. The egress rule of a ``dns`` flow becomes a Cilium ``dns`` L7 rule, whose
        ports are written as numbers (the DNS proxy listens on numbers)."""
        comment = f"{flow.label()}: {flow.text()}"
        numeric = dns and self.settings.kind == CILIUM
        sources = self.workloads(flow.src)
        targets = self.workloads(flow.dst)
        by_workload = flow.dst.kind in ("workload", "service")
        for w in sources:
            if w.id not in self.restricted:
                continue
            plan = self._plan(w, plans)
            if by_workload:
                grouped: dict[tuple[PolicyPort, ...], list[Peer]] = {}
                for d in targets:
                    ports = self.ports_for(flow, d, numeric)
                    if ports is None:
                        continue
                    grouped.setdefault(ports, []).append(self.peer_for_workload(d, w.namespace))
                for ports, peers in grouped.items():
                    unique = tuple(dict.fromkeys(peers))
                    plan.egress.append(RulePlan(unique, ports, comment, dns))
            else:
                ports = self.ports_for(flow, None)
                if ports is not None:
                    peers = self.peers_for(flow.dst, w.namespace)
                    plan.egress.append(RulePlan(tuple(peers), ports, comment, dns))
        for d in targets:
            if d.id not in self.restricted:
                continue
            ports = self.ports_for(flow, d if by_workload else None)
            if ports is None:
                continue
            plan = self._plan(d, plans)
            if flow.src.kind in ("workload", "service"):
                peers = [self.peer_for_workload(s, d.namespace) for s in sources]
            else:
                peers = self.peers_for(flow.src, d.namespace)
            plan.ingress.append(RulePlan(tuple(dict.fromkeys(peers)), ports, comment))

    def _dns_flows(self, with_egress: list[PolicyPlan]) -> list[Flow]:
        if self.settings.dns == "none" or not with_egress:
            return []
        ports: tuple[PortSpec, ...] = (PortSpec("UDP", 53, 53), PortSpec("TCP", 53, 53))
        dst = FlowEnd("labels", DNS_NAMESPACE, labels=DNS_LABELS)
        service = self.cluster.service_by_id.get(DNS_SERVICE)
        if self.settings.dns == "auto" and service is not None and self.backends(service):
            ns, _, name = DNS_SERVICE.partition("/")
            dst = FlowEnd("service", ns, name)
            available = {(p.protocol, p.port) for p in service.ports}
            ports = tuple(p for p in ports if (p.protocol, p.lo) in available) or ports
        flows = []
        for plan in sorted(with_egress, key=lambda p: p.workload):
            ns, _, name = plan.workload.partition("/")
            flows.append(
                Flow(0, FlowEnd("workload", ns, name), dst, ports, "DNS to the cluster DNS")
            )
        return flows

    # the check ----------------------------------------------------------------------------
    def check(self, cluster: Cluster, flows: list[Flow], progress: Progress = SILENT) -> list[str]:
        """Every pair where the engine's verdict under the new policies differs from the flows."""
        cc = compile_cluster(cluster, self.options)
        matrix = class_matrix(cc, include_external=True, progress=progress)
        progress.phase(
            f"checking the flows against the matrix of {len(matrix.partition):,} classes"
        )
        units = _units(matrix)
        self._externals = self.external_blocks()
        self._match_cache = {}
        by_source: dict[str, _FlowIndex] = {}
        by_target: dict[str, _FlowIndex] = {}
        for flow in flows:
            for wid in self._members(flow.src):
                by_source.setdefault(wid, _FlowIndex()).add(flow, flow.dst, self._members(flow.dst))
            for wid in self._members(flow.dst):
                by_target.setdefault(wid, _FlowIndex()).add(flow, flow.src, self._members(flow.src))
        # every pair of units is checked, but a restricted source with no flow towards a
        # unit's workload expects nothing there: those pairs are compared as a whole row
        # (mask id 0 is "nothing"), and only the others are worked out one by one
        columns = np.array([v.cls.index for v in units], dtype=np.intp)
        by_workload: dict[str, list[int]] = {}
        for j, v in enumerate(units):
            by_workload.setdefault(v.workload, []).append(j)
        # an unrestricted source expects everything towards an unrestricted unit and nothing
        # towards a restricted one, but for what a flow into it from the source allows: the
        # pairs no such flow names are compared as a whole row too
        free_row = np.array(
            [
                MaskTable.NOTHING if v.workload in self.restricted else MaskTable.EVERYTHING
                for v in units
            ],
            dtype=matrix.ids.dtype,
        )
        targets_of: dict[str, set[str]] = {}  # source workload -> restricted targets it flows to
        open_targets: set[str] = set()  # restricted targets with flows from non-workload ends
        for target, into in by_target.items():
            if target not in self.restricted:
                continue
            if into.others:
                open_targets.add(target)
            for source in into.by_workload:
                targets_of.setdefault(source, set()).add(target)
        differences = []
        for u in units:
            row = matrix.ids[u.cls.index, columns]
            out = by_source.get(u.workload)
            if not ROWS_AT_ONCE:
                order = list(range(len(units)))
            elif u.workload in self.restricted and (out is None or not out.others):
                worked = sorted(
                    j for w in (out.by_workload if out else ()) for j in by_workload.get(w, ())
                )
                nothing = np.ones(len(units), dtype=bool)
                nothing[worked] = False
                flagged = np.flatnonzero(nothing & (row != MaskTable.NOTHING)).tolist()
                order = sorted([*worked, *flagged])
            elif u.workload not in self.restricted:
                targets = targets_of.get(u.workload, set()) | open_targets
                worked = sorted(j for w in targets for j in by_workload.get(w, ()))
                differs = row != free_row
                differs[worked] = False
                order = sorted([*worked, *np.flatnonzero(differs).tolist()])
            else:
                order = list(range(len(units)))
            for j in order:
                v = units[j]
                if u.pod is None and v.pod is None:
                    continue
                if u is v and u.count < 2:
                    continue
                expected = self._expected(u, v, by_source, by_target)
                actual = matrix.connections(u.cls.index, v.cls.index)
                if expected != actual:
                    differences.append(
                        f"{u.name} -> {v.name}: the flows allow {expected.text()}, "
                        f"the generated policies {actual.text()}"
                    )
        return differences

    def _members(self, end: FlowEnd) -> frozenset[str]:
        found = self._member_cache.get(end)
        if found is None:
            found = frozenset(w.id for w in self.workloads(end))
            self._member_cache[end] = found
        return found

    def _expected(
        self,
        u: _Unit,
        v: _Unit,
        by_source: dict[str, _FlowIndex],
        by_target: dict[str, _FlowIndex],
    ) -> ConnectionSet:
        empty = _FlowIndex()
        if u.workload in self.restricted:
            out = by_source.get(u.workload, empty)
            egress = ConnectionSet.union_of(
                self._flow_connections(f, v)
                for f in out.candidates(v.workload)
                if self._matches(f.dst, v)
            )
        else:
            egress = ConnectionSet.all()
        if egress.is_empty:
            return egress
        if v.workload in self.restricted:
            into = by_target.get(v.workload, empty)
            ingress = ConnectionSet.union_of(
                self._flow_connections(f, v)
                for f in into.candidates(u.workload)
                if self._matches(f.src, u)
            )
        else:
            ingress = ConnectionSet.all()
        return egress & ingress

    def _flow_connections(self, flow: Flow, v: _Unit) -> ConnectionSet:
        """What the flow allows towards ``v`` (Service ports as v's target ports)."""
        if flow.dst.kind != "service":
            return flow.connections()
        if v.pod is None:
            return ConnectionSet.none()
        key = (id(flow), id(v))
        found = self._service_cache.get(key)
        if found is None:
            found = self._service_connections(flow, v.pod)
            self._service_cache[key] = found
        return found

    def _service_connections(self, flow: Flow, pod: Pod) -> ConnectionSet:
        service = self.service(flow.dst)
        chosen = [
            sp
            for sp in service.ports
            if not flow.ports
            or any(
                sp.protocol == s.protocol and (s.lo is None or s.lo <= sp.port <= (s.hi or s.lo))
                for s in flow.ports
            )
        ]
        numbers = [(sp.protocol, target_port(pod, sp)) for sp in chosen]
        return ConnectionSet.union_of(ConnectionSet.of(p, n) for p, n in numbers if n is not None)

    def _matches(self, end: FlowEnd, unit: _Unit) -> bool:
        """Whether the peer written for ``end`` is meant to match ``unit``."""
        key = (end, id(unit))
        found = self._match_cache.get(key)
        if found is None:
            found = self._match(end, unit, self._externals)
            self._match_cache[key] = found
        return found

    def _match(self, end: FlowEnd, unit: _Unit, externals: list[IPBlock]) -> bool:
        if unit.pod is None:
            ip = unit.cls.representative.ip
            if ip is None:
                return False
            if end.kind == "external":
                return any(b.contains(ip) for b in externals)
            if end.kind == "cidr":
                return any(_block(c).contains(ip) for c in end.cidrs)
            return False
        if end.kind in ("workload", "service"):
            return unit.workload in self._members(end)
        if end.kind in ("namespace", "labels"):
            pod = unit.pod
            return (end.namespace is None or pod.namespace == end.namespace) and matches(
                LabelSelector(match_labels=end.labels), pod.labels
            )
        if end.kind == "cidr" and self.options.profile.ipblock_matches_pod_ips:
            ips = [ipaddress.ip_address(ip) for ip in unit.pod.ips]
            return any(_block(c).contains(ip) for c in end.cidrs for ip in ips)
        return False


@dataclass
class _FlowIndex:
    """Flows of one workload, by the workload at the other end (other ends kept apart)."""

    by_workload: dict[str, list[Flow]] = field(default_factory=dict)
    others: list[Flow] = field(default_factory=list)

    def add(self, flow: Flow, other_end: FlowEnd, members: frozenset[str]) -> None:
        if other_end.kind in ("workload", "service"):
            for wid in members:
                self.by_workload.setdefault(wid, []).append(flow)
        else:
            self.others.append(flow)

    def candidates(self, workload: str) -> list[Flow]:
        """Flows whose other end may match ``workload`` ("" for an external block)."""
        return self.by_workload.get(workload, []) + self.others


@dataclass(eq=False)
class _Unit:
    """Pods of one workload in one class (or one external block): alike for flows and engine."""

    cls: EndpointClass
    workload: str
    name: str
    pod: Pod | None
    count: int


def _units(matrix: ClassMatrix) -> list[_Unit]:
    units: dict[tuple[str, int], _Unit] = {}
    out: list[_Unit] = []
    for cls in matrix.classes:
        if cls.kind == EXTERNAL:
            out.append(_Unit(cls, "", cls.id, None, 1))
            continue
        if cls.kind != POD:
            continue  # nodes: flows name pods and IPs; node traffic is out of their scope
        for pod in cls.pods:
            wid = pod.workload_id
            key = (wid, cls.index)
            unit = units.get(key)
            if unit is None:
                unit = _Unit(cls, wid, wid, pod, 0)
                units[key] = unit
            unit.count += 1
    return sorted(units.values(), key=lambda u: u.name) + out


def _with_absent(selector: LabelSelector, keys: list[str]) -> LabelSelector:
    return LabelSelector(
        match_labels=selector.match_labels,
        match_expressions=tuple(Requirement(k, "DoesNotExist") for k in keys),
    )


def _namespace_selector(namespace: str) -> LabelSelector:
    return LabelSelector(match_labels=((METADATA_NAME_LABEL, namespace),))


def _block(cidr: str, excepts: Iterable[str] = ()) -> IPBlock:
    network = parse_cidr_sloppy(cidr)
    if network is None:
        raise FlowResolveError(f"{cidr!r} is not a CIDR")
    except_ = tuple(excepts)
    nets = tuple(n for n in (parse_cidr_sloppy(e) for e in except_) if n is not None)
    return IPBlock(cidr, network, except_, nets)


def _labels_text(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


__all__ = [
    "CILIUM",
    "DNS_MODES",
    "KINDS",
    "NETWORK_POLICY",
    "FlowResolveError",
    "GenerateError",
    "GenerateResult",
    "GenerateSettings",
    "differences",
    "generate",
    "render_yaml",
]
