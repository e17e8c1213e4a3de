"""Lint reads what the manifest wrote, not only what the API server stored after defaulting."""

from __future__ import annotations

from pathlib import Path

from netpol.analysis.checks import CHECKS
from netpol.analysis.lint import run_checks
from netpol.engine.compile import compile_cluster
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

HEAD = """\
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: a, labels: {app: p}}
spec: {containers: [{name: c, image: i}]}
---
"""


def findings(tmp_path: Path, policy: str, check: str) -> list[str]:
    (tmp_path / "in.yaml").write_text(HEAD + policy)
    options = Options()
    cluster = load_cluster([str(tmp_path)], options).cluster
    report = run_checks(compile_cluster(cluster, options), CHECKS)
    return [f.message for f in report.findings if f.check == check]


def test_flow_style_empty_egress_is_seen(tmp_path: Path) -> None:
    policy = "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: np, namespace: a}, spec: {podSelector: {}, egress: []}}\n"
    assert findings(tmp_path, policy, "egress-empty-not-isolating") == [
        "`egress: []` with no policyTypes: policyTypes defaults to [Ingress], egress is not isolated"
    ]


def test_absent_egress_is_not_flagged(tmp_path: Path) -> None:
    policy = "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: np, namespace: a}, spec: {podSelector: {}}}\n"
    assert findings(tmp_path, policy, "egress-empty-not-isolating") == []


def test_an_empty_port_entry_says_the_protocol_was_defaulted(tmp_path: Path) -> None:
    policy = "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: np, namespace: a}, spec: {podSelector: {}, ingress: [{ports: [{}]}, {ports: [{protocol: TCP}]}]}}\n"
    assert findings(tmp_path, policy, "port-all-tcp") == [
        "ports[0] `{}`: the protocol defaults to TCP, so every TCP port, and no UDP or SCTP port",
        "ports[0] has no port: every TCP port, and no UDP or SCTP port",
    ]
