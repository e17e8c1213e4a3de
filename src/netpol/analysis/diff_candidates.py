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

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from netpol.engine.endpoints import POD
from netpol.engine.masks import BAND_ELEMENTS
from netpol.engine.matrix import ClassMatrix
from netpol.engine.ports import ConnectionSet
from netpol.engine.views import MatrixView

# past this share of endpoints compared in full, narrowing saves nothing
MOST_ENDPOINTS_VOLATILE = 0.25


def candidate_pairs(old: MatrixView, new: MatrixView) -> set[tuple[str, str]] | None:
    """(source id, destination id) of every endpoint pair whose connections may differ between
    ``old`` and ``new`` (a superset of those that do); None when narrowing cannot help."""
    if old.matrix.profile != new.matrix.profile or old.granularity != new.granularity:
        return None
    endpoint_old = {p.id: e.id for e in old.endpoints for p in e.pods}
    endpoint_new = {p.id: e.id for e in new.endpoints for p in e.pods}
    class_old, class_new = old.matrix.partition.class_of_pod, new.matrix.partition.class_of_pod
    kinds_old = [c.kind for c in old.matrix.classes]
    kinds_new = [c.kind for c in new.matrix.classes]
    # the endpoints holding the pods of each joint class (old class, new class)
    members: dict[tuple[int, int], set[str]] = {}
    volatile: set[str] = set()
    for pod_id in endpoint_old.keys() | endpoint_new.keys():
        a, b = class_old.get(pod_id), class_new.get(pod_id)
        e_old, e_new = endpoint_old.get(pod_id), endpoint_new.get(pod_id)
        if (
            a is None
            or b is None
            or e_old is None
            or e_old != e_new
            or kinds_old[a] != POD
            or kinds_new[b] != POD
        ):
            volatile.update(e for e in (e_old, e_new) if e is not None)
            continue
        members.setdefault((a, b), set()).add(e_old)
    everything = set(endpoint_old.values()) | set(endpoint_new.values())
    if len(volatile) > MOST_ENDPOINTS_VOLATILE * max(1, len(everything)):
        return None
    found: set[tuple[str, str]] = set()
    joint = list(members)
    for x, y in _changed_joint_pairs(old, new, joint):
        found.update((s, d) for s in members[joint[x]] for d in members[joint[y]])
    for v in volatile:
        found.update((v, e) for e in everything)
        found.update((e, v) for e in everything)
    return found


def _changed_joint_pairs(
    old: MatrixView, new: MatrixView, joint: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Pairs of joint classes whose class-level connections differ."""
    canon_old, canon_new, _ = canonical_ids(old.matrix, new.matrix)
    changed: list[tuple[int, int]] = []
    for xs, ys, _, _ in changed_joint_bands(old.matrix, new.matrix, joint, canon_old, canon_new):
        changed.extend(zip(xs.tolist(), ys.tolist(), strict=True))
    return changed


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
    count = len(joint)
    band = max(1, BAND_ELEMENTS // count)
    for start in range(0, count, band):
        stop = min(count, start + band)
        before = canon_old[old.ids[np.ix_(rows_old[start:stop], rows_old)]]
        after = canon_new[new.ids[np.ix_(rows_new[start:stop], rows_new)]]
        xs, ys = np.nonzero(before != after)
        yield xs + start, ys, before[xs, ys], after[xs, ys]
