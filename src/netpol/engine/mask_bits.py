"""Union and intersection of many mask ids at once, over the masks' bits as numpy words.

A namespace view of a large cluster folds thousands of classes per group: through
``MaskTable.combine`` that is one table lookup per distinct pair of ids, per level of a
pairwise fold, in Python. Here each id becomes its mask as a row of 64-bit words, a fold
is one ``bitwise_or``/``bitwise_and`` reduction, and only the distinct results go back
to the table as ids.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from netpol.engine.masks import Ids, MaskTable

Words = npt.NDArray[np.uint64]
GATHER_WORDS = 1 << 22  # words per gather of rows of bits: bounds the temporary (32 MB)
# odd multipliers that spread each word over the digest (a Weyl sequence: no
# numpy.random, whose import alone costs a small matrix's whole run)
_SPREAD = (np.arange(1, 65, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) | np.uint64(1)


class MaskBits:
    """The masks of ``table`` as rows of words, kept in step as the table grows."""

    def __init__(self, table: MaskTable, groups: int) -> None:
        self.table = table
        self.words = max(1, (groups + 63) // 64)
        # room for more rows than are filled: the table grows a few masks per fold, and a
        # buffer that at least doubles when full is copied O(log) times, not at every fold
        self._rows: Words = np.zeros((0, self.words), dtype="<u8")
        self._filled = 0

    def _bits(self) -> Words:
        """The rows of every mask of the table, by id."""
        masks = self.table.masks
        filled = self._filled
        if filled < len(masks):
            size = self.words * 8
            new = b"".join(m.to_bytes(size, "little") for m in masks[filled:])
            added = np.frombuffer(new, dtype="<u8").reshape(-1, self.words)
            end = filled + len(added)
            if end > len(self._rows):
                grown = np.zeros((max(end, 2 * len(self._rows)), self.words), dtype="<u8")
                grown[:filled] = self._rows[:filled]
                self._rows = grown
            self._rows[filled:end] = added
            self._filled = end
        return self._rows[: self._filled]

    def fold_both(self, rows: Ids) -> tuple[Ids, Ids]:
        """Union and intersection of the rows of ``rows``, column by column."""
        union, inter = self.fold(rows, (False, True))
        return union, inter

    def fold(self, rows: Ids, intersect: tuple[bool, ...]) -> list[Ids]:
        """Per entry of ``intersect``: the intersection (True) or the union (False) of the
        rows of ``rows``, column by column, folding only the columns where the rows differ:
        where every row holds one id, that id is both. The members of a group mostly agree
        (a namespace's classes towards the rest of a large cluster)."""
        first = rows[0]
        varying = np.flatnonzero((rows[1:] != first).any(axis=0))
        if not len(varying):
            return [first for _ in intersect]
        results = [first.copy() for _ in intersect]
        differing = rows[:, varying]
        bits = self._bits()
        count, width = differing.shape
        operations = [np.bitwise_and if wanted else np.bitwise_or for wanted in intersect]
        # the identity of each: every bit for an intersection, none for a union
        folds = [
            np.full((width, self.words), np.uint64(2**64 - 1) if wanted else 0, dtype="<u8")
            for wanted in intersect
        ]
        step = max(1, GATHER_WORDS // (self.words * width))  # rows per gather
        for start in range(0, count, step):
            gathered = bits[differing[start : start + step]]
            for operation, fold in zip(operations, folds, strict=True):
                operation(fold, operation.reduce(gathered, axis=0), out=fold)
        for result, fold in zip(results, folds, strict=True):
            result[varying] = self._ids(fold)
        return results

    def fold_segments(self, ids: Ids, starts: npt.NDArray[np.intp], intersect: bool) -> Ids:
        """The intersection (True) or union (False) of each segment of ``ids``: segment s is
        ``ids[starts[s]:starts[s + 1]]`` (the last runs to the end), ``starts`` ascending
        from 0. One reduction over the gathered bits, a bounded run of segments at a time."""
        if not len(starts):
            return np.zeros(0, dtype=np.int32)
        operation = np.bitwise_and if intersect else np.bitwise_or
        ends = np.append(starts[1:], len(ids))
        bits = self._bits()
        step = max(1, GATHER_WORDS // self.words)  # ids per gather
        out = np.empty(len(starts), dtype=np.int32)
        first = 0
        while first < len(starts):
            # the segments that fit in one gather (at least one, however long)
            last = max(first + 1, int(np.searchsorted(ends, starts[first] + step, "right")))
            low, high = int(starts[first]), int(ends[last - 1])
            gathered = bits[ids[low:high]]
            folded = operation.reduceat(gathered, starts[first:last] - low, axis=0)
            out[first:last] = self._ids(folded)
            first = last
        return out

    def _ids(self, rows: Words) -> Ids:
        """The table id of each row of words (new masks added to the table)."""
        spread = _SPREAD[np.arange(self.words) % len(_SPREAD)]
        digest = (rows * spread).sum(axis=1, dtype=np.uint64)
        _, first, number = np.unique(digest, return_index=True, return_inverse=True)
        number = number.reshape(-1)
        if not (rows[first][number] == rows).all():  # two masks share a digest: compare whole
            keys = np.ascontiguousarray(rows).view(np.dtype((np.void, self.words * 8))).ravel()
            _, first, number = np.unique(keys, return_index=True, return_inverse=True)
            number = number.reshape(-1)
        table = self.table
        found = [table.id(int.from_bytes(rows[k].tobytes(), "little")) for k in first.tolist()]
        return np.array(found, dtype=np.int32)[number]
