"""Connection sets as bitmasks over port-atom groups, and a table of distinct masks.

The (protocol, port) space is cut into atoms by every connection set in play; atoms that
every rule treats alike merge into one group, and a set of connections becomes a bitmask
over the groups (a Python int of any width). Distinct masks are few, so matrices hold
small integer ids into a ``MaskTable``, and set operations run once per distinct id.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

from netpol.engine.ports import PROTOCOLS, ConnectionSet


class PortAtoms:
    """Port atoms grouped by identical coverage; each group is one bit of a mask."""

    def __init__(self, sets: Iterable[ConnectionSet]) -> None:
        distinct = list(dict.fromkeys(sets))
        self._cuts = {p: sorted({1, 65536} | self._bounds(distinct, p)) for p in PROTOCOLS}
        atoms: list[tuple[str, int, int]] = [
            (p, cuts[i], cuts[i + 1] - 1)
            for p in PROTOCOLS
            for cuts in (self._cuts[p],)
            for i in range(len(cuts) - 1)
        ]
        self._atom_index = {(p, lo): i for i, (p, lo, _) in enumerate(atoms)}
        coverage: list[list[int]] = [[] for _ in atoms]
        for set_id, conns in enumerate(distinct):
            for atom_id in self._atoms_of(conns):
                coverage[atom_id].append(set_id)
        group_of_signature: dict[tuple[int, ...], int] = {}
        self._group_of_atom: list[int] = []
        members: list[list[tuple[str, int, int]]] = []
        for atom, signature in zip(atoms, coverage, strict=True):
            group = group_of_signature.setdefault(tuple(signature), len(group_of_signature))
            if group == len(members):
                members.append([])
            members[group].append(atom)
            self._group_of_atom.append(group)
        self.groups = len(members)
        self.group_sets = [ConnectionSet.from_intervals(_by_protocol(m)) for m in members]
        self._mask_cache: dict[ConnectionSet, int] = {}
        self._port_cache: dict[tuple[str, int], int] = {}
        self._set_cache: dict[int, ConnectionSet] = {}

    @staticmethod
    def _bounds(sets: list[ConnectionSet], protocol: str) -> set[int]:
        cuts: set[int] = set()
        for conns in sets:
            for lo, hi in conns.intervals(protocol):
                cuts.add(lo)
                cuts.add(hi + 1)
        return cuts

    def _atoms_of(self, conns: ConnectionSet) -> Iterator[int]:
        for protocol, lo, hi in conns:
            cuts = self._cuts[protocol]
            first = self._atom_index[(protocol, lo)]
            count = bisect.bisect_left(cuts, hi + 1) - bisect.bisect_left(cuts, lo)
            yield from range(first, first + count)

    def mask(self, conns: ConnectionSet) -> int:
        """Group bitmask of a connection set that was among those the atoms were cut by."""
        found = self._mask_cache.get(conns)
        if found is None:
            found = 0
            for atom in self._atoms_of(conns):
                found |= 1 << self._group_of_atom[atom]
            self._mask_cache[conns] = found
        return found

    def port_mask(self, protocol: str, port: int) -> int:
        """Group bitmask of one (protocol, port), as resolved named ports need."""
        key = (protocol, port)
        found = self._port_cache.get(key)
        if found is None:
            found = self._port_cache[key] = self.mask(ConnectionSet.of(protocol, port))
        return found

    def connections(self, mask: int) -> ConnectionSet:
        found = self._set_cache.get(mask)
        if found is None:
            found = ConnectionSet.union_of(
                self.group_sets[g] for g in range(self.groups) if mask >> g & 1
            )
            self._set_cache[mask] = found
        return found

    @property
    def full(self) -> int:
        return (1 << self.groups) - 1


def _by_protocol(atoms: list[tuple[str, int, int]]) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for protocol, lo, hi in atoms:
        out.setdefault(protocol, []).append((lo, hi))
    return out


Ids = npt.NDArray[np.int32]


UNION, INTERSECT, DIFFERENCE = "union", "intersect", "difference"


class MaskTable:
    """Distinct group masks by id: 0 is nothing, 1 is everything; set operations cached."""

    NOTHING, EVERYTHING = 0, 1

    def __init__(self, full: int) -> None:
        self.masks: list[int] = [0, full]
        self._ids: dict[int, int] = {0: 0, full: 1}
        self._cache: dict[tuple[str, int, int], int] = {}

    def id(self, mask: int) -> int:
        found = self._ids.get(mask)
        if found is None:
            found = self._ids[mask] = len(self.masks)
            self.masks.append(mask)
        return found

    def operate(self, operation: str, a: int, b: int) -> int:
        """The id of ``a`` UNION/INTERSECT/DIFFERENCE ``b`` (ids in, id out)."""
        key = (operation, a, b)
        found = self._cache.get(key)
        if found is None:
            x, y = self.masks[a], self.masks[b]
            if operation == UNION:
                mask = x | y
            elif operation == INTERSECT:
                mask = x & y
            else:
                mask = x & ~y
            found = self._cache[key] = self.id(mask)
        return found

    def union(self, a: int, b: int) -> int:
        return self.operate(UNION, a, b)

    def intersect(self, a: int, b: int) -> int:
        return self.operate(INTERSECT, a, b)

    def union_with(self, ids: Ids, mask_id: int) -> Ids:
        return self.apply(UNION, ids, mask_id)

    def apply(self, operation: str, ids: Ids, mask_id: int) -> Ids:
        """Elementwise ``ids OP mask``, one table lookup per distinct id."""
        if ids.size == 0:
            return ids.copy()
        low, high = int(ids.min()), int(ids.max())
        if low == high:  # one value (often all zero): no sort needed
            return np.full(ids.shape, self.operate(operation, low, mask_id), dtype=np.int32)
        # ids are small dense integers: a lookup table beats sorting for np.unique
        present = np.flatnonzero(np.bincount(ids.ravel(), minlength=high + 1))
        lookup = np.zeros(high + 1, dtype=np.int32)
        lookup[present] = [self.operate(operation, int(i), mask_id) for i in present]
        return lookup[ids]

    def combine(self, a: Ids, b: Ids, operation: str) -> Ids:
        """Elementwise ``a OP b`` of two id arrays of one shape."""
        if a.size == 0:
            return a.copy()
        width = np.int64(len(self.masks))
        codes = a.astype(np.int64) * width + b
        distinct, inverse = np.unique(codes, return_inverse=True)
        mapped = np.array(
            [self.operate(operation, int(c // width), int(c % width)) for c in distinct],
            dtype=np.int32,
        )
        return mapped[inverse].reshape(a.shape)
