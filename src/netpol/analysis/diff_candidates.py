"""Which endpoint pairs two policy sets may disagree on, found on classes, not pod pairs.

A pod belongs to one class on each side (engine.classes); pods with the same pair of classes
(a joint class) are alike on both sides. Two joint classes whose class-level connections are
equal on both sides cannot change any pair of their member pods, so a diff need compare only
the endpoint pairs that hold a member pair of two joint classes that changed. That work is
(joint classes)^2 set indexes compared with numpy, plus the changed pairs themselves,
instead of every allowed pod pair of both sides (10k pods: millions of pairs). The pod
view keeps the changed joint class pairs themselves (diff_joint); the workload and
namespace views read the candidate endpoint pairs found here.

Pods whose connections the classes do not decide alone are compared in full: node traffic
(hostNetwork pods: the node exceptions depend on where each pod runs), pods on one side only,
and pods whose endpoint changed (a pod moved to another workload).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property

import numpy as np
import numpy.typing as npt

from netpol.analysis.diff_columns import Codes, Indexes, around
from netpol.analysis.diff_listing import DiffEndpoint
from netpol.engine.endpoints import POD
from netpol.engine.masks import BAND_ELEMENTS
from netpol.engine.matrix import ClassMatrix, Ids
from netpol.engine.ports import ConnectionSet
from netpol.engine.views import MatrixView

# past this share of endpoints compared in full, narrowing saves nothing
MOST_ENDPOINTS_VOLATILE = 0.25


def candidate_codes(
    old: MatrixView, new: MatrixView, endpoints: Sequence[DiffEndpoint], changes: JointChanges
) -> Codes | None:
    """Every pair of ``endpoints`` (the views' endpoints with pods, merged by id and sorted)
    whose connections may differ between ``old`` and ``new`` (a superset of those that do),
    as codes source * len(endpoints) + destination, perhaps repeated; None when narrowing
    cannot help. ``changes``: of the views' class matrices."""
    if old.matrix.profile != new.matrix.profile or old.granularity != new.granularity:
        return None
    n = len(endpoints)
    endpoint_old = {p.id: i for i, e in enumerate(endpoints) for p in e.pods_old}
    endpoint_new = {p.id: i for i, e in enumerate(endpoints) for p in e.pods_new}
    class_old, class_new = old.matrix.partition.class_of_pod, new.matrix.partition.class_of_pod
    pod_old = [c.kind == POD for c in old.matrix.classes]
    pod_new = [c.kind == POD for c in new.matrix.classes]
    # the endpoints holding the pods of each joint class (old class, new class), as
    # (joint class, endpoint) codes
    joint: dict[tuple[int, int], int] = {}
    holding: list[int] = []
    volatile = np.zeros(n, dtype=bool)
    for pod_id in endpoint_old.keys() | endpoint_new.keys():
        a, b = class_old.get(pod_id), class_new.get(pod_id)
        e_old, e_new = endpoint_old.get(pod_id), endpoint_new.get(pod_id)
        if a is None or b is None or e_old is None or e_old != e_new:
            volatile[[e for e in (e_old, e_new) if e is not None]] = True
        elif not (pod_old[a] and pod_new[b]):
            volatile[e_old] = True
        else:
            holding.append(joint.setdefault((a, b), len(joint)) * n + e_old)
    if volatile.sum() > MOST_ENDPOINTS_VOLATILE * max(1, n):
        return None
    members = _Members(np.unique(np.array(holding, dtype=np.int64)), len(joint), n)
    found = [around(np.flatnonzero(volatile), n)]
    for xs, ys, _, _ in changes.bands(list(joint)):
        found.append(np.unique(members.pairs(xs, ys)))
    return np.concatenate(found)


class _Members:
    """The endpoints of each joint class, ascending, from (joint class, endpoint) codes."""

    def __init__(self, codes: Codes, joints: int, n: int) -> None:
        owners, self.endpoints = np.divmod(codes, max(1, n))
        self.n = n
        self.counts = np.bincount(owners, minlength=joints)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64)

    def pairs(self, xs: Indexes, ys: Indexes) -> Codes:
        """Every (member of xs[k], member of ys[k]) pair, as codes."""
        counts, starts = self.counts, self.starts
        sizes = counts[xs] * counts[ys]
        which = np.repeat(np.arange(len(xs)), sizes)
        offset = np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(
            np.cumsum(sizes) - sizes, sizes
        )
        wide = counts[ys][which]
        src = self.endpoints[starts[xs][which] + offset // wide]
        dst = self.endpoints[starts[ys][which] + offset % wide]
        return src * self.n + dst


def canonical_ids(
    old: ClassMatrix, new: ClassMatrix
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], list[ConnectionSet]]:
    """Per mask id of each side, the index of its connection set in one list shared by both:
    each side cuts the port space into its own atoms, so ids compare only as sets."""
    sets: dict[ConnectionSet, int] = {}

    def index(matrix: ClassMatrix) -> npt.NDArray[np.int32]:
        found = [
            sets.setdefault(matrix.atoms.connections(mask), len(sets))
            for mask in matrix.table.masks
        ]
        return np.array(found, dtype=np.int32)

    canon_old = index(old)
    canon_new = index(new)
    return canon_old, canon_new, list(sets)


