"""Issue 14's "Secrets and the host", one test per reproduction: what the lab keeps is
private and minimal, a name with a newline makes nothing, no planted link is followed, and
``lab down --all`` removes whatever is named ``netpol-*``; probe listeners of a killed
prober are seen and removed."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES
from tests.lab.conftest import host_network, lab_name, netpol, requires_lab

from netpol.lab import system
from netpol.lab.names import NETNS_ETC, STATE_ROOT, LabNames
from netpol.lab.state import load as state_of

pytestmark = [pytest.mark.lab, requires_lab, pytest.mark.usefixtures("host_untouched")]

NOBODY = 65534


@pytest.fixture
def lab() -> Iterator[str]:
    """A lab name; whatever the test made under it is removed afterwards."""
    name = lab_name("sec")
    try:
        yield name
    finally:
        netpol("lab", "down", "--name", name)


SECRET = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Secret
    metadata: {name: api-token, namespace: app1-ns}
    stringData: {token: TOKEN-FROM-A-SECRET}
    """
)
WITH_ENV = textwrap.dedent(
    """\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: app1-ns}
    spec:
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
          - name: web
            image: nginx
            env: [{name: PASSWORD, value: LITERAL-ENV-VALUE}]
            ports: [{containerPort: 80}]
    ---
    apiVersion: batch/v1
    kind: CronJob
    metadata: {name: nightly, namespace: app1-ns}
    spec:
      schedule: "0 0 * * *"
      jobTemplate:
        spec:
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: job
                image: busybox
                env: [{name: KEY, value: CRONJOB-ENV-VALUE}]
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings, namespace: app1-ns}
    data: {password: CONFIGMAP-VALUE}
    """
)


def read_as_nobody(path: Path) -> subprocess.CompletedProcess[str]:
    def become_nobody() -> None:
        os.setgid(NOBODY)
        os.setuid(NOBODY)

    return subprocess.run(
        ["cat", str(path)], capture_output=True, text=True, preexec_fn=become_nobody, check=False
    )


