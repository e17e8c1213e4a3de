"""examples/admin-tiers: the tutorial's cluster under cluster-wide policies (docs/tiers.md).

The expectations file passes, lint finds nothing wrong with the tiers, and the decision
chains the guide prints are the ones the engine gives.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result
from tests.conftest import REPO

from netpol.cli.explain_cmd import command as explain
from netpol.cli.lint_cmd import command as lint
from netpol.cli.verify_cmd import command as verify

EXAMPLE = "examples/admin-tiers"
TIER_CHECKS = ("tier-rule-shadowed", "tier-pass-to-nothing", "admin-priority-tie")


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def run(command: object, *args: str) -> Result:
    return CliRunner().invoke(command, list(args), catch_exceptions=False)  # type: ignore[arg-type]


def test_the_expectations_pass() -> None:
    result = run(verify, EXAMPLE, "--expect", f"{EXAMPLE}/expectations.yaml")
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert result.output.rstrip().endswith("PASS: 25 passed, 0 failed, 0 errors")


def test_the_manifests_copy_the_fixed_tutorial() -> None:
    """Only the workloads gain a metrics port; the namespace and the policies are
    three-tier's, byte for byte."""
    for name in (
        "00-namespace.yaml",
        "04-db-netpol.yaml",
        "05-revised-backend-netpol.yaml",
        "06-frontend-netpol.yaml",
        "kube-system-coredns.yaml",
    ):
        ours = (REPO / EXAMPLE / name).read_text()
        assert ours == (REPO / "examples/three-tier" / name).read_text(), name


def test_lint_finds_no_tier_problem() -> None:
    result = run(lint, EXAMPLE)
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings" in result.output
    for check in TIER_CHECKS:
        assert check not in result.output


@pytest.mark.parametrize(
    ("src", "dst", "side", "chain"),
    [
        pytest.param(
            "app1-ns/frontend-deploy",
            "db-sts-0.db-svc.app1-ns.svc.cluster.local:3306",
            "Ingress to app1-ns/db-sts-0",
            '[AdminNetworkPolicy app1-boundary ingress[0] "same-app"] Pass -> '
            "[NetworkPolicy app1-ns/db-policy] Deny (no rule matched)",
            id="pass-then-networkpolicy-deny",
        ),
        pytest.param(
            "app1-ns/frontend-deploy",
            "backend-svc:5678",
            "Ingress to app1-ns/backend-deploy",
            '[AdminNetworkPolicy app1-boundary ingress[0] "same-app"] Pass -> '
            "[NetworkPolicy app1-ns/backend-policy ingress[0]] Allow",
            id="pass-then-networkpolicy-allow",
        ),
        pytest.param(
            "app1-ns/db-sts",
            "kube-dns.kube-system:53/UDP",
            "Egress from app1-ns/db-sts-0",
            '[AdminNetworkPolicy cluster-dns egress[0] "to-coredns"] Allow',
            id="admin-allow-beats-networkpolicy-isolation",
        ),
        pytest.param(
            "kube-system/coredns",
            "frontend-svc.app1-ns:80",
            "Ingress to app1-ns/frontend-deploy",
            '[AdminNetworkPolicy app1-boundary ingress[1] "other-namespaces"] Deny',
            id="admin-deny-beats-networkpolicy-allow",
        ),
        pytest.param(
            "kube-system/coredns",
            "frontend-svc.app1-ns:80",
            "Egress from kube-system/coredns-",
            '[BaselineAdminNetworkPolicy default egress[0] "deny-to-pods"] Deny',
            id="baseline-deny-for-a-pod-no-networkpolicy-selects",
        ),
        pytest.param(
            "monitoring/prometheus-deploy",
            "app1-ns/db-sts:9104",
            "Ingress to app1-ns/db-sts-0",
            '[AdminNetworkPolicy monitoring-scrapes-metrics ingress[0] "from-prometheus"] Allow',
            id="monitoring-scrape-by-named-port",
        ),
        pytest.param(
            "203.0.113.7",
            "monitoring/prometheus-deploy:9090",
            "Ingress to monitoring/prometheus-deploy-",
            "[no tier decided] Allow (default)",
            id="baseline-namespaces-peers-never-match-external-addresses",
        ),
    ],
)
def test_decision_chains_as_the_guide_prints_them(
    src: str, dst: str, side: str, chain: str
) -> None:
    result = run(explain, EXAMPLE, "--from", src, "--to", dst)
    lines = result.output.splitlines()
    heads = [i for i, line in enumerate(lines) if line.strip().startswith(side)]
    assert heads, result.output
    assert lines[heads[0] + 1].strip() == f"decision: {chain}", result.output
