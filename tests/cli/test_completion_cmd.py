"""Completion: the scripts for bash/zsh/fish, and kubectl's plugin protocol, tried with the
real kubectl when it is on PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from netpol.cli.completion_cmd import kubectl_candidates

SRC = Path(__file__).resolve().parents[2] / "src"


def netpol(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "netpol", *args], capture_output=True, text=True, env=environ
    )


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "_NETPOL_COMPLETE=bash_complete"),
        ("zsh", "#compdef netpol"),
        ("fish", "_NETPOL_COMPLETE=fish_complete"),
    ],
)
def test_completion_prints_the_script_of_each_shell(shell: str, marker: str) -> None:
    result = netpol("completion", shell)
    assert result.returncode == 0 and marker in result.stdout


def test_an_unknown_shell_is_named() -> None:
    result = netpol("completion", "tcsh")
    assert result.returncode == 2
    assert "'tcsh' is not one of 'bash', 'zsh', 'fish'" in result.stderr


def test_the_bash_script_s_question_gets_verbs_and_option_values() -> None:
    """What the script installed by ``completion bash`` asks, and what it gets back."""
    verbs = netpol(
        env={"_NETPOL_COMPLETE": "bash_complete", "COMP_WORDS": "netpol ma", "COMP_CWORD": "1"}
    )
    assert verbs.stdout.split() == ["plain,matrix"]
    values = netpol(
        env={
            "_NETPOL_COMPLETE": "bash_complete",
            "COMP_WORDS": "netpol matrix --by ",
            "COMP_CWORD": "3",
        }
    )
    assert values.stdout.split() == ["plain,pod", "plain,workload", "plain,namespace"]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["matrix", "--by", ""], ["pod", "workload", "namespace", ":4"]),
        (["matrix", "exa"], [":0"]),  # a PATH: kubectl lets the shell complete files
        (["completion", ""], ["bash", "zsh", "fish", ":4"]),
    ],
)
def test_kubectl_gets_cobra_s_format(words: list[str], expected: list[str]) -> None:
    assert kubectl_candidates(words) == expected


def test_a_verb_candidate_carries_its_short_help() -> None:
    (verb, directive) = kubectl_candidates(["ma"])
    assert verb.startswith("matrix\tPrint who can connect to whom") and directive == ":4"


@pytest.fixture
def plugin_path(tmp_path: Path) -> str:
    """A PATH with kubectl and netpol's two plugin programs, as pip installs them."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not on PATH")
    for program, function in (
        ("kubectl-netpol", "run"),
        ("kubectl_complete-netpol", "kubectl_complete"),
    ):
        script = tmp_path / program
        script.write_text(
            f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(SRC)!r})\n"
            f"from netpol.cli.entry import {function}\n{function}()\n"
        )
        script.chmod(0o755)
    return os.pathsep.join((str(tmp_path), os.path.dirname(kubectl)))


def kubectl(path: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", *args], capture_output=True, text=True, env={**os.environ, "PATH": path}
    )


def test_kubectl_netpol_help_says_kubectl_netpol(plugin_path: str) -> None:
    result = kubectl(plugin_path, "netpol", "--help")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "Usage: kubectl netpol [OPTIONS] COMMAND [ARGS]..."
    verb = kubectl(plugin_path, "netpol", "matrix", "--help")
    assert verb.stdout.splitlines()[0].startswith("Usage: kubectl netpol matrix [OPTIONS]")


def test_kubectl_netpol_tab_completes(plugin_path: str) -> None:
    """kubectl's own ``__complete`` (what its shell scripts call) runs the plugin's completer."""
    verbs = kubectl(plugin_path, "__complete", "netpol", "ma").stdout.splitlines()
    assert [line.split("\t")[0] for line in verbs] == ["matrix", ":4"]
    values = kubectl(plugin_path, "__complete", "netpol", "matrix", "--by", "")
    assert values.stdout.splitlines() == ["pod", "workload", "namespace", ":4"]
