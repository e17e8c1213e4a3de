"""The command line around Cilium policies: the profile rule and --fqdn-map."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.conftest import without_addon_note

from netpol.cli.explain_cmd import command as explain
from netpol.cli.matrix_cmd import command as matrix

POLICY = """apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: fq, namespace: app1-ns}
spec:
  endpointSelector: {matchLabels: {role: backend}}
  egress:
  - toFQDNs: [{matchPattern: "*.example.com"}]
    toPorts: [{ports: [{port: "443", protocol: TCP}]}]
"""


def run(command, *args: str) -> Result:  # type: ignore[no-untyped-def]
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


@pytest.fixture
def cnp(tmp_path: Path) -> Path:
    path = tmp_path / "cnp.yaml"
    path.write_text(POLICY)
    return path


def test_an_explicit_other_profile_is_refused(examples_dir: Path, cnp: Path) -> None:
    result = run(matrix, str(examples_dir / "tutorial"), str(cnp), "--profile", "calico")

    assert result.exit_code == 2
    assert without_addon_note(result.stderr) == (
        f"error: {cnp}:1: CiliumNetworkPolicy/app1-ns/fq: the input holds 1 Cilium policy, "
        "which only Cilium enforces, but --profile calico was given (drop it, or use "
        "--profile cilium)\n"
    )


@pytest.mark.parametrize("profile", [(), ("--profile", "cilium")])
def test_the_cilium_profile_is_used_or_accepted(
    examples_dir: Path, cnp: Path, profile: tuple[str, ...]
) -> None:
    result = run(matrix, str(examples_dir / "tutorial"), str(cnp), *profile)

    assert result.exit_code == 0
    assert without_addon_note(result.stderr) == ""


def explain_to(examples_dir: Path, cnp: Path, *extra: str) -> Result:
    return run(
        explain,
        str(examples_dir / "tutorial"),
        str(cnp),
        "--from",
        "app1-ns/backend-deploy",
        "--to",
        "203.0.113.10:443",
        *extra,
    )


def test_without_a_map_the_verdict_depends_on_dns(examples_dir: Path, cnp: Path) -> None:
    result = explain_to(examples_dir, cnp)

    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].endswith(": DENIED")
    assert (
        "[CiliumNetworkPolicy app1-ns/fq egress[0]] Allow: toFQDNs *.example.com depends on "
        "DNS: netpol cannot resolve it offline (give --fqdn-map)"
    ) in result.stdout


def test_the_map_resolves_the_name(examples_dir: Path, cnp: Path, tmp_path: Path) -> None:
    names = tmp_path / "names.yaml"
    names.write_text("api.example.com: [203.0.113.10]\nother.example.org: 198.51.100.1\n")

    result = explain_to(examples_dir, cnp, "--fqdn-map", str(names))

    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].endswith(": ALLOWED")
    assert "decision: [CiliumNetworkPolicy app1-ns/fq egress[0]] Allow" in result.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("api.example.com: nope\n", "names.yaml:1: api.example.com: 'nope' is not an IP address"),
        ("api.example.com: []\n", "names.yaml:1: api.example.com: no address given"),
        ("- 1.2.3.4\n", "names.yaml:1: document 1 is a list, not a mapping"),
        ("a: 1\n---\nb: 2\n", "names.yaml: expected one mapping of DNS names to addresses"),
    ],
    ids=["not-an-ip", "empty", "a-list", "two-documents"],
)
def test_a_bad_map_is_one_line(
    examples_dir: Path, cnp: Path, tmp_path: Path, text: str, message: str
) -> None:
    names = tmp_path / "names.yaml"
    names.write_text(text)

    result = explain_to(examples_dir, cnp, "--fqdn-map", str(names))

    assert result.exit_code == 2
    assert result.stderr == f"error: --fqdn-map: {tmp_path}/{message}\n"
