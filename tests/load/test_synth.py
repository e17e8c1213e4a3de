"""The synthetic benchmark cluster: deterministic, valid, and of the shapes it promises."""

from __future__ import annotations

import sys
from pathlib import Path

from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import synth


def test_same_seed_same_text_other_seed_other_text() -> None:
    assert synth.generate(300, 1) == synth.generate(300, 1)
    assert synth.generate(300, 1) != synth.generate(300, 2)


def test_it_loads_cleanly_with_exactly_the_pods_asked_for(tmp_path: Path) -> None:
    paths = synth.write(str(tmp_path), 700, 3)
    assert len(paths) == 5
    result = load_cluster(
        [str(tmp_path)], Options(implicit_dns=False, pod_cidr=synth.pod_cidr(700))
    )
    assert result.ok, [d.one_line() for d in result.errors[:3]]
    assert not result.warnings
    cluster = result.cluster
    assert len(cluster.pods) == 700
    assert {w.kind for w in cluster.workloads} == {"Deployment", "StatefulSet", "Job"}
    peers = [p for pol in cluster.policies for r in (*pol.ingress, *pol.egress) for p in r.peers]
    ports = [p for pol in cluster.policies for r in (*pol.ingress, *pol.egress) for p in r.ports]
    assert any(p.pod_selector and p.namespace_selector for p in peers)  # AND in one peer
    assert any(p.ip_block and p.ip_block.except_ for p in peers)
    assert any(p.end_port for p in ports)
    assert any(isinstance(p.port, str) for p in ports)  # named ports
    assert any(pol.name == "allow-dns" for pol in cluster.policies)


def test_large_clusters_get_a_pod_cidr_that_holds_them() -> None:
    assert synth.pod_cidr(1000) == "10.244.0.0/16"
    assert synth.pod_cidr(100_000) == "10.128.0.0/9"
