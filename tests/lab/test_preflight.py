"""Without root (or nftables) the lab refuses in one line, and the demo tells its story on
the engine alone."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from tests.conftest import EXAMPLES

from netpol.cli.main import cli
from netpol.lab import system


@pytest.fixture
def not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)


@pytest.mark.usefixtures("not_root")
def test_lab_up_refuses_without_root() -> None:
    result = CliRunner().invoke(cli, ["lab", "up", str(EXAMPLES / "tutorial")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        "error: the lab needs root (it creates network namespaces and nftables rules)"
    )


@pytest.mark.usefixtures("not_root")
def test_demo_runs_on_the_engine_alone_without_root() -> None:
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert "The lab cannot run here: the lab needs root" in result.output
    assert "on the engine alone (no real packets)" in result.output
    assert "Step 5 holds." in result.output


def test_missing_nft_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = system.shutil.which
    monkeypatch.setattr(
        system.shutil, "which", lambda tool: None if tool == "nft" else real_which(tool)
    )
    monkeypatch.setattr(system.os, "geteuid", lambda: 0)
    assert "nft is not installed (apt-get install nftables)" in system.missing_requirements()


def test_lab_up_refuses_skip_invalid_before_touching_anything() -> None:
    result = CliRunner().invoke(cli, ["lab", "up", "--skip-invalid", str(EXAMPLES / "tutorial")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: the lab runs valid objects only: fix or remove the invalid ones"
    ]
