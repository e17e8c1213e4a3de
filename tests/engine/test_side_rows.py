"""A direction's blocks, written as distinct rows (``_Blocks.rows``), are the matrix that
ORing every block into every cell it covers gives; and a band, a transposed band and the
whole matrix read the same cells."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.engine import matrix
from netpol.engine.class_sets import ClassSets
from netpol.engine.classes import Partition
from netpol.engine.compile import compile_cluster
from netpol.engine.masks import MaskTable
from netpol.engine.matrix import SideRows, _Blocks, _both
from netpol.model.options import Options
from netpol.model.selectors import LabelSelector

from .builders import cluster, namespace, pod, policy

CLASSES = 7  # one pod per class: every pod has its own label
FULL = 0b1111  # four port groups

# Derandomized: CI sees the same examples every run.
EXACT = settings(max_examples=300, deadline=None, derandomize=True)


def class_sets() -> ClassSets:
    pods = [pod(f"ns/p{i}", f"10.1.0.{i + 1}", {"app": f"a{i}"}, "n1") for i in range(CLASSES)]
    # a policy per label, so that no two pods fall in one class
    policies = [
        policy("ns", f"p{i}", LabelSelector.of({"app": f"a{i}"}), ingress=[])
        for i in range(CLASSES)
    ]
    cc = compile_cluster(cluster([namespace("ns")], pods, policies, []), Options())
    partition = Partition(cc)
    assert len(partition) == CLASSES
    return ClassSets(cc, partition)


SETS = class_sets()
bitsets = st.integers(min_value=0, max_value=(1 << CLASSES) - 1)
every_class_often = st.one_of(bitsets, st.just((1 << CLASSES) - 1))
blocks = st.lists(
    st.tuples(bitsets, every_class_often, st.integers(min_value=0, max_value=FULL)), max_size=12
)


def cell_by_cell(found: list[tuple[int, int, int]]) -> list[list[int]]:
    masks = [[0] * CLASSES for _ in range(CLASSES)]
    for subjects, peers, mask in found:
        for s in range(CLASSES):
            for p in range(CLASSES):
                if subjects >> s & 1 and peers >> p & 1:
                    masks[s][p] |= mask
    return masks


def side_rows(
    found: list[tuple[int, int, int]], table: MaskTable | None = None
) -> tuple[SideRows, MaskTable]:
    pooled = _Blocks()
    for subjects, peers, mask in found:
        pooled.add(subjects, peers, mask)
    table = MaskTable(FULL) if table is None else table
    return pooled.rows(SETS, table), table


@EXACT
@given(blocks)
def test_distinct_rows_are_every_block_ored_into_its_cells(
    found: list[tuple[int, int, int]],
) -> None:
    rows, table = side_rows(found)
    whole = rows.full()
    assert [[table.masks[i] for i in row] for row in whole.tolist()] == cell_by_cell(found)
    # subjects that the same blocks cover share one row
    covered = {
        s: tuple(b for b in found if b[0] >> s & 1 and b[1] and b[2]) for s in range(CLASSES)
    }
    for s in range(CLASSES):
        for t in range(CLASSES):
            if covered[s] and set(covered[s]) == set(covered[t]):
                assert rows.row_of[s] == rows.row_of[t]


@EXACT
@given(blocks, bitsets, st.integers(min_value=0, max_value=CLASSES), st.integers(1, CLASSES))
def test_bands_read_the_cells_of_the_whole_matrix(
    found: list[tuple[int, int, int]], open_rows: int, start: int, width: int
) -> None:
    rows, _ = side_rows(found)
    rows.fill(SETS.indexes(open_rows & ~_subjects(found)))
    whole = rows.full()
    for s in SETS.iter_bits(open_rows & ~_subjects(found)):
        assert (whole[s] == MaskTable.EVERYTHING).all()
    stop = min(CLASSES, start + width)
    out = np.empty((stop - start, CLASSES), dtype=np.int32)
    assert (rows.band(start, stop, out) == whole[start:stop]).all()
    assert (rows.transposed_band(start, stop) == whole[:, start:stop].T).all()


def _subjects(found: list[tuple[int, int, int]]) -> int:
    """The rows the blocks write (a block with no peers or no mask writes nothing)."""
    out = 0
    for subjects, peers, mask in found:
        if peers and mask:
            out |= subjects
    return out


# the sides meet band by band (dense) or only where the sparser side allows something
MEETINGS = {"sparse": 1.0, "dense": -1.0}


@pytest.mark.parametrize("meeting", list(MEETINGS))
@EXACT
@given(blocks, blocks, bitsets, bitsets)
def test_the_sides_meet_in_every_cell(
    meeting: str,
    egress_blocks: list[tuple[int, int, int]],
    ingress_blocks: list[tuple[int, int, int]],
    egress_open: int,
    ingress_open: int,
) -> None:
    """allowed[s, d] = egress[s, d] AND ingress[d, s], whichever way ``_both`` reads them."""
    egress, table = side_rows(egress_blocks)
    ingress, _ = side_rows(ingress_blocks, table)
    egress.fill(SETS.indexes(egress_open & ~_subjects(egress_blocks)))
    ingress.fill(SETS.indexes(ingress_open & ~_subjects(ingress_blocks)))
    out, back = egress.full(), ingress.full()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matrix, "SPARSE_SHARE", MEETINGS[meeting])
        allowed, allowing = _both(table, egress, ingress)
    if meeting == "dense":
        assert allowing is None
    else:  # where it allows something, row-major, as a scan of it finds
        assert allowing is not None
        scanned = np.nonzero(allowed)
        assert np.array_equal(allowing[0], scanned[0]) and np.array_equal(allowing[1], scanned[1])
    masks = table.masks
    for s in range(CLASSES):
        for d in range(CLASSES):
            expected = masks[out[s, d]] & masks[back[d, s]]
            assert masks[allowed[s, d]] == expected, (s, d)
