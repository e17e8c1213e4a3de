"""A summary pair whose pods disagree is marked and listed pod by pod (issue 3, item 6)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from netpol.cli.matrix_cmd import command

MIXED = str(Path(__file__).with_name("mixed_members.yaml"))


def run(*args: str) -> str:
    result = CliRunner().invoke(command, [MIXED, "--no-implicit-dns", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_marked_pair_is_listed_at_pod_level() -> None:
    out = run("--by", "namespace")

    assert "a          all*" in out
    assert out.endswith(
        "a -> a: member pods disagree\n"
        "  a/a1 -> a/a2: All Connections\n"
        "  a/a1 -> a/b1: TCP 80,443\n"
        "  a/a2 -> a/a1: All Connections\n"
        "  a/a2 -> a/b1: TCP 80\n"
        "  a/b1 -> a/a1: All Connections\n"
        "  a/b1 -> a/a2: All Connections\n"
    )


def test_the_listing_follows_the_ports_shown() -> None:
    out = run("--by", "namespace", "--port", "443", "-o", "wide")

    assert "a        a             TCP 443 (members disagree)" in out
    assert "  a/a2 -> a/b1: No Connections\n" in out
    assert "  a/a1 -> a/b1: TCP 443\n" in out


def test_pairs_that_agree_on_the_ports_shown_list_nothing() -> None:
    out = run("--by", "namespace", "--port", "80")

    assert "member pods disagree" not in out
    assert "*" not in out


def test_pod_granularity_never_marks() -> None:
    assert "disagree" not in run("--by", "pod")
