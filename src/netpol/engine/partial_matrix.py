"""The class matrix on a region only: the columns of some destination classes and the rows of
some source classes, for a caller that knows every other cell is unchanged (a diff where a
few NetworkPolicies changed, engine.classes' partition shared by both sides).

allowed[src, dst] = egress[src, dst] AND ingress[dst, src] (engine.matrix). A column of
``allowed`` needs the egress of every source towards that destination and the ingress of the
destination; a row needs the egress of that source and the ingress of every destination from
it. Both are written from the same rules as the whole matrix, each rule's subjects or peers
cut to the region: a region of a few classes costs one pass over the rules and K x (region)
cells instead of K x K. Several policy sets over one partition share one ``PortAtoms`` and one
``MaskTable``, so their ids compare directly (equal id, equal connections).

NetworkPolicies only: the tiered models (admin tiers, Calico, Cilium) are not cut here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from netpol.engine.class_sets import ClassSets
from netpol.engine.compile import CompiledCluster
from netpol.engine.masks import INTERSECT, Ids, MaskTable, PortAtoms
from netpol.engine.matrix import _Blocks, egress_blocks, ingress_blocks
from netpol.engine.ports import ConnectionSet

Indexes = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Region:
    """Class bitsets: the destinations whose columns and the sources whose rows are wanted."""

    columns: int
    rows: int


@dataclass(eq=False)
class PartialMatrix:
    """One policy set's ``allowed`` ids on a region (ids into the shared ``MaskTable``)."""

    columns: Ids  # (K, len(column_classes)): allowed[:, column_classes]
    rows: Ids  # (len(row_classes), K): allowed[row_classes, :]


@dataclass(eq=False)
class RegionMatrices:
    atoms: PortAtoms
    table: MaskTable
    column_classes: Indexes  # ascending
    row_classes: Indexes  # ascending
    sides: list[PartialMatrix]


Entry = tuple[int, int, ConnectionSet]  # (subject classes, peer classes, what is allowed)


@dataclass(eq=False)
class _Entries:
    """What one policy set's rules write into the four region arrays, before the atoms exist
    (they are cut by the sets of every side)."""

    egress_to_columns: list[Entry] = field(default_factory=list)  # [src, column]
    ingress_of_columns: list[Entry] = field(default_factory=list)  # [column, src]
    egress_of_rows: list[Entry] = field(default_factory=list)  # [row, dst]
    ingress_to_rows: list[Entry] = field(default_factory=list)  # [dst, row]
    egress_isolated: int = 0
    ingress_isolated: int = 0

    def sets(self) -> list[ConnectionSet]:
        lists = (
            self.egress_to_columns,
            self.ingress_of_columns,
            self.egress_of_rows,
            self.ingress_to_rows,
        )
        return [conns for entries in lists for _, _, conns in entries]


def region_matrices(
    sides: Sequence[CompiledCluster], builder: ClassSets, region: Region
) -> RegionMatrices:
    """``allowed`` of each policy set in ``sides`` on ``region``; every side has the pods,
    namespaces and nodes ``builder``'s partition was made from, and no tiered policies."""
    entries = [_entries(cc, builder, region) for cc in sides]
    atoms = PortAtoms([ConnectionSet.all()] + [s for e in entries for s in e.sets()])
    table = MaskTable(atoms.full)
    columns, rows = builder.indexes(region.columns), builder.indexes(region.rows)
    k = builder.k
    everything = np.arange(k, dtype=np.intp)
    matrices = []
    for found in entries:
        write = _Writer(builder, atoms, table)
        open_egress = builder.all_classes & ~found.egress_isolated
        open_ingress = builder.all_classes & ~found.ingress_isolated
        # both directions of a pair as [src, dst]: ingress is written transposed, its
        # subjects (destinations) as columns
        egress = write(found.egress_to_columns, everything, columns, open_egress)
        ingress = write(found.ingress_of_columns, everything, columns, open_ingress, True)
        allowed_columns = table.combine(egress, ingress, INTERSECT)
        del egress, ingress
        egress = write(found.egress_of_rows, rows, everything, open_egress)
        ingress = write(found.ingress_to_rows, rows, everything, open_ingress, True)
        allowed_rows = table.combine(egress, ingress, INTERSECT)
        del egress, ingress
        matrices.append(PartialMatrix(allowed_columns, allowed_rows))
    return RegionMatrices(atoms, table, columns, rows, matrices)


