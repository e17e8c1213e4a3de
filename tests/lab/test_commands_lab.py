"""Containers' commands: never run from a manifest unless --run-commands says so."""

from __future__ import annotations

from typing import Any

import pytest
from tests.lab.conftest import lab_name, requires_lab

from netpol.lab import lifecycle
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
        lifecycle.down(lab)
