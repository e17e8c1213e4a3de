"""Cilium allows with L7 parts are marked in every matrix format, and only where nothing
allows the same connection at L4 (then the L7 part is void: L4 wins)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import without_addon_note

from netpol.cli.matrix_cmd import command as matrix

# every pod may ask DNS through Cilium's proxy; the tutorial's NetworkPolicies already
# open DNS at L4 for backend and frontend (TCP and UDP 53), not for the database
DNS_L7 = """apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: dns}
spec:
  endpointSelector: {}
  enableDefaultDeny: {egress: false}
  egress:
  - toEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, k8s-app: kube-dns}}]
    toPorts: [{ports: [{port: "53", protocol: ANY}], rules: {dns: [{matchPattern: "*"}]}}]
"""


def run(examples_dir: Path, tmp_path: Path, *args: str) -> str:
    policy = tmp_path / "dns.yaml"
    policy.write_text(DNS_L7)
    result = CliRunner().invoke(
        matrix,
        [str(examples_dir / "tutorial"), str(policy), "--by", "workload", *args],
        catch_exceptions=False,
    )
    assert (result.exit_code, without_addon_note(result.stderr)) == (0, "")
    return result.stdout


def test_the_table_marks_l7_cells_and_says_why(examples_dir: Path, tmp_path: Path) -> None:
    lines = run(examples_dir, tmp_path).splitlines()

    assert lines[1].split()[-1] == "53~"  # backend -> coredns: TCP 53,UDP 53,SCTP 53~
    assert lines[-1].endswith(
        "'~' allowed at L4 by a Cilium rule with L7 parts: its proxy filters requests"
    )


def test_json_names_exactly_what_only_l7_rules_allow(examples_dir: Path, tmp_path: Path) -> None:
    document = json.loads(run(examples_dir, tmp_path, "-o", "json"))

    marked = {(c["src"], c["dst"]): c.get("l7Filtered") for c in document["connections"]}
    assert marked[("app1-ns/backend-deploy", "kube-system/coredns")] == {"SCTP": [[53, 53]]}
    assert marked[("app1-ns/db-sts", "kube-system/coredns")] == {
        "TCP": [[53, 53]],
        "UDP": [[53, 53]],
        "SCTP": [[53, 53]],
    }
    assert marked[("kube-system/coredns", "kube-system/coredns")] is None


@pytest.mark.parametrize(
    ("output", "line"),
    [
        ("wide", "(L7-filtered: TCP 53,UDP 53,SCTP 53)"),
        ("md", "(L7-filtered: TCP 53,UDP 53,SCTP 53) |"),
        (
            "csv",
            'app1-ns/db-sts,kube-system/coredns,"TCP 53,UDP 53,SCTP 53",false,"TCP 53,UDP 53,SCTP 53"',
        ),
    ],
)
def test_every_list_format_marks_it(
    examples_dir: Path, tmp_path: Path, output: str, line: str
) -> None:
    text = run(examples_dir, tmp_path, "-o", output)

    db_lines = [x for x in text.splitlines() if "db-sts" in x and "coredns" in x]
    assert len(db_lines) == 1 and db_lines[0].endswith(line)
    if output == "csv":
        assert text.splitlines()[0] == "src,dst,allowed,mixed,l7_filtered"


def test_without_l7_rules_nothing_changes(examples_dir: Path) -> None:
    result = CliRunner().invoke(
        matrix, [str(examples_dir / "tutorial"), "-o", "csv"], catch_exceptions=False
    )

    assert result.stdout.splitlines()[0] == "src,dst,allowed,mixed"
