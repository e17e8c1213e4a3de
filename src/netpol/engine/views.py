"""The class matrix seen at pod, workload or namespace granularity.

Each view endpoint is a group of pods (or one node / external block). A pair's
connections are the union over its member pod pairs; ``mixed`` marks pairs whose
members do not all agree, so a summary never hides a difference. Groups reduce over
their classes with numpy, so a workload view never loops over pod pairs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import numpy.typing as npt

from netpol.engine.classes import EndpointClass
from netpol.engine.endpoints import EXTERNAL, NODE, POD
from netpol.engine.matrix import INTERSECT, UNION, ClassMatrix, Ids, MaskTable
from netpol.engine.ports import ConnectionSet
from netpol.model.objects import Pod

GRANULARITIES = ("pod", "workload", "namespace")
MERGED_EXTERNAL_ID = "external"  # every external block as one endpoint (``merge_external``)


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


NOTHING = ConnectionSet.none()


@dataclass(frozen=True, slots=True)
class ViewPair:
    src: int
    dst: int
    connections: ConnectionSet  # the union over the member pod pairs
    common: ConnectionSet  # what every member pod pair is allowed
    # what only Cilium rules with L7 parts allow: open at L4, filtered by the proxy
    l7: ConnectionSet = NOTHING

    @property
    def mixed(self) -> bool:
        """Member pod pairs disagree."""
        return self.connections is not self.common and self.connections != self.common

    def restricted(self, ports: ConnectionSet | None) -> ViewPair:
        """The pair seen through ``ports`` only (members may agree there)."""
        if ports is None:
            return self
        return ViewPair(
            self.src, self.dst, self.connections & ports, self.common & ports, self.l7 & ports
        )


class MatrixView:
    """Endpoints at one granularity and the allowed connections between them."""

    def __init__(
        self,
        matrix: ClassMatrix,
        granularity: str,
        admits: Callable[[Pod], bool] | None = None,
        merge_external: bool = False,
    ) -> None:
        """``admits``: the pods to show (``-n``/``-l``); the others are left out of every
        group, so a workload or namespace endpoint stands for its admitted pods only.
        ``merge_external``: every external block is one endpoint (id ``external``), its
        pairs the union over the blocks (``mixed`` where they disagree), as for a group."""
        if granularity not in GRANULARITIES:
            raise ValueError(f"granularity must be one of {', '.join(GRANULARITIES)}")
        if merge_external and granularity == "pod":
            raise ValueError("merge_external needs groups: workload or namespace granularity")
        self.matrix = matrix
        self.granularity = granularity
        self._without_l7: MatrixView | None = None
        self.endpoints = _group(matrix, granularity, admits, merge_external)
        # one pod per endpoint: never materialise pods x pods, read the class matrix instead
        self._pod_classes: npt.NDArray[np.intp] | None = None
        if granularity == "pod":
            self._pod_classes = np.array([e.classes[0] for e in self.endpoints], dtype=np.intp)
            self._union = self._inter = np.zeros((0, 0), dtype=np.int32)
        else:
            self._union, self._inter = self._reduce()

    def _reduce(self) -> tuple[Ids, Ids]:
        """Per group pair: the union and the intersection of the member classes' masks (as ids)."""
        ids = self.matrix.ids
        table = self.matrix.table
        distinct = [sorted(set(e.classes)) for e in self.endpoints]
        if all(len(g) == 1 for g in distinct):
            order = np.array([g[0] for g in distinct], dtype=np.intp)
            union = ids[np.ix_(order, order)]
            inter = union.copy() if self.matrix.has_node_classes else union
        else:
            folded = [_fold_both(table, ids[g, :]) for g in distinct]
            union_rows = np.stack([u for u, _ in folded])
            inter_rows = np.stack([i for _, i in folded])
            del folded
            union = np.stack([_fold(table, union_rows[:, g].T, False) for g in distinct], axis=1)
            inter = np.stack([_fold(table, inter_rows[:, g].T, True) for g in distinct], axis=1)
        if self.matrix.has_node_classes:
            self._apply_node_exceptions(union, inter)
        return union, inter

    def _apply_node_exceptions(self, union: Ids, inter: Ids) -> None:
        """Redo, member by member, the pairs of groups that hold node traffic: whether a node
        exception applies depends on where each member runs, which classes do not record."""
        classes = self.matrix.partition.classes
        with_nodes = [
            i
            for i, e in enumerate(self.endpoints)
            if any(classes[c].kind == NODE for c in e.classes)
        ]
        for i in with_nodes:
            for j in range(len(self.endpoints)):
                for a, b in ((i, j), (j, i)):
                    if a == b:
                        continue
                    exact = self._exact(a, b)
                    if exact is not None:
                        union[a, b], inter[a, b] = exact

    def _members(self, i: int) -> Counter[tuple[int, str]]:
        """(class, node) of every member: pods where they run, node endpoints their node."""
        endpoint = self.endpoints[i]
        classes = self.matrix.partition.classes
        if endpoint.pods:
            return Counter(zip(endpoint.classes, (p.node for p in endpoint.pods), strict=True))
        return Counter((c, classes[c].node) for c in endpoint.classes)

    def _exact(self, i: int, j: int) -> tuple[int, int] | None:
        """(union id, intersection id) over the member pairs of i and j, a member never paired
        with itself; None when there is no such pair."""
        if not self._holds_node_traffic(i) and not self._holds_node_traffic(j):
            return self._exact_by_class(i, j)
        matrix, table = self.matrix, self.matrix.table
        union, inter, seen = MaskTable.NOTHING, MaskTable.EVERYTHING, False
        sources, targets = self._members(i), self._members(j)
        for (src, src_node), src_count in sources.items():
            for (dst, dst_node), dst_count in targets.items():
                same = i == j and (src, src_node) == (dst, dst_node)
                if (src_count * dst_count - (src_count if same else 0)) <= 0:
                    continue
                seen = True
                value = (
                    MaskTable.EVERYTHING
                    if matrix.overridden(src, src_node, dst, dst_node)
                    else int(matrix.ids[src, dst])
                )
                union, inter = table.union(union, value), table.intersect(inter, value)
        return (union, inter) if seen else None

    def _holds_node_traffic(self, i: int) -> bool:
        classes = self.matrix.partition.classes
        return any(classes[c].kind == NODE for c in set(self.endpoints[i].classes))

    def _exact_by_class(self, i: int, j: int) -> tuple[int, int] | None:
        """``_exact`` when no member is node traffic: no node exception applies, so where a
        member runs does not matter and its class says all (classes x classes, not pods)."""
        sources = Counter(self.endpoints[i].classes)
        targets = sources if i == j else Counter(self.endpoints[j].classes)
        rows = np.array(list(sources), dtype=np.intp)
        columns = np.array(list(targets), dtype=np.intp)
        block = self.matrix.ids[np.ix_(rows, columns)]
        if i == j:
            # a class pairs with itself only through two distinct members
            alone = np.array([sources[c] == 1 for c in sources], dtype=bool)
            keep = np.ones(block.shape, dtype=bool)
            keep[np.diag_indices(len(rows))] = ~alone
            values = block[keep]
        else:
            values = block.ravel()
        if values.size == 0:
            return None
        table = self.matrix.table
        union, inter = MaskTable.NOTHING, MaskTable.EVERYTHING
        for value in np.unique(values).tolist():
            union, inter = table.union(union, value), table.intersect(inter, value)
        return union, inter

    def _connections_of_id(self, mask_id: int) -> ConnectionSet:
        return self.matrix.atoms.connections(self.matrix.table.masks[mask_id])

    def _mask(self, array: Ids, i: int, j: int) -> int:
        return self.matrix.table.masks[int(array[i, j])]

    def mark_l7(self, without_l7: MatrixView) -> None:
        """Mark on every pair what only L7-filtered rules allow: ``without_l7`` is the same
        view of the matrix computed with those rules left out (engine.cilium)."""
        self._without_l7 = without_l7

    def _marked(self, pair: ViewPair) -> ViewPair:
        if self._without_l7 is None:
            return pair
        other = self._without_l7.pair(pair.src, pair.dst)
        l7 = pair.connections - (other.connections if other is not None else NOTHING)
        return pair if l7.is_empty else replace(pair, l7=l7)

    def pair(self, i: int, j: int) -> ViewPair | None:
        found = self._pair(i, j)
        return self._marked(found) if found is not None and self._without_l7 else found

    def _pair(self, i: int, j: int) -> ViewPair | None:
        """The pair's connections, or None when the pair has no two distinct member pods.

        Pairs of two non-pod endpoints (external blocks, nodes) are None: NetworkPolicy
        says nothing about traffic that never touches a pod.
        """
        if not self.endpoints[i].pods and not self.endpoints[j].pods:
            return None
        if i == j:
            return self._self_pair(i)
        if self._pod_classes is not None:
            value = self._pod_value(i, j)
            connections = self.matrix.atoms.connections
            mask = self.matrix.table.masks[value]
            return ViewPair(i, j, connections(mask), connections(mask))
        union, inter = self._mask(self._union, i, j), self._mask(self._inter, i, j)
        connections = self.matrix.atoms.connections
        return ViewPair(i, j, connections(union), connections(inter))

    def _self_pair(self, i: int) -> ViewPair | None:
        """Pods of one group talking to each other (a pod to itself does not count)."""
        if len(self.endpoints[i].classes) < 2:
            return None
        exact = self._exact(i, i)
        if exact is None:
            return None
        masks, connections = self.matrix.table.masks, self.matrix.atoms.connections
        return ViewPair(i, i, connections(masks[exact[0]]), connections(masks[exact[1]]))

    def _node_of(self, i: int) -> str:
        endpoint = self.endpoints[i]
        if endpoint.pods:
            return endpoint.pods[0].node
        return self.matrix.partition.classes[endpoint.classes[0]].node

    def _pod_value(self, i: int, j: int) -> int:
        """Pod granularity: the id of what endpoint i may send to endpoint j."""
        assert self._pod_classes is not None
        a, b = int(self._pod_classes[i]), int(self._pod_classes[j])
        if self.matrix.overridden(a, self._node_of(i), b, self._node_of(j)):
            return MaskTable.EVERYTHING
        return int(self.matrix.ids[a, b])

    @cached_property
    def _overrides(self) -> dict[int, set[int]]:
        """Pod granularity: endpoint pairs a node exception opens, by source endpoint (only
        pairs with node traffic on one side, so the work is nodes x their pods)."""
        assert self._pod_classes is not None
        kinds = [self.matrix.partition.classes[c].kind for c in self._pod_classes.tolist()]
        node_side: dict[str, list[int]] = {}
        pod_side: dict[str, list[int]] = {}
        for i, kind in enumerate(kinds):
            side = node_side if kind == NODE else pod_side if kind == POD else None
            if side is not None:
                side.setdefault(self._node_of(i), []).append(i)
        found: dict[int, set[int]] = {}
        for node, sources in node_side.items():
            if not node:
                continue
            for i in sources:
                for j in pod_side.get(node, ()):
                    for a, b in ((i, j), (j, i)):
                        a_class, b_class = int(self._pod_classes[a]), int(self._pod_classes[b])
                        if self.matrix.overridden(a_class, node, b_class, node):
                            found.setdefault(a, set()).add(b)
        return found

    def _pod_pairs(self, all_pairs: bool) -> Iterator[ViewPair]:
        """Pod granularity, row by row from the class matrix (output-sized work only)."""
        assert self._pod_classes is not None
        classes, ids = self._pod_classes, self.matrix.ids
        n = len(self.endpoints)
        has_pods = np.array([bool(e.pods) for e in self.endpoints], dtype=bool)
        members: dict[int, list[int]] = {}
        for i, c in enumerate(classes.tolist()):
            members.setdefault(c, []).append(i)
        member_arrays = {c: np.array(m, dtype=np.intp) for c, m in members.items()}
        class_keys = np.array(sorted(members), dtype=np.intp)
        by_class: dict[int, npt.NDArray[np.intp]] = {}
        masks, connections = self.matrix.table.masks, self.matrix.atoms.connections
        overrides = self._overrides if self.matrix.has_node_classes else {}
        everything = range(n)
        for i in range(n):
            c = int(classes[i])
            if all_pairs:
                targets: Iterable[int] = everything
            else:
                found = by_class.get(c)
                if found is None:
                    allowed_classes = class_keys[ids[c, class_keys] != 0]
                    parts = [member_arrays[int(d)] for d in allowed_classes]
                    found = np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.intp)
                    by_class[c] = found
                targets = found.tolist()
                if i in overrides:
                    targets = sorted(set(targets) | overrides[i])
            for j in targets:
                if j == i or not (has_pods[i] or has_pods[j]):
                    continue
                value = (
                    MaskTable.EVERYTHING if j in overrides.get(i, ()) else int(ids[c, classes[j]])
                )
                mask = masks[value]
                yield ViewPair(i, j, connections(mask), connections(mask))

    def pairs(self, all_pairs: bool = False) -> Iterator[ViewPair]:
        """Ordered pairs with a non-empty allowed set (every pair with ``all_pairs``), row-major."""
        if self._without_l7 is None:
            yield from self._pairs(all_pairs)
            return
        for pair in self._pairs(all_pairs):
            yield self._marked(pair)

    def _pairs(self, all_pairs: bool) -> Iterator[ViewPair]:
        if self._pod_classes is not None:
            yield from self._pod_pairs(all_pairs)
            return
        n = len(self.endpoints)
        if all_pairs:
            src = np.repeat(np.arange(n), n)
            dst = np.tile(np.arange(n), n)
        else:
            src, dst = np.nonzero(self._union)
        has_pods = np.array([bool(e.pods) for e in self.endpoints], dtype=bool)
        keep = (has_pods[src] | has_pods[dst]) & (src != dst)
        src, dst = src[keep], dst[keep]
        union_ids = self._union[src, dst].tolist()
        inter_ids = self._inter[src, dst].tolist()
        # by small id, not by mask: a mask is a wide int, hashed at every lookup
        sets = {i: self._connections_of_id(i) for i in set(union_ids) | set(inter_ids)}
        diagonal = {i: self._self_pair(i) for i in range(n) if has_pods[i]}
        next_diagonal = 0  # self pairs are emitted in row-major position
        for s, d, union, common in zip(
            src.tolist(), dst.tolist(), union_ids, inter_ids, strict=True
        ):
            while next_diagonal < s or (next_diagonal == s and d > s):
                yield from self._diagonal(diagonal, next_diagonal, all_pairs)
                next_diagonal += 1
            yield ViewPair(s, d, sets[union], sets[common])
        for i in range(next_diagonal, n):
            yield from self._diagonal(diagonal, i, all_pairs)

    @staticmethod
    def _diagonal(
        diagonal: dict[int, ViewPair | None], i: int, all_pairs: bool
    ) -> Iterator[ViewPair]:
        pair = diagonal.get(i)
        if pair is not None and (all_pairs or not pair.connections.is_empty):
            yield pair

    def members(self, i: int, j: int) -> Iterator[tuple[str, str, ConnectionSet]]:
        """The pod pairs behind a view pair, each with its own connections (a pod and itself
        excluded), lazily: a namespace pair holds up to pods x pods of them, and a listing
        shows a few (``member_count`` says how many there are)."""
        for src in self.endpoints[i].pods:
            for dst in self.endpoints[j].pods:
                if src.id != dst.id:
                    yield src.id, dst.id, self.matrix.pod_connections(src.id, dst.id)

    def member_count(self, i: int, j: int) -> int:
        """How many pod pairs ``members`` yields (endpoints share no pod, so only a pair of an
        endpoint with itself loses its pods' own pairs)."""
        sources, targets = len(self.endpoints[i].pods), len(self.endpoints[j].pods)
        return sources * targets - (sources if i == j else 0)

    def index(self, endpoint_id: str) -> int:
        for i, e in enumerate(self.endpoints):
            if e.id == endpoint_id:
                return i
        raise KeyError(endpoint_id)


