"""``get`` tables and ``describe`` text for Cilium's policies and CIDR groups (golden files),
on the tutorial's cluster with tests/fixtures/cilium/policies.yaml."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from netpol.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
INPUT = ("examples/tutorial", "tests/fixtures/cilium")


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # sources are shown relative to the working directory


def netpol(*args: str) -> str:
    result = CliRunner().invoke(cli, [*args, *INPUT])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("get-cilium-cnp.txt", ("get", "ciliumnetworkpolicies")),
        ("get-cilium-cnp-wide.txt", ("get", "cnp", "-o", "wide")),
        ("get-cilium-ccnp-wide.txt", ("get", "ccnp", "-o", "wide")),
        ("get-cilium-cidrgroups.txt", ("get", "ciliumcidrgroups", "-o", "wide")),
    ],
)
def test_get_tables(golden: Callable[[str, str], None], name: str, args: tuple[str, ...]) -> None:
    golden(name, netpol(*args))


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("describe-cilium-backend-l7.txt", ("describe", "cnp", "app1-ns/backend-l7")),
        ("describe-cilium-db.txt", ("describe", "ciliumnp", "db", "-n", "app1-ns")),
        ("describe-cilium-cluster-dns.txt", ("describe", "ccnp", "cluster-dns")),
        ("describe-cilium-host-policy.txt", ("describe", "ccnp", "no-metadata-server")),
        ("describe-cilium-db.json", ("describe", "cnp", "app1-ns/db", "-o", "json")),
    ],
)
def test_describe(golden: Callable[[str, str], None], name: str, args: tuple[str, ...]) -> None:
    golden(name, netpol(*args))
