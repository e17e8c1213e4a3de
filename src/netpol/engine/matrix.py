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

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from netpol.engine.class_sets import ClassSets, Grouping
from netpol.engine.classes import EndpointClass, Partition
from netpol.engine.compile import CompiledCluster, CompiledRule
from netpol.engine.endpoints import EXTERNAL, NODE, POD
from netpol.engine.masks import BAND_ELEMENTS, INTERSECT, UNION, Ids, MaskTable, PortAtoms
from netpol.engine.ports import ConnectionSet
from netpol.model.options import Profile
from netpol.model.progress import SILENT, Progress

Indexes = npt.NDArray[np.intp]


@dataclass(eq=False)
class ClassMatrix:
    """Allowed connections between every ordered pair of endpoint classes."""

    partition: Partition
    atoms: PortAtoms
    table: MaskTable
    ids: Ids  # (K, K): id in ``table`` of the groups allowed src -> dst, before node exceptions
    profile: Profile
    # (src, dst) of the pairs that allow something, row-major, when the matrix was made
    # from them (``_both_sparse``): ``allowing`` need not scan ``ids`` (never written after)
    known_allowing: tuple[Indexes, Indexes] | None = None

    def allowing(self) -> tuple[Indexes, Indexes]:
        """(src, dst) of every pair that allows something (node exceptions aside), row-major."""
        if self.known_allowing is not None:
            return self.known_allowing
        return nonzero_pairs(self.ids)

    @cached_property
    def has_node_classes(self) -> bool:
        return any(c.kind == NODE for c in self.partition.classes)

    def overridden(self, src: int, src_node: str, dst: int, dst_node: str) -> bool:
        return overridden(self.partition, src, src_node, dst, dst_node)

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
        return self.member_connections(
            of[src_pod_id], pods[src_pod_id].node, of[dst_pod_id], pods[dst_pod_id].node
        )

    def member_connections(self, src: int, src_node: str, dst: int, dst_node: str) -> ConnectionSet:
        """Between two distinct pods, of classes ``src`` and ``dst``, running on those nodes
        (a view's members: their classes and nodes are at hand)."""
        if self.has_node_classes and self.overridden(src, src_node, dst, dst_node):
            return ConnectionSet.all()
        return self.connections(src, dst)


def overridden(partition: Partition, src: int, src_node: str, dst: int, dst_node: str) -> bool:
    """The node exceptions of spec 2.6, which depend on where each pod runs, not its class:
    a node (or hostNetwork pod) reaches every pod on it; a pod reaches its own node when
    the profile says so. ``src`` and ``dst`` are classes of ``partition``."""
    if not src_node or src_node != dst_node:
        return False
    src_kind, dst_kind = partition.classes[src].kind, partition.classes[dst].kind
    if src_kind == NODE and dst_kind == POD:
        # under Cilium the classes carry their node and allow-localhost is a rule that
        # a deny can beat: the class matrix is exact there
        return not partition.cc.cilium
    return src_kind == POD and dst_kind == NODE and partition.cc.profile.pod_to_own_node


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
    egress: SideRows  # [src, dst]
    ingress: SideRows  # [dst, src]: each direction's rows are its subjects
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
    egress = egress_blocks.rows(builder, table)
    ingress = ingress_blocks.rows(builder, table)
    return NetworkPolicySides(
        partition, builder, atoms, table, egress, ingress, egress_isolated, ingress_isolated
    )


