"""Containers' commands: never run from a manifest unless --run-commands says so."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tests.lab.conftest import lab_name, requires_lab

from netpol.lab import inventory, lifecycle
from netpol.lab.probe import OPEN, UNVERIFIED
from netpol.model.options import Options

pytestmark = [pytest.mark.lab, requires_lab, pytest.mark.usefixtures("host_untouched")]


def pods() -> list[dict[str, Any]]:
    def pod(name: str, command: list[str] | None) -> dict[str, Any]:
        container: dict[str, Any] = {
            "name": "c",
            "image": "python",
            "ports": [{"containerPort": 8081}],
        }
        if command:
            container["command"] = command
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
            "spec": {"containers": [container]},
        }

    # --cgi is not the plain file server: not on the allow-list
    return [pod("server", ["python3", "-m", "http.server", "8081", "--cgi"]), pod("client", None)]


def outcome_to_server(lab: str) -> str:
    report, _ = lifecycle.probe_lab(lab, reference=True)
    assert not report.disagreements
    (cell,) = [
        c
        for c in report.cells
        if c.attempt.src == "default/client" and c.attempt.dst == "default/server"
    ]
    return cell.outcome


@pytest.mark.parametrize(("run_commands", "expected"), [(False, OPEN), (True, UNVERIFIED)])
def test_the_lab_listens_unless_told_to_run_the_command(run_commands: bool, expected: str) -> None:
    lab = lab_name("cmd")
    view = lifecycle.up_objects(pods(), lab, Options(), run_commands=run_commands)
    try:
        assert any("--run-commands" in note for note in view.notes) != run_commands
        # our listener names the pod (open); the container's own server does not (connected)
        assert outcome_to_server(lab) == expected
    finally:
        inventory.down(lab)


def hostile_pods(marker: Path) -> list[dict[str, Any]]:
    """Manifests that try to run something else as root, each beside a real port."""
    commands: list[tuple[list[str], list[str]]] = [
        (["sh", "-c", f"touch {marker}-sh"], []),
        (["sh", "-c", f"python3 -m http.server 5678; touch {marker}-chained"], []),
        (["python3", "-m", "http.server", "5678;", "touch", f"{marker}-argv"], []),
        ([], ["sh", "-c", f"touch {marker}-args"]),
        (["python3", "-m", "http.server", "5678", "--cgi", f"{marker}-cgi"], []),
        (["python3", "-c", f"open('{marker}-py', 'w')"], []),
    ]
    objects = []
    for i, (command, args) in enumerate(commands):
        container: dict[str, Any] = {"name": "c", "image": "x", "ports": [{"containerPort": 5678}]}
        if command:
            container["command"] = command
        if args:
            container["args"] = args
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"p{i}", "namespace": "default"},
                "spec": {"containers": [container]},
            }
        )
    return objects


def test_hostile_manifest_commands_never_run_without_run_commands(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    lab = lab_name("hostile")
    lifecycle.up_objects(hostile_pods(marker), lab, Options())
    try:
        report, _ = lifecycle.probe_lab(lab)
        assert not report.disagreements
        # every port is served by the lab's own listener, which names the pod
        assert {c.outcome for c in report.cells if c.attempt.dst} == {OPEN}
        time.sleep(0.5)
        assert sorted(p.name for p in tmp_path.iterdir()) == []
    finally:
        inventory.down(lab)