def endpoint_count(
    matrix: ClassMatrix,
    granularity: str,
    admits: Callable[[Pod], bool] | None = None,
    merge_external: bool = False,
) -> int:
    """How many endpoints ``MatrixView`` would have, without computing its pairs."""
    return len(_group(matrix, granularity, admits, merge_external))


def _group(
    matrix: ClassMatrix,
    granularity: str,
    admits: Callable[[Pod], bool] | None,
    merge_external: bool = False,
) -> list[ViewEndpoint]:
    groups: dict[str, ViewEndpoint] = {}
    extra: list[ViewEndpoint] = []
    world = ViewEndpoint(MERGED_EXTERNAL_ID, "External")
    for cls in matrix.classes:
        if cls.kind == EXTERNAL and merge_external:
            world.cidrs += cls.cidrs
            world.classes.append(cls.index)
            continue
        if cls.kind == EXTERNAL or (cls.kind == NODE and not cls.pods):
            extra.append(_special(cls))
            continue
        for pod in cls.pods:
            if admits is not None and not admits(pod):
                continue
            endpoint = _endpoint_for(pod, granularity, groups)
            endpoint.pods.append(pod)
            endpoint.classes.append(cls.index)
    ordered = sorted(groups.values(), key=lambda e: e.id)
    return ordered + extra + ([world] if world.classes else [])


