"""The changed pairs of a diff, kept per pair of joint classes and listed pair by pair on demand.

A pod of both sides belongs to a joint class (its old class, its new class): all pod pairs of
two joint classes change alike, so a half-changed cluster of 100k pods holds millions of
changed pod pairs but only some hundred thousand changed joint class pairs and a few thousand
distinct (before, after) sets. The listing keeps those; ``rows`` expands them in (source id,
destination id) order, one source at a time, so a writer streams them and nothing holds a
Python object per changed pair.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from netpol.engine.explain import Explanation
from netpol.engine.ports import ConnectionSet
from netpol.model.objects import Pod

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class DiffEndpoint:
    id: str
    kind: str  # Pod, a workload kind, Namespace, External
    namespace: str = ""
    cidrs: tuple[str, ...] = ()
    pods_old: tuple[Pod, ...] = field(default=(), repr=False, compare=False)
    pods_new: tuple[Pod, ...] = field(default=(), repr=False, compare=False)
    ip: str = ""  # external: a representative address


@dataclass(frozen=True)
class Delta:
    """What a pair allowed before and after; one object is shared by every pair with it."""

    before: ConnectionSet
    after: ConnectionSet
    mixed_before: bool = False
    mixed_after: bool = False

    @cached_property
    def change(self) -> str:
        if self.before.is_empty:
            return ADDED
        if self.after.is_empty:
            return REMOVED
        return CHANGED

    @cached_property
    def lost(self) -> ConnectionSet:
        return self.before - self.after

    @cached_property
    def gained(self) -> ConnectionSet:
        return self.after - self.before

    @cached_property
    def kept(self) -> ConnectionSet:
        return self.before & self.after

    @property
    def mixed(self) -> bool:
        return self.mixed_before or self.mixed_after


class PairChange(NamedTuple):
    """One ordered pair whose allowed connections differ (a tuple: listings make millions)."""

    src: DiffEndpoint
    dst: DiffEndpoint
    delta: Delta
    evidence_before: Explanation | None = None
    evidence_after: Explanation | None = None

    @property
    def before(self) -> ConnectionSet:
        return self.delta.before

    @property
    def after(self) -> ConnectionSet:
        return self.delta.after

    @property
    def mixed_before(self) -> bool:
        return self.delta.mixed_before

    @property
    def mixed_after(self) -> bool:
        return self.delta.mixed_after

    @property
    def change(self) -> str:
        return self.delta.change

    @property
    def lost(self) -> ConnectionSet:
        return self.delta.lost

    @property
    def gained(self) -> ConnectionSet:
        return self.delta.gained

    @property
    def kept(self) -> ConnectionSet:
        return self.delta.kept


Indexes = npt.NDArray[np.intp]
Targets = list[tuple[int, Delta]]  # (destination index, delta), by destination index


@dataclass(frozen=True, eq=False)
class JointBlocks:
    """Changed pairs of joint classes: ``changed[x]`` lists (y, delta) for every joint class y
    whose member pairs with x changed; a pod and itself are never a pair."""

    joint_of: Indexes  # per endpoint index: its joint class, -1 when it has none
    members: list[Indexes]  # per joint class: its endpoint indexes, ascending
    changed: dict[int, list[tuple[int, Delta]]]

    def size(self, x: int, y: int) -> int:
        sources, targets = len(self.members[x]), len(self.members[y])
        return sources * targets - (sources if x == y else 0)

    def nonempty(self) -> Iterator[tuple[int, int, Delta]]:
        for x, found in self.changed.items():
            for y, delta in found:
                if self.size(x, y):
                    yield x, y, delta


NO_BLOCKS = JointBlocks(np.zeros(0, dtype=np.intp), [], {})


class ChangeListing:
    """Every changed pair in (source id, destination id) order, then the ``tail`` (external
    blocks): the joint class pairs of ``blocks`` expanded per member pair, merged with the
    pairs compared one by one (``singles``, by source index)."""

    def __init__(
        self,
        endpoints: Sequence[DiffEndpoint],
        blocks: JointBlocks = NO_BLOCKS,
        singles: dict[int, Targets] | None = None,
        tail: Sequence[PairChange] = (),
    ) -> None:
        self.endpoints = endpoints  # sorted by id: an index orders as its id
        self.blocks = blocks
        self.singles = singles or {}
        self.tail = tuple(tail)
        self._rows: dict[int, tuple[list[int], list[Delta]]] = {}
        self._counts: Counter[str] | None = None

    @classmethod
    def of(cls, changes: Iterable[PairChange]) -> ChangeListing:
        """A listing of changes already made (with evidence): kept as they are, in order."""
        return cls((), tail=tuple(changes))

    def __eq__(self, other: object) -> bool:
        """Listings are equal when they list the same changes (however they keep them)."""
        if not isinstance(other, ChangeListing):
            return NotImplemented
        return list(self.rows()) == list(other.rows())

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        return sum(self.counts().values())

    def counts(self) -> Counter[str]:
        """How many pairs are added, removed and changed, counted per joint class pair (once:
        a diff asks ``len`` of a listing several times, and a listing does not change)."""
        if self._counts is None:
            self._counts = self._count()
        return Counter(self._counts)

    def _count(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for x, y, delta in self.blocks.nonempty():
            found[delta.change] += self.blocks.size(x, y)
        for targets in self.singles.values():
            found.update(delta.change for _, delta in targets)
        found.update(c.change for c in self.tail)
        return found

    def shown(self) -> tuple[list[DiffEndpoint], list[DiffEndpoint], list[Delta]]:
        """The sources, destinations and deltas the rows hold (what column widths depend
        on), found per joint class pair without listing the rows."""
        n = len(self.endpoints)
        sources, targets = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        deltas: dict[int, Delta] = {}
        destination_classes: set[int] = set()
        for x, y, delta in self.blocks.nonempty():
            sources[self.blocks.members[x]] = True
            destination_classes.add(y)
            deltas[id(delta)] = delta
        for y in destination_classes:
            targets[self.blocks.members[y]] = True
        for s, found in self.singles.items():
            sources[s] = True
            for d, delta in found:
                targets[d] = True
                deltas[id(delta)] = delta
        ends = self.endpoints
        src = [ends[i] for i in np.flatnonzero(sources).tolist()] + [c.src for c in self.tail]
        dst = [ends[i] for i in np.flatnonzero(targets).tolist()] + [c.dst for c in self.tail]
        return src, dst, list(deltas.values()) + [c.delta for c in self.tail]

    def rows(self) -> Iterator[PairChange]:
        endpoints, joint_of, singles = self.endpoints, self.blocks.joint_of, self.singles
        for s in self._sources():
            src = endpoints[s]
            x = int(joint_of[s]) if s < len(joint_of) else -1
            extra = singles.get(s)
            if x in self.blocks.changed:
                targets, deltas = self._row(x)
                if extra:  # a pod of a joint class has no singles, but a listing may mix them
                    merged = [(d, delta) for d, delta in zip(targets, deltas, strict=True)]
                    merged = sorted(merged + extra, key=lambda item: item[0])
                    targets, deltas = [d for d, _ in merged], [delta for _, delta in merged]
                for d, delta in zip(targets, deltas, strict=True):
                    if d != s:  # a pod and itself: in a joint class pair, never a pair
                        yield PairChange(src, endpoints[d], delta)
            elif extra:  # group views list a group with itself: its member pods' pairs
                for d, delta in extra:
                    yield PairChange(src, endpoints[d], delta)
        yield from self.tail

    def _sources(self) -> list[int]:
        """The indexes of the endpoints with a changed pair as the source, ascending: only
        those are read (an endpoint list may make its endpoints when read)."""
        members = self.blocks.members
        found = [members[x] for x in self.blocks.changed]
        found.append(np.array(sorted(self.singles), dtype=np.intp))
        return np.unique(np.concatenate(found)).tolist()

    def _row(self, x: int) -> tuple[list[int], list[Delta]]:
        """The destinations of joint class ``x``'s changed pairs with their deltas, ascending;
        kept per class, as the members of a class share it."""
        found = self._rows.get(x)
        if found is None:
            parts = self.blocks.changed[x]
            members = self.blocks.members
            targets = np.concatenate([members[y] for y, _ in parts])
            which = np.repeat(np.arange(len(parts)), [len(members[y]) for y, _ in parts])
            order = np.argsort(targets, kind="stable")
            found = (
                targets[order].tolist(),
                [parts[i][1] for i in which[order].tolist()],
            )
            self._rows[x] = found
        return found
