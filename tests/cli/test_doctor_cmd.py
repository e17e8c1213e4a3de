"""``netpol doctor``: the CNI, whether it enforces NetworkPolicy, the version, and the meaning."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from load.live.fake_apiserver import FakeApiServer, serve
from netpol.cli.doctor_cmd import command as doctor


@pytest.fixture
def apiserver() -> Iterator[FakeApiServer]:
    with serve(FakeApiServer.from_fixtures("tutorial")) as server:
        yield server


def run(*args: str) -> Result:
    result = CliRunner().invoke(doctor, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def use_cni(server: FakeApiServer, fixture: str, agent: str) -> None:
    """Swap kindnet for another CNI's DaemonSet and pods."""
    other = FakeApiServer.from_fixtures(f"cni/{fixture}.json")
    server.objects["daemonsets"] = other.objects["daemonsets"]
    server.objects["pods"] = [
        p for p in server.objects["pods"] if not p["metadata"]["name"].startswith("kindnet")
    ] + [p for p in other.objects["pods"] if p["metadata"]["name"].startswith(agent)]


def test_doctor_on_the_tutorials_kind_cluster(apiserver: FakeApiServer, tmp_path: Path) -> None:
    config = apiserver.kubeconfig(tmp_path / "kc")
    result = run("--kubeconfig", str(config))
    assert result.stdout.splitlines() == [
        f"cluster    {apiserver.url} (context kind-kind)",
        "version    Kubernetes v1.29.2",
        "CNI        kindnet (KIND): DaemonSet kube-system/kindnet (docker.io/kindest/kindnetd:v20240202-8f1494ea)",
        "policies   NOT ENFORCED: kindnetd v20240202 (before KIND v0.24) has no NetworkPolicy controller: policies are accepted by the API server and then ignored",
        "profile    upstream (matches kindnet (KIND))",
        "objects    6 namespaces, 3 nodes, 16 pods, 5 services, 3 network policies",
        "isolation  3 policies in app1-ns isolate 3 of 6 pods for ingress, 3 for egress",
        "meaning    the API server accepted these policies, but nothing enforces them: on this cluster every pod reaches every other on every port",
        "           `netpol matrix --kubeconfig ...` shows what they would allow under a CNI that enforces NetworkPolicy (Calico, Cilium, Antrea, ...); `netpol probe` shows what happens now",
    ]


@pytest.mark.parametrize(
    ("fixture", "agent", "line", "profile"),
    [
        (
            "kind-calico",
            "calico-node",
            "policies   enforced: Calico's Felix enforces NetworkPolicy on every node",
            "calico",
        ),
        (
            "cilium",
            "cilium",
            "policies   enforced: Cilium enforces NetworkPolicy (eBPF); ipBlock never matches pods",
            "cilium",
        ),
        (
            "flannel",
            "kube-flannel",
            "policies   NOT ENFORCED: flannel only connects pods; it has no NetworkPolicy controller",
            "upstream",
        ),
        (
            "eks",
            "aws-node",
            "policies   NOT ENFORCED: the VPC CNI enforces NetworkPolicy only when its network policy agent runs with --enable-network-policy=true (it does not here)",
            "upstream",
        ),
    ],
)
def test_doctor_names_each_cni_and_its_enforcement(
    apiserver: FakeApiServer, tmp_path: Path, fixture: str, agent: str, line: str, profile: str
) -> None:
    use_cni(apiserver, fixture, agent)
    config = str(apiserver.kubeconfig(tmp_path / "kc"))
    assert line in run("--kubeconfig", config).stdout.splitlines()
    found = json.loads(run("--kubeconfig", config, "-o", "json").stdout)
    assert (found["kind"], found["profile"], found["version"]) == ("Doctor", profile, "v1.29.2")


def test_an_explicit_profile_is_kept_and_its_differences_shown(
    apiserver: FakeApiServer, tmp_path: Path
) -> None:
    config = str(apiserver.kubeconfig(tmp_path / "kc"))
    lines = run("--kubeconfig", config, "--profile", "cilium").stdout.splitlines()
    assert "profile    cilium (chosen with --profile; kindnet (KIND) matches upstream)" in lines
    assert (
        "           ipblock_matches_pod_ips: false (upstream: true; an ipBlock peer matches pods "
        "whose IP it covers (spec 2.5, edge case 36))"
    ) in lines


def test_doctor_offline_on_a_snapshot_or_manifests(tmp_path: Path) -> None:
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "live" / "cni" / "flannel.json"
    lines = [line.split(None, 1) for line in run(str(fixture)).stdout.splitlines()]
    assert lines[0] == ["input", str(fixture)]
    assert [
        "CNI",
        "flannel: DaemonSet kube-flannel/kube-flannel-ds (docker.io/flannel/flannel:v0.24.2)",
    ] in lines
    assert [
        "meaning",
        "no NetworkPolicy exists: every pod reaches every other on every port",
    ] in lines
    lines = run("examples/tutorial").stdout.splitlines()
    assert (
        "policies   unknown: no known CNI agent (DaemonSet) was found in the cluster; managed "
        "clusters may hide it"
    ) in lines
    assert "profile    upstream (no CNI recognised; --profile chooses another)" in lines
