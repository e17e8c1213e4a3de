"""A pod without an IP (Pending) sends and receives nothing (spec 2.3), and says so."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from netpol.cli.describe_cmd import command as describe
from netpol.cli.explain_cmd import command as explain
from netpol.cli.matrix_cmd import command as matrix

PENDING = str(Path(__file__).parent / "inputs" / "pending-pod.yaml")


def test_explain_refuses_a_pod_without_ip_in_one_line() -> None:
    for args in (
        ["--from", "a/server", "--to", "a/pend:80"],
        ["--from", "a/pend", "--to", "a/server:80"],
    ):
        result = CliRunner().invoke(explain, [PENDING, "--no-implicit-dns", *args])
        assert result.exit_code == 2
        assert result.stderr == (
            "error: pod a/pend has no IP (Pending): it can neither send nor receive\n"
        )


def test_describe_names_the_isolating_policy_and_no_traffic() -> None:
    result = CliRunner().invoke(describe, ["pod", "a/pend", PENDING])

    assert result.exit_code == 0
    assert "Ingress:    isolated by a/deny\n" in result.stdout
    assert result.stdout.endswith(
        "Traffic:    none: the pod has no IP (Pending), so it sends and receives nothing\n"
    )


def test_the_matrix_leaves_it_out() -> None:
    result = CliRunner().invoke(matrix, [PENDING])

    assert result.exit_code == 0
    assert "a/pend" not in result.stdout
    assert "a/server" in result.stdout
