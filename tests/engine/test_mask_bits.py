"""``MaskBits`` folds ids as ``MaskTable`` would, one pair at a time, whatever the digests."""

from __future__ import annotations

from functools import reduce

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.engine import mask_bits
from netpol.engine.mask_bits import MaskBits
from netpol.engine.masks import MaskTable

GROUPS = 130  # three words, the last one partly used


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    masks=st.lists(st.integers(0, (1 << GROUPS) - 1), min_size=1, max_size=12),
    shape=st.tuples(st.integers(1, 6), st.integers(1, 7)),
    seed=st.integers(0, 1000),
    collide=st.booleans(),
)
def test_fold_is_the_pairwise_union_and_intersection(
    masks: list[int], shape: tuple[int, int], seed: int, collide: bool
) -> None:
    table = MaskTable((1 << GROUPS) - 1)
    ids = [table.id(m) for m in masks]
    rows = np.array(ids, dtype=np.int32)[np.random.default_rng(seed).integers(0, len(ids), shape)]
    with pytest.MonkeyPatch.context() as patch:
        if collide:  # every row has one digest: the whole rows must be compared
            patch.setattr(mask_bits, "_SPREAD", np.zeros(64, dtype=np.uint64))
        union, inter = MaskBits(table, GROUPS).fold_both(rows)
    for column in range(shape[1]):
        values = rows[:, column].tolist()
        assert table.masks[union[column]] == reduce(
            lambda a, b: a | b, map(table.masks.__getitem__, values)
        )
        assert table.masks[inter[column]] == reduce(
            lambda a, b: a & b, map(table.masks.__getitem__, values)
        )
