"""A NodePort is DNATed to the Service's backends, as kube-proxy does (the tutorial's :31000)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from netpol.cli.explain_cmd import command

TUTORIAL = "examples/tutorial"


@pytest.mark.parametrize(
    "node", ["node/kind-worker:31000", "172.18.0.3:31000", "kind-worker2:31000"]
)
def test_the_frontend_nodeport_reaches_the_frontend_pod(node: str) -> None:
    result = CliRunner().invoke(command, [TUTORIAL, "--from", "203.0.113.7", "--to", node])

    assert result.exit_code == 0, result.output
    first, via = result.stdout.splitlines()[:2]
    assert first.startswith("ip:203.0.113.7 -> app1-ns/frontend-deploy-")
    assert first.endswith("port 80/TCP: ALLOWED")
    assert via.startswith("  via NodePort 31000/TCP on node kind-worker")
    assert "-> Service app1-ns/frontend-svc " in via


def test_a_port_that_is_no_nodeport_is_the_node_itself() -> None:
    result = CliRunner().invoke(
        command, [TUTORIAL, "--from", "203.0.113.7", "--to", "node/kind-worker:30999"]
    )

    assert result.exit_code == 0
    assert result.stdout.startswith("ip:203.0.113.7 -> node:kind-worker port 30999/TCP: ALLOWED")
