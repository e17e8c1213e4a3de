"""Nothing is left behind: Ctrl-C in the middle of ``lab up``, ``kill -9`` of the command or of
the lab's helper process, and two labs side by side."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES
from tests.lab.conftest import lab_name, requires_lab

from netpol.lab import control, inventory, lifecycle, topology
from netpol.lab.names import NETNS_ETC, LabNames
from netpol.lab.state import load as state_of
from netpol.model.options import Options

pytestmark = [pytest.mark.lab, requires_lab, pytest.mark.usefixtures("host_untouched")]


def big_input(tmp_path: Path, replicas: int = 80) -> Path:
    """Enough pods that ``lab up`` takes a while, so a signal lands in the middle of it."""
    path = tmp_path / "big.yaml"
    path.write_text(
        f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: many, namespace: big}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: many}}}}
  template:
    metadata: {{labels: {{app: many}}}}
    spec:
      containers:
      - name: c
        image: x
        ports: [{{containerPort: 80}}, {{containerPort: 53, protocol: UDP}}]
"""
    )
    return path


def leftovers(lab: str) -> list[str]:
    names = LabNames(lab)
    found = [f"netns {n}" for n in topology.lab_netns_present(names)]
    found += [f"process {p}" for p in topology.processes_with_marker(names.daemon_marker)]
    if names.state_dir.exists():
        found.append(f"state {names.state_dir}")
    if NETNS_ETC.exists():
        found += [f"etc {d}" for d in os.listdir(NETNS_ETC) if names.owns_netns(d)]
    return found


def start_up(lab: str, *paths: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "netpol", "lab", "up", "--name", lab, *map(str, paths)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for_pods(lab: str, count: int, proc: subprocess.Popen[bytes], limit: float = 20) -> None:
    deadline = time.monotonic() + limit
    names = LabNames(lab)
    while time.monotonic() < deadline:
        if len([n for n in topology.lab_netns_present(names) if "-p" in n]) >= count:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.005)
    raise AssertionError("lab up never got going")


def test_ctrl_c_in_the_middle_of_lab_up_removes_everything(tmp_path: Path) -> None:
    lab = lab_name("int")
    proc = start_up(lab, big_input(tmp_path))
    wait_for_pods(lab, 1, proc)
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    assert proc.returncode != 0
    assert leftovers(lab) == []


def test_kill_9_of_lab_up_then_lab_down_removes_everything(tmp_path: Path) -> None:
    lab = lab_name("k9")
    proc = start_up(lab, big_input(tmp_path))
    wait_for_pods(lab, 1, proc)
    proc.kill()
    proc.wait(10)
    assert leftovers(lab), "kill -9 is supposed to leave something for lab down to find"
    assert lab in inventory.labs_present()  # what `lab down --all` would remove
    inventory.down(lab)
    assert leftovers(lab) == []


def kill_helper(lab: str, pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while control.daemon_alive(LabNames(lab)) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_kill_9_of_the_helper_process_then_down_and_up_again(tmp_path: Path) -> None:
    lab = lab_name("kd")
    lifecycle.up([str(EXAMPLES / "tutorial")], lab, Options())
    try:
        state = state_of(lab)
        assert state is not None and state.daemon_pid
        kill_helper(lab, state.daemon_pid)
        assert not inventory.status(lab).daemon_alive
        # any change brings the helper back, with every listener
        lifecycle.apply([str(EXAMPLES / "three-tier" / "05-revised-backend-netpol.yaml")], lab)
        assert inventory.status(lab).daemon_alive
        report, _ = lifecycle.probe_lab(lab)
        assert not report.disagreements
        state = state_of(lab)
        assert state is not None and state.daemon_pid
        kill_helper(lab, state.daemon_pid)
        # up again over the wreck: it removes what is left and starts afresh
        lifecycle.up([str(EXAMPLES / "tutorial")], lab, Options())
        report, _ = lifecycle.probe_lab(lab)
        assert not report.disagreements
    finally:
        inventory.down(lab)
    assert leftovers(lab) == []


def test_sigterm_during_lab_up_removes_everything(tmp_path: Path) -> None:
    lab = lab_name("term")
    proc = start_up(lab, big_input(tmp_path))
    wait_for_pods(lab, 1, proc)
    proc.terminate()
    proc.wait(30)
    assert leftovers(lab) == []


def test_two_labs_side_by_side_and_down_removes_only_its_own() -> None:
    first, second = lab_name("one"), lab_name("two")
    lifecycle.up([str(EXAMPLES / "tutorial")], first, Options())
    try:
        lifecycle.up([str(EXAMPLES / "three-tier-db-ns")], second, Options())
        try:
            for lab in (first, second):
                report, _ = lifecycle.probe_lab(lab)
                assert not report.disagreements
        finally:
            inventory.down(second)
        assert leftovers(second) == []
        report, _ = lifecycle.probe_lab(first)
        assert not report.disagreements
    finally:
        inventory.down(first)
    assert leftovers(first) == []


def test_a_second_up_of_a_running_lab_is_refused() -> None:
    lab = lab_name("dup")
    lifecycle.up([str(EXAMPLES / "tutorial")], lab, Options())
    try:
        with pytest.raises(lifecycle.LabError, match="already up"):
            lifecycle.up([str(EXAMPLES / "tutorial")], lab, Options())
    finally:
        inventory.down(lab)


def test_down_of_a_lab_whose_name_begins_another_leaves_the_other_running() -> None:
    # `demo` must not take `demo2`'s helper for its own (the marker is a prefix of the other)
    short = lab_name("pre")
    longer = short + "x"
    lifecycle.up([str(EXAMPLES / "tutorial")], longer, Options())
    try:
        lifecycle.up([str(EXAMPLES / "tutorial")], short, Options())
        inventory.down(short)
        assert leftovers(short) == []
        assert inventory.status(longer).daemon_alive
        report, _ = lifecycle.probe_lab(longer)
        assert not report.disagreements
    finally:
        inventory.down(longer)
    assert leftovers(longer) == []


def test_a_process_mentioning_the_marker_is_not_the_helper() -> None:
    lab = lab_name("grep")
    marker = LabNames(lab).daemon_marker
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker])
    try:
        assert topology.processes_with_marker(marker) == []
        inventory.down(lab)
        assert bystander.poll() is None, "lab down killed a process that only named the lab"
    finally:
        bystander.kill()
        bystander.wait()


def test_down_all_finds_resolv_conf_directories_whose_state_is_gone() -> None:
    # /run is a tmpfs and /etc is not: after a reboot only /etc/netns/<lab-ns> is left
    lab = lab_name("etc")
    lifecycle.up([str(EXAMPLES / "tutorial")], lab, Options())
    names = LabNames(lab)
    state = state_of(lab)
    assert state is not None
    inventory.down(lab)
    orphan = NETNS_ETC / names.pod_netns(0)
    orphan.mkdir(parents=True)
    (orphan / "resolv.conf").write_text("nameserver 10.96.0.10\n")
    assert lab in inventory.labs_present()
    inventory.down(None, everything=True)
    assert not orphan.exists()
    assert leftovers(lab) == []
