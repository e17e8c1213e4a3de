"""The ``netpol lab`` verbs as a user runs them: output, exit codes, refusals."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES
from tests.lab.conftest import lab_name, netpol, requires_lab

pytestmark = [pytest.mark.lab, requires_lab, pytest.mark.usefixtures("host_untouched")]


def test_status_and_list_without_any_lab_say_so() -> None:
    # first in the module: no lab of this module is up yet
    done = netpol("lab", "status")
    assert done.returncode == 2
    assert done.stderr == "error: no lab on this host (start one with `netpol lab up PATH`)\n"
    done = netpol("lab", "list")
    assert done.returncode == 0
    assert done.stdout == "no lab on this host (start one with `netpol lab up PATH`)\n"
    assert json.loads(netpol("lab", "list", "-o", "json").stdout) == {"kind": "LabList", "labs": []}


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


def test_status_without_a_name_shows_the_only_lab(lab: str) -> None:
    done = netpol("lab", "status")
    assert done.returncode == 0, done.stderr
    assert done.stdout == netpol("lab", "status", "--name", lab).stdout


def test_list_shows_every_lab_with_its_pods_policies_and_age(lab: str) -> None:
    done = netpol("lab", "list")
    assert done.returncode == 0, done.stderr
    header, row = done.stdout.splitlines()
    assert header.split() == ["NAME", "STATE", "PODS", "SERVICES", "POLICIES", "RULES", "AGE"]
    name, state, pods, services, policies, rules, age = row.split()
    assert (name, state, pods, services) == (lab, "up", "5", "4")
    assert int(policies) >= 2 and int(rules) > 0 and age[-1] in "sm"
    (listed,) = json.loads(netpol("lab", "list", "-o", "json").stdout)["labs"]
    assert listed["name"] == lab and listed["state"] == "up" and listed["pods"] == 5
    assert listed["created"].endswith("+00:00")


def test_status_and_list_with_two_labs(lab: str) -> None:
    other = lab_name("cli-2")
    assert netpol("lab", "up", "--name", other, str(EXAMPLES / "three-tier")).returncode == 0
    try:
        done = netpol("lab", "status")
        assert done.returncode == 2
        first, second = sorted([lab, other])
        assert done.stderr == (
            f"error: 2 labs on this host ({first}, {second}): say which with --name "
            "(`netpol lab list` shows them)\n"
        )
        names = [row.split()[0] for row in netpol("lab", "list").stdout.splitlines()[1:]]
        assert names == [first, second]
    finally:
        assert netpol("lab", "down", "--name", other).returncode == 0


def test_exec_runs_as_in_a_pod_and_returns_the_command_s_status(lab: str, tmp_path: Path) -> None:
    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return netpol("lab", "exec", "--name", lab, "app1-ns/db-sts-0", "--", *argv)

    done = run("hostname")
    assert (done.returncode, done.stdout) == (0, "db-sts-0\n")  # its own UTS namespace
    frontend = netpol("lab", "exec", "--name", lab, "app1-ns/frontend", "--", "hostname")
    assert frontend.stdout.startswith("frontend-deploy-")
    assert subprocess.run(["hostname"], capture_output=True, text=True).stdout != done.stdout
    assert run("sh", "-c", "exit 7").returncode == 7
    missing = run("nosuchcommand", "--flag")
    assert missing.returncode == 127
    assert missing.stderr == "netpol lab exec: nosuchcommand: command not found\n"
    plain = tmp_path / "plain.txt"
    plain.write_text("echo not a program\n")
    plain.chmod(0o644)
    not_executable = run(str(plain))
    assert not_executable.returncode == 126
    assert not_executable.stderr == f"netpol lab exec: {plain}: Permission denied\n"
    assert run("/nonexistent/tool").returncode == 127
    assert run("/etc").returncode == 126


def test_probe_prints_the_truth_table_and_exits_0_when_all_agree(lab: str) -> None:
    done = netpol("lab", "probe", "--name", lab)
    assert done.returncode == 0, done.stdout
    assert "all agree with the engine" in done.stdout
    rows = [line.split()[0] for line in done.stdout.splitlines()[2:7]]
    assert rows == [
        "outside",
        "app1-ns/backend-deploy",
        "app1-ns/db-sts-0",
        "app1-ns/frontend-deploy",
        "kube-system/coredns-568b66bc96-cktnl",
    ]
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
    lines = done.stdout.splitlines()
    assert lines[:3] == [
        "NetworkPolicy/app1-ns/backend-policy configured",
        "1 connection now open",
        "  ✓ app1-ns/frontend-deploy -> app1-ns/backend-deploy 5678/TCP",
    ]
    assert lines[3].startswith("rules: ")
    again = netpol("lab", "apply", "--name", lab, "-q", str(fixed))
    assert (again.returncode, again.stdout) == (0, "no connection changed\n")
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
    assert "2 connections now open" in done.stdout
    assert "  ✓ app1-ns/frontend-deploy -> kube-system/coredns-568b66bc96-cktnl 9153/TCP" in (
        done.stdout
    )
    done = netpol("lab", "delete", "--name", lab, "netpol/nope")
    assert done.returncode == 2
    assert "error: NetworkPolicy nope is not in the lab" in done.stderr
    done = netpol(
        "lab", "apply", "--name", lab, "-q", str(EXAMPLES / "tutorial" / "06-frontend-netpol.yaml")
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "2 connections now refused\n", "")


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