Band = tuple[
    npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.int32], npt.NDArray[np.int32]
]


def changed_joint_bands(
    old: ClassMatrix,
    new: ClassMatrix,
    joint: list[tuple[int, int]],
    canon_old: npt.NDArray[np.int32],
    canon_new: npt.NDArray[np.int32],
) -> Iterator[Band]:
    """(x, y, old set index, new set index) of the pairs of joint classes whose class-level
    connections differ, a band of rows at a time (a band bounds the temporaries)."""
    if not joint:
        return
    keys = np.array(joint, dtype=np.intp)
    rows_old, rows_new = keys[:, 0], keys[:, 1]
    whole_old, whole_new = _all_in_order(rows_old, old.ids), _all_in_order(rows_new, new.ids)
    count = len(joint)
    band = max(1, BAND_ELEMENTS // count)
    for start in range(0, count, band):
        stop = min(count, start + band)
        # a side's joint classes that are its classes in order (both sides partitioned
        # alike, as when only ports changed) read its rows as they are, not gathered
        if whole_old:
            before = canon_old[old.ids[start:stop]]
        else:
            before = canon_old[old.ids[np.ix_(rows_old[start:stop], rows_old)]]
        if whole_new:
            after = canon_new[new.ids[start:stop]]
        else:
            after = canon_new[new.ids[np.ix_(rows_new[start:stop], rows_new)]]
        xs, ys = np.nonzero(before != after)
        yield xs + start, ys, before[xs, ys], after[xs, ys]


def _all_in_order(classes: Indexes, ids: Ids) -> bool:
    """``classes`` are every class of the matrix ``ids``, ascending."""
    return len(classes) == len(ids) and bool((classes == np.arange(len(ids))).all())


class JointChanges:
    """The changed joint class pairs of two class matrices, computed once: a pod diff that
    comes back by workload (or a caller asking twice) asks for a subset of the joint
    classes it already compared, and gets them renumbered instead of compared again."""

    def __init__(self, old: ClassMatrix, new: ClassMatrix) -> None:
        self.old, self.new = old, new
        self._known: tuple[dict[tuple[int, int], int], list[Band]] | None = None

    @cached_property
    def _canonical(
        self,
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], list[ConnectionSet]]:
        return canonical_ids(self.old, self.new)

    @property
    def sets(self) -> list[ConnectionSet]:
        """The connection sets the bands' set indexes number."""
        return self._canonical[2]

    def bands(self, joint: list[tuple[int, int]]) -> list[Band]:
        """``changed_joint_bands`` of ``joint`` (numbered by position in it)."""
        if self._known is not None:
            numbering, bands = self._known
            at = np.array([numbering.get(key, -1) for key in joint], dtype=np.intp)
            if not len(at) or at.min() >= 0:
                position = np.full(len(numbering), -1, dtype=np.intp)
                position[at] = np.arange(len(joint), dtype=np.intp)
                return [_renumbered(band, position) for band in bands]
        canon_old, canon_new, _ = self._canonical
        bands = list(changed_joint_bands(self.old, self.new, joint, canon_old, canon_new))
        self._known = ({key: x for x, key in enumerate(joint)}, bands)
        return bands


def _renumbered(band: Band, position: Indexes) -> Band:
    """The rows of ``band`` between joint classes that ``position`` keeps, renumbered."""
    xs, ys, before, after = band
    x, y = position[xs], position[ys]
    kept = (x >= 0) & (y >= 0)
    return x[kept], y[kept], before[kept], after[kept]
