"""The changed pairs among candidate endpoint pairs, read from both views as columns.

A diff compares the endpoint pairs that may have changed (diff_candidates, diff_joint): at
100k pods, hundreds of thousands of them. Asked one at a time (``MatrixView.pair``), each
costs a few Python calls and two connection sets; here the candidates are numpy columns of
(source, destination) indexes into the diff's endpoint list, each side reads its mask ids
for all of them at once (``MatrixView.pair_ids``), and the ids are turned into connection
sets once per distinct id. Only the pairs that changed become Python objects.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from netpol.analysis.diff_listing import Delta, DiffEndpoint, Indexes, Targets
from netpol.engine.pair_columns import disagree
from netpol.engine.ports import ConnectionSet
from netpol.engine.views import MatrixView

Codes = npt.NDArray[np.int64]  # source * len(endpoints) + destination


def merged_endpoints(old: MatrixView, new: MatrixView) -> list[DiffEndpoint]:
    """The endpoints with pods of either view, by id, each holding its pods on each side."""
    merged: dict[str, DiffEndpoint] = {}
    for e in old.endpoints:
        if e.pods:  # not nodes and the per-side external blocks: a diff adds its own
            merged[e.id] = DiffEndpoint(e.id, e.kind, e.namespace, pods_old=tuple(e.pods))
    for e in new.endpoints:
        if e.pods:
            found = merged.get(e.id)
            if found is None:
                merged[e.id] = DiffEndpoint(e.id, e.kind, e.namespace, pods_new=tuple(e.pods))
            else:
                merged[e.id] = DiffEndpoint(
                    e.id, found.kind, found.namespace, (), found.pods_old, tuple(e.pods)
                )
    return [merged[i] for i in sorted(merged)]


def positions(view: MatrixView, endpoints: Sequence[DiffEndpoint]) -> Indexes:
    """Per diff endpoint: its index in ``view``, -1 where the view has no such endpoint with
    pods (a pair of it reads as allowing nothing)."""
    index = {e.id: i for i, e in enumerate(view.endpoints) if e.pods}
    return np.array([index.get(e.id, -1) for e in endpoints], dtype=np.intp)


def around(endpoints: Indexes, n: int) -> Codes:
    """Every pair with one of ``endpoints`` as source or destination, among ``n`` endpoints."""
    if not len(endpoints) or not n:
        return np.zeros(0, dtype=np.int64)
    chosen = endpoints.astype(np.int64)[:, None]
    everything = np.arange(n, dtype=np.int64)[None, :]
    return np.concatenate([(chosen * n + everything).ravel(), (everything * n + chosen).ravel()])


def changed_pairs(
    old: MatrixView, new: MatrixView, endpoints: Sequence[DiffEndpoint], codes: Codes
) -> dict[int, Targets]:
    """The pairs of ``codes`` whose connections differ between the views, by source index,
    each list by destination index: what reading each pair with ``pair`` on both sides and
    comparing finds (a pair that is None or allows nothing reads as no connections)."""
    n = len(endpoints)
    codes = np.unique(codes)  # row-major: by source, then by destination
    src, dst = np.divmod(codes, max(1, n))
    sets: dict[ConnectionSet, int] = {}  # both sides' sets, numbered as first met
    before, mixed_before = _read(old, endpoints, src, dst, sets)
    after, mixed_after = _read(new, endpoints, src, dst, sets)
    differ = np.flatnonzero(before != after)
    listed = list(sets)
    deltas: dict[tuple[int, int, bool, bool], Delta] = {}
    singles: dict[int, Targets] = {}
    for s, d, p, q, mp, mq in zip(
        src[differ].tolist(),
        dst[differ].tolist(),
        before[differ].tolist(),
        after[differ].tolist(),
        mixed_before[differ].tolist(),
        mixed_after[differ].tolist(),
        strict=True,
    ):
        key = (p, q, mp, mq)
        delta = deltas.get(key)
        if delta is None:
            delta = deltas[key] = Delta(listed[p], listed[q], mp, mq)
        targets = singles.get(s)
        if targets is None:
            targets = singles[s] = []
        targets.append((d, delta))
    return singles


def _read(
    view: MatrixView,
    endpoints: Sequence[DiffEndpoint],
    src: Indexes,
    dst: Indexes,
    sets: dict[ConnectionSet, int],
) -> tuple[Indexes, npt.NDArray[np.bool_]]:
    """Per pair: the number of its connection set in ``sets`` (added there when new) and
    whether its member pod pairs disagree; no connections and not mixed where ``pair``
    would be None."""
    at = positions(view, endpoints)
    i, j = at[src], at[dst]
    present = np.flatnonzero((i >= 0) & (j >= 0))
    union = np.full(len(src), -1, dtype=np.int64)
    inter = union.copy()
    union[present], inter[present] = view.pair_ids(i[present], j[present])
    # one connection set per distinct (union, intersection) of ids; -1 is no pair
    keys = np.stack([union, inter], axis=1)
    distinct, cell = np.unique(keys, axis=0, return_inverse=True)
    nothing = sets.setdefault(ConnectionSet.none(), len(sets))
    numbers, flags = [], []
    for u, x in distinct.tolist():
        connections = view.connections_of_id(u) if u >= 0 else ConnectionSet.none()
        if connections.is_empty:
            numbers.append(nothing)
            flags.append(False)
            continue
        numbers.append(sets.setdefault(connections, len(sets)))
        flags.append(disagree(connections, view.connections_of_id(x)))
    cell = cell.reshape(-1)
    return (
        np.array(numbers, dtype=np.intp)[cell] if len(src) else np.zeros(0, dtype=np.intp),
        np.array(flags, dtype=bool)[cell] if len(src) else np.zeros(0, dtype=bool),
    )
