"""What a lab is made of: its objects loaded into a Cluster, and everything derived from it.

A ``LabView`` is computed without touching the kernel (the demo's engine-only story uses it
as is): the cluster through the loader every verb uses, the engine's compiled policies, the
pods the lab runs (IPv4, not hostNetwork), the Service routes, the DNS records and what
answers on each pod port.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.lab import dns
from netpol.lab.documents import (
    StoredObject,
    objects_of,
    objects_of_data,
    raw_documents,
)
from netpol.lab.names import OUTSIDE_IP, RESERVED_IPS
from netpol.lab.nftables import LabPod
from netpol.lab.probe import (
    ProbeEndpoint,
    ProbeReport,
    outside_probe_endpoint,
    pod_probe_endpoint,
    predict_only,
)
from netpol.lab.services import ServiceRoute, service_routes
from netpol.lab.state import LabState
from netpol.lab.system import LabError
from netpol.lab.truth import short_labels
from netpol.lab.workloads import PodWork, plan_pod
from netpol.load.paths import read_paths
from netpol.model.cluster import Cluster
from netpol.model.diagnostics import Diagnostic
from netpol.model.options import DEFAULT_POD_CIDR, PROFILES, Options
from netpol.validate.pipeline import check_and_build

MAX_PODS = 1000  # a Linux bridge has at most 1024 ports; the outside link needs none


class LabInputError(LabError):
    """The input was refused; ``diagnostics`` says why, one problem per line."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__(message)
        self.diagnostics = tuple(diagnostics)


@dataclass
class LabView:
    """What a lab is made of under one set of objects: the cluster and everything derived."""

    store: list[StoredObject]
    cluster: Cluster
    options: Options
    cc: CompiledCluster
    pods: list[LabPod]
    routes: list[ServiceRoute]
    records: dict[str, list[str]]
    works: dict[str, PodWork]
    nameserver: str
    notes: list[str] = field(default_factory=list)

    def pod_ips(self) -> dict[str, str]:
        return {lp.pod.id: lp.ip for lp in self.pods}


def options_of(state: LabState) -> Options:
    saved = state.load_options
    return Options(
        profile=PROFILES[state.profile],
        pod_cidr=saved.get("pod_cidr", DEFAULT_POD_CIDR),
        nodes=int(saved.get("nodes", 3)),
        default_namespace=saved.get("default_namespace", "default"),
        skip_invalid=False,
        implicit_dns=bool(saved.get("implicit_dns", True)),
    )


def build_view(
    store: list[StoredObject], options: Options, run_commands: bool, lab: str
) -> LabView:
    """The cluster of ``store`` and everything the lab derives from it (no side effects)."""
    result = check_and_build(raw_documents(store, f"<lab {lab}>"), [], options)
    if not result.ok:
        raise LabInputError("the lab's objects do not make a valid cluster", result.errors)
    cluster = result.cluster
    # the cluster DNS the loader added when the input has none (load/addons.py)
    notes = [d.message for d in cluster.diagnostics if d.reason == "ImplicitAddon"]
    pods: list[LabPod] = []
    for pod in sorted(cluster.pods, key=lambda p: p.id):
        if pod.host_network:
            notes.append(f"{pod.id}: hostNetwork pod is node traffic; the lab does not run it")
            continue
        ip = next((i for i in pod.ips if ipaddress.ip_address(i).version == 4), None)
        if ip is None:
            notes.append(f"{pod.id}: no IPv4 address; the lab is IPv4 only and leaves it out")
            continue
        if ip in RESERVED_IPS:
            raise LabError(f"pod {pod.id} has the address {ip}, which the lab itself uses")
        pods.append(LabPod(pod, ip))
    if len(pods) > MAX_PODS:
        raise LabError(
            f"the lab runs at most {MAX_PODS} pods (the ports of one Linux bridge); "
            f"this input has {len(pods)}"
        )
    pod_ips = {lp.pod.id: lp.ip for lp in pods}
    routes, route_notes = service_routes(cluster, pod_ips)
    notes += route_notes
    works = {lp.pod.id: plan_pod(lp.pod, run_commands) for lp in pods}
    for work in works.values():
        notes += work.notes
    kube_dns = next(
        (s for s in cluster.services if s.namespace == "kube-system" and s.name == "kube-dns"), None
    )
    nameserver = kube_dns.cluster_ip if kube_dns and kube_dns.cluster_ip else "10.96.0.10"
    return LabView(
        store=store,
        cluster=cluster,
        options=options,
        cc=compile_cluster(cluster, options),
        pods=pods,
        routes=routes,
        records=dns.dns_records(cluster, pod_ips),
        works=works,
        nameserver=nameserver,
        notes=notes,
    )


def read_input(paths: Sequence[str], options: Options) -> tuple[list[StoredObject], Cluster]:
    """The objects of ``paths``, validated as the API server would (LabInputError if not)."""
    if not paths:
        raise LabError("no input: give one or more files or directories")
    docs, problems = read_paths(paths, limits=options.input_limits)
    result = check_and_build(docs, problems, options)
    if not result.ok:
        count = len(result.errors)
        raise LabInputError(
            f"{count} problem{'s' if count != 1 else ''} in the input; the lab is unchanged",
            result.diagnostics,
        )
    return objects_of(docs, options.default_namespace), result.cluster


def objects_input(
    objects: Sequence[dict[str, Any]], options: Options
) -> tuple[list[StoredObject], Cluster]:
    store = objects_of_data(objects, options.default_namespace)
    result = check_and_build(raw_documents(store, "<objects>"), [], options)
    if not result.ok:
        raise LabInputError("the objects do not make a valid cluster", result.errors)
    return store, result.cluster


def probed_ports(view: LabView, pod_id: str) -> list[tuple[int, str]]:
    """Every port something answers on in ``pod_id``: declared ports, DNS, allow-listed servers."""
    work = view.works[pod_id]
    ports = {(x.port, x.protocol) for x in work.listeners}
    ports |= {port for c in work.commands for port in c.ports}
    return sorted(ports)


def probe_endpoints(
    view: LabView, netns: Mapping[str, str], outside_netns: str | None
) -> tuple[list[ProbeEndpoint], list[ProbeEndpoint]]:
    """(sources, destinations) of a probe of every pod: the outside client first when
    ``outside_netns`` is given; ``netns`` is each pod's namespace ("" for no packets)."""
    destinations = [
        pod_probe_endpoint(view.cc, lp.pod.id, netns.get(lp.pod.id, ""), lp.ip) for lp in view.pods
    ]
    sources = list(destinations)
    if outside_netns is not None:
        sources.insert(0, outside_probe_endpoint(outside_netns, OUTSIDE_IP))
    return sources, destinations


def predicted_report(view: LabView) -> ProbeReport:
    """Every pair on every probed port as the engine decides it, without a packet: what the
    lab's rules enforce (``lab probe`` checks them on packets)."""
    sources, destinations = probe_endpoints(view, {}, "")
    ids = [lp.pod.id for lp in view.pods]
    ports = {pod_id: probed_ports(view, pod_id) for pod_id in ids}
    return predict_only(view.cc, sources, destinations, ports, short_labels(view.cluster, ids))
