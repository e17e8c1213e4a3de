"""The class matrix seen at pod, workload or namespace granularity.

Each view endpoint is a group of pods (or one node / external block). A pair's
connections are the union over its member pod pairs; ``mixed`` marks pairs whose
members do not all agree, so a summary never hides a difference. Groups reduce over
their classes with numpy, so a workload view never loops over pod pairs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from netpol.engine.classes import EndpointClass
from netpol.engine.endpoints import EXTERNAL, NODE
from netpol.engine.matrix import ClassMatrix
from netpol.engine.ports import ConnectionSet
from netpol.model.objects import Pod

GRANULARITIES = ("pod", "workload", "namespace")


@dataclass(eq=False)
class ViewEndpoint:
    id: str
    kind: str  # Pod, Workload kind, Namespace, Node, External
    namespace: str = ""
    name: str = ""
    workload: str = ""
    workload_kind: str = ""
    cidrs: tuple[str, ...] = ()
    pods: list[Pod] = field(default_factory=list)
    classes: list[int] = field(default_factory=list)  # one entry per member pod


@dataclass(frozen=True, slots=True)
class ViewPair:
    src: int
    dst: int
    connections: ConnectionSet  # the union over the member pod pairs
    common: ConnectionSet  # what every member pod pair is allowed

    @property
    def mixed(self) -> bool:
        """Member pod pairs disagree."""
        return self.connections != self.common

    def restricted(self, ports: ConnectionSet | None) -> ViewPair:
        """The pair seen through ``ports`` only (members may agree there)."""
        if ports is None:
            return self
        return ViewPair(self.src, self.dst, self.connections & ports, self.common & ports)


class MatrixView:
    """Endpoints at one granularity and the allowed connections between them."""

    def __init__(self, matrix: ClassMatrix, granularity: str) -> None:
        if granularity not in GRANULARITIES:
            raise ValueError(f"granularity must be one of {', '.join(GRANULARITIES)}")
        self.matrix = matrix
        self.granularity = granularity
        self.endpoints = _group(matrix, granularity)
        self._union, self._inter = self._reduce()

    def _reduce(self) -> tuple[npt.NDArray[np.unsignedinteger], npt.NDArray[np.unsignedinteger]]:
        """Per group pair: OR and AND of the member classes' masks."""
        masks = self.matrix.masks
        distinct = [sorted(set(e.classes)) for e in self.endpoints]
        order = np.array([c for group in distinct for c in group], dtype=np.intp)
        starts = np.cumsum([0] + [len(g) for g in distinct[:-1]], dtype=np.intp)
        if len(order) == 0:
            empty = np.zeros((0, 0, masks.shape[2]), dtype=masks.dtype)
            return empty, empty
        sub = masks[np.ix_(order, order)]
        if all(len(g) == 1 for g in distinct):
            return sub, sub
        union = np.bitwise_or.reduceat(np.bitwise_or.reduceat(sub, starts, axis=0), starts, axis=1)
        inter = np.bitwise_and.reduceat(
            np.bitwise_and.reduceat(sub, starts, axis=0), starts, axis=1
        )
        return union, inter

    def _mask(self, array: npt.NDArray[np.unsignedinteger], i: int, j: int) -> int:
        value = 0
        for n, word in enumerate(array[i, j].tolist()):
            value |= int(word) << (64 * n)
        return value

    def pair(self, i: int, j: int) -> ViewPair | None:
        """The pair's connections, or None when the pair has no two distinct member pods.

        Pairs of two non-pod endpoints (external blocks, nodes) are None: NetworkPolicy
        says nothing about traffic that never touches a pod.
        """
        if not self.endpoints[i].pods and not self.endpoints[j].pods:
            return None
        if i == j:
            return self._self_pair(i)
        union, inter = self._mask(self._union, i, j), self._mask(self._inter, i, j)
        connections = self.matrix.atoms.connections
        return ViewPair(i, j, connections(union), connections(inter))

    def _self_pair(self, i: int) -> ViewPair | None:
        """Pods of one group talking to each other (a pod to itself does not count)."""
        endpoint = self.endpoints[i]
        if len(endpoint.classes) < 2:
            return None
        counts: dict[int, int] = {}
        for c in endpoint.classes:
            counts[c] = counts.get(c, 0) + 1
        masks = [self.matrix.mask(a, b) for a in counts for b in counts if a != b or counts[a] > 1]
        union = 0
        inter = -1
        for m in masks:
            union |= m
            inter &= m
        connections = self.matrix.atoms.connections
        return ViewPair(i, i, connections(union), connections(inter))

    def pairs(self, all_pairs: bool = False) -> Iterator[ViewPair]:
        """Ordered pairs with a non-empty allowed set (every pair with ``all_pairs``), row-major."""
        n = len(self.endpoints)
        if all_pairs:
            src = np.repeat(np.arange(n), n)
            dst = np.tile(np.arange(n), n)
        else:
            src, dst = np.nonzero(np.asarray(self._union.any(axis=2)))
        has_pods = np.array([bool(e.pods) for e in self.endpoints], dtype=bool)
        keep = (has_pods[src] | has_pods[dst]) & (src != dst)
        src, dst = src[keep], dst[keep]
        union = self._union[src, dst]  # (pairs, words)
        inter = self._inter[src, dst]
        connections = self.matrix.atoms.connections
        if union.shape[1] == 1:
            masks: list[int] = union[:, 0].tolist()
            commons: list[int] = inter[:, 0].tolist()
        else:
            masks = [self._words(row) for row in union.tolist()]
            commons = [self._words(row) for row in inter.tolist()]
        diagonal = {i: self._self_pair(i) for i in range(n) if has_pods[i]}
        next_diagonal = 0  # self pairs are emitted in row-major position
        for s, d, mask, common in zip(src.tolist(), dst.tolist(), masks, commons, strict=True):
            while next_diagonal < s or (next_diagonal == s and d > s):
                yield from self._diagonal(diagonal, next_diagonal, all_pairs)
                next_diagonal += 1
            yield ViewPair(s, d, connections(mask), connections(common))
        for i in range(next_diagonal, n):
            yield from self._diagonal(diagonal, i, all_pairs)

    @staticmethod
    def _diagonal(
        diagonal: dict[int, ViewPair | None], i: int, all_pairs: bool
    ) -> Iterator[ViewPair]:
        pair = diagonal.get(i)
        if pair is not None and (all_pairs or not pair.connections.is_empty):
            yield pair

    @staticmethod
    def _words(row: list[int]) -> int:
        value = 0
        for n, word in enumerate(row):
            value |= int(word) << (64 * n)
        return value

    def index(self, endpoint_id: str) -> int:
        for i, e in enumerate(self.endpoints):
            if e.id == endpoint_id:
                return i
        raise KeyError(endpoint_id)


