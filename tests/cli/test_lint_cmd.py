"""``netpol lint``: --fail-on, --disable, --list, the outputs, unknown ids (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from netpol.cli.lint_cmd import command

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> Result:
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def test_tutorial_warns_and_fail_on_sets_the_exit_code() -> None:
    result = run("examples/tutorial")
    assert result.exit_code == 0
    assert (
        "examples/tutorial/05-revised-backend-netpol.yaml:17: warning [peer-selects-nothing]"
        in result.output
    )
    assert "carries role: frontend" in result.output
    assert run("examples/tutorial", "--fail-on", "warning").exit_code == 1


def test_three_tier_passes_even_on_warnings() -> None:
    result = run("examples/three-tier", "--fail-on", "warning")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "36 checks: 0 errors, 0 warnings, 3 infos"


def test_an_error_finding_exits_1(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\n"
        "spec:\n  podSelector: {}\n  policyTypes: [Ingress]\n  egress:\n    - {}\n"
    )
    result = run(str(tmp_path))
    assert result.exit_code == 1
    assert "error [rules-ignored]" in result.output


def test_disable_and_outputs() -> None:
    result = run(
        "examples/tutorial",
        "--disable",
        "peer-selects-nothing,one-sided-flow",
        "--fail-on",
        "warning",
        "-o",
        "json",
    )
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert {f["check"] for f in document["findings"]} == {
        "egress-deny-all",
        "ipblock-covers-pods",
        "namespace-without-default-deny",
    }
    sarif = json.loads(run("examples/tutorial", "-o", "sarif").stdout)
    assert sarif["version"] == "2.1.0"
    assert "SEVERITY" in run("examples/tutorial", "-o", "table").output


def test_unknown_check_id_exits_2() -> None:
    result = run("examples/tutorial", "--disable", "no-such-check")
    assert result.exit_code == 2
    assert (
        result.stderr.strip() == "error: unknown check 'no-such-check' (see `netpol lint --list`)"
    )


def test_list() -> None:
    result = run("--list")
    assert result.exit_code == 0
    assert "peer-selects-nothing" in result.output and "one-sided-flow" in result.output
