"""``netpol verify``: exit codes, the three outputs, and bad expectation files (exit 2)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.conftest import without_addon_note

from netpol.cli.verify_cmd import command

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> Result:
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def test_tutorial_fails_with_evidence() -> None:
    result = run("examples/tutorial", "--expect", "examples/tutorial/expectations.yaml")
    assert result.exit_code == 1
    assert "FAIL     frontend reaches backend" in result.output
    assert "no rule matched" in result.output and "role=web" in result.output


def test_three_tier_passes() -> None:
    result = run("examples/three-tier", "--expect", "examples/three-tier/expectations.yaml")
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("PASS: 13 passed, 0 failed, 0 errors")


def test_json_and_junit() -> None:
    result = run(
        "examples/tutorial", "--expect", "examples/tutorial/expectations.yaml", "-o", "json"
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["failed"] == 1
    result = run(
        "examples/tutorial", "--expect", "examples/tutorial/expectations.yaml", "-o", "junit"
    )
    assert result.exit_code == 1
    assert ET.fromstring(result.stdout).get("failures") == "1"


def test_expectation_matching_nothing_is_bad_input(tmp_path: Path) -> None:
    file = tmp_path / "e.yaml"
    file.write_text(
        "expectations:\n"
        "  - {from: app1-ns/frontend-deploy, to: backend-svc, port: 5678, expect: deny}\n"
        "  - {from: {namespace: app1-ns, labels: {role: web}}, to: backend-svc, port: 5678, expect: allow}\n"
        "  - {from: app1-ns/frontend-deploy, to: app1-ns/nope, expect: deny}\n"
    )
    result = CliRunner().invoke(command, ["examples/tutorial", "--expect", str(file)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert without_addon_note(result.stderr) == (
        f"error: {file}:3: expectations[1] ({{namespace=app1-ns, role=web}} -> backend-svc "
        "5678/TCP: allow): from: {namespace=app1-ns, role=web}: no running pod matches in "
        "namespace app1-ns (and 1 more expectations)\n"
    )


def test_expectations_on_an_empty_input_are_bad_input(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    result = CliRunner().invoke(
        command, [str(empty), "--expect", "examples/tutorial/expectations.yaml"]
    )
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(
        "error: examples/tutorial/expectations.yaml:10: expectations[0] (db cannot reach "
        "frontend): from: 'app1-ns/db-sts': no namespace 'app1-ns'"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "  - {from: a, to: b, expect: allow, ports: [{port: 80, protcol: UDP}]}\n",
            "2: expectations[0].ports[0]: unknown key 'protcol' (known: port, protocol)",
        ),
        (
            "  - {from: a, to: b, expect: allow, ports: [{protocol: UDP}]}\n",
            "2: expectations[0].ports[0]: port is required",
        ),
        (
            "  - {from: a, to: b, expect: allow, description: [x]}\n",
            "2: expectations[0].description: must be a string",
        ),
    ],
    ids=["misspelt-port-key", "port-mapping-without-port", "description-not-a-string"],
)
def test_malformed_port_and_description(tmp_path: Path, body: str, message: str) -> None:
    file = tmp_path / "e.yaml"
    file.write_text("expectations:\n" + body)
    result = CliRunner().invoke(command, ["examples/tutorial", "--expect", str(file)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {file}:{message}\n"


def test_bad_expectations_file_exits_2(tmp_path: Path) -> None:
    file = tmp_path / "e.yaml"
    file.write_text("expectations:\n  - {from: a, to: b, expect: perhaps}\n")
    result = CliRunner().invoke(command, ["examples/tutorial", "--expect", str(file)])
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == f"error: {file}:2: expectations[0].expect: must be allow or deny, not 'perhaps'"
    )
    missing = CliRunner().invoke(
        command, ["examples/tutorial", "--expect", str(tmp_path / "no.yaml")]
    )
    assert missing.exit_code == 2
    assert (
        missing.stderr == f"error: {tmp_path / 'no.yaml'}: cannot read: no such file or directory\n"
    )


def test_default_scope_naming_no_namespace_is_bad_input(tmp_path: Path) -> None:
    # A typo in defaultScope used to check 0 pairs and pass.
    text = (REPO / "examples/three-tier/expectations.yaml").read_text()
    file = tmp_path / "e.yaml"
    file.write_text(text.replace("defaultScope: [app1-ns]", "defaultScope: [app1-nss]"))
    result = CliRunner().invoke(command, ["examples/three-tier", "--expect", str(file)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {file}:9: defaultScope: no namespace 'app1-nss' in the input "
        "(namespaces: app1-ns, kube-system)\n"
    )
