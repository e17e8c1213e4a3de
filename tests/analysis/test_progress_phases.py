"""lint, verify and diff say how far they got through the Progress they are given (the CLI
draws it on a terminal), each phase with its count, and report the same with or without one."""

from __future__ import annotations

import math
from pathlib import Path

from tests.engine.test_matrix_progress import Recorder

from netpol.analysis.diff import diff
from netpol.analysis.expectations import read_expectations
from netpol.analysis.lint import CHECKS, run_checks
from netpol.analysis.verify import verify
from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.engine.matrix import class_matrix
from netpol.model.options import Options
from netpol.render.verify import verify_json
from netpol.validate.pipeline import load_cluster

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "netpol" / "examples"


def compiled(example: str) -> CompiledCluster:
    options = Options()
    result = load_cluster([str(EXAMPLES / example)], options)
    assert result.ok
    return compile_cluster(result.cluster, options)


def matrix_phases(cc: CompiledCluster, prefix: str = "") -> list[tuple[str, int, int]]:
    """What the class matrix reports on ``cc`` (tests/engine/test_matrix_progress.py)."""
    recorder = Recorder()
    class_matrix(cc, progress=recorder)
    return [(prefix + name, total, done) for name, total, done in recorder.phases]


def test_lint_counts_its_checks() -> None:
    cc = compiled("tutorial")
    recorder = Recorder()
    report = run_checks(cc, CHECKS, ["egress-deny-all"], progress=recorder)
    policies = len(cc.cluster.policies) + len(cc.cluster.tiered_policies)
    assert recorder.phases == [(f"linting {policies:,} policies, check", len(CHECKS), len(CHECKS))]
    assert report == run_checks(cc, CHECKS, ["egress-deny-all"])


def test_verify_counts_its_expectations_then_checks_the_default() -> None:
    cc = compiled("three-tier")
    expectations = read_expectations(str(EXAMPLES / "three-tier" / "expectations.yaml"))
    recorder = Recorder()
    report = verify(cc, expectations, recorder)
    n = len(expectations.expectations)
    assert report.default is not None
    pairs = report.default.pairs_checked
    assert recorder.phases == [
        (f"checking {n:,} expectations", n, n),
        *matrix_phases(cc),
        (f"checking default: deny over {pairs:,} pod pairs", 0, 0),
    ]
    assert verify_json(report) == verify_json(verify(cc, expectations))


def test_diff_names_each_side_then_compares_and_explains() -> None:
    old, new = compiled("tutorial"), compiled("three-tier")
    recorder = Recorder()
    report = diff(old, new, "workload", evidence=True, progress=recorder)
    endpoints = math.isqrt(report.pairs_compared)  # every ordered pair of them
    changes = len(report.changes)
    assert changes > 0
    assert recorder.phases == [
        *matrix_phases(old, "old: "),
        *matrix_phases(new, "new: "),
        (f"comparing {endpoints:,} workload endpoints", 0, 0),
        ("explaining the changes", changes, changes),
    ]
    assert report == diff(old, new, "workload", evidence=True)
