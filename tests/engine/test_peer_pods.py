"""A compiled peer's ``matches_some_pod``, answered per distinct selector (``peer_pods``), is
whether the pods it matches, found by walking its namespaces and pods (``pod_ids``), are
any: the same answer for every peer of every example and of random clusters (peers that
match nothing, other namespaces, namespace selectors that admit several or none, ipBlocks)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from tests.analysis.test_verify_default import replicated_clusters

from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.model.cluster import Cluster
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

EXAMPLES = sorted(p for p in (Path(__file__).parents[2] / "examples").iterdir() if p.is_dir())


def assert_same_answers(cc: CompiledCluster) -> int:
    compared = 0
    for policy in cc.policies:
        for rule in (*policy.ingress, *policy.egress):
            for peer in rule.peers:
                assert peer.matches_some_pod == bool(peer.pod_ids), peer.peer
                compared += 1
    return compared


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_peer_of_an_example(example: Path) -> None:
    cluster = load_cluster([str(example)], Options()).cluster
    assert assert_same_answers(compile_cluster(cluster, Options())) > 0


@settings(max_examples=60, deadline=None, derandomize=True)
@given(replicated_clusters())
def test_every_peer_of_random_clusters(c: Cluster) -> None:
    assert_same_answers(compile_cluster(c, Options()))
