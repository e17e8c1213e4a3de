"""A view's pairs as columns say what its pairs as objects say, whatever the banding.

``MatrixView.columns`` is what the writers read; ``pairs`` (graph, diff, the property
test against ``explain``) and ``pair`` (one pair, as diff and explain ask) must keep
saying the same on random small clusters, nodes and external blocks in play.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from tests.conftest import EXAMPLES

from netpol.engine import views
from netpol.engine.compile import compile_cluster
from netpol.engine.matrix import class_matrix
from netpol.engine.views import GRANULARITIES, MatrixView, ViewPair
from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options
from netpol.validate.pipeline import load_cluster

from .test_properties import clusters, describe

COLUMNS = settings(max_examples=60, deadline=None, derandomize=True)


def _key(pair: ViewPair) -> tuple[int, int, str, str, str]:
    return pair.src, pair.dst, pair.connections.text(), pair.common.text(), pair.l7.text()


@COLUMNS
@given(clusters())
def test_columns_pairs_and_pair_agree_at_every_granularity(c: Cluster) -> None:
    for profile in PROFILES.values():
        cc = compile_cluster(c, Options(profile=profile))
        matrix = class_matrix(cc, include_nodes=True, include_external=True)
        for granularity in GRANULARITIES:
            view = MatrixView(matrix, granularity)
            show = f"by {granularity} under {profile.name}\n{describe(c)}"
            for all_pairs in (False, True):
                listed = [_key(p) for p in view.pairs(all_pairs=all_pairs)]
                columns = [
                    (s, d, cell.connections.text(), cell.common.text(), cell.l7.text())
                    for s, d, cell in view.columns(all_pairs=all_pairs).rows()
                ]
                assert listed == columns, show
                assert listed == sorted(listed), f"not row-major {show}"
                assert all(c[2] != "No Connections" for c in listed) or all_pairs, show
            every = {(p[0], p[1]): p for p in (_key(p) for p in view.pairs(all_pairs=True))}
            n = len(view.endpoints)
            for i in range(n):
                for j in range(n):
                    one = view.pair(i, j)
                    assert (None if one is None else _key(one)) == every.get((i, j)), (
                        f"pair({i}, {j}) {show}"
                    )


def _three_tier_by_pod() -> MatrixView:
    options = Options()
    result = load_cluster((str(EXAMPLES / "three-tier"),), options)
    matrix = class_matrix(compile_cluster(result.cluster, options), include_nodes=True)
    return MatrixView(matrix, "pod")


@pytest.mark.parametrize("band", [1, 3, 1 << 20])
def test_pod_pairs_are_the_same_in_bands_of_any_size(
    band: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = [_key(p) for p in _three_tier_by_pod().pairs()]
    monkeypatch.setattr(views, "BAND_PAIRS", band)
    view = _three_tier_by_pod()
    assert [_key(p) for p in view.pairs()] == expected
    assert [
        (s, d, cell.connections.text(), cell.common.text(), cell.l7.text())
        for s, d, cell in view.columns().rows()
    ] == expected
    assert len(expected) > 3 * band or band > 3  # several bands, not one
