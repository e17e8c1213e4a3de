"""A view's pairs as columns: source, destination and a cell shared by every pair alike.

A workload view of a large cluster holds half a million pairs but a few hundred distinct
(connections, common part, L7-filtered part) cells. A writer encodes each cell and each
endpoint once and joins pieces per pair, instead of building and asking an object per
pair; the order of the rows is the order of ``MatrixView.pairs``: row-major.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from netpol.engine.ports import ConnectionSet

NOTHING = ConnectionSet.none()

Indexes = npt.NDArray[np.intp]


def disagree(connections: ConnectionSet, common: ConnectionSet) -> bool:
    """Some member pod pair is allowed less than the union of them all."""
    return connections is not common and connections != common


@dataclass(frozen=True, slots=True)
class PairCell:
    """What a pair's member pod pairs are allowed: their union, their common part, and what
    only Cilium rules with L7 parts allow (open at L4, filtered by the proxy)."""

    connections: ConnectionSet
    common: ConnectionSet
    l7: ConnectionSet = NOTHING

    @property
    def mixed(self) -> bool:
        """Member pod pairs disagree."""
        return disagree(self.connections, self.common)

    def restricted(self, ports: ConnectionSet) -> PairCell:
        """The cell seen through ``ports`` only (members may agree there)."""
        return PairCell(self.connections & ports, self.common & ports, self.l7 & ports)


@dataclass(frozen=True, eq=False)
class PairColumns:
    """Pairs of endpoint indexes, row-major, each naming its cell in ``cells``."""

    src: Indexes
    dst: Indexes
    cell: Indexes
    cells: list[PairCell]

    def __len__(self) -> int:
        return len(self.src)

    def rows(self) -> Iterator[tuple[int, int, PairCell]]:
        cells = self.cells
        for s, d, c in zip(self.src.tolist(), self.dst.tolist(), self.cell.tolist(), strict=True):
            yield s, d, cells[c]

    def shown(self, ports: ConnectionSet | None, keep_empty: bool) -> PairColumns:
        """The pairs restricted to ``ports``; those left empty only with ``keep_empty``."""
        cells = self.cells if ports is None else [c.restricted(ports) for c in self.cells]
        if keep_empty:
            return PairColumns(self.src, self.dst, self.cell, cells)
        kept = np.array([not c.connections.is_empty for c in cells], dtype=bool)
        rows = kept[self.cell] if len(cells) else np.zeros(0, dtype=bool)
        return PairColumns(self.src[rows], self.dst[rows], self.cell[rows], cells)

    def used(self) -> list[int]:
        """The cells some row names."""
        return np.flatnonzero(np.bincount(self.cell, minlength=len(self.cells))).tolist()

    @property
    def mixed(self) -> npt.NDArray[np.bool_]:
        """Per row: its member pod pairs disagree."""
        flags = np.array([c.mixed for c in self.cells], dtype=bool)
        return flags[self.cell] if len(flags) else np.zeros(len(self.cell), dtype=bool)


def pair_columns(
    src: Indexes,
    dst: Indexes,
    union: npt.NDArray[np.integer],
    inter: npt.NDArray[np.integer],
    connections_of: Callable[[int], ConnectionSet],
    without_l7: tuple[npt.NDArray[np.integer], Callable[[int], ConnectionSet]] | None = None,
) -> PairColumns:
    """Columns from mask ids per pair: ``union`` and ``inter`` are ids ``connections_of``
    turns into sets. ``without_l7``: per pair, the union id of the same view without the
    L7-filtered rules (-1 where it has no such pair), and how its ids turn into sets."""
    keys = [union, inter] if without_l7 is None else [union, inter, without_l7[0] + 1]
    first, cell = _distinct_rows(keys)
    cells = []
    for row in first.tolist():
        connections = connections_of(int(union[row]))
        common = connections_of(int(inter[row]))
        l7 = NOTHING
        if without_l7 is not None:
            other = int(without_l7[0][row])
            l7 = connections - (without_l7[1](other) if other >= 0 else NOTHING)
        cells.append(PairCell(connections, common, NOTHING if l7.is_empty else l7))
    return PairColumns(src, dst, cell.astype(np.intp), cells)


def _distinct_rows(keys: list[npt.NDArray[np.integer]]) -> tuple[Indexes, Indexes]:
    """The distinct tuples (keys[0][k], keys[1][k], ...) of small non-negative ids: a row
    holding each, and per row the number of its tuple."""
    count = len(keys[0])
    code = np.zeros(count, dtype=np.int64)
    size = 1
    for key in keys:
        # renumber the ids present, so the codes stay within the combinations that occur
        present = np.flatnonzero(np.bincount(key)) if count else np.zeros(0, dtype=np.intp)
        rank = np.zeros(int(present[-1]) + 1 if len(present) else 1, dtype=np.int64)
        rank[present] = np.arange(len(present))
        code = code * max(1, len(present)) + rank[key]
        size *= max(1, len(present))
    if size > 4 * count + 1024:  # too many combinations for a table: sort the codes
        _, first, cell = np.unique(code, return_index=True, return_inverse=True)
        return first, cell.reshape(-1)
    seen = np.bincount(code, minlength=size)
    found = np.flatnonzero(seen)
    number = np.zeros(size, dtype=np.intp)
    number[found] = np.arange(len(found))
    cell = number[code]
    first = np.zeros(len(found), dtype=np.intp)
    first[cell] = np.arange(count)  # any row of a tuple stands for it
    return first, cell
