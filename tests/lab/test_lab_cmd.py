"""The ``netpol lab`` verbs as a user runs them: output, exit codes, refusals."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES
from tests.lab.conftest import lab_name, requires_lab

pytestmark = [pytest.mark.lab, requires_lab, pytest.mark.usefixtures("host_untouched")]


def netpol(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netpol", *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def lab() -> Iterator[str]:
    name = lab_name("cli")
    done = netpol("lab", "up", "--name", name, str(EXAMPLES / "tutorial"))
    assert done.returncode == 0, done.stderr
    assert f"lab {name} is up: 5 pods, 4 services, 3 policies" in done.stdout
    try:
        yield name
    finally:
        down = netpol("lab", "down", "--name", name)
        assert down.returncode == 0
        assert f"lab {name}: removed" in down.stdout


def test_status_lists_pods_services_and_policies(lab: str) -> None:
    done = netpol("lab", "status", "--name", lab)
    assert done.returncode == 0
    assert "nftables rules" in done.stdout
    assert "app1-ns/db-sts-0" in done.stdout
    assert "nodePort 31000" in done.stdout
    assert "app1-ns/backend-policy (Ingress, Egress)" in done.stdout


def test_probe_prints_the_truth_table_and_exits_0_when_all_agree(lab: str) -> None:
    done = netpol("lab", "probe", "--name", lab)
    assert done.returncode == 0, done.stdout
    assert "all agree with the engine" in done.stdout
    data = json.loads(netpol("lab", "probe", "--name", lab, "-o", "json").stdout)
    assert data["kind"] == "LabProbe" and data["disagreements"] == 0
    frontend_to_backend = [
        c
        for c in data["connections"]
        if c["src"].startswith("app1-ns/frontend") and c["dst"].startswith("app1-ns/backend")
    ]
    assert [(c["port"], c["connected"]) for c in frontend_to_backend] == [(5678, False)]


def test_probe_on_given_ports(lab: str) -> None:
    done = netpol(
        "lab", "probe", "--name", lab, "--port", "8080", "--port", "5353/udp", "-o", "json"
    )
    assert done.returncode == 0, done.stdout
    ports = {(c["port"], c["protocol"]) for c in json.loads(done.stdout)["connections"]}
    assert ports == {(8080, "TCP"), (5353, "UDP")}


def test_apply_and_delete_like_kubectl(lab: str, tmp_path: Path) -> None:
    fixed = EXAMPLES / "three-tier" / "05-revised-backend-netpol.yaml"
    done = netpol("lab", "apply", "--name", lab, str(fixed))
    assert done.returncode == 0, done.stderr
    assert "NetworkPolicy/app1-ns/backend-policy configured" in done.stdout
    exec_done = netpol(
        "lab",
        "exec",
        "--name",
        lab,
        "app1-ns/frontend-deploy",
        "--",
        "curl",
        "-s",
        "-m",
        "2",
        "backend-svc:5678/netpol-lab.txt",
    )
    assert "pod=app1-ns/backend-deploy-" in exec_done.stdout
    done = netpol("lab", "delete", "--name", lab, "netpol/frontend-policy")
    assert done.returncode == 0 and "NetworkPolicy/app1-ns/frontend-policy deleted" in done.stdout
    done = netpol("lab", "delete", "--name", lab, "netpol/nope")
    assert done.returncode == 2
    assert "error: NetworkPolicy nope is not in the lab" in done.stderr
    done = netpol(
        "lab", "apply", "--name", lab, str(EXAMPLES / "tutorial" / "06-frontend-netpol.yaml")
    )
    assert done.returncode == 0


def test_invalid_apply_is_refused_with_file_and_line(lab: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: x, namespace: app1-ns}\nspec:\n  podSelector: {}\n"
        "  ingress:\n  - ports:\n    - port: 0\n"
    )
    done = netpol("lab", "apply", "--name", lab, str(bad))
    assert done.returncode == 2
    assert f"{bad}:8" in done.stderr
    assert "the lab is unchanged" in done.stderr


def test_verbs_on_a_lab_that_is_not_up() -> None:
    done = netpol("lab", "probe", "--name", "nosuchlab")
    assert done.returncode == 2
    assert "lab nosuchlab is not up" in done.stderr
    done = netpol("lab", "up", "--name", "Bad_Name", str(EXAMPLES / "tutorial"))
    assert done.returncode == 2 and "lab name" in done.stderr
    done = netpol("lab", "up", "--name", lab_name("none"))
    assert done.returncode == 2 and "no input" in done.stderr


@pytest.mark.parametrize("verb", ["down", "status", "probe", "apply", "delete", "up"])
def test_a_lab_name_that_is_a_path_is_refused_and_nothing_is_removed(
    verb: str, tmp_path: Path
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious").write_text("keep me")
    Path("/run/netpol/lab").mkdir(parents=True, exist_ok=True)  # so `lab/..` resolves
    try:
        name = f"../../..{victim}"
        extra = {"apply": [str(EXAMPLES / "tutorial")], "up": [str(EXAMPLES / "tutorial")]}
        extra["delete"] = ["netpol/x"]
        done = netpol("lab", verb, "--name", name, *extra.get(verb, []))
        assert done.returncode == 2, done.stdout + done.stderr
        assert "must be 1-20 lowercase letters" in done.stderr
        assert "Traceback" not in done.stderr
        assert (victim / "precious").read_text() == "keep me"
        assert not Path(f"{victim}.lock").exists()
    finally:
        for directory in (Path("/run/netpol/lab"), Path("/run/netpol")):
            with contextlib.suppress(OSError):
                directory.rmdir()


def test_up_and_status_count_and_list_the_admin_and_baseline_policies() -> None:
    name = lab_name("cli-tiers")
    done = netpol("lab", "up", "--name", name, str(EXAMPLES / "admin-tiers"))
    try:
        assert done.returncode == 0, done.stderr
        assert "3 policies + 6 admin/baseline/Calico policies" in done.stdout
        status = netpol("lab", "status", "--name", name).stdout
        listed = status[status.index("POLICIES IN FORCE") :].splitlines()
        assert listed[1] == "  AdminNetworkPolicy/cluster-dns (tier kube-admin, order 10; Egress)"
        assert (
            "  BaselineAdminNetworkPolicy/default (tier kube-baseline; Ingress, Egress)" in listed
        )
        assert "  app1-ns/db-policy (Ingress, Egress)" in listed
    finally:
        assert netpol("lab", "down", "--name", name).returncode == 0
