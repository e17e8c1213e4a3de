"""Done when: ``netpol matrix --kubeconfig`` gives the matrix the same cluster's manifests give."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from netpol.cli.matrix_cmd import command as matrix

from .fake_apiserver import FIXTURES, FakeApiServer

MANIFESTS = [
    str(FIXTURES / "tutorial" / f"{n}.json")
    for n in ("namespaces", "nodes", "pods", "services", "networkpolicies")
]
KINDNET_WARNING = (
    "warning: kindnet (KIND) does not enforce NetworkPolicy: kindnetd v20240202 (before KIND "
    "v0.24) has no NetworkPolicy controller: policies are accepted by the API server and then "
    "ignored; netpol shows what the policies would allow under a CNI that enforces them\n"
)


def out(*args: str) -> tuple[str, str]:
    result = CliRunner().invoke(matrix, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


@pytest.mark.parametrize(
    "view",
    [
        ["--by", "pod", "-o", "json", "--all-pairs", "--include-nodes", "--include-external"],
        ["--by", "workload"],
        ["--by", "namespace", "-o", "csv"],
        ["--port", "80", "--port", "5678", "--port", "3306", "--port", "53/UDP"],
    ],
)
def test_live_matrix_equals_the_manifests_matrix(kubeconfig: str, view: list[str]) -> None:
    live, warnings = out("--kubeconfig", kubeconfig, *view)
    files, _ = out(*MANIFESTS, *view)
    assert live == files
    assert warnings == KINDNET_WARNING


def test_the_tutorial_app_is_the_tutorial_examples_app(kubeconfig: str) -> None:
    """The live cluster runs the tutorial's manifests: among their pods, the same verdicts."""

    def flows(*args: str) -> set[tuple[str, str, str]]:
        data = json.loads(out(*args, "--by", "workload", "-o", "json")[0])
        return {(c["src"], c["dst"], c["text"]) for c in data["connections"]}

    live = flows("--kubeconfig", kubeconfig)
    examples = flows("examples/tutorial")
    app = {
        "app1-ns/frontend-deploy",
        "app1-ns/backend-deploy",
        "app1-ns/db-sts",
        "kube-system/coredns",
    }
    assert {f for f in live if {f[0], f[1]} <= app} == examples
    assert ("app1-ns/frontend-deploy", "app1-ns/backend-deploy", "TCP 5678") not in live


def test_a_calico_cluster_gets_the_calico_profile_unless_told(
    apiserver: FakeApiServer, kubeconfig: str
) -> None:
    calico = FakeApiServer.from_fixtures("cni/kind-calico.json")
    apiserver.objects["daemonsets"] = calico.objects["daemonsets"]
    apiserver.objects["pods"] = [
        p for p in apiserver.objects["pods"] if not p["metadata"]["name"].startswith("kindnet")
    ] + [p for p in calico.objects["pods"] if p["metadata"]["name"].startswith("calico-node")]
    data, note = out("--kubeconfig", kubeconfig, "-o", "json")
    assert json.loads(data)["profile"] == "calico"
    assert (
        note == "note: Calico detected: using --profile calico (pass --profile to choose another)\n"
    )
    data, note = out("--kubeconfig", kubeconfig, "-o", "json", "--profile", "upstream")
    assert (json.loads(data)["profile"], note) == ("upstream", "")
