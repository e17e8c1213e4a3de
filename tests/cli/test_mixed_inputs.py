"""The verbs that read verdicts work unchanged on inputs mixing NetworkPolicies with admin,
baseline and Calico policies (issue 8): matrix, diff, graph and generate see the tiers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.conftest import REPO

from netpol.cli.diff_cmd import command as diff
from netpol.cli.generate_cmd import command as generate
from netpol.cli.graph_cmd import command as graph
from netpol.cli.matrix_cmd import command as matrix

TIERS = "examples/admin-tiers"
PLAIN = "examples/three-tier"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def run(command: object, *args: str) -> Result:
    return CliRunner().invoke(command, list(args), catch_exceptions=False)  # type: ignore[arg-type]


def cell(data: dict[str, object], src: str, dst: str) -> str:
    for pair in data["connections"]:  # type: ignore[attr-defined]
        if pair["src"] == src and pair["dst"] == dst:
            return str(pair["text"])
    return "No Connections"


def test_matrix_applies_the_admin_tier() -> None:
    """CoreDNS may reach the frontend on 80 under the NetworkPolicies alone; the admin
    boundary denies it."""
    plain = json.loads(run(matrix, PLAIN, "--by", "workload", "-o", "json").output)
    tiered = json.loads(run(matrix, TIERS, "--by", "workload", "-o", "json").output)
    frontend, coredns = "app1-ns/frontend-deploy", "kube-system/coredns"
    assert cell(plain, coredns, frontend) == "TCP 80"
    assert cell(tiered, coredns, frontend) == "No Connections"


def test_diff_shows_what_the_tiers_change(tmp_path: Path) -> None:
    result = run(diff, PLAIN, TIERS, "--by", "workload")
    assert result.exit_code == 0, result.output
    assert "kube-system/coredns" in result.output and "app1-ns/frontend-deploy" in result.output


def test_graph_draws_the_tiered_verdicts() -> None:
    result = run(graph, TIERS, "-o", "mermaid")
    assert result.exit_code == 0, result.output
    assert "prometheus-deploy" in result.output


def test_generate_refuses_flows_the_tiers_contradict_and_says_why() -> None:
    result = run(generate, TIERS, "--flows", f"{PLAIN}/flows.yaml")
    assert result.exit_code == 1
    assert "under the input's 6 admin, baseline or Calico policies" in result.output