def _entries(cc: CompiledCluster, builder: ClassSets, region: Region) -> _Entries:
    """The whole matrix's blocks of each rule (engine.matrix), cut to the region, as sets."""
    found = _Entries()
    for compiled in cc.policies:
        policy = compiled.policy
        subjects = builder.subjects(policy.namespace, policy.pod_selector)
        if not subjects:
            continue
        if policy.isolates_egress:
            found.egress_isolated |= subjects
            for rule in compiled.rules("Egress"):
                peers = builder.rule_peers(rule)
                found.egress_to_columns.extend(
                    egress_blocks(
                        builder, subjects, peers & region.columns, rule, _as_set, ConnectionSet.of
                    )
                )
                found.egress_of_rows.extend(
                    egress_blocks(
                        builder, subjects & region.rows, peers, rule, _as_set, ConnectionSet.of
                    )
                )
        if policy.isolates_ingress:
            found.ingress_isolated |= subjects
            for rule in compiled.rules("Ingress"):
                peers = builder.rule_peers(rule)
                found.ingress_of_columns.extend(
                    ingress_blocks(builder, subjects & region.columns, peers, rule, _as_set)
                )
                found.ingress_to_rows.extend(
                    ingress_blocks(builder, subjects, peers & region.rows, rule, _as_set)
                )
    return found


def _as_set(conns: ConnectionSet) -> ConnectionSet:
    """The atoms are not cut yet: the blocks keep their connection sets."""
    return conns


class _Writer:
    """Entries into a fresh array whose rows and columns are the given classes, the
    subjects no policy of the direction isolates allowed everything; the entries pooled
    as the whole matrix pools its blocks (engine.matrix)."""

    def __init__(self, builder: ClassSets, atoms: PortAtoms, table: MaskTable) -> None:
        self.builder, self.atoms, self.table = builder, atoms, table

    def __call__(
        self,
        entries: list[Entry],
        row_classes: Indexes,
        column_classes: Indexes,
        open_subjects: int,
        transposed: bool = False,
    ) -> Ids:
        """``transposed``: the subjects are the columns (an ingress matrix read as [src, dst])."""
        k, indexes = self.builder.k, self.builder.indexes
        ids = np.zeros((len(row_classes), len(column_classes)), dtype=np.int32)
        row_at, column_at = _positions(k, row_classes), _positions(k, column_classes)
        blocks = _Blocks()
        for subjects, peers, conns in entries:
            blocks.add(subjects, peers, self.atoms.mask(conns))
        for (peers, mask), subjects in blocks.pooled().items():
            if transposed:
                block = np.ix_(row_at[indexes(peers)], column_at[indexes(subjects)])
            else:
                block = np.ix_(row_at[indexes(subjects)], column_at[indexes(peers)])
            ids[block] = self.table.union_with(ids[block], self.table.id(mask))
        opened = (column_at if transposed else row_at)[indexes(open_subjects)]
        opened = opened[opened >= 0]
        if transposed:
            ids[:, opened] = MaskTable.EVERYTHING
        else:
            ids[opened] = MaskTable.EVERYTHING
        return ids


def _positions(k: int, classes: Indexes) -> Indexes:
    """Class index -> its position among ``classes`` (-1: not there)."""
    at = np.full(k, -1, dtype=np.intp)
    at[classes] = np.arange(len(classes), dtype=np.intp)
    return at


__all__ = ["PartialMatrix", "Region", "RegionMatrices", "region_matrices"]
