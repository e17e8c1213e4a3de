"""Connectivity changes between two policy sets, at pod, workload or namespace granularity.

Both sides are computed with the engine's class matrix and compared by endpoint id (pod
``ns/name``, workload ``ns/name``, namespace): a pod diff per pair of joint classes
(diff_joint), a workload or namespace diff per candidate endpoint pair (diff_candidates).
With external endpoints, the IP space is cut by the ipBlocks of *both* sides so the blocks
line up.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from netpol.analysis.diff_candidates import JointChanges, candidate_codes
from netpol.analysis.diff_columns import Codes, changed_pairs, merged_endpoints, positions
from netpol.analysis.diff_incremental import Incremental, incremental_diff
from netpol.analysis.diff_joint import joint_listing, joint_pair_count
from netpol.analysis.diff_listing import (
    ADDED,
    CHANGED,
    REMOVED,
    ChangeListing,
    Delta,
    DiffEndpoint,
    PairChange,
    Targets,
)
from netpol.analysis.evidence import explain_pair
from netpol.engine.classes import cluster_blocks
from netpol.engine.compile import CompiledCluster
from netpol.engine.endpoints import Endpoint, ip_endpoint
from netpol.engine.explain import Explanation
from netpol.engine.ipspace import IPAtoms
from netpol.engine.matrix import ClassMatrix, class_matrix
from netpol.engine.ports import ConnectionSet
from netpol.engine.verdict import evaluate
from netpol.engine.views import MatrixView
from netpol.model.objects import Pod
from netpol.model.progress import SILENT, Prefixed, Progress

MAX_EVIDENCE_TRIES = 64  # member pod pairs tried when looking for one that shows a change


@dataclass(frozen=True)
class DiffReport:
    granularity: str
    old_label: str
    new_label: str
    listing: ChangeListing
    only_old: tuple[str, ...] = ()  # endpoints that exist only in the old input
    only_new: tuple[str, ...] = ()
    pairs_compared: int = 0
    # the pod pairs that differ when a listing of them was asked for and past ``coarser_past``
    # (the report is then by workload), else 0
    pod_pairs_differing: int = 0

    @cached_property
    def changes(self) -> tuple[PairChange, ...]:
        """Every changed pair, made at once: for a few (tests, evidence); a writer uses
        ``listing.rows()``, which makes them one source at a time."""
        return tuple(self.listing.rows())

    @cached_property
    def counts(self) -> Counter[str]:
        return self.listing.counts()

    @property
    def changed(self) -> bool:
        return sum(self.counts.values()) > 0


@dataclass
class _Side:
    cc: CompiledCluster
    matrix: ClassMatrix
    view: MatrixView


def _side(matrix: ClassMatrix, granularity: str, admits: Callable[[Pod], bool] | None) -> _Side:
    return _Side(matrix.partition.cc, matrix, MatrixView(matrix, granularity, admits))


def diff(
    old: CompiledCluster,
    new: CompiledCluster,
    granularity: str = "pod",
    include_external: bool = False,
    evidence: bool = False,
    old_label: str = "old",
    new_label: str = "new",
    admits: Callable[[Pod], bool] | None = None,
    progress: Progress = SILENT,
    coarser_past: int | None = None,
) -> DiffReport:
    """Every ordered pair whose allowed connections differ between ``old`` and ``new``;
    ``admits`` keeps only the pods in scope (``-n``/``-l``) on both sides. With
    ``coarser_past``, a pod diff of more changed pod pairs than that is reported by
    workload instead (decided per joint class pair, before any pod pair is listed)."""
    report = None
    incremental = Incremental(None)
    if granularity == "pod" and not include_external:
        incremental = incremental_diff(old, new, admits, progress, coarser_past is not None)
        if incremental.found is not None:
            endpoints, listing = incremental.found
            compared = len(endpoints) * len(endpoints)
            report = DiffReport(granularity, old_label, new_label, listing, pairs_compared=compared)
    too_many = coarser_past is not None and granularity == "pod"
    if report is None or (too_many and len(report.listing) > coarser_past):  # type: ignore[operator]
        matrices = (
            # the partition the region diff built and declined, if any: the old side's
            class_matrix(
                old, progress=Prefixed(progress, "old: "), partition=incremental.old_partition
            ),
            class_matrix(new, progress=Prefixed(progress, "new: ")),
        )
        changes = JointChanges(*matrices)

        def view(of: str) -> DiffReport:
            return _diff(
                matrices, changes, of, include_external, old_label, new_label, admits, progress
            )

        limit = coarser_past if too_many else None
        counted = None
        if report is None and limit is not None and admits is None:
            # learnt from the classes, when they tell: a pod listing too long for a table
            # is then not made only to be counted
            counted = joint_pair_count(*matrices, changes)
        if counted is not None and limit is not None and counted > limit:
            report = replace(view("workload"), pod_pairs_differing=counted)
        else:
            if report is None:
                report = view(granularity)
            if limit is not None and len(report.listing) > limit:
                report = replace(view("workload"), pod_pairs_differing=len(report.listing))
    if evidence:
        progress.phase("explaining the changes", len(report.listing))
        explained = []
        for change in report.listing.rows():
            explained.append(_with_evidence(old, new, change))
            progress.advance()
        report = replace(report, listing=ChangeListing.of(explained))
    return report


def _diff(
    matrices: tuple[ClassMatrix, ClassMatrix],
    changes: JointChanges,
    granularity: str,
    include_external: bool,
    old_label: str,
    new_label: str,
    admits: Callable[[Pod], bool] | None,
    progress: Progress,
) -> DiffReport:
    a, b = (_side(m, granularity, admits) for m in matrices)
    endpoints = merged_endpoints(a.view, b.view)
    progress.phase(f"comparing {len(endpoints):,} {granularity} endpoints")
    listing = None
    if granularity == "pod":
        listing = joint_listing(a.view, b.view, endpoints, changes)
    if listing is None:
        listing = ChangeListing(endpoints, singles=_pairwise(a, b, endpoints, changes))
    compared = len(endpoints) * len(endpoints)
    if include_external:
        progress.phase("comparing the external blocks")
        external, count = _external_changes(a, b, endpoints)
        listing = ChangeListing(listing.endpoints, listing.blocks, listing.singles, external)
        compared += count
    only_old = tuple(e.id for e in endpoints if not e.pods_new)
    only_new = tuple(e.id for e in endpoints if not e.pods_old)
    return DiffReport(granularity, old_label, new_label, listing, only_old, only_new, compared)


def _pairwise(
    a: _Side, b: _Side, endpoints: list[DiffEndpoint], changes: JointChanges
) -> dict[int, Targets]:
    """The changed pairs found endpoint pair by endpoint pair, among the candidates when
    they can be narrowed (diff_candidates), else among the pairs either side allows, by
    source index."""
    codes = candidate_codes(a.view, b.view, endpoints, changes)
    if codes is None:
        codes = np.concatenate([_allowed(side.view, endpoints) for side in (a, b)])
    return changed_pairs(a.view, b.view, endpoints, codes)


def _allowed(view: MatrixView, endpoints: list[DiffEndpoint]) -> Codes:
    """The pairs of pod groups that ``view`` allows something, as codes of ``endpoints``."""
    at = positions(view, endpoints)
    merged = np.full(len(view.endpoints), -1, dtype=np.int64)
    merged[at[at >= 0]] = np.flatnonzero(at >= 0)
    columns = view.columns()
    src, dst = merged[columns.src], merged[columns.dst]
    kept = (src >= 0) & (dst >= 0)
    return src[kept] * len(endpoints) + dst[kept]


def _external_reps(a: _Side, b: _Side) -> list[DiffEndpoint]:
    """One address per block of the IP space that every ipBlock of both sides treats alike."""
    blocks = list(dict.fromkeys(cluster_blocks(a.cc.cluster) + cluster_blocks(b.cc.cluster)))
    atoms = IPAtoms(blocks)
    masks = [atoms.block_mask(x) for x in blocks]
    taken = {ip for side in (a, b) for p in side.cc.cluster.pods for ip in p.ips}
    taken |= {ip for side in (a, b) for n in side.cc.cluster.nodes for ip in n.ips}
    groups: dict[tuple[int, ...], list[int]] = {}
    for atom_id in range(len(atoms.atoms)):
        signature = tuple(i for i, m in enumerate(masks) if m >> atom_id & 1)
        groups.setdefault(signature, []).append(atom_id)
    reps = []
    for atom_ids in groups.values():
        cidrs = tuple(c for x in atom_ids for c in atoms.atoms[x].cidrs())
        ip = _free_address(atoms.atoms[atom_ids[0]].cidrs(), taken)
        if ip is None:
            continue
        reps.append(DiffEndpoint(f"external:{cidrs[0]}", "External", cidrs=cidrs, ip=ip))
    return reps


def _free_address(cidrs: list[str], taken: set[str]) -> str | None:
    """The first address of ``cidrs`` that no pod or node has; None when they have them all."""
    # No cap on the search: it passes over each taken address at most once, so it ends within
    # len(taken) + 1 steps; a cap of 66 tries dropped a block whose first addresses were pods.
    for cidr in cidrs:
        for address in ipaddress.ip_network(cidr):
            if str(address) not in taken:
                return str(address)
    return None


def _external_changes(
    a: _Side, b: _Side, endpoints: list[DiffEndpoint]
) -> tuple[list[PairChange], int]:
    """External block <-> pod-group pairs, evaluated per pod class on each side."""
    reps = _external_reps(a, b)
    changes = []
    count = 0
    for ext in reps:
        for e in endpoints:
            count += 2
            for outbound in (True, False):
                before = _external_conns(a, ext, e.pods_old, outbound)
                after = _external_conns(b, ext, e.pods_new, outbound)
                if before == after:
                    continue
                src, dst = (e, ext) if outbound else (ext, e)
                changes.append(PairChange(src, dst, Delta(before, after)))
    return changes, count


def _external_conns(
    side: _Side, ext: DiffEndpoint, pods: Iterable[Pod], outbound: bool
) -> ConnectionSet:
    """Union over ``pods`` of what flows between them and the external address."""
    seen: set[int] = set()
    found = ConnectionSet.none()
    outside = ip_endpoint(ext.ip)
    for pod in pods:
        cls = side.matrix.partition.class_of_pod.get(pod.id)
        if cls is None or cls in seen:
            continue
        seen.add(cls)
        endpoint = _endpoint(side.cc, pod)
        verdict = (
            evaluate(side.cc, endpoint, outside)
            if outbound
            else evaluate(side.cc, outside, endpoint)
        )
        found = found | verdict.allowed
    return found


def _endpoint(cc: CompiledCluster, pod: Pod) -> Endpoint:
    return cc.endpoint(pod)


def _members(e: DiffEndpoint, cc: CompiledCluster, old: bool) -> list[Endpoint]:
    if e.kind == "External":
        return [ip_endpoint(e.ip)]
    return [_endpoint(cc, p) for p in (e.pods_old if old else e.pods_new)]


def _telling_port(delta: ConnectionSet, dst_pods: Iterable[Pod]) -> tuple[str, int]:
    """A port of ``delta`` worth explaining: one the destination declares, or its number under
    another protocol, else the first."""
    declared = sorted({(cp.protocol, cp.port) for p in dst_pods for cp in p.container_ports})
    for protocol, port in declared:
        if delta.contains(protocol, port):
            return protocol, port
    for _, port in declared:
        for protocol in ("TCP", "UDP", "SCTP"):
            if delta.contains(protocol, port):
                return protocol, port
    protocol, port, _ = next(iter(delta))
    return protocol, port


def _pairs(src: list[Endpoint], dst: list[Endpoint]) -> list[tuple[Endpoint, Endpoint]]:
    found = [(s, d) for s in src for d in dst if not s.same_pod(d)]
    return found[:MAX_EVIDENCE_TRIES]


def _with_evidence(old: CompiledCluster, new: CompiledCluster, change: PairChange) -> PairChange:
    """The verdicts of one member pod pair on one port that changed, on both sides (a side
    where either endpoint does not exist has no evidence)."""
    delta = change.lost if not change.lost.is_empty else change.gained
    if delta.is_empty:
        return change
    protocol, port = _telling_port(delta, change.dst.pods_new or change.dst.pods_old)
    before_pairs = _pairs(_members(change.src, old, True), _members(change.dst, old, True))
    after_pairs = _pairs(_members(change.src, new, False), _members(change.dst, new, False))
    before: Explanation | None = None
    after: Explanation | None = None
    if not before_pairs or not after_pairs:
        if before_pairs:
            before = explain_pair(old, *before_pairs[0], protocol, port)
        if after_pairs:
            after = explain_pair(new, *after_pairs[0], protocol, port)
    else:
        by_id = {(s.id, d.id): (s, d) for s, d in after_pairs}
        for s, d in before_pairs:
            match = by_id.get((s.id, d.id))
            if match is None:
                continue
            first = explain_pair(old, s, d, protocol, port)
            second = explain_pair(new, *match, protocol, port)
            if first.allowed != second.allowed:
                before, after = first, second
                break
    if before is None and after is None:
        return change
    return change._replace(evidence_before=before, evidence_after=after)


__all__ = [
    "ADDED",
    "CHANGED",
    "REMOVED",
    "ChangeListing",
    "Delta",
    "DiffEndpoint",
    "DiffReport",
    "PairChange",
    "Targets",
    "diff",
]