def _endpoint_for(pod: Pod, granularity: str, groups: dict[str, ViewEndpoint]) -> ViewEndpoint:
    workload_id = pod.workload_id
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


def _fold_both(table: MaskTable, rows: Ids) -> tuple[Ids, Ids]:
    """Union and intersection of the rows of ``rows``, folding only the columns where the
    rows differ: where every member class sees one id, both are that id. The members of a
    group mostly agree (a namespace's classes towards the rest of a large cluster), and a
    comparison costs a fraction of a fold."""
    first = rows[0]
    if len(rows) == 1:
        return first, first
    varying = np.flatnonzero((rows[1:] != first).any(axis=0))
    if not len(varying):
        return first, first
    union, inter = first.copy(), first.copy()
    differing = rows[:, varying]
    union[varying] = _fold(table, differing, False)
    inter[varying] = _fold(table, differing, True)
    return union, inter


def _fold(table: MaskTable, rows: Ids, intersect: bool) -> Ids:
    """Union (or intersection) of the rows of ``rows``, elementwise: halves combined in
    one call per level (log2 of the rows calls, not one per row: a namespace of a large
    cluster holds thousands of classes). Both operations are associative and commutative,
    so the order does not change the result."""
    operation = INTERSECT if intersect else UNION
    while len(rows) > 1:
        half = len(rows) // 2
        combined = table.combine(rows[:half], rows[half : 2 * half], operation)
        rows = np.concatenate([combined, rows[2 * half :]]) if len(rows) % 2 else combined
    return rows[0]
