"""The pod pairs a ``default: deny`` (or ``allow``) finds, per pair of classes, never per pod pair.

Pods of one class are alike to every policy, so every pair of two classes that no expectation
lists, and where no node exception applies, has the same connections: the class pair's. A
default's violations are therefore blocks (the member pairs of a class pair whose connections
break the default) plus a few exceptions (the pairs an expectation lists, the pairs a node
exception overrides), each decided on its own. ``DefaultViolations`` holds them in that form:
its length is counted per class pair, its first pairs (what the table prints) are found
without the rest, and only a full iteration (JSON, JUnit) makes one object per violating pair,
which such output prints anyway. At 10k pods that is (classes)^2 of work for a table instead
of a hundred million pod pairs.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from netpol.analysis.built_on_read import BuiltOnRead
from netpol.analysis.evidence import explain_pair
from netpol.analysis.verify import DefaultViolation
from netpol.engine.compile import CompiledCluster
from netpol.engine.explain import Explanation
from netpol.engine.matrix import ClassMatrix
from netpol.engine.ports import ConnectionSet
from netpol.model.objects import Pod

PodTest = Callable[[Pod], bool]
BAND = 1024  # rows of the class matrix counted at a time


_NOTHING_LISTED = ConnectionSet.none()


class _Connections(dict[int, ConnectionSet]):
    """``connections(masks[i])`` by mask id ``i``, each made on first use."""

    def __init__(self, connections: Callable[[int], ConnectionSet], masks: Sequence[int]) -> None:
        super().__init__()
        self._connections = connections
        self._masks = masks

    def __missing__(self, i: int) -> ConnectionSet:
        found = self[i] = self._connections(self._masks[i])
        return found


@dataclass(frozen=True)
class _Exception:
    """A pair decided on its own: listed by an expectation, or overridden by a node exception."""

    extra: ConnectionSet
    allowed: ConnectionSet


class DefaultViolations(BuiltOnRead[DefaultViolation]):
    """The violations of a default, in (source id, destination id) order, made on demand.

    A pair is in when it is a violation and every one of ``ends`` admits its source or its
    destination (the default's scope, then the ``-n``/``-l`` scope of ``touching``)."""

    def __init__(
        self,
        cc: CompiledCluster,
        matrix: ClassMatrix,
        mode: str,
        covered: dict[tuple[str, str], ConnectionSet],
        ends: tuple[PodTest, ...],
        explained: int,
    ) -> None:
        self.cc = cc
        self.mode = mode
        self.ends = ends
        partition = matrix.partition
        self._class_of = class_of = partition.class_of_pod
        classed = [(pod.id, pod) for pod in cc.cluster.pods]  # ids are made on each ask
        classed = [(pod_id, pod) for pod_id, pod in classed if pod_id in class_of]
        self._input_order = [pod for _, pod in classed]
        classed.sort(key=lambda entry: entry[0])
        self._pods = [pod for _, pod in classed]
        self._classes = np.array([class_of[pod_id] for pod_id, _ in classed], dtype=np.intp)
        # per end, which of the sorted pods it admits
        self._admitted = [self._admitted_by(end) for end in ends]
        self._length: int | None = None
        ids = self._ids = matrix.ids
        masks, atoms = matrix.table.masks, matrix.atoms
        # a mask's connections are made when a violation asks for them (a table prints a
        # few): thousands of distinct masks at 100k pods, each a numpy walk
        self._allowed_of = _Connections(atoms.connections, masks)
        self._extra_of = _Connections(lambda mask: self._extra(atoms.connections(mask)), masks)
        if mode == "deny":  # every allowed connection is extra: a mask with a bit violates
            violating = np.fromiter((mask != 0 for mask in masks), dtype=bool, count=len(masks))
        else:
            present = np.flatnonzero(np.bincount(ids.ravel(), minlength=len(masks)))
            violating = np.zeros(len(masks), dtype=bool)
            for i in present:
                violating[i] = not self._extra_of[int(i)].is_empty
        self._violating = violating[ids]  # [src class, dst class]: its unlisted pairs violate
        self._exceptions = self._decided_alone(matrix, covered)
        self._explained = self._evidence(explained)

    def _extra(
        self, allowed: ConnectionSet, listed: ConnectionSet = _NOTHING_LISTED
    ) -> ConnectionSet:
        return allowed - listed if self.mode == "deny" else ~listed - allowed

    def _decided_alone(
        self, matrix: ClassMatrix, covered: dict[tuple[str, str], ConnectionSet]
    ) -> dict[tuple[str, str], _Exception]:
        """The pairs whose verdict is not their class pair's: a listed one, or one a node
        exception overrides (a node reaches the pods on it, a pod perhaps its node)."""
        by_id = self.cc.cluster.pod_by_id
        of = self._class_of
        pairs = {k for k in covered if k[0] != k[1] and k[0] in of and k[1] in of}
        if matrix.has_node_classes:
            on_node: dict[str, list[Pod]] = {}
            for pod in self._input_order:
                if pod.node:
                    on_node.setdefault(pod.node, []).append(pod)
            for group in on_node.values():
                for x, y in itertools.product(group, group):
                    if x.id != y.id and matrix.overridden(of[x.id], x.node, of[y.id], y.node):
                        pairs.add((x.id, y.id))
        found = {}
        for s, d in pairs:
            src, dst = by_id[s], by_id[d]
            a, b = of[s], of[d]
            if matrix.overridden(a, src.node, b, dst.node):
                allowed = ConnectionSet.all()
            else:
                allowed = self._allowed_of[int(self._ids[a, b])]
            listed = covered.get((s, d), ConnectionSet.none())
            found[(s, d)] = _Exception(self._extra(allowed, listed), allowed)
        return found

    def _kept(self, src: Pod, dst: Pod) -> bool:
        return all(end(src) or end(dst) for end in self.ends)

    def _verdict(self, src: Pod, dst: Pod) -> tuple[ConnectionSet, ConnectionSet] | None:
        """(extra, allowed) of a violating pair, or None."""
        alone = self._exceptions.get((src.id, dst.id))
        if alone is not None:
            return None if alone.extra.is_empty else (alone.extra, alone.allowed)
        i = int(self._ids[self._class_of[src.id], self._class_of[dst.id]])
        extra = self._extra_of[i]
        return None if extra.is_empty else (extra, self._allowed_of[i])

    def _evidence(self, limit: int) -> dict[tuple[str, str], Explanation]:
        """The first ``limit`` violations, in the order of the classes and then of their
        pods in the input (as the report has always chosen them), explained."""
        members: dict[int, list[Pod]] = {}
        for pod in self._input_order:
            members.setdefault(self._class_of[pod.id], []).append(pod)
        position = np.full(len(self._ids), len(members), dtype=np.intp)
        position[list(members)] = np.arange(len(members))
        alone_blocks: dict[int, set[int]] = {}
        for (s, d), e in self._exceptions.items():
            if not e.extra.is_empty:
                alone_blocks.setdefault(self._class_of[s], set()).add(self._class_of[d])
        found: dict[tuple[str, str], Explanation] = {}
        counts = self._counts()
        for a in members:
            row = {int(b) for b in np.flatnonzero(self._violating[a]) if position[b] < len(members)}
            for b in sorted(row | alone_blocks.get(a, set()), key=lambda c: position[c]):
                if b not in alone_blocks.get(a, ()) and not self._block_pairs(counts, a, b):
                    continue  # every pair of the block left out by the scope
                for src, dst in itertools.product(members[a], members[b]):
                    if len(found) >= limit:
                        return found
                    if src.id == dst.id or not self._kept(src, dst):
                        continue
                    verdict = self._verdict(src, dst)
                    if verdict is None:
                        continue
                    protocol, port, _ = next(iter(verdict[0]))
                    found[(src.id, dst.id)] = explain_pair(
                        self.cc, self.cc.endpoint(src), self.cc.endpoint(dst), protocol, port
                    )
        return found

    def touching(self, admits: PodTest) -> DefaultViolations:
        """Only the violations with a source or destination that ``admits`` keeps."""
        narrowed = object.__new__(DefaultViolations)
        narrowed.__dict__.update(self.__dict__)
        narrowed.ends = (*self.ends, admits)
        narrowed._admitted = [*self._admitted, self._admitted_by(admits)]
        narrowed._length = None
        return narrowed

    def explained(self) -> list[DefaultViolation]:
        """The violations that carry evidence, in order."""
        by_id = self.cc.cluster.pod_by_id
        found = []
        for s, d in sorted(self._explained):
            src, dst = by_id[s], by_id[d]
            verdict = self._verdict(src, dst)
            if verdict is not None and self._kept(src, dst):
                found.append(self._violation(src, dst, *verdict))
        return found

    def _violation(
        self, src: Pod, dst: Pod, extra: ConnectionSet, allowed: ConnectionSet
    ) -> DefaultViolation:
        evidence = self._explained.get((src.id, dst.id))
        return DefaultViolation(
            self.cc.endpoint(src), self.cc.endpoint(dst), extra, allowed, evidence
        )

    def __iter__(self) -> Iterator[DefaultViolation]:
        pods, by_id = self._pods, self.cc.cluster.pod_by_id
        alone_by_src: dict[str, list[str]] = {}
        for s, d in self._exceptions:
            alone_by_src.setdefault(s, []).append(d)
        admitted = self._admitted
        row_class, row = -1, np.zeros(0, dtype=np.intp)
        for i, src in enumerate(pods):
            a = self._class_of[src.id]
            if a != row_class:  # pods of a workload are one class and sort together
                row_class, row = a, np.flatnonzero(self._violating[a][self._classes])
            kept = row
            for admits in admitted:
                if not admits[i]:  # then the destination must be admitted
                    kept = kept[admits[kept]]
            in_row = (pods[j].id for j in kept)
            # the pairs decided alone, in the violating blocks or not, merged in order
            alone = sorted(alone_by_src.get(src.id, ()))
            for dst_id, _ in itertools.groupby(heapq.merge(in_row, alone)):
                if dst_id == src.id:
                    continue
                dst = by_id[dst_id]
                verdict = self._verdict(src, dst)
                if verdict is not None and self._kept(src, dst):
                    yield self._violation(src, dst, *verdict)

    def _counts(self) -> npt.NDArray[np.int64]:
        """[class, combination of ends]: how many of the class's pods admit just those ends."""
        counts = np.zeros((len(self._ids), 1 << len(self.ends)), dtype=np.int64)
        kinds = np.zeros(len(self._pods), dtype=np.intp)
        for i, admits in enumerate(self._admitted):
            kinds |= admits.astype(np.intp) << i
        np.add.at(counts, (self._classes, kinds), 1)
        return counts

    def _kept_kinds(self) -> npt.NDArray[np.int64]:
        """[x, y]: 1 when a pair whose ends admit combinations x and y is kept."""
        kinds = 1 << len(self.ends)
        full = kinds - 1
        return np.array([[int((x | y) == full) for y in range(kinds)] for x in range(kinds)])

    def _block_pairs(self, counts: npt.NDArray[np.int64], a: int, b: int) -> int:
        """Member pairs of classes ``a`` and ``b`` kept by the ends, a pod with itself not."""
        pairs = int(counts[a] @ self._kept_kinds() @ counts[b])
        return pairs - int(counts[a, -1]) if a == b else pairs

    def __len__(self) -> int:
        if self._length is None:
            self._length = self._count()
        return self._length

    def _count(self) -> int:
        """Per class pair: the member pairs kept in the violating blocks, minus the pairs
        decided alone there that do not violate, plus those outside that do."""
        counts = self._counts()
        # sum over a, b violating of counts[a] @ kept @ counts[b]
        #   = sum over a of (counts[a] @ kept) . (sum over b violating from a of counts[b]),
        # the inner sum a product of matrices (float64, for BLAS: exact, every partial sum
        # is an integer below the square of the pods, far under 2**53)
        weights = counts @ self._kept_kinds()
        as_float = counts.astype(np.float64)
        total = 0
        for start in range(0, len(self._ids), BAND):
            reached = self._violating[start : start + BAND].astype(np.float64) @ as_float
            total += int((weights[start : start + BAND] * reached.astype(np.int64)).sum())
        diagonal = np.flatnonzero(np.diag(self._violating))
        total -= int(counts[diagonal, -1].sum())  # a pod with itself, kept when all admit it
        by_id = self.cc.cluster.pod_by_id
        for (s, d), alone in self._exceptions.items():
            if self._kept(by_id[s], by_id[d]):
                in_block = bool(self._violating[self._class_of[s], self._class_of[d]])
                total += (not alone.extra.is_empty) - in_block
        return total

    def _admitted_by(self, end: PodTest) -> npt.NDArray[np.bool_]:
        return np.array([end(p) for p in self._pods], dtype=bool)

    def _item(self, index: int) -> DefaultViolation:
        for violation in itertools.islice(self, index, None):
            return violation
        raise IndexError(index)

    def _items(self, index: slice) -> Sequence[DefaultViolation]:
        """A slice from the start made in order, without counting the rest."""
        if (index.start or 0) >= 0 and (index.stop is None or index.stop >= 0):
            return tuple(itertools.islice(self, index.start, index.stop, index.step))
        return tuple(self)[index]

    def __bool__(self) -> bool:
        return len(self) > 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]
