"""Every way a live read fails is one line on stderr and exit 2, naming what was refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from netpol.cli.matrix_cmd import command as matrix
from netpol.load.live import LiveError, LiveTarget, read_cluster

from .fake_apiserver import USER, FakeApiServer, closed_port, serve

RBAC = (
    "netpol needs get and list on namespaces, nodes, pods, services, networkpolicies; for "
    "tiered policies also on serviceaccounts, adminnetworkpolicies, "
    "baselineadminnetworkpolicies, clusternetworkpolicies, Calico's tiers, "
    "networkpolicies, globalnetworkpolicies and Cilium's ciliumnetworkpolicies, "
    "ciliumclusterwidenetworkpolicies, ciliumcidrgroups (docs/rbac/netpol-reader.yaml)"
)


def run(*args: str) -> Result:
    return CliRunner().invoke(matrix, list(args), catch_exceptions=False)


def failed(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.rstrip("\n")


def test_bad_credentials(apiserver: FakeApiServer, tmp_path: Path) -> None:
    config = apiserver.kubeconfig(tmp_path / "kc", token="expired")
    assert failed(run("--kubeconfig", str(config))) == (
        f"error: the API server at {apiserver.url} (context kind-kind) rejected the credentials "
        "(401 Unauthorized): Unauthorized; log in again or check the user in the kubeconfig"
    )


@pytest.mark.parametrize(
    ("resource", "group"), [("pods", ""), ("networkpolicies", "networking.k8s.io")]
)
def test_missing_rbac_names_the_verb_and_resource(
    apiserver: FakeApiServer, kubeconfig: str, resource: str, group: str
) -> None:
    apiserver.forbidden.add(("list", resource))
    assert failed(run("--kubeconfig", kubeconfig)) == (
        f"error: the API server refused to list {resource} (403 Forbidden): {resource} is "
        f'forbidden: User "{USER}" cannot list resource "{resource}" in API group "{group}" at '
        f"the cluster scope; {RBAC}"
    )


def test_missing_rbac_in_a_namespace(apiserver: FakeApiServer, kubeconfig: str) -> None:
    apiserver.forbidden.add(("list", "services"))
    result = run("--kubeconfig", kubeconfig, "--live-namespace", "app1-ns")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        'error: the API server refused to list services in namespace "app1-ns" (403 Forbidden): '
        f'services is forbidden: User "{USER}" cannot list resource "services" in API group "" '
        f'in the namespace "app1-ns"; {RBAC}'
    )


def test_unknown_namespace(kubeconfig: str, apiserver: FakeApiServer) -> None:
    result = run("--kubeconfig", kubeconfig, "--live-namespace", "nope")
    assert result.stderr.splitlines()[-1] == (
        f'error: the API server at {apiserver.url} has no namespace "nope" to get '
        '(404 Not Found): namespaces "nope" not found'
    )


def test_resource_the_server_does_not_have(apiserver: FakeApiServer, kubeconfig: str) -> None:
    apiserver.missing.add("networkpolicies")
    assert failed(run("--kubeconfig", kubeconfig)) == (
        f"error: the API server at {apiserver.url} has no networkpolicies to list "
        "(404 Not Found): the server could not find the requested resource"
    )


def test_server_error(apiserver: FakeApiServer, kubeconfig: str) -> None:
    apiserver.broken.add("pods")
    assert failed(run("--kubeconfig", kubeconfig)) == (
        f"error: the API server at {apiserver.url} failed to list pods (500 Internal Server "
        "Error): Internal error occurred: etcdserver: request timed out listing pods"
    )


def test_slow_server_times_out(apiserver: FakeApiServer, kubeconfig: str) -> None:
    apiserver.delay = 1.0
    assert failed(run("--kubeconfig", kubeconfig, "--request-timeout", "0.2")) == (
        f"error: the API server at {apiserver.url} (context kind-kind) did not answer get "
        "version within 0.2s (--request-timeout)"
    )


def test_unreachable_server(tmp_path: Path) -> None:
    server = FakeApiServer.from_fixtures("tutorial")
    server.url = f"http://127.0.0.1:{closed_port()}"
    config = server.kubeconfig(tmp_path / "kc")
    assert failed(run("--kubeconfig", str(config))) == (
        f"error: cannot reach the API server at {server.url} (context kind-kind): "
        "connection refused"
    )


def test_kubeconfig_problems(kubeconfig: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yaml")
    assert failed(run("--kubeconfig", missing)) == f"error: kubeconfig {missing}: no such file"
    assert failed(run("--kubeconfig", kubeconfig, "--context", "prod")) == (
        f'error: context "prod" is not in kubeconfig {kubeconfig} (contexts: kind-kind, other)'
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: Config\nclusters: [\n")
    assert failed(run("--kubeconfig", str(broken))) == (
        f"error: kubeconfig {broken}:4: invalid YAML: did not find expected node content "
        "(while parsing a flow node)"
    )
    for special, kind in (
        (tmp_path / "fifo", "a FIFO (named pipe)"),
        ("/dev/zero", "a character device"),
    ):
        if special != "/dev/zero":
            os.mkfifo(special)
        assert failed(run("--kubeconfig", str(special))) == (
            f"error: kubeconfig {special}: {kind}, not a regular file: not read"
        )
    deep = tmp_path / "deep.yaml"
    deep.write_text("clusters: " + "[" * 500 + "]" * 500 + "\n")
    assert failed(run("--kubeconfig", str(deep))) == (
        f"error: kubeconfig {deep}:1: document nested deeper than 200 levels"
    )


def test_no_kubeconfig_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert failed(run("--live")) == (
        "error: no kubeconfig: pass --kubeconfig PATH, set KUBECONFIG, create ~/.kube/config, "
        "or run inside a pod with a service account"
    )


def test_paths_and_a_live_cluster_exclude_each_other(kubeconfig: str) -> None:
    result = run("examples/tutorial", "--kubeconfig", kubeconfig)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: give PATHs or --kubeconfig/--context/--live, not both"
    )


def test_no_progress_noise_when_piped(kubeconfig: str) -> None:
    result = run("--kubeconfig", kubeconfig, "--by", "namespace")
    assert result.exit_code == 0
    assert "reading" not in result.stderr


def test_a_server_that_went_away_mid_read(tmp_path: Path) -> None:
    with serve(FakeApiServer.from_fixtures("tutorial")) as server:
        config = server.kubeconfig(tmp_path / "kc")
    assert failed(run("--kubeconfig", str(config))).startswith(
        f"error: cannot reach the API server at {server.url} (context kind-kind): "
    )


def test_a_continue_token_that_keeps_expiring(apiserver: FakeApiServer, kubeconfig: str) -> None:
    apiserver.expire_continue = 1000
    with pytest.raises(LiveError) as caught:
        read_cluster(LiveTarget(kubeconfig, page_size=4))
    assert str(caught.value) == (
        "the API server expired the listing of namespaces before netpol finished "
        "(410 Gone): The provided continue parameter is too old to display a consistent "
        "list result. You can start a new list without the continue parameter.; try again"
    )
    assert sum(1 for r in apiserver.requests if r.path == "/api/v1/namespaces") == 6


def test_a_server_that_repeats_its_continue_token_does_not_page_forever(
    apiserver: FakeApiServer, kubeconfig: str
) -> None:
    apiserver.stuck_continue = True
    with pytest.raises(LiveError) as caught:
        read_cluster(LiveTarget(kubeconfig, page_size=4))
    assert str(caught.value) == (
        f"the API server at {apiserver.url} answered list namespaces with the continue token "
        "it was sent, so the listing would never end"
    )
