"""The command line around Cilium policies: the profile rule and --fqdn-map."""

from __future__ import annotations

import json
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
        ("a b: 192.0.2.1\n", "names.yaml:1: 'a b': a key must be a DNS name"),
        ("'.': 192.0.2.1\n", "names.yaml:1: '.': a key must be a DNS name"),
    ],
    ids=["not-an-ip", "empty", "a-list", "two-documents", "space-in-key", "root-key"],
)
def test_a_bad_map_is_one_line(
    examples_dir: Path, cnp: Path, tmp_path: Path, text: str, message: str
) -> None:
    names = tmp_path / "names.yaml"
    names.write_text(text)

    result = explain_to(examples_dir, cnp, "--fqdn-map", str(names))

    assert result.exit_code == 2
    assert result.stderr == f"error: --fqdn-map: {tmp_path}/{message}\n"


DENY_DB = """apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: deny-db, namespace: app1-ns}
spec:
  endpointSelector: {matchLabels: {role: db}}
  enableDefaultDeny: {ingress: false}
  ingressDeny:
  - fromEndpoints: [{matchLabels: {role: backend}}]
    toPorts: [{ports: [{port: "3306", protocol: TCP}]}]
"""


def test_diff_reads_both_sides_under_cilium(examples_dir: Path, tmp_path: Path) -> None:
    from netpol.cli.diff_cmd import command as diff

    deny = tmp_path / "deny.yaml"
    deny.write_text(DENY_DB)
    tutorial = str(examples_dir / "tutorial")

    result = run(diff, "--by", "workload", tutorial, "--new", str(deny))

    assert result.exit_code == 0
    changed = [line.split()[:3] for line in result.stdout.splitlines()[1:] if line.strip()]
    # the deny closes what the NetworkPolicy opened; nothing else moves (the same profile
    # reads the NetworkPolicies on both sides, so ipBlock 0.0.0.0/0 stays world-only)
    assert changed[:-1] == [["removed", "app1-ns/backend-deploy", "app1-ns/db-sts"]]


EXPECT_API = """apiVersion: netpol/v1alpha1
kind: Expectations
expectations:
- {name: api, from: app1-ns/backend-deploy, to: 203.0.113.10, port: 443, expect: allow}
- {name: other-port, from: app1-ns/backend-deploy, to: 203.0.113.10, port: 80, expect: deny}
"""


def test_verify_says_a_verdict_depends_on_dns(
    examples_dir: Path, cnp: Path, tmp_path: Path
) -> None:
    from netpol.cli.verify_cmd import command as verify

    expectations = tmp_path / "expect.yaml"
    expectations.write_text(EXPECT_API)
    tutorial = str(examples_dir / "tutorial")

    result = run(verify, tutorial, str(cnp), "--expect", str(expectations), "-o", "json")

    assert result.exit_code == 1
    actual = {r["name"]: r["actual"] for r in json.loads(result.stdout)["results"]}
    # port 80 is decided whatever DNS says: the FQDN rule only opens 443
    assert actual == {
        "api": "unknown (depends on DNS: toFQDNs, see --fqdn-map)",
        "other-port": "denied",
    }
