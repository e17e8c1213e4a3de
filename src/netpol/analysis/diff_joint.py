"""A pod diff on joint classes: the pods of one (old class, new class) pair are alike on both
sides, so two joint classes whose class connections changed change every pair of their
members alike, and the diff keeps that once (diff_listing) instead of per pod pair.

Pods the classes do not decide alone are compared pair by pair with every endpoint (as columns,
diff_columns):
node traffic (hostNetwork pods: the node exceptions depend on where each pod runs) and pods
of one side only.
"""

from __future__ import annotations

import numpy as np

from netpol.analysis.diff_candidates import (
    MOST_ENDPOINTS_VOLATILE,
    JointChanges,
)
from netpol.analysis.diff_columns import around, changed_pairs
from netpol.analysis.diff_listing import ChangeListing, Delta, DiffEndpoint, JointBlocks
from netpol.engine.endpoints import POD
from netpol.engine.matrix import ClassMatrix
from netpol.engine.views import MatrixView


def joint_listing(
    old: MatrixView, new: MatrixView, endpoints: list[DiffEndpoint], changes: JointChanges
) -> ChangeListing | None:
    """The changed pairs of two pod views, per joint class pair; None when the classes cannot
    narrow the comparison (other profiles, or most pods compared one by one). ``changes``:
    of the views' class matrices."""
    if old.matrix.profile != new.matrix.profile or old.granularity != "pod":
        return None
    class_old, class_new = old.matrix.partition.class_of_pod, new.matrix.partition.class_of_pod
    kinds_old = [c.kind for c in old.matrix.classes]
    kinds_new = [c.kind for c in new.matrix.classes]
    keys: dict[tuple[int, int], int] = {}
    member_lists: list[list[int]] = []
    joint_of = np.full(len(endpoints), -1, dtype=np.intp)
    volatile: list[int] = []
    for i, e in enumerate(endpoints):
        a, b = class_old.get(e.id), class_new.get(e.id)
        if a is None or b is None or not (e.pods_old and e.pods_new):
            volatile.append(i)
            continue
        if kinds_old[a] != POD or kinds_new[b] != POD:
            volatile.append(i)
        else:
            x = keys.setdefault((a, b), len(keys))
            if x == len(member_lists):
                member_lists.append([])
            member_lists[x].append(i)
            joint_of[i] = x
    if len(volatile) > MOST_ENDPOINTS_VOLATILE * max(1, len(endpoints)):
        return None
    sets = changes.sets
    deltas: dict[tuple[int, int], Delta] = {}
    changed: dict[int, list[tuple[int, Delta]]] = {}
    for xs, ys, before, after in changes.bands(list(keys)):
        for x, y, p, q in zip(
            xs.tolist(), ys.tolist(), before.tolist(), after.tolist(), strict=True
        ):
            delta = deltas.get((p, q))
            if delta is None:
                delta = deltas[(p, q)] = Delta(sets[p], sets[q])
            changed.setdefault(x, []).append((y, delta))
    members = [np.array(m, dtype=np.intp) for m in member_lists]
    singles = changed_pairs(
        old, new, endpoints, around(np.array(volatile, dtype=np.intp), len(endpoints))
    )
    return ChangeListing(endpoints, JointBlocks(joint_of, members, changed), singles)


def joint_pair_count(old: ClassMatrix, new: ClassMatrix, changes: JointChanges) -> int | None:
    """How many pod pairs ``joint_listing`` lists when every pod is on both sides in a pod
    class (nothing compared pair by pair), counted per changed joint class pair from the
    classes alone: a pod diff too long for a table learns it without making the pod views.
    None when some pod is not so (the listing must then be made to be counted)."""
    class_old, class_new = old.partition.class_of_pod, new.partition.class_of_pod
    if old.profile != new.profile or class_old.keys() != class_new.keys():
        return None
    if any(c.kind != POD for c in old.classes) or any(c.kind != POD for c in new.classes):
        return None
    a = np.fromiter(class_old.values(), dtype=np.int64, count=len(class_old))
    b = np.fromiter((class_new[pod] for pod in class_old), dtype=np.int64, count=len(class_old))
    codes, members = np.unique(a * max(1, len(new.classes)) + b, return_counts=True)
    joint = list(zip(*np.divmod(codes, max(1, len(new.classes))), strict=True))
    total = 0
    for xs, ys, _, _ in changes.bands([(int(x), int(y)) for x, y in joint]):
        sizes = members[xs] * members[ys]
        total += int(sizes.sum()) - int(members[xs[xs == ys]].sum())  # a pod with itself
    return total
