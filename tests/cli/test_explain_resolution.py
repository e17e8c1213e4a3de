"""How explain resolves what --to names: NodePorts DNATed like kube-proxy, ambiguity refused."""

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


AMBIGUOUS = """\
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: a}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
"""


def test_a_pod_and_a_service_of_one_name_are_never_guessed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.yaml").write_text(AMBIGUOUS)

    ambiguous = CliRunner().invoke(
        command, [str(tmp_path), "--from", "a/web", "--to", "a/web:80", "--no-implicit-dns"]
    )
    service = CliRunner().invoke(
        command, [str(tmp_path), "--from", "pod/a/web", "--to", "svc/a/web:80"]
    )

    assert ambiguous.exit_code == 2
    assert ambiguous.stderr == "error: 'a/web' is ambiguous: write pod/a/web or svc/a/web\n"
    assert service.exit_code == 0
    assert "via Service a/web " in service.stdout and "port 8080" in service.stdout