def class_matrix(
    cc: CompiledCluster,
    include_external: bool = False,
    include_nodes: bool = False,
    progress: Progress = SILENT,
    partition: Partition | None = None,
) -> ClassMatrix:
    """Allowed connections between every pair of endpoint classes (spec 4.6, in bulk);
    ``partition``, when given, is ``cc``'s with the same inclusions (a caller that built one)."""
    np_sides = network_policy_sides(cc, include_external, include_nodes, progress, partition)
    partition, builder, table = np_sides.partition, np_sides.sets, np_sides.table
    egress, ingress = np_sides.egress, np_sides.ingress
    if cc.tiered is not None:
        from netpol.engine.tiered_matrix import TieredMatrix  # tiers only

        tiered = TieredMatrix(builder, cc.tiered, np_sides.atoms, table)
        # each direction's result is written over its NetworkPolicy matrix, made whole here
        # and read by nothing else (at 10k classes one matrix is 400 MB)
        tiered_egress = tiered.direction(
            "Egress", egress.full(), np_sides.egress_isolated, overwrite=True
        )
        tiered_ingress = tiered.direction(
            "Ingress", ingress.full(), np_sides.ingress_isolated, overwrite=True
        )
        progress.phase("combining egress and ingress")
        # over egress: neither matrix is read again; ingress as [src, dst] is its transposed view
        allowed = _intersect_into(table, tiered_egress, tiered_ingress.T)
        allowing = None
    else:
        egress.fill(builder.indexes(builder.all_classes & ~np_sides.egress_isolated))
        ingress.fill(builder.indexes(builder.all_classes & ~np_sides.ingress_isolated))
        progress.phase("combining egress and ingress")
        allowed, allowing = _both(table, egress, ingress)
    return ClassMatrix(partition, np_sides.atoms, table, allowed, cc.profile, allowing)


@dataclass(eq=False)
class SideRows:
    """One direction's [subject, peer] matrix as its distinct rows and, per subject class,
    which of them is its row: subjects that the same blocks cover share one row, and the
    whole matrix (K x K) is only made by ``full`` or band by band in ``_both``."""

    distinct: Ids  # (rows, K); row 0 is NOTHING everywhere, row 1 EVERYTHING
    row_of: npt.NDArray[np.intp]  # (K,)

    NOTHING_ROW, EVERYTHING_ROW = 0, 1

    def fill(self, subjects: npt.NDArray[np.intp]) -> None:
        """``subjects`` allow everything (a direction no policy isolates)."""
        self.row_of[subjects] = self.EVERYTHING_ROW

    def full(self) -> Ids:
        return self.distinct[self.row_of]

    def band(self, start: int, stop: int, out: Ids) -> Ids:
        """Rows ``start:stop`` into ``out``."""
        return np.take(self.distinct, self.row_of[start:stop], axis=0, out=out)

    def transposed_band(self, start: int, stop: int) -> Ids:
        """Columns ``start:stop`` of the matrix, as [column, row]: the other direction's
        view of the same pairs (egress [src, dst] meets ingress [dst, src] transposed)."""
        return self.distinct[:, start:stop][self.row_of].T


# where at most this share of one side's pairs allow anything, the sides meet only there
SPARSE_SHARE = 1 / 16


