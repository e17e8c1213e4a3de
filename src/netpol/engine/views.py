"""The class matrix seen at pod, workload or namespace granularity.

Each view endpoint is a group of pods (or one node / external block). A pair's
connections are the union over its member pod pairs; ``mixed`` marks pairs whose
members do not all agree, so a summary never hides a difference. Groups reduce over
their classes with numpy, so a workload view never loops over pod pairs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import numpy.typing as npt

from netpol.engine.classes import EndpointClass
from netpol.engine.endpoints import EXTERNAL, NODE, POD
from netpol.engine.group_blocks import fold_blocks
from netpol.engine.mask_bits import MaskBits
from netpol.engine.matrix import ClassMatrix, Ids, MaskTable, nonzero_pairs
from netpol.engine.pair_columns import NOTHING, Indexes, PairColumns, disagree, pair_columns
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
        return disagree(self.connections, self.common)


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
        self._has_pods = np.array([bool(e.pods) for e in self.endpoints], dtype=bool)
        # one pod per endpoint: never materialise pods x pods, read the class matrix instead
        self._pod_classes: npt.NDArray[np.intp] | None = None
        # groups of one class each, no node traffic: the group matrix is the class matrix
        # read through ``_order``, never copied (at 10k workloads a copy is 400 MB)
        self._order: npt.NDArray[np.intp] | None = None
        self._union = self._inter = np.zeros((0, 0), dtype=np.int32)
        if granularity == "pod":
            self._pod_classes = np.array([e.classes[0] for e in self.endpoints], dtype=np.intp)
        else:
            self._reduce()

    def _reduce(self) -> None:
        """Per group pair: the union and the intersection of the member classes' masks (as ids)."""
        ids = self.matrix.ids
        table = self.matrix.table
        distinct = [sorted(set(e.classes)) for e in self.endpoints]
        if all(len(g) == 1 for g in distinct):
            order = np.array([g[0] for g in distinct], dtype=np.intp)
            if not self.matrix.has_node_classes:
                self._order = order
                return
            union = ids[np.ix_(order, order)]
            inter = union.copy()
        else:
            bits = MaskBits(table, self.matrix.atoms.groups)
            sparse = fold_blocks(ids, distinct, bits, self.matrix.known_allowing)
            if sparse is not None:
                union, inter = sparse
            else:
                union, inter = _fold_rows(ids, distinct, bits)
        if self.matrix.has_node_classes:
            self._apply_node_exceptions(union, inter)
        self._union, self._inter = union, inter

    def _apply_node_exceptions(self, union: Ids, inter: Ids) -> None:
        """Redo, member by member, the pairs of groups that hold node traffic: whether a node
        exception applies depends on where each member runs, which classes do not record."""
        with_nodes = [i for i in range(len(self.endpoints)) if self._holds_node_traffic(i)]
        for i in with_nodes:
            for j in range(len(self.endpoints)):
                for a, b in ((i, j), (j, i)):
                    if a == b:
                        continue
                    exact = self._exact(a, b)
                    if exact is not None:
                        union[a, b], inter[a, b] = exact

    def _group_ids(self, src: Indexes, dst: Indexes) -> tuple[Ids, Ids]:
        """Group granularity: (union ids, intersection ids) of the pairs (src[k], dst[k]),
        src != dst."""
        if self._order is not None:
            found = self.matrix.ids[self._order[src], self._order[dst]]
            return found, found
        return self._union[src, dst], self._inter[src, dst]

    def _allowed_off_diagonal(self) -> tuple[Indexes, Indexes]:
        """Group granularity: the pairs with a non-empty union, row-major, diagonal included."""
        if self._order is None:
            return nonzero_pairs(self._union)
        order, ids = self._order, self.matrix.ids
        k = ids.shape[0]
        if not k or len(order) != k or np.bincount(order, minlength=k).max() != 1:
            return nonzero_pairs(ids[np.ix_(order, order)])
        # every class is one group: read the class matrix in place and renumber
        position = np.empty(k, dtype=np.intp)
        position[order] = np.arange(k)
        rows, columns = self.matrix.allowing()
        src, dst = position[rows], position[columns]
        if (np.diff(order) < 0).any():  # groups are not in class order: restore row-major
            by_pair = np.argsort(src * k + dst, kind="stable")
            src, dst = src[by_pair], dst[by_pair]
        return src, dst

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
        if not self.matrix.has_node_classes:
            return False
        classes = self.matrix.partition.classes
        return any(classes[c].kind == NODE for c in set(self.endpoints[i].classes))

    def _exact_by_class(self, i: int, j: int) -> tuple[int, int] | None:
        """``_exact`` when no member is node traffic: no node exception applies, so where a
        member runs does not matter and its class says all (classes x classes, not pods)."""
        members = self.endpoints[i].classes
        if i == j and len(members) > 1 and members.count(members[0]) == len(members):
            # the common case of a workload: its pods are one class, which meets itself
            value = int(self.matrix.ids[members[0], members[0]])
            return value, value
        sources = Counter(members)
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

    @cached_property
    def _diagonal(self) -> tuple[Ids, Ids]:
        """Group granularity: (union id, intersection id) of each endpoint with itself, -1
        where it has no pair (no pods, or a single one)."""
        union = np.full(len(self.endpoints), -1, dtype=np.int32)
        inter = union.copy()
        for i, endpoint in enumerate(self.endpoints):
            if endpoint.pods and len(endpoint.classes) > 1:
                exact = self._exact(i, i)
                if exact is not None:
                    union[i], inter[i] = exact
        return union, inter

    def connections_of_id(self, mask_id: int) -> ConnectionSet:
        """The connections of an id of the matrix's table (``pair_ids``)."""
        return self.matrix.atoms.connections(self.matrix.table.masks[mask_id])

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
            if self._pod_classes is not None:
                return None  # a pod endpoint is one pod
            union, inter = (int(found[i]) for found in self._diagonal)
            if union < 0:
                return None
        elif self._pod_classes is not None:
            union = inter = int(self._pod_ids(np.array([i]), np.array([j]))[0])
        else:
            union, inter = (
                int(found[0]) for found in self._group_ids(np.array([i]), np.array([j]))
            )
        connections = self.connections_of_id
        return ViewPair(i, j, connections(union), connections(inter))

    def _union_ids(self, src: Indexes, dst: Indexes) -> Ids:
        """The union id of each pair (src[k], dst[k]); -1 where ``pair`` is None."""
        return self.pair_ids(src, dst)[0]

    def pair_ids(self, src: Indexes, dst: Indexes) -> tuple[Ids, Ids]:
        """What ``pair`` says of each pair (src[k], dst[k]), as columns: (union id,
        intersection id) in the matrix's table, both -1 where ``pair`` is None. L7 marks
        are not read (``pair`` of a marked view adds them)."""
        if self._pod_classes is not None:
            union = self._pod_ids(src, dst)
            union[src == dst] = -1  # a pod endpoint is one pod: it has no pair with itself
            inter = union
        else:
            off = src != dst
            union = np.empty(len(src), dtype=np.int32)
            inter = np.empty(len(src), dtype=np.int32)
            union[off], inter[off] = self._group_ids(src[off], dst[off])
            diagonal_union, diagonal_inter = self._diagonal
            union[~off], inter[~off] = diagonal_union[src[~off]], diagonal_inter[src[~off]]
        none = ~(self._has_pods[src] | self._has_pods[dst]) | (union < 0)
        union[none] = -1
        inter[none] = -1
        return union, inter

    def _pod_ids(self, src: Indexes, dst: Indexes) -> Ids:
        """Pod granularity: the id of what src[k] may send to dst[k], node exceptions applied."""
        assert self._pod_classes is not None
        found = self.matrix.ids[self._pod_classes[src], self._pod_classes[dst]].astype(np.int32)
        if self.matrix.has_node_classes and len(self._override_codes):
            n = len(self.endpoints)
            found[np.isin(src.astype(np.int64) * n + dst, self._override_codes)] = (
                MaskTable.EVERYTHING
            )
        return found

    @cached_property
    def _override_codes(self) -> npt.NDArray[np.int64]:
        """``_overrides`` as source * endpoints + destination."""
        n = len(self.endpoints)
        return np.array(
            sorted(i * n + j for i, targets in self._overrides.items() for j in targets),
            dtype=np.int64,
        )

    def _node_of(self, i: int) -> str:
        endpoint = self.endpoints[i]
        if endpoint.pods:
            return endpoint.pods[0].node
        return self.matrix.partition.classes[endpoint.classes[0]].node

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

    def _pod_bands(self, all_pairs: bool) -> Iterator[tuple[Indexes, Indexes, Ids]]:
        """Pod granularity, row by row from the class matrix (output-sized work only), in
        bands of about ``BAND_PAIRS`` pairs: (sources, destinations, ids)."""
        assert self._pod_classes is not None
        classes, ids = self._pod_classes, self.matrix.ids
        n = len(self.endpoints)
        has_pods = self._has_pods
        members: dict[int, list[int]] = {}
        for i, c in enumerate(classes.tolist()):
            members.setdefault(c, []).append(i)
        member_arrays = {c: np.array(m, dtype=np.intp) for c, m in members.items()}
        class_keys = np.array(sorted(members), dtype=np.intp)
        # per class: the endpoints it may reach, sorted, and the ids of those pairs
        by_class: dict[int, tuple[Indexes, Ids]] = {}
        overrides = self._overrides if self.matrix.has_node_classes else {}
        everything = np.arange(n, dtype=np.intp)
        band: list[tuple[Indexes, Ids]] = []
        band_start, band_size = 0, 0
        for i, c in enumerate(classes.tolist()):
            found = by_class.get(c)
            if found is None:
                if all_pairs:
                    reached = everything
                else:
                    allowed = class_keys[ids[c, class_keys] != 0]
                    parts = [member_arrays[int(d)] for d in allowed]
                    reached = np.sort(np.concatenate(parts)) if parts else everything[:0]
                found = by_class[c] = (reached, ids[c, classes[reached]].astype(np.int32))
            targets, values = found
            opened = overrides.get(i)
            if opened:
                extra = np.array(sorted(opened), dtype=np.intp)
                if not all_pairs:
                    targets = np.union1d(targets, extra)
                    values = ids[c, classes[targets]].astype(np.int32)
                values = np.where(np.isin(targets, extra), MaskTable.EVERYTHING, values)
            keep = targets != i if has_pods[i] else (targets != i) & has_pods[targets]
            band.append((targets[keep], values[keep]))
            band_size += len(band[-1][0])
            if band_size >= BAND_PAIRS:
                yield _band(band_start, band)
                band, band_start, band_size = [], i + 1, 0
        if band or band_start == 0:  # the last rows, or none at all (columns need one band)
            yield _band(band_start, band)

    def _group_columns(self, all_pairs: bool) -> tuple[Indexes, Indexes, Ids, Ids]:
        """Group granularity: (sources, destinations, union ids, intersection ids), row-major,
        self pairs in their place."""
        n = len(self.endpoints)
        if all_pairs:
            src = np.repeat(np.arange(n), n)
            dst = np.tile(np.arange(n), n)
        else:
            src, dst = self._allowed_off_diagonal()
        has_pods = self._has_pods
        keep = (has_pods[src] | has_pods[dst]) & (src != dst)
        src, dst = src[keep], dst[keep]
        union, inter = self._group_ids(src, dst)
        diagonal_union, diagonal_inter = self._diagonal
        shown = diagonal_union >= 0 if all_pairs else diagonal_union > MaskTable.NOTHING
        selves = np.flatnonzero(shown)
        at = np.searchsorted(src.astype(np.int64) * n + dst, selves.astype(np.int64) * (n + 1))
        return (
            np.insert(src, at, selves),
            np.insert(dst, at, selves),
            np.insert(union, at, diagonal_union[selves]),
            np.insert(inter, at, diagonal_inter[selves]),
        )

    def _id_bands(self, all_pairs: bool) -> Iterator[tuple[Indexes, Indexes, Ids, Ids]]:
        if self._pod_classes is None:
            yield self._group_columns(all_pairs)
            return
        for src, dst, values in self._pod_bands(all_pairs):
            yield src, dst, values, values

    def _columns_of(self, src: Indexes, dst: Indexes, union: Ids, inter: Ids) -> PairColumns:
        other = self._without_l7
        without = None if other is None else (other._union_ids(src, dst), other.connections_of_id)
        return pair_columns(src, dst, union, inter, self.connections_of_id, without)

    def columns(self, all_pairs: bool = False) -> PairColumns:
        """The pairs of ``pairs`` as columns (one cell per distinct kind of pair)."""
        bands = list(self._id_bands(all_pairs))
        if len(bands) == 1:
            return self._columns_of(*bands[0])
        src, dst, union, inter = (np.concatenate([band[k] for band in bands]) for k in range(4))
        return self._columns_of(src, dst, union, inter)

    def pairs(self, all_pairs: bool = False) -> Iterator[ViewPair]:
        """Ordered pairs with a non-empty allowed set (every pair with ``all_pairs``), row-major."""
        for band in self._id_bands(all_pairs):
            for src, dst, cell in self._columns_of(*band).rows():
                yield ViewPair(src, dst, cell.connections, cell.common, cell.l7)

    def members(self, i: int, j: int) -> Iterator[tuple[str, str, ConnectionSet]]:
        """The pod pairs behind a view pair, each with its own connections (a pod and itself
        excluded), lazily: a namespace pair holds up to pods x pods of them, and a listing
        shows a few (``member_count`` says how many there are). What
        ``ClassMatrix.pod_connections`` says of each, read through the classes the endpoints
        already hold."""
        source, target = self.endpoints[i], self.endpoints[j]
        if not source.pods or not target.pods:  # a node or an external block: no pod pairs
            return
        between = self.matrix.member_connections
        for src, src_class in zip(source.pods, source.classes, strict=True):
            src_id, src_node = src.id, src.node
            for dst, dst_class in zip(target.pods, target.classes, strict=True):
                dst_id = dst.id
                if src_id != dst_id:
                    yield src_id, dst_id, between(src_class, src_node, dst_class, dst.node)

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


