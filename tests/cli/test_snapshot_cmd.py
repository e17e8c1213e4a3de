"""``netpol snapshot``: what live mode read, saved as manifests that round-trip."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from load.live.compare import sourceless
from load.live.fake_apiserver import FakeApiServer, serve
from netpol.cli.explain_cmd import command as explain
from netpol.cli.matrix_cmd import command as matrix
from netpol.cli.snapshot_cmd import command as snapshot
from netpol.load.live import LiveTarget, read_cluster
from netpol.load.live.convert import LAST_APPLIED
from netpol.model.options import Options
from netpol.validate.pipeline import check_and_build, load_cluster


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Iterator[str]:
    with serve(FakeApiServer.from_fixtures("tutorial")) as server:
        yield str(server.kubeconfig(tmp_path / "kubeconfig"))


def run(command: object, *args: str) -> Result:
    result = CliRunner().invoke(command, list(args), catch_exceptions=False)  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    return result


MATRIX = ("--by", "pod", "-o", "json", "--all-pairs", "--include-nodes", "--include-external")


@pytest.mark.parametrize("output", ["snap", "snap.yaml", "snap.json"])
def test_snapshot_round_trips(kubeconfig: str, tmp_path: Path, output: str) -> None:
    target = str(tmp_path / output)
    result = run(snapshot, "--kubeconfig", kubeconfig, "-o", target)
    assert result.stdout.splitlines()[0].endswith(
        "(context kind-kind): 6 namespaces, 3 nodes, 16 pods, 5 services, 3 networkpolicies"
    )
    assert (
        result.stdout.splitlines()[-1]
        == f"  repeat offline: netpol matrix {target} --profile upstream"
    )
    live = run(matrix, "--kubeconfig", kubeconfig, *MATRIX).stdout
    offline = run(matrix, target, *MATRIX)
    assert offline.stdout == live
    assert offline.stderr == ""


DNS = ("--from", "app1-ns/db-sts", "--to", "kube-dns.kube-system:53/UDP")


@pytest.mark.parametrize("calico", ["projectcalico.org", "crd.projectcalico.org"])
@pytest.mark.parametrize("output", ["snap", "snap.yaml", "snap.json"])
def test_a_snapshot_with_tiers_round_trips(tmp_path: Path, output: str, calico: str) -> None:
    """Admin and baseline policies, Calico's tiers and policies and the ServiceAccounts:
    the snapshot builds the cluster the live read builds, tiers and all."""
    server = FakeApiServer.from_fixtures("tutorial", "tiers")
    # the other of Calico's two groups is not served: read from ``calico``
    other = {
        "projectcalico.org": "crd.projectcalico.org",
        "crd.projectcalico.org": "projectcalico.org",
    }
    server.uninstall(other[calico])
    target = str(tmp_path / output)
    with serve(server):
        config = str(server.kubeconfig(tmp_path / "kubeconfig"))
        result = run(snapshot, "--kubeconfig", config, "-o", target)
        live = check_and_build(read_cluster(LiveTarget(config)).documents(), [], Options())
        explained = run(explain, "--kubeconfig", config, *DNS)
        matrix_live = run(matrix, "--kubeconfig", config, *MATRIX).stdout
    assert result.stdout.splitlines()[0].endswith(
        "(context kind-kind): 6 namespaces, 3 nodes, 16 pods, 5 services, 3 networkpolicies, "
        "11 serviceaccounts, 3 adminnetworkpolicies, 1 baselineadminnetworkpolicies, "
        "2 Calico tiers, 1 Calico globalnetworkpolicies, 1 Calico networkpolicies"
    )
    offline = load_cluster([target], Options())
    assert offline.ok and live.ok
    for kind in ("tiered_policies", "tiers", "service_accounts", "policies", "pods"):
        assert _comparable(getattr(offline.cluster, kind)) == _comparable(
            getattr(live.cluster, kind)
        ), kind
    assert {
        p.api_version for p in offline.cluster.tiered_policies if "calico" in p.api_version
    } == {f"{calico}/{'v3' if calico == 'projectcalico.org' else 'v1'}"}
    assert run(explain, target, *DNS).stdout == explained.stdout
    assert run(matrix, target, *MATRIX).stdout == matrix_live
    if output == "snap":
        assert sorted(p.name for p in (tmp_path / "snap").iterdir()) == [
            "adminnetworkpolicies.yaml",
            "baselineadminnetworkpolicies.yaml",
            "calico-globalnetworkpolicies.yaml",
            "calico-networkpolicies.yaml",
            "calico-tiers.yaml",
            "namespaces.yaml",
            "networkpolicies.yaml",
            "nodes.yaml",
            "pods.yaml",
            "serviceaccounts.yaml",
            "services.yaml",
        ]
        text = (tmp_path / "snap" / "adminnetworkpolicies.yaml").read_text()
        assert "managedFields" not in text
        assert "<redacted by netpol snapshot>" in text  # the last-applied annotation


def _comparable(objects: tuple[Any, ...]) -> list[Any]:
    """Without sources, and without the annotation a snapshot redacts (the last-applied
    configuration, which nothing evaluates)."""
    out = []
    for obj in sourceless(objects):
        if hasattr(obj, "annotations"):
            kept = tuple((k, v) for k, v in obj.annotations if k != LAST_APPLIED)
            obj = replace(obj, annotations=kept)
        out.append(obj)
    return out


def test_a_directory_has_one_file_per_kind_with_a_header(kubeconfig: str, tmp_path: Path) -> None:
    run(snapshot, "--kubeconfig", kubeconfig, "-o", str(tmp_path / "s"))
    files = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert files == [
        "namespaces.yaml",
        "networkpolicies.yaml",
        "nodes.yaml",
        "pods.yaml",
        "services.yaml",
    ]
    text = (tmp_path / "s" / "pods.yaml").read_text()
    head = [line for line in text.splitlines() if line.startswith("#")]
    assert head[0].endswith("(context kind-kind), Kubernetes v1.29.2, all namespaces")
    assert head[3] == "# CNI: kindnet (KIND), does NOT enforce NetworkPolicy; profile upstream"
    pods = [d for d in yaml.safe_load_all(text) if d]
    assert len(pods) == 16 and all(p["kind"] == "Pod" for p in pods)


def test_nothing_secret_is_kept(kubeconfig: str, tmp_path: Path) -> None:
    run(snapshot, "--kubeconfig", kubeconfig, "-o", str(tmp_path / "s.json"))
    text = (tmp_path / "s.json").read_text()
    assert "password123" not in text  # the tutorial's MYSQL_ROOT_PASSWORD env value
    assert "managedFields" not in text
    items = json.loads(text)["items"]
    db = next(i for i in items if i["metadata"]["name"] == "db-sts-0")
    assert db["spec"]["containers"][0]["env"] == [
        {"name": "MYSQL_ROOT_PASSWORD", "value": "<redacted by netpol snapshot>"}
    ]
    assert db["status"]["podIP"] == "10.244.1.3"


def test_scoped_snapshot_and_stdout(kubeconfig: str) -> None:
    result = run(snapshot, "--kubeconfig", kubeconfig, "-n", "app1-ns", "-o", "-")
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert {
        d["metadata"].get("namespace", d["metadata"]["name"]) for d in docs if d["kind"] != "Node"
    } == {"app1-ns"}
    assert "app1-ns, all namespaces" not in result.stdout
    assert "namespaces app1-ns" in result.stdout.splitlines()[0]


def test_snapshot_failures_are_one_line(tmp_path: Path, kubeconfig: str) -> None:
    result = CliRunner().invoke(
        snapshot, ["--kubeconfig", str(tmp_path / "none"), "-o", str(tmp_path / "x")]
    )
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: kubeconfig {tmp_path / 'none'}: no such file\n",
    )
    (tmp_path / "file").write_text("")
    result = CliRunner().invoke(
        snapshot, ["--kubeconfig", kubeconfig, "-o", str(tmp_path / "file" / "x.yaml")]
    )
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write {tmp_path / 'file' / 'x.yaml'}: File exists\n"


@pytest.mark.parametrize("output", ["snap", "snap.yaml", "snap.json"])
def test_a_snapshot_with_cilium_policies_round_trips(tmp_path: Path, output: str) -> None:
    """CiliumNetworkPolicies, CiliumClusterwideNetworkPolicies and CiliumCIDRGroups are
    saved with the apiVersion they were read with and load back into the same policies."""
    server = FakeApiServer.from_fixtures("tutorial", "cilium")
    target = str(tmp_path / output)
    with serve(server):
        config = str(server.kubeconfig(tmp_path / "kubeconfig"))
        result = run(snapshot, "--kubeconfig", config, "-o", target)
        live = check_and_build(read_cluster(LiveTarget(config)).documents(), [], Options())
        matrix_live = run(matrix, "--kubeconfig", config, *MATRIX).stdout
    # the Cilium policies decide verdicts: the snapshot's matrix is the live one
    assert run(matrix, target, *MATRIX).stdout == matrix_live
    assert result.stdout.splitlines()[0].endswith(
        "(context kind-kind): 6 namespaces, 3 nodes, 16 pods, 5 services, 3 networkpolicies, "
        "2 ciliumnetworkpolicies, 2 ciliumclusterwidenetworkpolicies, 1 ciliumcidrgroups"
    )
    offline = load_cluster([target], Options())
    assert offline.ok and live.ok, [d.one_line() for d in offline.errors]
    for kind in ("cilium_policies", "cidr_groups", "policies", "pods"):
        assert _comparable(getattr(offline.cluster, kind)) == _comparable(
            getattr(live.cluster, kind)
        ), kind
    assert len(offline.cluster.cilium_policies) == 4
    if output == "snap":
        cilium = sorted(p.name for p in (tmp_path / "snap").iterdir() if "cilium" in p.name)
        assert cilium == [
            "ciliumcidrgroups.yaml",
            "ciliumclusterwidenetworkpolicies.yaml",
            "ciliumnetworkpolicies.yaml",
        ]
        groups = list(yaml.safe_load_all((tmp_path / "snap" / "ciliumcidrgroups.yaml").read_text()))
        assert [(g["apiVersion"], g["metadata"]["name"]) for g in groups] == [
            ("cilium.io/v2alpha1", "partners")
        ]
