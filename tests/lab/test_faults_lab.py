"""Faults in every phase: ``kill -9`` or Ctrl-C in ``lab up``, ``apply``, ``probe`` and
``down``; whatever was left, ``lab down`` then leaves the host exactly as it was found
(namespaces, links, routes, rules, nftables, sysctls, /etc/netns, the lab's state)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES
from tests.lab.conftest import host_network, lab_name, netpol, requires_lab
from tests.lab.test_cleanup_lab import big_input

from netpol.lab import topology
from netpol.lab.names import LabNames
from netpol.lab.state import load as state_of

pytestmark = [pytest.mark.lab, requires_lab, pytest.mark.usefixtures("host_untouched")]


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "netpol", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def pod_namespaces(lab: str) -> int:
    return len([n for n in topology.lab_netns_present(LabNames(lab)) if "-p" in n])


def wait_until(what: str, ready: Callable[[], bool], proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ready():
            return
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"finished before {what}: {out!r} {err!r}")
        time.sleep(0.005)
    raise AssertionError(f"never saw {what}")


def up(lab: str, path: Path) -> None:
    done = netpol("lab", "up", "--name", lab, str(path))
    assert done.returncode == 0, done.stderr


def in_up(lab: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Callable[[], bool]]:
    proc = start("lab", "up", "--name", lab, str(big_input(tmp_path)))
    return proc, lambda: pod_namespaces(lab) >= 5


def in_apply(lab: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Callable[[], bool]]:
    up(lab, EXAMPLES / "tutorial")
    proc = start("lab", "apply", "--name", lab, str(big_input(tmp_path)))
    return proc, lambda: pod_namespaces(lab) >= 5 + 5


def in_probe(lab: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Callable[[], bool]]:
    up(lab, big_input(tmp_path, replicas=40))
    proc = start("lab", "probe", "--name", lab, "--port", "7777", "--port", "7778/UDP")

    def probing() -> bool:
        state = state_of(lab)  # the extra listeners are recorded just before they start
        return state is not None and bool(state.probe_ports) and not time.sleep(0.3)

    return proc, probing


def in_down(lab: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Callable[[], bool]]:
    up(lab, big_input(tmp_path, replicas=40))
    names = LabNames(lab)
    proc = start("lab", "down", "--name", lab)
    return proc, lambda: not topology.processes_with_marker(names.daemon_marker)


PHASES = {"up": in_up, "apply": in_apply, "probe": in_probe, "down": in_down}


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
@pytest.mark.parametrize("phase", sorted(PHASES))
def test_a_fault_in_each_phase_then_lab_down_leaves_the_host_as_it_was(
    phase: str, signum: int, tmp_path: Path
) -> None:
    before = host_network()
    lab = lab_name(f"f{phase[:2]}{int(signum)}")
    try:
        proc, in_progress = PHASES[phase](lab, tmp_path)
        wait_until(f"lab {phase} under way", in_progress, proc)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        assert b"Traceback" not in err, err.decode()
    finally:
        done = netpol("lab", "down", "--name", lab)
    assert done.returncode == 0, done.stderr
    after = host_network()
    changed = {key: (before[key], after.get(key)) for key in before if before[key] != after[key]}
    assert not changed, changed