def _fold_rows(ids: Ids, distinct: list[list[int]], bits: MaskBits) -> tuple[Ids, Ids]:
    """``fold_blocks`` for a matrix that is mostly something: each group's rows folded into
    one (where its classes differ), then each group's columns of those."""
    folded = [bits.fold_both(ids[g, :]) for g in distinct]
    union_rows = np.stack([u for u, _ in folded])
    inter_rows = np.stack([i for _, i in folded])
    del folded
    union = np.stack([bits.fold(union_rows[:, g].T, (False,))[0] for g in distinct], 1)
    inter = np.stack([bits.fold(inter_rows[:, g].T, (True,))[0] for g in distinct], 1)
    return union, inter


BAND_PAIRS = 1 << 20  # pod granularity: pairs per band ``pairs`` turns into objects


def _band(start: int, rows: list[tuple[Indexes, Ids]]) -> tuple[Indexes, Indexes, Ids]:
    """Rows start, start + 1, ... of (targets, ids) as columns."""
    counts = [len(targets) for targets, _ in rows]
    src = np.repeat(np.arange(start, start + len(rows), dtype=np.intp), counts)
    dst = np.concatenate([t for t, _ in rows]) if rows else np.zeros(0, dtype=np.intp)
    values = np.concatenate([v for _, v in rows]) if rows else np.zeros(0, dtype=np.int32)
    return src, dst, values


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
    key_of = _GROUP_KEYS[granularity]
    for cls in matrix.classes:
        if cls.kind == EXTERNAL and merge_external:
            world.cidrs += cls.cidrs
            world.classes.append(cls.index)
            continue
        if cls.kind == EXTERNAL or (cls.kind == NODE and not cls.pods):
            extra.append(_special(cls))
            continue
        index = cls.index
        for pod in cls.pods:  # a loop per pod: 100k pods, so nothing in it that can be outside
            if admits is not None and not admits(pod):
                continue
            key = key_of(pod)
            endpoint = groups.get(key)
            if endpoint is None:
                endpoint = groups[key] = _endpoint_for(pod, granularity, key)
            endpoint.pods.append(pod)
            endpoint.classes.append(index)
    ordered = sorted(groups.values(), key=lambda e: e.id)
    return ordered + extra + ([world] if world.classes else [])


_GROUP_KEYS: dict[str, Callable[[Pod], str]] = {
    "pod": lambda pod: pod.id,
    "workload": lambda pod: pod.workload_id,
    "namespace": lambda pod: pod.namespace,
}


def _endpoint_for(pod: Pod, granularity: str, key: str) -> ViewEndpoint:
    """The endpoint of the group ``key`` whose first member is ``pod``."""
    workload_id = pod.workload_id
    workload_kind = pod.workload.kind if pod.workload else "Pod"
    if granularity == "pod":
        return ViewEndpoint(key, "Pod", pod.namespace, pod.name, workload_id, workload_kind)
    if granularity == "workload":
        name = pod.workload.name if pod.workload else pod.name
        return ViewEndpoint(key, workload_kind, pod.namespace, name, workload_id, workload_kind)
    return ViewEndpoint(key, "Namespace", pod.namespace, pod.namespace)


def _special(cls: EndpointClass) -> ViewEndpoint:
    if cls.kind == EXTERNAL:
        return ViewEndpoint(cls.id, "External", cidrs=cls.cidrs, classes=[cls.index])
    return ViewEndpoint(cls.id, "Node", name=cls.node, classes=[cls.index])
