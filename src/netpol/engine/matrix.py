"""The connectivity matrix, computed per endpoint class.

The (protocol, port) space is cut into atoms by every connection set in play; atoms that
every rule treats alike merge into one group, and a set of connections becomes a bitmask
over the groups (a Python int of any width). Distinct masks are few, so the matrices
hold small integer ids into a ``MaskTable``: egress[src, dst] and ingress[dst, src] (each
side's rows are its subjects) are filled with numpy from the rules' merged blocks, then
allowed = egress AND ingress per pair, computed once per distinct (egress id, ingress id)
combination instead of once per pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from netpol.engine.class_sets import ClassSets
from netpol.engine.classes import EndpointClass, Partition
from netpol.engine.compile import CompiledCluster, CompiledRule
from netpol.engine.endpoints import EXTERNAL, NODE, POD
from netpol.engine.masks import BAND_ELEMENTS, INTERSECT, UNION, Ids, MaskTable, PortAtoms
from netpol.engine.ports import ConnectionSet
from netpol.model.options import Profile
from netpol.model.progress import SILENT, Progress


@dataclass(eq=False)
class ClassMatrix:
    """Allowed connections between every ordered pair of endpoint classes."""

    partition: Partition
    atoms: PortAtoms
    table: MaskTable
    ids: Ids  # (K, K): id in ``table`` of the groups allowed src -> dst, before node exceptions
    profile: Profile

    @cached_property
    def has_node_classes(self) -> bool:
        return any(c.kind == NODE for c in self.partition.classes)

    def overridden(self, src: int, src_node: str, dst: int, dst_node: str) -> bool:
        """The node exceptions of spec 2.6, which depend on where each pod runs, not its class:
        a node (or hostNetwork pod) reaches every pod on it; a pod reaches its own node when
        the profile says so."""
        if not src_node or src_node != dst_node:
            return False
        src_kind, dst_kind = self.partition.classes[src].kind, self.partition.classes[dst].kind
        if src_kind == NODE and dst_kind == POD:
            # under Cilium the classes carry their node and allow-localhost is a rule that
            # a deny can beat: the class matrix is exact there
            return not self.partition.cc.cilium
        return src_kind == POD and dst_kind == NODE and self.profile.pod_to_own_node

    @property
    def classes(self) -> list[EndpointClass]:
        return self.partition.classes

    def mask(self, src: int, dst: int) -> int:
        return self.table.masks[int(self.ids[src, dst])]

    def connections(self, src: int, dst: int) -> ConnectionSet:
        return self.atoms.connections(self.mask(src, dst))

    def pod_connections(self, src_pod_id: str, dst_pod_id: str) -> ConnectionSet:
        """Between two pods (a pod always reaches itself)."""
        if src_pod_id == dst_pod_id:
            return ConnectionSet.all()
        of = self.partition.class_of_pod
        pods = self.partition.cc.cluster.pod_by_id
        src, dst = of[src_pod_id], of[dst_pod_id]
        if self.overridden(src, pods[src_pod_id].node, dst, pods[dst_pod_id].node):
            return ConnectionSet.all()
        return self.connections(src, dst)


def _connection_sets(cc: CompiledCluster, builder: ClassSets) -> list[ConnectionSet]:
    sets = [ConnectionSet.all()]
    for compiled in cc.policies:
        for direction in ("Ingress", "Egress"):
            for rule in compiled.rules(direction):
                sets.append(rule.numeric)
                for name, protocol in rule.named:
                    for port in builder.named_port_classes(name, protocol):
                        sets.append(ConnectionSet.of(protocol, port))
    return sets


@dataclass(eq=False)
class NetworkPolicySides:
    """What the NetworkPolicies alone allow per direction, on the rows they isolate."""

    partition: Partition
    sets: ClassSets
    atoms: PortAtoms
    table: MaskTable
    egress: Ids  # [src, dst]
    ingress: Ids  # [dst, src]: each direction's rows are its subjects, written in blocks of rows
    egress_isolated: int  # class bits
    ingress_isolated: int


def network_policy_sides(
    cc: CompiledCluster,
    include_external: bool = False,
    include_nodes: bool = False,
    progress: Progress = SILENT,
    partition: Partition | None = None,
) -> NetworkPolicySides:
    """``partition``, when given, is used as it is (a caller that already built one)."""
    progress.phase("building classes")
    if partition is None:
        partition = Partition(cc, include_external=include_external, include_nodes=include_nodes)
    builder = ClassSets(cc, partition)
    sets = _connection_sets(cc, builder)
    if cc.tiered is not None:
        from netpol.engine.tiered_matrix import tiered_connection_sets  # tiers only

        sets += tiered_connection_sets(cc.tiered, builder)
    atoms = PortAtoms(sets)
    table = MaskTable(atoms.full)
    k = len(partition)
    egress = np.zeros((k, k), dtype=np.int32)  # [src, dst]
    ingress = np.zeros((k, k), dtype=np.int32)  # [dst, src]
    egress_isolated = 0
    ingress_isolated = 0
    progress.phase(f"computing the matrix of {k:,} classes, policy", len(cc.policies))
    egress_blocks = _Blocks()
    ingress_blocks = _Blocks()
    for compiled in cc.policies:
        progress.advance()
        policy = compiled.policy
        subjects = builder.subjects(policy.namespace, policy.pod_selector)
        if not subjects:
            continue
        if policy.isolates_egress:
            egress_isolated |= subjects
            for rule in compiled.rules("Egress"):
                _add_egress(builder, atoms, egress_blocks, subjects, rule)
        if policy.isolates_ingress:
            ingress_isolated |= subjects
            for rule in compiled.rules("Ingress"):
                _add_ingress(builder, atoms, ingress_blocks, subjects, rule)
    egress_blocks.write(builder, table, egress)
    ingress_blocks.write(builder, table, ingress)
    return NetworkPolicySides(
        partition, builder, atoms, table, egress, ingress, egress_isolated, ingress_isolated
    )


def class_matrix(
    cc: CompiledCluster,
    include_external: bool = False,
    include_nodes: bool = False,
    progress: Progress = SILENT,
) -> ClassMatrix:
    """Allowed connections between every pair of endpoint classes (spec 4.6, in bulk)."""
    np_sides = network_policy_sides(cc, include_external, include_nodes, progress)
    partition, builder, table = np_sides.partition, np_sides.sets, np_sides.table
    egress, ingress = np_sides.egress, np_sides.ingress
    if cc.tiered is not None:
        from netpol.engine.tiered_matrix import TieredMatrix  # tiers only

        tiered = TieredMatrix(builder, cc.tiered, np_sides.atoms, table)
        # each direction's result is written over its NetworkPolicy matrix, which nothing
        # reads afterwards: at 10k classes one matrix is 400 MB
        np_sides.egress = np_sides.ingress = np.zeros((0, 0), dtype=np.int32)
        egress = tiered.direction("Egress", egress, np_sides.egress_isolated, overwrite=True)
        ingress = tiered.direction("Ingress", ingress, np_sides.ingress_isolated, overwrite=True)
    else:
        egress[builder.indexes(builder.all_classes & ~np_sides.egress_isolated), :] = (
            MaskTable.EVERYTHING
        )
        ingress[builder.indexes(builder.all_classes & ~np_sides.ingress_isolated), :] = (
            MaskTable.EVERYTHING
        )
    progress.phase("combining egress and ingress")
    # over egress: neither matrix is read again; ingress as [src, dst] is its transposed view
    allowed = _both(table, egress, ingress.T)
    return ClassMatrix(partition, np_sides.atoms, table, allowed, cc.profile)


def _both(table: MaskTable, egress: Ids, ingress: Ids) -> Ids:
    """egress AND ingress per pair, written over ``egress`` a band of rows at a time:
    EVERYTHING on one side gives the other side, NOTHING gives NOTHING, and only pairs
    restricted on both sides need the table."""
    everything, nothing = MaskTable.EVERYTHING, MaskTable.NOTHING
    band = max(1, BAND_ELEMENTS // max(1, egress.shape[1]))
    for start in range(0, egress.shape[0], band):
        out, other = egress[start : start + band], ingress[start : start + band]
        partial = (out > everything) & (other > everything)
        combined = table.combine(out[partial], other[partial], INTERSECT)
        np.copyto(out, other, where=out == everything)
        out[other == nothing] = nothing
        out[partial] = combined
    return egress


class _Blocks:
    """What the rules of one direction add, as (subject classes, peer classes, mask) blocks,
    merged before a single write each.

    Every rule ORs its mask into its block and union is idempotent and commutative, so rules
    with the same subjects and mask may pool their peers, and then blocks with the same peers
    and mask their subjects: the matrix is the same, and at 100k pods half the blocks go
    (each write of a block costs a gather, a lookup and a scatter whatever its size)."""

    def __init__(self) -> None:
        self._peers: dict[tuple[int, int], int] = {}  # (subjects, mask) -> peers

    def add(self, subjects: int, peers: int, mask: int) -> None:
        if subjects and peers and mask:
            key = (subjects, mask)
            self._peers[key] = self._peers.get(key, 0) | peers

    def write(self, builder: ClassSets, table: MaskTable, ids: Ids) -> None:
        """Every block into ``ids``, whose rows are the subjects (a gather of whole rows:
        the peers of a rule are many classes, its subjects few)."""
        subjects_of: dict[tuple[int, int], int] = {}  # (peers, mask) -> subjects
        for (subjects, mask), peers in self._peers.items():
            key = (peers, mask)
            subjects_of[key] = subjects_of.get(key, 0) | subjects
        for (peers, mask), subjects in subjects_of.items():
            rows, cols = builder.indexes(subjects), builder.indexes(peers)
            if len(cols) == ids.shape[1]:  # every class: whole rows, no column index
                ids[rows] = table.union_with(ids[rows], table.id(mask))
            elif len(cols) * 4 > ids.shape[1]:  # whole rows copied beat a gather by columns
                band = ids[rows]
                band[:, cols] = table.union_with(band[:, cols], table.id(mask))
                ids[rows] = band
            else:
                block = np.ix_(rows, cols)
                ids[block] = table.union_with(ids[block], table.id(mask))


def _add_egress(
    builder: ClassSets,
    atoms: PortAtoms,
    blocks: _Blocks,
    subjects: int,
    rule: CompiledRule,
) -> None:
    peers = builder.rule_peers(rule)
    if not peers:
        return
    blocks.add(subjects, peers, atoms.mask(rule.numeric))
    for name, protocol in rule.named:  # resolved on each destination pod
        for port, classes in builder.named_port_classes(name, protocol).items():
            blocks.add(subjects, peers & classes, atoms.port_mask(protocol, port))


def _add_ingress(
    builder: ClassSets,
    atoms: PortAtoms,
    blocks: _Blocks,
    subjects: int,
    rule: CompiledRule,
) -> None:
    peers = builder.rule_peers(rule)
    if not peers:
        return
    if rule.named:  # resolved on the destination, i.e. each subject class
        by_mask = builder.by_destination(subjects, lambda pod: atoms.mask(rule.connections_to(pod)))
    else:
        by_mask = {atoms.mask(rule.numeric): subjects}
    for mask, destinations in by_mask.items():
        blocks.add(destinations, peers, mask)


__all__ = [
    "EXTERNAL",
    "INTERSECT",
    "UNION",
    "ClassMatrix",
    "Ids",
    "MaskTable",
    "PortAtoms",
    "class_matrix",
]