def _group(matrix: ClassMatrix, granularity: str) -> list[ViewEndpoint]:
    groups: dict[str, ViewEndpoint] = {}
    extra: list[ViewEndpoint] = []
    for cls in matrix.classes:
        if cls.kind == EXTERNAL or (cls.kind == NODE and not cls.pods):
            extra.append(_special(cls))
            continue
        for pod in cls.pods:
            endpoint = _endpoint_for(pod, granularity, groups)
            endpoint.pods.append(pod)
            endpoint.classes.append(cls.index)
    ordered = sorted(groups.values(), key=lambda e: e.id)
    return ordered + extra


def _endpoint_for(pod: Pod, granularity: str, groups: dict[str, ViewEndpoint]) -> ViewEndpoint:
    workload_id = pod.workload.id if pod.workload else pod.id
    workload_kind = pod.workload.kind if pod.workload else "Pod"
    key = {"pod": pod.id, "workload": workload_id}.get(granularity, pod.namespace)
    found = groups.get(key)
    if found is not None:
        return found
    if granularity == "pod":
        found = ViewEndpoint(key, "Pod", pod.namespace, pod.name, workload_id, workload_kind)
    elif granularity == "workload":
        name = pod.workload.name if pod.workload else pod.name
        found = ViewEndpoint(key, workload_kind, pod.namespace, name, workload_id, workload_kind)
    else:
        found = ViewEndpoint(key, "Namespace", pod.namespace, pod.namespace)
    groups[key] = found
    return found


def _special(cls: EndpointClass) -> ViewEndpoint:
    if cls.kind == EXTERNAL:
        return ViewEndpoint(cls.id, "External", cidrs=cls.cidrs, classes=[cls.index])
    return ViewEndpoint(cls.id, "Node", name=cls.node, classes=[cls.index])
