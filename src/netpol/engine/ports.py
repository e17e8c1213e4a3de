"""Connection sets: per protocol, disjoint merged port intervals over 1..65535."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from netpol.model.objects import PROTOCOLS

MIN_PORT, MAX_PORT = 1, 65535

Intervals = tuple[tuple[int, int], ...]
_FULL: Intervals = ((MIN_PORT, MAX_PORT),)


def merge_intervals(intervals: Iterable[tuple[int, int]]) -> Intervals:
    """Inclusive integer intervals sorted and merged (overlapping or adjacent ones join);
    empty ones (lo > hi) dropped. Ports here, IPv4 addresses in the lab's rules."""
    merged: list[list[int]] = []
    for lo, hi in sorted(intervals):
        if lo > hi:
            continue
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


def _normalise(intervals: Iterable[tuple[int, int]]) -> Intervals:
    """Sorted, merged, clipped to 1..65535."""
    return merge_intervals((max(lo, MIN_PORT), min(hi, MAX_PORT)) for lo, hi in intervals)


def _intersect(a: Intervals, b: Intervals) -> Intervals:
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _complement(a: Intervals) -> Intervals:
    out: list[tuple[int, int]] = []
    start = MIN_PORT
    for lo, hi in a:
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    if start <= MAX_PORT:
        out.append((start, MAX_PORT))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ConnectionSet:
    """An immutable set of (protocol, port) pairs; ``parts`` follows PROTOCOLS' order."""

    parts: tuple[Intervals, Intervals, Intervals] = ((), (), ())

    @staticmethod
    def all() -> ConnectionSet:
        return _ALL

    @staticmethod
    def none() -> ConnectionSet:
        return _NONE

    @staticmethod
    def of(protocol: str, lo: int = MIN_PORT, hi: int | None = None) -> ConnectionSet:
        """Ports ``lo..hi`` (``hi`` defaults to ``lo``; no ports given means the whole protocol)."""
        return _range_set(protocol, lo, lo if hi is None else hi)

    @staticmethod
    def whole(protocol: str) -> ConnectionSet:
        return ConnectionSet.from_intervals({protocol: _FULL})

    @staticmethod
    def from_intervals(by_protocol: Mapping[str, Iterable[tuple[int, int]]]) -> ConnectionSet:
        parts = [_normalise(by_protocol.get(p, ())) for p in PROTOCOLS]
        return ConnectionSet((parts[0], parts[1], parts[2]))

    @staticmethod
    def union_of(sets: Iterable[ConnectionSet]) -> ConnectionSet:
        collected: list[list[tuple[int, int]]] = [[], [], []]
        for s in sets:
            for i, part in enumerate(s.parts):
                collected[i].extend(part)
        return ConnectionSet(
            (_normalise(collected[0]), _normalise(collected[1]), _normalise(collected[2]))
        )

    def intervals(self, protocol: str) -> Intervals:
        return self.parts[PROTOCOLS.index(protocol)]

    @property
    def is_empty(self) -> bool:
        parts = self.parts  # written out: asked once per pair of a million-pair view
        return not (parts[0] or parts[1] or parts[2])

    @property
    def is_all(self) -> bool:
        return all(part == _FULL for part in self.parts)

    def contains(self, protocol: str, port: int) -> bool:
        return any(lo <= port <= hi for lo, hi in self.intervals(protocol))

    def protocols(self) -> tuple[str, ...]:
        return tuple(p for p, part in zip(PROTOCOLS, self.parts, strict=True) if part)

    def __or__(self, other: ConnectionSet) -> ConnectionSet:
        if self.is_empty or other.is_all:
            return other
        if other.is_empty or self.is_all:
            return self
        return ConnectionSet.union_of((self, other))

    def __and__(self, other: ConnectionSet) -> ConnectionSet:
        if self.is_all or other.is_empty:
            return other
        if other.is_all or self.is_empty:
            return self
        a, b = self.parts, other.parts
        return ConnectionSet(
            (_intersect(a[0], b[0]), _intersect(a[1], b[1]), _intersect(a[2], b[2]))
        )

    def __invert__(self) -> ConnectionSet:
        a = self.parts
        return ConnectionSet((_complement(a[0]), _complement(a[1]), _complement(a[2])))

    def __sub__(self, other: ConnectionSet) -> ConnectionSet:
        return self & ~other

    def __le__(self, other: ConnectionSet) -> bool:
        return (self - other).is_empty

    def __iter__(self) -> Iterator[tuple[str, int, int]]:
        for protocol, part in zip(PROTOCOLS, self.parts, strict=True):
            for lo, hi in part:
                yield protocol, lo, hi

    def text(self) -> str:
        """``TCP 1-79,81-65535,UDP 53``; ``All Connections`` / ``No Connections`` at the ends."""
        if self.is_all:
            return "All Connections"
        if self.is_empty:
            return "No Connections"
        chunks = []
        for protocol, part in zip(PROTOCOLS, self.parts, strict=True):
            if not part:
                continue
            ranges = ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in part)
            chunks.append(f"{protocol} {ranges}")
        return ",".join(chunks)

    def to_json(self) -> dict[str, list[list[int]]]:
        return {
            protocol: [[lo, hi] for lo, hi in part]
            for protocol, part in zip(PROTOCOLS, self.parts, strict=True)
            if part
        }

    def __str__(self) -> str:
        return self.text()


_ALL = ConnectionSet((_FULL, _FULL, _FULL))
_NONE = ConnectionSet()


def parse_connection_set(text: str) -> ConnectionSet:
    """Inverse of ``text()``; raises ValueError with a one-line reason on bad input."""
    stripped = text.strip()
    if stripped == "All Connections":
        return _ALL
    if stripped in ("No Connections", ""):
        return _NONE
    by_protocol: dict[str, list[tuple[int, int]]] = {}
    protocol = ""
    for token in stripped.split(","):
        token = token.strip()
        if " " in token:
            protocol, token = token.split(None, 1)
            if protocol not in PROTOCOLS:
                raise ValueError(f"unknown protocol {protocol!r} (TCP, UDP or SCTP)")
        if not protocol:
            raise ValueError(f"port {token!r} has no protocol before it")
        lo_text, dash, hi_text = token.partition("-")
        try:
            lo, hi = int(lo_text), int(hi_text if dash else lo_text)
        except ValueError:
            raise ValueError(f"bad port range {token!r}") from None
        if not (MIN_PORT <= lo <= hi <= MAX_PORT):
            raise ValueError(f"port range {token!r} outside 1-65535")
        by_protocol.setdefault(protocol, []).append((lo, hi))
    return ConnectionSet.from_intervals(by_protocol)


@lru_cache(maxsize=4096)
def _range_set(protocol: str, lo: int, hi: int) -> ConnectionSet:
    # a few ports recur in every expectation, flow and rule: build each set once
    return ConnectionSet.from_intervals({protocol: ((lo, hi),)})
