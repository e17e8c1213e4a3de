"""verify: the tutorial fails on frontend -> backend with the explain evidence, three-tier
passes (also as a complete allow-list), and an expectation matching nothing is an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from netpol.analysis.expectations import ExpectationsError, parse_expectations, read_expectations
from netpol.analysis.verify import ERROR, FAIL, PASS, VerifyReport, verify
from netpol.engine.compile import compile_cluster
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(example: str, text: str | None = None, expectations: str | None = None) -> VerifyReport:
    options = Options()
    result = load_cluster([str(EXAMPLES / example)], options)
    assert result.ok
    file = (
        parse_expectations(text, "inline.yaml")
        if text is not None
        else read_expectations(str(EXAMPLES / (expectations or example) / "expectations.yaml"))
    )
    return verify(compile_cluster(result.cluster, options), file)


def by_name(report: VerifyReport) -> dict[str, str]:
    return {r.expectation.name: r.status for r in report.results}


def test_tutorial_fails_exactly_on_frontend_to_backend() -> None:
    report = run("tutorial")
    assert not report.passed
    failed = [name for name, status in by_name(report).items() if status != PASS]
    assert failed == ["frontend reaches backend"]
    result = next(r for r in report.results if r.status == FAIL)
    assert result.actual == "denied"
    (pair,) = result.failures
    assert pair.src.id.startswith("app1-ns/frontend-deploy-")
    assert pair.dst.id.startswith("app1-ns/backend-deploy-")
    evidence = pair.evidence
    assert evidence is not None and not evidence.allowed and evidence.port == 5678
    assert "Service app1-ns/backend-svc" in evidence.target.via
    ingress = evidence.verdict.ingress
    assert [p.id for p in ingress.policies] == ["app1-ns/backend-policy"]
    (outcome,) = ingress.outcomes
    assert not outcome.peer_matched
    assert "role=web" in outcome.peer_misses[0].detail


def test_tutorial_expectations_cover_step_5_and_dns() -> None:
    names = set(by_name(run("tutorial")))
    for name in (
        "db cannot reach frontend",
        "db cannot reach backend",
        "backend reaches db",
        "backend cannot reach frontend",
        "frontend reaches backend",
        "frontend cannot reach db",
        "frontend resolves names",
        "backend resolves names",
    ):
        assert name in names


def test_three_tier_passes_its_own_and_the_tutorial_expectations() -> None:
    assert run("three-tier").passed
    assert run("three-tier", expectations="tutorial").passed


def test_three_tier_allow_list_is_complete() -> None:
    report = run("three-tier")
    assert report.default is not None and report.default.status == PASS
    assert report.default.pairs_checked > 0


def test_three_tier_db_ns_passes_its_expectations() -> None:
    assert run("three-tier-db-ns").passed


def test_allow_list_fails_on_the_tutorial_only_for_the_missing_flow() -> None:
    report = run("tutorial", expectations="three-tier")
    assert report.default is not None and report.default.status == PASS
    assert [r.expectation.name for r in report.results if r.status != PASS] == [
        "frontend reaches backend"
    ]


def test_default_deny_reports_unlisted_connections() -> None:
    text = """\
namespace: app1-ns
default: deny
defaultScope: [app1-ns]
expectations:
  - {from: app1-ns/backend-deploy, to: db-svc, port: 3306, expect: allow}
"""
    report = run("three-tier", text)
    assert report.default is not None and report.default.status == FAIL
    pairs = {
        (v.src.id.split("-deploy")[0], v.dst.id.split("-deploy")[0], v.extra.text())
        for v in report.default.violations
    }
    assert ("app1-ns/frontend", "app1-ns/backend", "TCP 5678") in pairs
    assert all(v.evidence is not None for v in report.default.violations[:3])


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("app1-ns/nothing-here", "no pod, workload or Service"),
        ("{namespace: app1-ns, labels: {role: web}}", "no running pod matches"),
        ("{namespace: nowhere}", "no namespace 'nowhere'"),
        ("{service: app1-ns/missing}", "no Service"),
    ],
)
def test_an_expectation_matching_nothing_is_an_error(endpoint: str, message: str) -> None:
    text = f"expectations:\n  - {{from: {endpoint}, to: backend-svc, port: 5678, expect: deny}}\n"
    report = run("three-tier", text)
    (result,) = report.results
    assert result.status == ERROR
    assert message in result.error
    assert not report.passed


def test_label_selector_and_namespace_endpoints() -> None:
    text = """\
expectations:
  - name: web tier reaches the backend
    from: {namespace: app1-ns, labels: {role: frontend}}
    to: {namespace: app1-ns, labels: {role: backend}}
    port: 5678
    expect: allow
  - name: nothing in kube-system reaches the database
    from: {namespace: kube-system}
    to: {workload: app1-ns/db-sts}
    expect: deny
"""
    report = run("three-tier", text)
    assert by_name(report) == {
        "web tier reaches the backend": PASS,
        "nothing in kube-system reaches the database": PASS,
    }
    kube = report.results[1]
    assert len(kube.pairs) == 2  # two CoreDNS replicas


def test_cidr_endpoints_and_port_ranges() -> None:
    text = """\
expectations:
  - {from: {cidr: 0.0.0.0/0}, to: app1-ns/frontend-deploy, ports: [80/TCP], expect: allow}
  - {from: {cidr: 0.0.0.0/0}, to: app1-ns/frontend-deploy, ports: [53/UDP, 8000-8080/TCP], expect: deny}
  - {from: {cidr: 0.0.0.0/0}, to: app1-ns/frontend-deploy, ports: [53/UDP, 1-1024/TCP], expect: deny}
"""
    report = run("three-tier", text)
    assert [r.status for r in report.results] == [PASS, PASS, FAIL]
    (failure,) = report.results[2].failures
    assert failure.src.id == "ip:0.0.0.1"
    assert failure.offending.text() == "TCP 80"
    assert failure.evidence is not None and failure.evidence.port == 80


def test_allow_without_ports_means_every_port() -> None:
    text = "expectations:\n  - {from: app1-ns/frontend-deploy, to: backend-svc, expect: allow}\n"
    (result,) = run("three-tier", text).results
    assert result.status == FAIL and result.actual == "partly allowed"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("expectations: []\n", "inline.yaml:1: expectations must be a non-empty list"),
        ("kind: Other\nexpectations: []\n", "inline.yaml:1: kind must be Expectations"),
        (
            "expectations:\n  - {from: a, to: b}\n",
            "inline.yaml:2: expectations[0]: expect is required",
        ),
        (
            "expectations:\n  - {from: a, to: b, expect: maybe}\n",
            "inline.yaml:2: expectations[0].expect: must be allow or deny",
        ),
        (
            "expectations:\n  - from: a\n    to: b\n    expect: allow\n    port: http\n",
            "inline.yaml:5: expectations[0].port: 'http' is not a port",
        ),
        (
            "expectations:\n  - from: {pod: a, cidr: 10.0.0.0/8}\n    to: b\n    expect: allow\n",
            "inline.yaml:2: expectations[0].from: give exactly one of",
        ),
        (
            "expectations:\n  - from: a\n    to: b\n    expect: allow\n    colour: red\n",
            "inline.yaml:5: expectations[0]: unknown key 'colour'",
        ),
        ("default: sometimes\nexpectations: []\n", "inline.yaml:1: default must be one of"),
    ],
)
def test_bad_expectations_files_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ExpectationsError) as caught:
        parse_expectations(text, "inline.yaml")
    assert str(caught.value).startswith(message)