def _both(
    table: MaskTable, egress: SideRows, ingress: SideRows
) -> tuple[Ids, tuple[Indexes, Indexes] | None]:
    """egress AND ingress per pair, a band of rows at a time into a fresh matrix, or only
    where a side allows anything (``_both_sparse``, which also says where the matrix
    allows something)."""
    k = len(egress.row_of)
    sparse = _both_sparse(table, egress, ingress)
    if sparse is not None:
        return sparse
    allowed = np.empty((k, k), dtype=np.int32)
    band = max(1, BAND_ELEMENTS // max(1, k))
    for start in range(0, k, band):
        stop = min(k, start + band)
        out = allowed[start:stop]
        egress.band(start, stop, out)
        _intersect_into(table, out, ingress.transposed_band(start, stop))
    return allowed, None


def _both_sparse(
    table: MaskTable, egress: SideRows, ingress: SideRows
) -> tuple[Ids, tuple[Indexes, Indexes]] | None:
    """``_both`` read from a side that allows little: a pair the side's row says NOTHING to
    is NOTHING, so only its other pairs meet the other side. At 100k pods egress allows
    something on 1.1M of 90M pairs (each class talks to a few), and the matrix is its
    zeros (untouched pages) and those pairs, not 90M cells computed band by band. None
    when each side allows something on more than ``SPARSE_SHARE`` of the pairs."""
    k = len(egress.row_of)
    # the side of fewer distinct rows is counted first, the other only if that one is dense
    for side in sorted((egress, ingress), key=lambda side: len(side.distinct)):
        something_of = side.distinct != MaskTable.NOTHING
        per_row = something_of.sum(axis=1)
        if int(per_row[side.row_of].sum()) <= k * k * SPARSE_SHARE:
            break
    else:
        return None
    reading, other = (0, ingress) if side is egress else (1, egress)
    subjects, peers, values = _allowing(side, something_of, per_row)
    other_values = other.distinct[other.row_of[peers], subjects]  # the other's [peer, subject]
    met = table.combine(values, other_values, INTERSECT)
    src, dst = (subjects, peers) if reading == 0 else (peers, subjects)
    something = met != MaskTable.NOTHING
    src, dst = src[something], dst[something]
    allowed = np.zeros((k, k), dtype=np.int32)
    allowed[src, dst] = met[something]  # a page that only NOTHING is never written
    if reading == 1:  # by destination: put in row-major order
        by_pair = np.argsort(src.astype(np.int64) * k + dst, kind="stable")
        src, dst = src[by_pair], dst[by_pair]
    return allowed, (src, dst)


def nonzero_pairs(ids: Ids) -> tuple[Indexes, Indexes]:
    """``np.nonzero`` of a 2-D array, row-major: through a boolean mask, which numpy scans
    several times faster than int32 (a 10k-class matrix is 100M entries, mostly zero)."""
    rows, columns = np.divmod(np.flatnonzero(ids != 0), max(1, ids.shape[1]))
    return rows, columns


def _allowing(
    side: SideRows, something_of: npt.NDArray[np.bool_], per_row: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], Ids]:
    """(subject, peer, id) of every pair the side allows anything, by subject
    (``something_of``: where its distinct rows allow something; ``per_row``: how often)."""
    k = len(side.row_of)
    flat = np.flatnonzero(something_of)  # by distinct row, then peer
    peer_of, value_of = flat % k, side.distinct.ravel()[flat]
    first = np.cumsum(per_row) - per_row  # each distinct row's run in flat
    per_subject = per_row[side.row_of]
    subjects = np.repeat(np.arange(k, dtype=np.intp), per_subject)
    offset = np.arange(len(subjects), dtype=np.intp) - np.repeat(
        np.cumsum(per_subject) - per_subject, per_subject
    )
    at = first[side.row_of][subjects] + offset
    return subjects, peer_of[at], value_of[at]


