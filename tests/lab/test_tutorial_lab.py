"""The tutorial end to end on real packets: open, as published, fixed, DNS broken, db-ns."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import EXAMPLES
from tests.lab.conftest import lab_name, pod_label, requires_lab

from netpol.lab import inventory, lifecycle, tutorial
from netpol.lab.probe import ProbeReport
from netpol.lab.state import load as state_of
from netpol.lab.view import LabInputError
from netpol.load.paths import read_paths
from netpol.model.options import Options

pytestmark = [pytest.mark.lab, requires_lab, pytest.mark.usefixtures("host_untouched")]

TUTORIAL = EXAMPLES / "tutorial"
BASE = [
    "00-namespace.yaml",
    "01-frontend.yaml",
    "02-backend.yaml",
    "03-db.yaml",
]
POLICIES = ["04-db-netpol.yaml", "05-revised-backend-netpol.yaml", "06-frontend-netpol.yaml"]
FIXED_BACKEND = EXAMPLES / "three-tier" / "05-revised-backend-netpol.yaml"


def objects(*paths: Path) -> list[dict[str, Any]]:
    docs, problems = read_paths([str(p) for p in paths])
    assert not problems
    return [copy.deepcopy(dict(d.data)) for d in docs]


def base() -> list[dict[str, Any]]:
    return objects(*(TUTORIAL / f for f in BASE))


def published() -> list[dict[str, Any]]:
    return base() + objects(*(TUTORIAL / f for f in POLICIES))


def fixed() -> list[dict[str, Any]]:
    return base() + objects(TUTORIAL / POLICIES[0], FIXED_BACKEND, TUTORIAL / POLICIES[2])


@pytest.fixture(scope="module")
def lab() -> Iterator[str]:
    name = lab_name("tut")
    lifecycle.up_objects(base(), name, Options())
    try:
        yield name
    finally:
        inventory.down(name)


def probe(lab: str) -> ProbeReport:
    report, _ = lifecycle.probe_lab(lab, timeout=2.0)
    assert not report.disagreements, [str(c) for c in report.disagreements]
    return report


def cell(report: ProbeReport, src: str, dst: str, port: int) -> bool:
    found = [
        c
        for c in report.cells
        if pod_label(report, c.attempt.src) == src
        and pod_label(report, c.attempt.dst) == dst
        and c.attempt.port == port
    ]
    assert len(found) == 1, (src, dst, port)
    return found[0].observed


def failing(results: list[lifecycle.CheckResult]) -> list[str]:
    return [f"{r.expectation.source}: {r.expectation.command}" for r in results if not r.holds]


def test_step3_everyone_can_talk_to_everyone(lab: str) -> None:
    lifecycle.replace(base(), lab)
    report = probe(lab)
    assert all(c.observed for c in report.cells)
    assert failing(lifecycle.check_names(lab, tutorial.step3())) == []


def test_as_published_frontend_to_backend_is_refused_on_real_packets(lab: str) -> None:
    lifecycle.replace(published(), lab)
    report = probe(lab)
    assert not cell(report, "frontend-deploy", "backend-deploy", 5678)
    assert cell(report, "backend-deploy", "db-sts-0", 3306)
    assert cell(report, "outside", "frontend-deploy", 80)
    results = lifecycle.check_names(lab, tutorial.step5())
    assert failing(results) == ["app1-ns/frontend-deploy: telnet backend-svc 5678"]
    refused = next(r for r in results if not r.holds)
    assert refused.result.address is not None  # DNS worked: the policy refused the connection
    assert refused.result.outcome == "refused"


def test_after_the_fix_step5_holds(lab: str) -> None:
    lifecycle.replace(fixed(), lab)
    report = probe(lab)
    assert cell(report, "frontend-deploy", "backend-deploy", 5678)
    assert not cell(report, "frontend-deploy", "db-sts-0", 3306)
    assert not cell(report, "backend-deploy", "frontend-deploy", 80)
    assert not cell(report, "db-sts-0", "backend-deploy", 5678)
    results = lifecycle.check_names(lab, tutorial.step5())
    assert failing(results) == []
    frontend_to_backend = next(
        r for r in results if r.expectation.host == "backend-svc" and r.expectation.connects
    )
    assert frontend_to_backend.result.answered_by.startswith("app1-ns/backend-deploy-")


def test_telnet_and_curl_work_inside_pods_as_in_the_tutorial(lab: str) -> None:
    lifecycle.replace(fixed(), lab)
    netpol = [sys.executable, "-m", "netpol", "lab", "exec", "--name", lab]
    telnet = subprocess.run(
        [
            *netpol,
            "app1-ns/frontend-deploy",
            "--",
            "sh",
            "-c",
            "sleep 0.5 | telnet backend-svc 5678",
        ],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=20,
    )
    assert "Connected to backend-svc" in telnet.stdout, telnet.stdout + telnet.stderr
    curl = subprocess.run(
        [
            *netpol,
            "app1-ns/backend-deploy",
            "--",
            "curl",
            "-s",
            "-m",
            "2",
            "db-sts-0.db-svc.app1-ns.svc.cluster.local:3306",
        ],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=20,
    )
    assert "pod=app1-ns/db-sts-0" in curl.stdout
    outside = subprocess.run(
        [*netpol, "outside", "--", "curl", "-s", "-m", "2", "203.0.113.1:31000"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=20,
    )
    assert "pod=app1-ns/frontend-deploy-" in outside.stdout


def test_without_the_dns_rule_backend_cannot_resolve_names(lab: str) -> None:
    objs = fixed()
    backend_policy = next(
        o
        for o in objs
        if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "backend-policy"
    )
    backend_policy["spec"]["egress"] = backend_policy["spec"]["egress"][:1]  # drop the DNS rule
    lifecycle.replace(objs, lab)
    report = probe(lab)
    assert cell(report, "backend-deploy", "db-sts-0", 3306)  # the database itself is still allowed
    results = lifecycle.check_names(lab, [tutorial.step5()[2]])
    assert results[0].result.outcome == "no-dns"
    assert "DNS" in results[0].result.detail


def test_db_in_its_own_namespace(lab: str) -> None:
    lifecycle.replace(objects(EXAMPLES / "three-tier-db-ns"), lab)
    probe(lab)
    assert failing(lifecycle.check_names(lab, tutorial.step5(db="db-ns"))) == []


def test_an_invalid_apply_is_rejected_and_the_old_rules_stay(lab: str, tmp_path: Path) -> None:
    lifecycle.replace(fixed(), lab)
    state = state_of(lab)
    assert state is not None
    rules_before = state.rules
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: app1-ns}\n"
        "spec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - port: 70000\n"
    )
    with pytest.raises(LabInputError) as error:
        lifecycle.apply([str(bad)], lab)
    assert [d.one_line().split(": ", 1)[1] for d in error.value.diagnostics] == [
        "error: NetworkPolicy/app1-ns/x: spec.ingress[0].ports[0].port: must be between 1 and "
        "65535, inclusive (value: 70000)"
    ]
    after = state_of(lab)
    assert after is not None and after.rules == rules_before
    report = probe(lab)
    assert cell(report, "frontend-deploy", "backend-deploy", 5678)


def test_a_pod_reaches_its_own_service_hairpin(lab: str) -> None:
    # The backend's egress allows only the database and DNS, but a pod can always reach
    # itself (spec 4.4); through its own Service VIP the node masquerades, like kube-proxy.
    lifecycle.replace(fixed(), lab)
    (result,) = lifecycle.check_names(
        lab,
        [tutorial.Expectation("app1-ns/backend-deploy", "backend-svc", 5678, True, "hairpin")],
    )
    assert result.holds, result.result
    assert result.result.answered_by.startswith("app1-ns/backend-deploy-")


def test_scaling_starts_and_stops_pods(lab: str) -> None:
    objs = fixed()
    backend = next(
        o for o in objs if o["kind"] == "Deployment" and o["metadata"]["name"] == "backend-deploy"
    )
    backend["spec"]["replicas"] = 3
    change = lifecycle.replace(objs, lab)
    started = [line for line in change.lines if line.startswith("pod app1-ns/backend-deploy-")]
    assert len(started) == 2 and all(line.endswith(" started") for line in started)
    report = probe(lab)
    assert sum(1 for d in report.destinations if d.startswith("app1-ns/backend-deploy-")) == 3
    state = state_of(lab)
    assert state is not None
    netns_before = set(state.netns)
    change = lifecycle.replace(fixed(), lab)
    assert sum(1 for line in change.lines if line.endswith(" stopped")) == 2
    state = state_of(lab)
    assert state is not None and len(netns_before - set(state.netns)) == 2
    probe(lab)
