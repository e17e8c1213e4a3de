"""``netpol validate``: what the user sees on the terminal, and the exit status."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from netpol.cli.main import cli

REPO = Path(__file__).resolve().parents[2]

BAD_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: shop
spec:
  podSelector:
    matchLabels:
      version: 2
  ingress:
    - from:
        - ipBlock:
            cidr: 10.0.0.1/8
      ports:
        - port: 0
        - protocol: tcp
"""

GOOD_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""


def run(*args: str, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(cli, ["validate", *args], input=stdin)


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@pytest.mark.usefixtures("in_repo")
def test_the_tutorial_is_valid() -> None:
    result = run("examples/tutorial")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    (line,) = result.stdout.splitlines()
    assert re.fullmatch(
        r"examples/tutorial: \d+ objects in \d+ files \(\d+ Namespaces?, \d+ Deployments, "
        r"\d+ Services, 1 StatefulSet, 3 NetworkPolicies.*\), all valid",
        line,
    ), line


@pytest.mark.usefixtures("in_repo")
def test_the_tutorial_as_json() -> None:
    result = run("examples/tutorial", "-o", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["kind"] == "ValidationReport"
    assert report["valid"] is True
    assert report["diagnostics"] == []
    assert report["kinds"]["NetworkPolicy"] == 3
    assert report["objects"] == sum(report["kinds"].values()) + sum(report["unchecked"].values())
    jsonschema.validate(report, report_schema())


def test_every_problem_on_its_own_line_then_the_summary(tmp_path: Path) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(BAD_POLICY)
    result = run(str(path))
    assert result.exit_code == 1
    # The API server's order: a rule's ports are checked before its peers.
    assert result.stdout.splitlines() == [
        f'{path}:9: error: NetworkPolicy/shop/web: spec.podSelector.matchLabels: label "version" '
        'must be a string, not an integer: quote it (version: "2") (value: 2)',
        f"{path}:15: error: NetworkPolicy/shop/web: spec.ingress[0].ports[0].port: "
        "must be between 1 and 65535, inclusive (value: 0)",
        f"{path}:16: error: NetworkPolicy/shop/web: spec.ingress[0].ports[1].protocol: "
        'supported values: "TCP", "UDP", "SCTP" (value: "tcp")',
        f"{path}:13: warning: NetworkPolicy/shop/web: spec.ingress[0].from[0].ipBlock.cidr: "
        "must not have bits set beyond the prefix length (rejected when the "
        'StrictIPCIDRValidation feature gate is on; read as 10.0.0.0/8) (value: "10.0.0.1/8")',
        f"{path}: 1 object in 1 file (1 NetworkPolicy): 3 errors in 1 object, 1 warning",
    ]


def test_json_report_of_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(BAD_POLICY)
    result = run(str(path), "-o", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    jsonschema.validate(report, report_schema())
    assert {k: v for k, v in report.items() if k != "diagnostics"} == {
        "kind": "ValidationReport",
        "valid": False,
        "objects": 1,
        "files": 1,
        "kinds": {"NetworkPolicy": 1},
        "unchecked": {},
        "errors": 3,
        "warnings": 1,
    }
    assert report["diagnostics"][1] == {
        "severity": "error",
        "reason": "Invalid",
        "file": str(path),
        "line": 15,
        "object": "NetworkPolicy/shop/web",
        "field": "spec.ingress[0].ports[0].port",
        "message": "must be between 1 and 65535, inclusive",
        "value": 0,
    }
    assert [d["reason"] for d in report["diagnostics"]] == [
        "BadRequest",
        "Invalid",
        "NotSupported",
        "Warning",
    ]


def test_warnings_alone_are_valid(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        GOOD_POLICY.replace(
            "policyTypes: [Ingress, Egress]", "ingress: [{from: [{ipBlock: {cidr: 010.0.0.0/8}}]}]"
        )
    )
    result = run(str(path))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == (
        f"{path}: 1 object in 1 file (1 NetworkPolicy), all valid, 1 warning"
    )


def test_a_directory_with_unchecked_kinds(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD_POLICY)
    (tmp_path / "b.yml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n"
        "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: s}\n"
    )
    (tmp_path / "notes.txt").write_text("not a manifest")
    result = run(str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout == (
        f"{tmp_path}: 3 objects in 2 files (1 NetworkPolicy, 1 ConfigMap not checked, "
        "1 Service (serving.knative.dev/v1) not checked), all valid\n"
    )


def test_stdin(tmp_path: Path) -> None:
    result = run("-", stdin=BAD_POLICY.encode())
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith("-:9: error: NetworkPolicy/shop/web:")
    assert result.stdout.splitlines()[-1] == (
        "stdin: 1 object in 1 file (1 NetworkPolicy): 3 errors in 1 object, 1 warning"
    )


def test_unparseable_file_is_bad_input(tmp_path: Path) -> None:
    good, broken = tmp_path / "good.yaml", tmp_path / "broken.yaml"
    good.write_text(GOOD_POLICY)
    broken.write_text("kind: NetworkPolicy\nspec: [\n")
    result = run(str(good), str(broken))
    assert result.exit_code == 2
    assert result.stdout.splitlines()[0].startswith(f"{broken}:3: error: invalid YAML: ")
    assert result.stderr == "error: 1 file could not be read or parsed\n"


def test_unparseable_file_in_json_is_bad_input_too(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [\n")
    result = run(str(broken), "-o", "json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["diagnostics"][0]["reason"] == "ParseError"


def test_missing_file_is_bad_input(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = run(str(missing))
    assert result.exit_code == 2
    assert result.stdout.splitlines()[0] == f"{missing}: error: no such file or directory"
    assert result.stderr == "error: 1 file could not be read or parsed\n"


def test_no_path_is_a_usage_error() -> None:
    result = run()
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: no input: give one or more files, directories, or - for stdin\n"
    )


def test_help_shows_an_example() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "netpol validate examples/tutorial" in result.stdout
    assert "Exit status: 0 all valid" in result.stdout


def report_schema() -> dict[str, object]:
    """The JSON Schema published in docs/schemas (the contract is the doc)."""
    text = (REPO / "docs" / "schemas" / "validation-report.schema.json").read_text()
    schema: dict[str, object] = json.loads(text)
    return schema
