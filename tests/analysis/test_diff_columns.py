"""The changed pairs read as columns (analysis.diff_columns) are those found by reading each
candidate pair from both views on its own (``MatrixView.pair``) and comparing, on random
small clusters at every granularity and for any set of candidate pairs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.analysis.test_diff_candidates import cluster_pairs

from netpol.analysis.diff_columns import Codes, around, changed_pairs, merged_endpoints
from netpol.analysis.diff_listing import Delta, DiffEndpoint
from netpol.engine.compile import compile_cluster
from netpol.engine.matrix import class_matrix
from netpol.engine.ports import ConnectionSet
from netpol.engine.views import GRANULARITIES, MatrixView
from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options

# derandomized: the same clusters every run, so the test cannot fail one run in fifty
SAME_AS_PAIR_BY_PAIR = settings(max_examples=80, deadline=None, derandomize=True)

Found = dict[tuple[str, str], tuple[ConnectionSet, bool]]


def read_one_by_one(view: MatrixView, wanted: list[tuple[str, str]]) -> Found:
    """The pairs of ``wanted`` that allow something, each asked of the view on its own."""
    index = {e.id: i for i, e in enumerate(view.endpoints)}
    found = {}
    for s, d in wanted:
        i, j = index.get(s), index.get(d)
        if i is None or j is None or not (view.endpoints[i].pods and view.endpoints[j].pods):
            continue
        pair = view.pair(i, j)
        if pair is not None and not pair.connections.is_empty:
            found[(s, d)] = (pair.connections, pair.mixed)
    return found


def compared_one_by_one(
    before: Found, after: Found, endpoints: list[DiffEndpoint]
) -> dict[int, list[tuple[int, Delta]]]:
    index = {e.id: i for i, e in enumerate(endpoints)}
    none = (ConnectionSet.none(), False)
    found: dict[int, list[tuple[int, Delta]]] = {}
    for s, d in sorted(before.keys() | after.keys()):
        (b, mb), (a, ma) = before.get((s, d), none), after.get((s, d), none)
        if b != a:
            found.setdefault(index[s], []).append((index[d], Delta(b, a, mb, ma)))
    return {s: sorted(targets, key=lambda t: t[0]) for s, targets in found.items()}


def random_candidates(endpoints: list[DiffEndpoint], seed: int, share: float) -> Codes:
    """A random ``share`` of the pairs of ``endpoints`` as codes, some repeated, shuffled."""
    n = len(endpoints)
    generator = np.random.default_rng(seed)
    codes = np.flatnonzero(generator.random(n * n) < share).astype(np.int64)
    codes = np.concatenate([codes, codes[: len(codes) // 3]])
    generator.shuffle(codes)
    return codes


@SAME_AS_PAIR_BY_PAIR
@given(
    cluster_pairs(),
    st.sampled_from(sorted(PROFILES)),
    st.integers(0, 2**32 - 1),
    st.sampled_from([1.0, 0.5, 0.2]),
)
def test_columns_find_what_reading_pair_by_pair_finds(
    pair: tuple[Cluster, Cluster], profile: str, seed: int, share: float
) -> None:
    """At every granularity, with and without node classes, between the two sides and
    between each side and a side without pods (every pair it allows changed, so its mixed
    flags show)."""
    options = Options(profile=PROFILES[profile])
    old, new = pair
    sides = (old, new, replace(new, pods=()))
    for nodes in (False, True):
        matrices = [class_matrix(compile_cluster(c, options), include_nodes=nodes) for c in sides]
        for granularity in GRANULARITIES:
            views = [MatrixView(m, granularity) for m in matrices]
            for a, b in ((0, 1), (0, 2), (2, 1)):
                before, after = views[a], views[b]
                endpoints = merged_endpoints(before, after)
                codes = random_candidates(endpoints, seed, share)
                n = len(endpoints)
                wanted = [(endpoints[c // n].id, endpoints[c % n].id) for c in codes.tolist()]
                expected = compared_one_by_one(
                    read_one_by_one(before, wanted), read_one_by_one(after, wanted), endpoints
                )
                assert changed_pairs(before, after, endpoints, codes) == expected


def test_around_is_every_pair_of_the_chosen_endpoints_both_ways() -> None:
    codes = around(np.array([1, 3], dtype=np.intp), 4)
    pairs = {divmod(int(c), 4) for c in codes}
    assert pairs == {(s, d) for s in range(4) for d in range(4) if 1 in (s, d) or 3 in (s, d)}
    assert len(around(np.zeros(0, dtype=np.intp), 4)) == 0
