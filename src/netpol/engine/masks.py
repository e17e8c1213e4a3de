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
        self._interval_cache: dict[tuple[str, int, int], int] = {}
        self._port_cache: dict[tuple[str, int], int] = {}
        self._set_cache: dict[int, ConnectionSet] = {}
        # atoms as arrays, for turning a mask back into intervals without a loop per group
        self._atom_group = np.array(self._group_of_atom, dtype=np.intp)
        self._atom_lo = np.array([lo for _, lo, _ in atoms], dtype=np.int64)
        self._atom_hi = np.array([hi for _, _, hi in atoms], dtype=np.int64)
        self._segments: list[tuple[int, int]] = []  # atoms of each protocol, in PROTOCOLS order
        for protocol in PROTOCOLS:
            first = self._atom_index[(protocol, 1)]
            self._segments.append((first, first + len(self._cuts[protocol]) - 1))

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
            yield from self._atoms_between(protocol, lo, hi)

    def _atoms_between(self, protocol: str, lo: int, hi: int) -> range:
        cuts = self._cuts[protocol]
        first = self._atom_index[(protocol, lo)]
        count = bisect.bisect_left(cuts, hi + 1) - bisect.bisect_left(cuts, lo)
        return range(first, first + count)

    def mask(self, conns: ConnectionSet) -> int:
        """Group bitmask of a connection set that was among those the atoms were cut by."""
        found = self._mask_cache.get(conns)
        if found is None:
            found = 0
            for protocol, lo, hi in conns:
                found |= self._interval_mask(protocol, lo, hi)
            self._mask_cache[conns] = found
        return found

    def _interval_mask(self, protocol: str, lo: int, hi: int) -> int:
        """Group bitmask of ports ``lo..hi`` of ``protocol``: the sets of a large cluster
        repeat a few intervals (whole protocols, common ports) in thousands of combinations."""
        key = (protocol, lo, hi)
        found = self._interval_cache.get(key)
        if found is None:
            found = 0
            for atom in self._atoms_between(protocol, lo, hi):
                found |= 1 << self._group_of_atom[atom]
            self._interval_cache[key] = found
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
            found = self._set_cache[mask] = self._intervals_of(mask)
        return found

    def _intervals_of(self, mask: int) -> ConnectionSet:
        """The union of the mask's groups: runs of adjacent chosen atoms become intervals
        (atoms are ordered and tile each protocol's ports), which is the merged form
        ``ConnectionSet.union_of`` would give, without walking thousands of groups in Python."""
        raw = np.frombuffer(mask.to_bytes(max(1, (self.groups + 7) // 8), "little"), np.uint8)
        chosen = np.unpackbits(raw, bitorder="little")[: self.groups].astype(bool)[self._atom_group]
        parts: list[tuple[tuple[int, int], ...]] = []
        for start, end in self._segments:
            picked = chosen[start:end]
            if not picked.any():
                parts.append(())
                continue
            edges = np.diff(np.concatenate(([0], picked.astype(np.int8), [0])))
            lows = self._atom_lo[start + np.flatnonzero(edges == 1)]
            highs = self._atom_hi[start + np.flatnonzero(edges == -1) - 1]
            parts.append(tuple(zip(lows.tolist(), highs.tolist(), strict=True)))
        return ConnectionSet((parts[0], parts[1], parts[2]))

    @property
    def full(self) -> int:
        return (1 << self.groups) - 1


def _by_protocol(atoms: list[tuple[str, int, int]]) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for protocol, lo, hi in atoms:
        out.setdefault(protocol, []).append((lo, hi))
    return out


Ids = npt.NDArray[np.int32]
Present = npt.NDArray[np.intp]  # the distinct ids found in an array


UNION, INTERSECT, DIFFERENCE = "union", "intersect", "difference"
CHUNK = 1 << 22  # elements per combine step: bounds the int64 temporaries
BAND_ELEMENTS = 1 << 22  # matrix cells per band: bounds the codes and their temporaries


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

    def _operate_all(self, operation: str, xs: list[int], ys: list[int]) -> list[int]:
        """``operate`` over pairs of ids, the cache read inline: a fold over a large view
        asks for about a million pairs, nearly all of them cached."""
        cached = self._cache.get
        out = []
        for x, y in zip(xs, ys, strict=True):
            found = cached((operation, x, y))
            out.append(self.operate(operation, x, y) if found is None else found)
        return out

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
        return self.combine_many(a, b, (operation,))[0]

    def combine_many(self, a: Ids, b: Ids, operations: tuple[str, ...]) -> list[Ids]:
        """Elementwise ``a OP b`` for each operation, the (a, b) codes computed once, in
        chunks so a large matrix needs no second int64 copy of itself."""
        out = [np.empty(a.shape, dtype=np.int32) for _ in operations]
        if a.size == 0:
            return out
        flat_a, flat_b = a.reshape(-1), b.reshape(-1)
        flat_out = [o.reshape(-1) for o in out]
        for start in range(0, flat_a.size, CHUNK):
            part = slice(start, start + CHUNK)
            mapped = self._combine_flat(flat_a[part], flat_b[part], operations)
            for target, values in zip(flat_out, mapped, strict=True):
                target[part] = values
        return out

    def _combine_flat(self, a: Ids, b: Ids, operations: tuple[str, ...]) -> list[Ids]:
        # ids are dense small integers and few of them occur together: renumber the ids
        # present on each side, so the pair codes index a small lookup table (sorting the
        # codes with np.unique costs far more on large matrices)
        width = len(self.masks)
        left = np.flatnonzero(np.bincount(a, minlength=width))
        right = np.flatnonzero(np.bincount(b, minlength=width))
        if len(left) == 1 or len(right) == 1:
            # one side is a single id (a fresh block, nothing passed yet): a lookup over
            # the other side's ids does it in one gather
            return [self._one_sided(operation, a, b, left, right) for operation in operations]
        rank_left = np.zeros(width, dtype=np.int64)
        rank_left[left] = np.arange(len(left))
        rank_right = np.zeros(width, dtype=np.int64)
        rank_right[right] = np.arange(len(right))
        codes = rank_left[a] * len(right) + rank_right[b]
        size = len(left) * len(right)
        if size > 4 * codes.size:  # too many combinations for a table: sort the codes
            present, inverse = np.unique(codes, return_inverse=True)
        else:
            present = np.flatnonzero(np.bincount(codes, minlength=size))
            inverse = None
        xs = left[present // len(right)].tolist()
        ys = right[present % len(right)].tolist()
        results = []
        for operation in operations:
            mapped = np.array(self._operate_all(operation, xs, ys), dtype=np.int32)
            if inverse is not None:
                results.append(mapped[inverse])
                continue
            lookup = np.zeros(size, dtype=np.int32)
            lookup[present] = mapped
            results.append(lookup[codes])
        return results

    def _one_sided(self, operation: str, a: Ids, b: Ids, left: Present, right: Present) -> Ids:
        """``a OP b`` when ``left`` (the ids present in ``a``) or ``right`` is one id."""
        lookup = np.zeros(len(self.masks), dtype=np.int32)
        if len(left) == 1:
            x = int(left[0])
            lookup[right] = [self.operate(operation, x, int(y)) for y in right]
            return lookup[b]
        y = int(right[0])
        lookup[left] = [self.operate(operation, int(x), y) for x in left]
        return lookup[a]
