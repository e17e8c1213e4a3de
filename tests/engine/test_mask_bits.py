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


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    batches=st.lists(
        st.lists(st.integers(0, (1 << GROUPS) - 1), min_size=1, max_size=5), min_size=2, max_size=6
    ),
    seed=st.integers(0, 1000),
)
def test_bits_follow_the_table_as_it_grows_between_folds(
    batches: list[list[int]], seed: int
) -> None:
    """One ``MaskBits`` over a table that gains masks between folds (its own results, and
    masks added by others) folds every id as the table says."""
    table = MaskTable((1 << GROUPS) - 1)
    bits = MaskBits(table, GROUPS)
    generator = np.random.default_rng(seed)
    for batch in batches:
        ids = [table.id(m) for m in batch]  # new masks since the last fold
        rows = np.array(ids, dtype=np.int32)[generator.integers(0, len(ids), (3, 4))]
        rows[0, 0] = generator.integers(0, len(table.masks))  # and any older one
        union, inter = bits.fold_both(rows)
        for column in range(rows.shape[1]):
            found = [table.masks[i] for i in rows[:, column].tolist()]
            assert table.masks[union[column]] == reduce(lambda a, b: a | b, found)
            assert table.masks[inter[column]] == reduce(lambda a, b: a & b, found)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    masks=st.lists(st.integers(0, (1 << GROUPS) - 1), min_size=1, max_size=10),
    lengths=st.lists(st.integers(1, 6), min_size=1, max_size=8),
    seed=st.integers(0, 1000),
    gather=st.sampled_from([1, 3, 7, 1 << 22]),
    intersect=st.booleans(),
)
def test_fold_segments_is_the_pairwise_fold_of_each_segment(
    masks: list[int], lengths: list[int], seed: int, gather: int, intersect: bool
) -> None:
    """Segments of any length, gathered a few words at a time (a segment longer than a
    gather is folded whole) or all at once."""
    table = MaskTable((1 << GROUPS) - 1)
    ids = np.array([table.id(m) for m in masks], dtype=np.int32)
    values = ids[np.random.default_rng(seed).integers(0, len(ids), sum(lengths))]
    starts = np.cumsum(lengths) - np.array(lengths)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mask_bits, "GATHER_WORDS", gather)
        folded = MaskBits(table, GROUPS).fold_segments(values, starts, intersect)
    operation = (lambda a, b: a & b) if intersect else (lambda a, b: a | b)
    for segment, (start, length) in enumerate(zip(starts.tolist(), lengths, strict=True)):
        found = [table.masks[i] for i in values[start : start + length].tolist()]
        assert table.masks[folded[segment]] == reduce(operation, found)


def test_fold_segments_of_nothing_is_empty() -> None:
    table = MaskTable((1 << GROUPS) - 1)
    folded = MaskBits(table, GROUPS).fold_segments(
        np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.intp), intersect=False
    )
    assert folded.shape == (0,)
