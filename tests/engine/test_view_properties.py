"""Every view and describe equal pairwise ``explain`` on random small clusters.

The views reduce the class matrix (per class, never per pod pair) and describe asks one
verdict per pair of classes; the evidence-free ``allowed`` skips the words of a verdict.
Each is checked here against ``evaluate`` (what ``explain`` prints) asked of every member
pod pair, under every profile, with nodes and hostNetwork pods in play.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from netpol.engine import group_blocks
from netpol.engine import matrix as matrix_module
from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.engine.describe import describe_pod
from netpol.engine.matrix import class_matrix
from netpol.engine.ports import ConnectionSet
from netpol.engine.verdict import allowed, evaluate
from netpol.engine.views import GRANULARITIES, MERGED_EXTERNAL_ID, MatrixView
from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options

from .test_properties import clusters, describe, endpoints

VIEWS = settings(max_examples=150, deadline=None, derandomize=True)


def _explained(cc: CompiledCluster, a: str, b: str) -> ConnectionSet:
    pods = cc.cluster.pod_by_id
    return evaluate(cc, cc.endpoint(pods[a]), cc.endpoint(pods[b])).allowed


@VIEWS
@given(clusters())
def test_allowed_is_the_verdicts_connection_set(c: Cluster) -> None:
    for profile in PROFILES.values():
        cc = compile_cluster(c, Options(profile=profile))
        for src in endpoints(cc):
            for dst in endpoints(cc):
                fast = allowed(cc, src.engine, dst.engine)
                full = evaluate(cc, src.engine, dst.engine).allowed
                assert fast == full, f"{src.name} -> {dst.name} under {profile.name}\n{describe(c)}"


# a sparse class matrix is made where its sides allow something and says where that is,
# and a group view folds it by its blocks; a dense one is made band by band and folded by
# its rows: each way is taken whatever the density of the small clusters drawn here
FOLDS = {"sparse blocks": 1.0, "rows": -1.0}


@pytest.mark.parametrize("fold", list(FOLDS))
@VIEWS
@given(clusters())
def test_every_view_pair_is_the_union_and_common_part_of_its_members(fold: str, c: Cluster) -> None:
    for profile in PROFILES.values():
        cc = compile_cluster(c, Options(profile=profile))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(matrix_module, "SPARSE_SHARE", FOLDS[fold])
            matrix = class_matrix(cc, include_nodes=True)
        assert (matrix.known_allowing is not None) == (fold == "sparse blocks")
        for granularity in GRANULARITIES:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(group_blocks, "SPARSE_SHARE", FOLDS[fold])
                view = MatrixView(matrix, granularity)
            listed = {(p.src, p.dst): p for p in view.pairs(all_pairs=True)}
            for i, src in enumerate(view.endpoints):
                for j, dst in enumerate(view.endpoints):
                    members = [
                        _explained(cc, a.id, b.id)
                        for a in src.pods
                        for b in dst.pods
                        if a.id != b.id and a.ips and b.ips
                    ]
                    pair = listed.get((i, j))
                    show = f"{src.id} -> {dst.id} by {granularity} under {profile.name}"
                    if not members:
                        assert pair is None or not (src.pods and dst.pods), show
                        continue
                    assert pair is not None, show
                    union = ConnectionSet.union_of(members)
                    common = members[0]
                    for m in members[1:]:
                        common &= m
                    assert (pair.connections, pair.common) == (union, common), (
                        f"{show}: view {pair.connections.text()} / {pair.common.text()}, "
                        f"explain {union.text()} / {common.text()}\n{describe(c)}"
                    )


@VIEWS
@given(clusters())
def test_describe_pod_lists_whom_explain_allows(c: Cluster) -> None:
    for profile in PROFILES.values():
        cc = compile_cluster(c, Options(profile=profile))
        for pod in c.pods:
            described = describe_pod(cc, pod)
            others = [o for o in c.pods if o.id != pod.id and o.ips and pod.ips]
            reaches = [(o.id, _explained(cc, pod.id, o.id)) for o in others]
            reached_by = [(o.id, _explained(cc, o.id, pod.id)) for o in others]
            assert described.reaches == tuple((i, s) for i, s in reaches if not s.is_empty)
            assert described.reached_by == tuple((i, s) for i, s in reached_by if not s.is_empty)


@VIEWS
@given(clusters())
def test_merged_external_pairs_are_the_union_and_common_part_of_the_blocks(c: Cluster) -> None:
    """``merge_external``: the one external endpoint stands for every block, as a group
    stands for its members (union, and what every block is allowed)."""
    cc = compile_cluster(c, Options())
    matrix = class_matrix(cc, include_external=True)
    for granularity in ("workload", "namespace"):
        each = MatrixView(matrix, granularity)
        merged = MatrixView(matrix, granularity, merge_external=True)
        blocks = [i for i, e in enumerate(each.endpoints) if e.kind == "External"]
        inside = [i for i, e in enumerate(each.endpoints) if e.kind != "External"]
        assert [e.id for e in merged.endpoints] == [each.endpoints[i].id for i in inside] + (
            [MERGED_EXTERNAL_ID] if blocks else []
        )
        if not blocks:
            continue
        world = len(merged.endpoints) - 1
        assert sorted(merged.endpoints[world].cidrs) == sorted(
            cidr for i in blocks for cidr in each.endpoints[i].cidrs
        )
        for n, i in enumerate(inside):
            for outward in (True, False):
                found = [each.pair(i, b) if outward else each.pair(b, i) for b in blocks]
                pair = merged.pair(n, world) if outward else merged.pair(world, n)
                if not each.endpoints[i].pods:  # a node endpoint: no pod on either side
                    assert pair is None and found == [None] * len(blocks)
                    continue
                assert pair is not None and None not in found
                union = ConnectionSet.union_of([p.connections for p in found if p])
                common = found[0].common if found[0] else ConnectionSet.none()
                for p in found[1:]:
                    common &= p.common if p else ConnectionSet.none()
                assert (pair.connections, pair.common) == (union, common), describe(c)


@VIEWS
@given(clusters())
def test_members_are_the_pod_pairs_each_with_what_explain_allows(c: Cluster) -> None:
    """What a listing of disagreeing members prints: every pod pair of the view pair, in
    order, a pod never paired with itself, nodes' exceptions applied."""
    for profile in PROFILES.values():
        cc = compile_cluster(c, Options(profile=profile))
        matrix = class_matrix(cc, include_nodes=True)
        for granularity in ("workload", "namespace"):
            view = MatrixView(matrix, granularity)
            for i, src in enumerate(view.endpoints):
                for j, dst in enumerate(view.endpoints):
                    expected = [
                        (a.id, b.id, _explained(cc, a.id, b.id))
                        for a in src.pods
                        for b in dst.pods
                        if a.id != b.id
                    ]
                    listed = list(view.members(i, j))
                    assert listed == expected, f"{src.id} -> {dst.id} under {profile.name}"
                    assert view.member_count(i, j) == len(listed)