def _intersect_into(table: MaskTable, egress: Ids, ingress: Ids) -> Ids:
    """egress AND ingress per pair, written over ``egress`` a band of rows at a time:
    EVERYTHING on one side gives the other side, NOTHING gives NOTHING, and only pairs
    restricted on both sides need the table."""
    everything, nothing = MaskTable.EVERYTHING, MaskTable.NOTHING
    band = max(1, BAND_ELEMENTS // max(1, egress.shape[1]))
    for start in range(0, egress.shape[0], band):
        part = slice(start, start + band)
        out, other = egress[part], ingress[part]
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

    def pooled(self) -> dict[tuple[int, int], int]:
        """(peers, mask) -> subjects: the blocks added, those with the same subjects and mask
        pooled, then those with the same peers and mask."""
        subjects_of: dict[tuple[int, int], int] = {}
        for (subjects, mask), peers in self._peers.items():
            key = (peers, mask)
            subjects_of[key] = subjects_of.get(key, 0) | subjects
        return subjects_of

    def rows(self, builder: ClassSets, table: MaskTable) -> SideRows:
        """Every block as the rows of its subjects (rows no block covers allow nothing).

        Subjects that the same blocks cover have the same row: each distinct row is computed
        once, as one vector. At 100k pods the 9,525 rows of a direction are 1,587 (egress)
        and 5,964 (ingress) distinct; a write per block into a K x K matrix (a gather, a
        lookup and a scatter, ten thousand times) and then copying both matrices whole cost
        twice as much."""
        subjects_of = self.pooled()
        blocks = list(subjects_of)
        blocks_of_row: dict[int, list[int]] = {}
        for block, subjects in enumerate(subjects_of.values()):
            for row in builder.indexes(subjects).tolist():
                blocks_of_row.setdefault(row, []).append(block)
        rows_of_recipe: dict[tuple[int, ...], list[int]] = {}
        for row, covering in blocks_of_row.items():
            rows_of_recipe.setdefault(tuple(covering), []).append(row)
        distinct = np.zeros((2 + len(rows_of_recipe), builder.k), dtype=np.int32)
        distinct[SideRows.EVERYTHING_ROW] = MaskTable.EVERYTHING
        row_of = np.full(builder.k, SideRows.NOTHING_ROW, dtype=np.intp)
        for index, (recipe, rows) in enumerate(rows_of_recipe.items(), start=2):
            distinct[index] = _row(builder, table, [blocks[block] for block in recipe])
            row_of[rows] = index
        return SideRows(distinct, row_of)


def _row(builder: ClassSets, table: MaskTable, blocks: list[tuple[int, int]]) -> Ids:
    """The ids of one subject row covered by ``blocks`` (peers, mask): the blocks with the
    same peers OR their masks first, and those whose peers are every class fill the row."""
    everywhere = 0  # the groups allowed to every class
    mask_of_peers: dict[int, int] = {}
    for peers, mask in blocks:
        if peers == builder.all_classes:
            everywhere |= mask
        else:
            mask_of_peers[peers] = mask_of_peers.get(peers, 0) | mask
    row = np.full(builder.k, table.id(everywhere), dtype=np.int32)
    fresh = True  # the row holds one id: a block's cells are that id with its mask
    for peers, mask in mask_of_peers.items():
        cols = builder.indexes(peers)
        if fresh:
            row[cols] = table.union(table.id(everywhere), table.id(mask))
            fresh = False
        else:
            row[cols] = table.union_with(row[cols], table.id(mask))
    return row


def _add_egress(
    builder: ClassSets,
    atoms: PortAtoms,
    blocks: _Blocks,
    subjects: int,
    rule: CompiledRule,
) -> None:
    peers = builder.rule_peers(rule)
    for block in egress_blocks(builder, subjects, peers, rule, atoms.mask, atoms.port_mask):
        blocks.add(*block)


def _add_ingress(
    builder: ClassSets,
    atoms: PortAtoms,
    blocks: _Blocks,
    subjects: int,
    rule: CompiledRule,
) -> None:
    peers = builder.rule_peers(rule)
    for block in ingress_blocks(builder, subjects, peers, rule, atoms.mask):
        blocks.add(*block)


def egress_blocks(
    builder: ClassSets,
    subjects: int,
    peers: int,
    rule: CompiledRule,
    mask_of: Callable[[ConnectionSet], Grouping],
    port_mask_of: Callable[[str, int], Grouping],
) -> Iterator[tuple[int, int, Grouping]]:
    """What an egress rule of ``subjects`` allows towards ``peers``, as (subjects, peers,
    ``mask_of`` the connections) blocks: its numeric ports towards every peer, each named
    port towards the peers that declare it (``port_mask_of``: one resolved port). The whole
    matrix gives masks; a caller whose atoms are not cut yet (engine.partial_matrix), sets."""
    if not subjects or not peers:
        return
    yield subjects, peers, mask_of(rule.numeric)
    for name, protocol in rule.named:  # resolved on each destination pod
        for port, classes in builder.named_port_classes(name, protocol).items():
            if peers & classes:
                yield subjects, peers & classes, port_mask_of(protocol, port)


def ingress_blocks(
    builder: ClassSets,
    subjects: int,
    peers: int,
    rule: CompiledRule,
    mask_of: Callable[[ConnectionSet], Grouping],
) -> Iterator[tuple[int, int, Grouping]]:
    """What an ingress rule of ``subjects`` admits from ``peers``, as ``egress_blocks``
    gives them: named ports resolve on the destination, i.e. each subject class."""
    if not subjects or not peers:
        return
    if rule.named:
        by_mask = builder.by_destination(subjects, lambda pod: mask_of(rule.connections_to(pod)))
    else:
        by_mask = {mask_of(rule.numeric): subjects}
    for mask, destinations in by_mask.items():
        yield destinations, peers, mask


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
