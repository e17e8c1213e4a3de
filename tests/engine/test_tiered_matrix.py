"""The tiered fill gives the same matrix and the same steps however it cuts the matrix
into bands, whether it finds a band's codes with a lookup table or by sorting them, and
whether it writes over the NetworkPolicy matrix or beside it.

The random clusters of ``test_tier_properties`` fit in one band and one table; a
100k-pod cluster needs many bands, and many groups and ids need the sort.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from netpol.engine import matrix, tiered_matrix
from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.engine.matrix import NetworkPolicySides, class_matrix, network_policy_sides
from netpol.engine.tiered_matrix import Step, TieredMatrix
from netpol.engine.tiers import TieredModel
from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options, Profile
from netpol.model.tiers import EndpointMatch

from .test_cilium_properties import cilium_clusters
from .test_tier_properties import profiles, tiered_clusters

Fill = dict[str, tuple[list[list[int]], list[Step]]]  # direction -> (masks, steps)


def fill(sides: NetworkPolicySides, model: TieredModel, overwrite: bool = False) -> Fill:
    """Per direction: the allowed masks [subject][peer] and the steps (with ``overwrite``,
    written over copies of the NetworkPolicy matrices)."""
    tiered = TieredMatrix(sides.sets, model, sides.atoms, sides.table)
    found: Fill = {}
    for direction, ids, isolated in (
        ("Egress", sides.egress.full(), sides.egress_isolated),
        ("Ingress", sides.ingress.full().T, sides.ingress_isolated),
    ):
        steps: list[Step] = []
        out = tiered.direction(direction, ids, isolated, steps, overwrite)
        found[direction] = ([[sides.table.masks[i] for i in row] for row in out.tolist()], steps)
    return found


@pytest.mark.parametrize(
    ("band", "table"),
    [
        pytest.param(1, tiered_matrix.TABLE_CODES, id="one-row-bands"),
        pytest.param(3, 0, id="sorted-codes"),
    ],
)
@settings(max_examples=60, deadline=None, derandomize=True)
@given(c=tiered_clusters(), profile=profiles)
def test_bands_and_sorted_codes_change_nothing(
    band: int, table: int, c: Cluster, profile: Profile
) -> None:
    cc = compile_cluster(c, Options(profile=profile))
    if cc.tiered is None:
        return
    sides = network_policy_sides(cc, include_external=True, include_nodes=True)
    whole = fill(sides, cc.tiered)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tiered_matrix, "BAND_ELEMENTS", band)
        patch.setattr(tiered_matrix, "TABLE_CODES", table)
        assert fill(sides, cc.tiered, overwrite=True) == whole


@settings(max_examples=60, deadline=None, derandomize=True)
@given(c=tiered_clusters(), profile=profiles)
def test_class_matrix_in_one_row_bands(c: Cluster, profile: Profile) -> None:
    """Egress AND ingress (with tiers or without: some draws have no tiered policy) is
    combined band by band too."""
    cc = compile_cluster(c, Options(profile=profile))

    def masks() -> list[list[int]]:
        found = class_matrix(cc, include_external=True, include_nodes=True)
        return [[found.table.masks[i] for i in row] for row in found.ids.tolist()]

    whole = masks()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tiered_matrix, "BAND_ELEMENTS", 1)
        patch.setattr(matrix, "BAND_ELEMENTS", 1)
        assert masks() == whole


def _every_match(model: TieredModel) -> list[EndpointMatch]:
    return [
        peer
        for compiled in model.policies
        for rule in (*compiled.ingress, *compiled.egress)
        for peer in rule.rule.peers
    ] + [compiled.policy.subject for compiled in model.policies]


def _match_bits_answer_every_class_scan(cc: CompiledCluster) -> None:
    if cc.tiered is None:
        return
    sides = network_policy_sides(cc, include_external=True, include_nodes=True)
    tiered = TieredMatrix(sides.sets, cc.tiered, sides.atoms, sides.table)
    for match in _every_match(cc.tiered):
        scanned = sum(
            1 << c.index for c in tiered.classes if cc.tiered.miss(match, c.representative) is None
        )
        assert tiered.match_bits(match) == scanned, match.text()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(c=tiered_clusters(), profile=profiles)
def test_a_match_tried_on_its_label_candidates_covers_what_trying_every_class_covers(
    c: Cluster, profile: Profile
) -> None:
    _match_bits_answer_every_class_scan(compile_cluster(c, Options(profile=profile)))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(c=cilium_clusters())
def test_a_cilium_peer_tried_on_its_label_candidates_covers_what_every_class_scan_covers(
    c: Cluster,
) -> None:
    # Cilium's peers carry the namespace as a label ({io.kubernetes.pod.namespace: N}):
    # the candidates come from the identity labels the pods carry in the engine's model
    _match_bits_answer_every_class_scan(compile_cluster(c, Options(profile=PROFILES["cilium"])))
