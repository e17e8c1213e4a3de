"""The class matrix folded over blocks of groups, read only where it is not NOTHING.

A group view (namespace, workload) gives each pair of groups the union and the common part
of the class pairs between them. The class matrix of a large cluster is mostly NOTHING
(0.6 % of its 90M pairs are not, at 100k pods): a block's union is the union of the
distinct ids that are not NOTHING in it, and its common part is NOTHING unless every pair
of the block is something. So the work here is one scan of the matrix for its non-zero
entries, one sort of (block, id) codes, and one fold of masks per distinct (block, id),
never a fold of each group's K-wide rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from netpol.engine.mask_bits import MaskBits
from netpol.engine.masks import BAND_ELEMENTS, Ids, MaskTable

Indexes = npt.NDArray[np.intp]

# the sparse fold while at most this share of the class matrix is something: past it the
# codes outgrow the matrix itself, and folding the groups' rows (MaskBits.fold) is cheaper
SPARSE_SHARE = 1 / 16


class _Membership:
    """Which groups each class belongs to (a hostNetwork class spans namespaces, say), as
    runs of group numbers by class."""

    def __init__(self, groups: list[list[int]], classes: int) -> None:
        sizes = np.array([len(g) for g in groups], dtype=np.intp)
        member_class = np.array([c for g in groups for c in g], dtype=np.intp)
        member_group = np.repeat(np.arange(len(groups), dtype=np.intp), sizes)
        self.groups_by_class = member_group[np.argsort(member_class, kind="stable")]
        self.count = np.bincount(member_class, minlength=classes)
        self.first = np.cumsum(self.count) - self.count  # each class's run in groups_by_class
        self.sizes = sizes

    def expand(self, classes: Indexes) -> tuple[Indexes, Indexes]:
        """Each entry of ``classes`` once per group of its class: (entry, group)."""
        per = self.count[classes]
        entry = np.repeat(np.arange(len(classes), dtype=np.intp), per)
        offset = np.arange(len(entry), dtype=np.intp) - np.repeat(np.cumsum(per) - per, per)
        return entry, self.groups_by_class[self.first[classes][entry] + offset]


def fold_blocks(
    ids: Ids,
    groups: list[list[int]],
    bits: MaskBits,
    allowing: tuple[Indexes, Indexes] | None = None,
) -> tuple[Ids, Ids] | None:
    """(union ids, intersection ids), N x N for the N ``groups`` (each a list of distinct
    classes): entry [i, j], i != j, folds ``ids`` over groups[i] x groups[j]; the diagonal
    is left NOTHING. ``allowing``: where ``ids`` is not NOTHING, when known (no scan then).
    None when the matrix is too dense for this to pay."""
    k, n = ids.shape[0], len(groups)
    membership = _Membership(groups, k)
    blocks: list[npt.NDArray[np.int64]] = []
    values: list[Ids] = []
    found = 0
    for row, column, value in _entries(ids, membership, allowing):
        found += len(row)
        if found > k * k * SPARSE_SHARE:
            return None
        entry, src = membership.expand(row)
        other, dst = membership.expand(column[entry])
        src, value = src[other], value[entry][other]
        between = src != dst  # a group with itself is the view's diagonal, folded apart
        blocks.append(src[between].astype(np.int64) * n + dst[between])
        values.append(value[between])
    return _fold(
        np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int64),
        np.concatenate(values) if values else np.zeros(0, dtype=np.int32),
        membership.sizes,
        bits,
    )


def _entries(
    ids: Ids, membership: _Membership, allowing: tuple[Indexes, Indexes] | None
) -> Iterator[tuple[Indexes, Indexes, Ids]]:
    """(row, column, id) of the entries of ``ids`` that are not NOTHING, a band at a time:
    read at ``allowing``, or found by scanning the rows of the classes in some group."""
    k = ids.shape[0]
    if allowing is not None:
        for start in range(0, len(allowing[0]), BAND_ELEMENTS):
            row, column = (a[start : start + BAND_ELEMENTS] for a in allowing)
            yield row, column, ids[row, column]
        return
    rows = np.flatnonzero(membership.count)  # a class in no group adds nothing
    band = max(1, BAND_ELEMENTS // max(1, k))
    for start in range(0, len(rows), band):
        picked = rows[start : start + band]
        part = ids[picked[0] : picked[-1] + 1] if len(rows) == k else ids[picked]
        flat = np.flatnonzero(part != MaskTable.NOTHING)
        row, column = np.divmod(flat, k)
        yield picked[row], column, part.ravel()[flat]


def _fold(
    blocks: npt.NDArray[np.int64], values: Ids, sizes: Indexes, bits: MaskBits
) -> tuple[Ids, Ids]:
    """``fold_blocks`` from the blocks (src * n + dst) and ids of the matrix's entries that
    are not NOTHING, one entry per class pair of a block."""
    n = len(sizes)
    union = np.zeros((n, n), dtype=np.int32)
    inter = np.zeros((n, n), dtype=np.int32)
    if not len(blocks):
        return union, inter
    span = int(values.max()) + 1
    codes = np.unique(blocks * span + values)  # each distinct (block, id) once, by block
    code_block, code_value = np.divmod(codes, span)
    starts = np.flatnonzero(np.diff(code_block, prepend=-1))
    present = code_block[starts]
    # a block's common part is something only where each of its class pairs is
    pairs = np.bincount(np.searchsorted(present, blocks), minlength=len(present))
    src, dst = np.divmod(present, n)
    whole = pairs == sizes[src] * sizes[dst]
    value_ids = code_value.astype(np.int32)
    union.flat[present] = bits.fold_segments(value_ids, starts, intersect=False)
    if whole.any():
        # the segments of the whole blocks only, as one run of ids with their own starts
        segment_lengths = np.diff(np.append(starts, len(codes)))
        kept = np.repeat(whole, segment_lengths)
        lengths = segment_lengths[whole]
        inter.flat[present[whole]] = bits.fold_segments(
            value_ids[kept], np.cumsum(lengths) - lengths, intersect=True
        )
    return union, inter
