"""``fold_blocks`` folds the class matrix over blocks of groups as a pairwise fold of every
class pair of the block would, and gives way (None) to the row fold when the matrix is
too dense for it."""

from __future__ import annotations

from functools import reduce

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.engine import group_blocks
from netpol.engine.group_blocks import fold_blocks
from netpol.engine.mask_bits import MaskBits
from netpol.engine.masks import MaskTable
from netpol.engine.matrix import nonzero_pairs

GROUPS = 70  # two words


def _table(masks: list[int]) -> tuple[MaskTable, list[int]]:
    table = MaskTable((1 << GROUPS) - 1)
    return table, [table.id(m) for m in masks]


def _expected(table: MaskTable, ids: np.ndarray, a: list[int], b: list[int]) -> tuple[int, int]:
    """The masks of union and intersection over a x b, one pair at a time."""
    found = [table.masks[int(ids[x, y])] for x in a for y in b]
    return reduce(lambda p, q: p | q, found), reduce(lambda p, q: p & q, found)


def _check(table: MaskTable, ids: np.ndarray, groups: list[list[int]]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(group_blocks, "SPARSE_SHARE", 1.0)  # never too dense here
        folded = fold_blocks(ids, groups, MaskBits(table, GROUPS))
        # where the matrix allows something, as the class matrix knows it: no scan
        told = fold_blocks(ids, groups, MaskBits(table, GROUPS), nonzero_pairs(ids))
    assert folded is not None and told is not None
    assert (folded[0] == told[0]).all() and (folded[1] == told[1]).all()
    union, inter = folded
    for i, a in enumerate(groups):
        for j, b in enumerate(groups):
            if i == j:
                assert union[i, j] == inter[i, j] == MaskTable.NOTHING  # not folded here
                continue
            expected = _expected(table, ids, a, b)
            assert (table.masks[union[i, j]], table.masks[inter[i, j]]) == expected, (i, j)


A, B, C = 0b0011, 0b0110, 0b1100
CASES = {
    # name: (masks of the table beyond NOTHING/EVERYTHING, class matrix over their ids, groups)
    "all nothing": ([], [[0, 0], [0, 0]], [[0], [1]]),
    "one pair of a block is nothing: no common part": (
        [A, B],
        [[0, 2, 0], [2, 0, 0], [3, 3, 0]],
        [[0], [1, 2]],
    ),
    "every pair of a block is something: the common part of all": (
        [A, B, C],
        [[0, 2, 3], [4, 0, 2], [2, 3, 0]],
        [[0], [1, 2]],
    ),
    "a class in two groups (a node's class in two namespaces)": (
        [A, B],
        [[1, 2, 3], [2, 1, 3], [3, 2, 1]],
        [[0, 2], [1, 2], [0]],
    ),
    "a class in no group (left out by -n) adds nothing": (
        [A, B],
        [[0, 2, 3], [0, 0, 0], [3, 3, 0]],
        [[0], [2]],
    ),
    "a class with itself between two groups": (
        [A],
        [[2, 0], [0, 1]],
        [[0], [0, 1]],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fold_blocks_cases(name: str) -> None:
    masks, matrix, groups = CASES[name]
    table, _ = _table(masks)
    _check(table, np.array(matrix, dtype=np.int32), groups)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    masks=st.lists(st.integers(1, (1 << GROUPS) - 1), min_size=1, max_size=6),
    classes=st.integers(1, 7),
    sparse=st.floats(0, 1),
    seed=st.integers(0, 1000),
    data=st.data(),
)
def test_fold_blocks_is_the_pairwise_fold(
    masks: list[int], classes: int, sparse: float, seed: int, data: st.DataObject
) -> None:
    table, ids = _table(masks)
    generator = np.random.default_rng(seed)
    matrix = np.array(ids, dtype=np.int32)[generator.integers(0, len(ids), (classes, classes))]
    matrix[generator.random((classes, classes)) < sparse] = MaskTable.NOTHING
    group = st.lists(st.integers(0, classes - 1), min_size=1, max_size=classes, unique=True)
    groups = data.draw(st.lists(group.map(sorted), min_size=1, max_size=5))
    _check(table, matrix, groups)


def test_too_dense_gives_way_to_the_row_fold() -> None:
    table, ids = _table([A])
    matrix = np.full((4, 4), ids[0], dtype=np.int32)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(group_blocks, "SPARSE_SHARE", 0.5)
        assert fold_blocks(matrix, [[0, 1], [2, 3]], MaskBits(table, GROUPS)) is None
        matrix[:, :2] = MaskTable.NOTHING  # half of it is something: not past the share
        assert fold_blocks(matrix, [[0, 1], [2, 3]], MaskBits(table, GROUPS)) is not None