def test_the_state_is_root_s_alone_and_keeps_no_secret_or_env_value(
    lab: str, tmp_path: Path
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("00-namespace.yaml", "01-frontend.yaml"):
        (inputs / name).write_text((EXAMPLES / "tutorial" / name).read_text())
    (inputs / "web.yaml").write_text(WITH_ENV)
    secret = tmp_path / "secret.yaml"  # mode 0600, outside the input; a link points at it
    secret.write_text(SECRET)
    secret.chmod(0o600)
    (inputs / "token.yaml").symlink_to(secret)
    # --follow-symlinks: the link is read (without it the loader refuses it), and still the
    # Secret it leads to is not kept; umask 0: the worst case for the state's modes
    done = netpol("lab", "up", "--name", lab, "--follow-symlinks", str(inputs), umask=0)
    assert done.returncode == 0, done.stderr
    names = LabNames(lab)
    for directory in (STATE_ROOT.parent, STATE_ROOT, names.state_dir):
        assert stat.S_IMODE(os.lstat(directory).st_mode) == 0o700, directory
    for path in [names.lock_file, *(p for p in names.state_dir.iterdir() if p.is_file())]:
        assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600, path
    kept = b"".join(p.read_bytes() for p in names.state_dir.rglob("*") if p.is_file())
    for value in (b"TOKEN-FROM-A-SECRET", b"LITERAL-ENV-VALUE", b"CRONJOB-ENV-VALUE"):
        assert value not in kept
    assert b"CONFIGMAP-VALUE" not in kept
    assert b"PASSWORD" in kept  # the env names stay: only the values are dropped
    denied = read_as_nobody(names.documents_file)
    assert denied.returncode != 0 and "Permission denied" in denied.stderr
    # what was dropped is not missed: the lab rebuilds from what it kept
    status = netpol("lab", "status", "--name", lab)
    assert status.returncode == 0, status.stderr
    assert "app1-ns/web-" in status.stdout


def test_a_name_with_a_trailing_newline_is_refused_and_makes_nothing() -> None:
    before = host_network()
    done = netpol("lab", "up", "--name", "rtnl\n", str(EXAMPLES / "three-tier"))
    assert done.returncode == 2
    assert done.stderr == (
        "error: lab name 'rtnl\\n' must be 1-20 lowercase letters, digits or '-', "
        "starting and ending with a letter or digit\n"
    )
    assert host_network() == before


def test_a_link_planted_in_etc_netns_is_neither_written_nor_removed_through(
    lab: str, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "resolv.conf").write_text("precious\n")
    planted = NETNS_ETC / LabNames(lab).pod_netns(0)
    NETNS_ETC.mkdir(exist_ok=True)
    planted.symlink_to(target)
    try:
        done = netpol("lab", "up", "--name", lab, str(EXAMPLES / "tutorial"))
        assert done.returncode == 2
        assert done.stderr.endswith(
            f"error: {planted} is a symbolic link: the lab never follows one there "
            "(remove it if you did not make it)\n"
        )
        assert "Traceback" not in done.stderr
        assert planted.is_symlink()  # not the lab's: the failed up leaves it
        assert netpol("lab", "down", "--name", lab).returncode == 0
        assert planted.is_symlink()
        assert (target / "resolv.conf").read_text() == "precious\n"
        swept = netpol("lab", "down", "--all")
        assert f"removed stray '{planted}'" in swept.stdout
        assert not os.path.lexists(planted)
        assert (target / "resolv.conf").read_text() == "precious\n"
    finally:
        if planted.is_symlink():
            planted.unlink()


def test_a_link_in_the_state_directory_is_not_followed(lab: str, tmp_path: Path) -> None:
    victim = tmp_path / "victim.json"
    victim.write_text("keep me")
    names = LabNames(lab)
    assert netpol("lab", "up", "--name", lab, str(EXAMPLES / "tutorial")).returncode == 0
    names.documents_file.unlink()
    names.documents_file.symlink_to(victim)
    done = netpol("lab", "apply", "--name", lab, str(EXAMPLES / "tutorial"))
    assert done.returncode == 2
    assert f"error: {names.documents_file} is a symbolic link" in done.stderr
    assert victim.read_text() == "keep me"
    assert netpol("lab", "down", "--name", lab).returncode == 0
    assert victim.read_text() == "keep me"


def test_down_all_removes_every_netpol_stray_the_host_shows() -> None:
    # what a failed `up` of the newline name left (netpol-rtnl), and the like
    stray = f"netpol-{lab_name('stray')}"
    system.run(["ip", "netns", "add", stray])
    system.run(["ip", "link", "add", f"{stray[:13]}a", "type", "veth", "peer", "name", "np-peer"])
    system.run(["nft", "add", "table", "inet", stray])
    NETNS_ETC.mkdir(exist_ok=True)
    (NETNS_ETC / stray).mkdir()
    (NETNS_ETC / stray / "resolv.conf").write_text("nameserver 10.96.0.10\n")
    done = netpol("lab", "down", "--all")
    assert done.returncode == 0, done.stderr
    assert f"removed stray network namespace '{stray}'" in done.stdout
    assert f"removed stray link '{stray[:13]}a'" in done.stdout
    assert f"removed stray nftables table inet '{stray}'" in done.stdout
    assert f"removed stray '{NETNS_ETC / stray}'" in done.stdout
    assert stray not in system.existing_netns()
    assert stray not in system.run(["nft", "list", "tables"])
    assert "np-peer" not in system.run(["ip", "-o", "link", "show"])
    assert not os.path.lexists(NETNS_ETC / stray)


def listening(netns: str, port: int) -> bool:
    with system.in_netns(netns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        return sock.connect_ex(("127.0.0.1", port)) == 0
    finally:
        sock.close()


# The prober stopped where it is most exposed: its extra listeners are up and the
# connections are under way (``probe`` never returns), then it is killed with -9.
STUCK_PROBER = """
import sys, time
from netpol.lab import lifecycle
lifecycle.probe = lambda *args, **kwargs: time.sleep(600)
lifecycle.probe_lab(sys.argv[1], [(7777, "TCP")])
"""


def test_probe_listeners_of_a_killed_prober_are_shown_and_removed(lab: str) -> None:
    assert netpol("lab", "up", "--name", lab, str(EXAMPLES / "tutorial")).returncode == 0
    state = state_of(lab)
    assert state is not None
    pod_netns = [slot.netns for slot in state.pods.values()]
    prober = subprocess.Popen([sys.executable, "-c", STUCK_PROBER, lab])
    try:
        deadline = time.monotonic() + 30
        while not all(listening(n, 7777) for n in pod_netns):
            assert time.monotonic() < deadline and prober.poll() is None
            time.sleep(0.05)
    finally:
        prober.send_signal(signal.SIGKILL)
        prober.wait()
    assert all(listening(n, 7777) for n in pod_netns)
    status = netpol("lab", "status", "--name", lab)
    assert "every pod also listens on 7777/TCP" in status.stdout
    probe = netpol("lab", "probe", "--name", lab)
    assert probe.returncode == 0, probe.stdout
    assert not any(listening(n, 7777) for n in pod_netns)
    assert "7777" not in netpol("lab", "status", "--name", lab).stdout
    # and lab down removes them whatever happened: kill a second prober, then down
    prober = subprocess.Popen([sys.executable, "-c", STUCK_PROBER, lab])
    try:
        deadline = time.monotonic() + 30
        while not listening(pod_netns[0], 7777):
            assert time.monotonic() < deadline and prober.poll() is None
            time.sleep(0.05)
    finally:
        prober.send_signal(signal.SIGKILL)
        prober.wait()
    assert netpol("lab", "down", "--name", lab).returncode == 0
    assert not [n for n in pod_netns if n in system.existing_netns()]


def test_a_command_with_a_digit_that_is_no_port_is_not_run_and_nothing_crashes(
    lab: str, tmp_path: Path
) -> None:
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(
        textwrap.dedent(
            """\
            apiVersion: v1
            kind: Pod
            metadata: {name: odd, namespace: default}
            spec:
              containers:
              - name: c
                image: python
                command: ["python3", "-m", "http.server", "²"]
                ports: [{containerPort: 8000}]
            """
        )
    )
    done = netpol("lab", "up", "--name", lab, str(manifest))
    assert "Traceback" not in done.stderr
    assert done.returncode in (0, 2), done.stderr
    if done.returncode == 0:  # validation may refuse it first (another verb's check)
        status = netpol("lab", "status", "--name", lab).stdout
        assert "default/odd: container c's command not run" in status
