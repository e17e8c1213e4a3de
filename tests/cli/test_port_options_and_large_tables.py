"""--port parsing shared by matrix and lab probe; a truth table of too many endpoints becomes
the list of allowed pairs, with a note."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from netpol.cli.lab_cmd import command as lab
from netpol.cli.matrix_cmd import TABLE_LIMIT, command

MANY = f"""\
apiVersion: v1
kind: Namespace
metadata: {{name: a}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: a}}
spec:
  replicas: {TABLE_LIMIT + 1}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: c, image: i}}]}}
"""


def test_too_many_endpoints_list_pairs_instead(tmp_path: Path) -> None:
    (tmp_path / "many.yaml").write_text(MANY)

    result = CliRunner().invoke(command, [str(tmp_path), "--no-implicit-dns"])

    assert result.exit_code == 0
    assert result.stderr.startswith(
        f"note: {TABLE_LIMIT + 1} endpoints are too many for a readable truth table"
    )
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SOURCE", "DESTINATION", "ALLOWED"]
    assert len(lines) == 1 + (TABLE_LIMIT + 1) * TABLE_LIMIT  # every ordered pair, all open


MANY_NAMESPACES = "".join(
    f"""\
---
apiVersion: v1
kind: Pod
metadata: {{name: p, namespace: n{i}}}
spec: {{containers: [{{name: c, image: i}}]}}
"""
    for i in range(TABLE_LIMIT + 1)
)


def test_too_many_namespaces_suggest_only_what_is_coarser(tmp_path: Path) -> None:
    (tmp_path / "many.yaml").write_text(MANY_NAMESPACES)

    by_namespace = CliRunner().invoke(command, [str(tmp_path), "--by", "namespace"])
    by_workload = CliRunner().invoke(command, [str(tmp_path), "--by", "workload"])

    assert by_namespace.exit_code == by_workload.exit_code == 0
    assert "listing the allowed pairs instead (try -o json)" in by_namespace.stderr
    assert "(try --by namespace, or -o json)" in by_workload.stderr


def test_by_workload_is_a_table_again(tmp_path: Path) -> None:
    (tmp_path / "many.yaml").write_text(MANY)

    result = CliRunner().invoke(command, [str(tmp_path), "--by", "workload", "--no-implicit-dns"])

    assert result.exit_code == 0
    assert result.stderr.count("truth table") == 0
    assert result.stdout.startswith("from \\ to  a/web\na/web      all")


def test_the_lab_probe_refuses_sctp_ports_in_one_line() -> None:
    result = CliRunner().invoke(lab, ["probe", "--name", "nosuch", "--port", "80/SCTP"])

    assert result.exit_code == 2
    assert result.stderr == (
        "error: --port '80/SCTP': expected PORT or PORT/PROTOCOL (TCP/UDP), e.g. 80/TCP or 53/UDP\n"
    )
