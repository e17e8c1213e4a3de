"""The few ways the lab talks to the kernel: ``ip``/``nft`` batches and entering a namespace.

Every command names the namespace it acts in (``ip -n``), so a mistake cannot land in the
host's own namespace.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import signal
import socket
import struct
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from netpol.lab.names import NETNS_DIR

CLONE_NEWNET = 0x40000000
CLONE_NEWUTS = 0x04000000
_libc = ctypes.CDLL(None, use_errno=True)


class LabError(Exception):
    """Something the lab could not do, with a one-line reason for the user."""


class CommandNotRunnable(Exception):
    """A command ``lab exec`` cannot start; ``status`` is what a shell exits with (127, 126)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def check_runnable(program: str) -> None:
    """Raise CommandNotRunnable as a shell would refuse ``program``: 127 when there is no such
    command, 126 when it is there but cannot be executed. (``ip netns exec`` exits 1 or 255
    for both, which hides the difference a script tests for.)"""
    if "/" not in program:
        if shutil.which(program) is None:
            raise CommandNotRunnable(f"{program}: command not found", 127)
        return
    if not os.path.lexists(program):
        raise CommandNotRunnable(f"{program}: No such file or directory", 127)
    if os.path.isdir(program):
        raise CommandNotRunnable(f"{program}: Is a directory", 126)
    if not os.access(program, os.X_OK):
        raise CommandNotRunnable(f"{program}: Permission denied", 126)


def enter_uts(hostname: str) -> None:
    """Give this process (and what it execs) a UTS namespace of its own named ``hostname``,
    as a pod has: ``hostname`` in a pod prints the pod's name, the host's stays as it was."""
    if _libc.unshare(CLONE_NEWUTS) != 0:
        raise LabError(f"cannot make a UTS namespace: {os.strerror(ctypes.get_errno())}")
    name = hostname.encode()
    if _libc.sethostname(name, len(name)) != 0:
        raise LabError(f"cannot set the host name {hostname}: {os.strerror(ctypes.get_errno())}")


PR_SET_PDEATHSIG = 1


HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def die_with_parent() -> None:
    """In a child before exec: be killed when the lab command dies (even by ``kill -9``), so
    no ``ip`` keeps making namespaces after the command that started it is gone."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)


@contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the body is done: a KeyboardInterrupt raised inside
    ``fork`` (its at-fork handlers) is printed as a traceback and lost, instead of
    unwinding the command that removes what was made."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def run(argv: Sequence[str], stdin: str | None = None, check: bool = True) -> str:
    """Run a command; on failure raise LabError with its first error line."""
    try:
        with signals_held():
            done = subprocess.run(
                list(argv),
                input=stdin.encode() if stdin is not None else None,
                stdin=None if stdin is not None else subprocess.DEVNULL,
                capture_output=True,
                check=False,
                preexec_fn=die_with_parent,
            )
    except FileNotFoundError:
        raise LabError(f"{argv[0]} is not installed") from None
    if check and done.returncode != 0:
        raise LabError(f"{' '.join(argv[:4])} failed: {_first_error(done.stderr)}")
    return done.stdout.decode(errors="replace")


def _first_error(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    return "; ".join(lines[:3]) or "no error message"


def ip_batch(commands: Sequence[str], netns: str | None = None) -> None:
    """One ``ip`` process for many commands (``-n netns`` when given); stops at the first error."""
    if not commands:
        return
    argv = ["ip"] + (["-n", netns] if netns else []) + ["-batch", "-"]
    run(argv, "\n".join(commands) + "\n")


def nft_load(netns: str, ruleset: str) -> None:
    """Load ``ruleset`` in one transaction inside ``netns`` (all of it or nothing)."""
    run(["ip", "netns", "exec", netns, "nft", "-f", "-"], ruleset)


def netns_path(netns: str) -> str:
    return str(NETNS_DIR / netns)


def existing_netns() -> list[str]:
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise LabError(f"cannot enter a network namespace: {os.strerror(err)}")


@contextmanager
def in_netns(netns: str) -> Iterator[None]:
    """Run the body with this thread inside ``netns`` (sockets made there stay there)."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        try:
            target = os.open(netns_path(netns), os.O_RDONLY)
        except FileNotFoundError:
            raise LabError(f"network namespace {netns} does not exist") from None
        try:
            setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            setns(home)
    finally:
        os.close(home)


def write_sysctl(path: str, value: str) -> None:
    """Write ``/proc/sys/<path>`` in the current thread's namespace (``net/ipv4/ip_forward``)."""
    with open(f"/proc/sys/{path}", "w") as handle:
        handle.write(value)


def missing_requirements() -> list[str]:
    """Why the lab cannot run here (not root, no nft, no ip, no netns); empty when it can."""
    missing = []
    if os.geteuid() != 0:
        missing.append("the lab needs root (it creates network namespaces and nftables rules)")
    for tool, package in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            missing.append(f"{tool} is not installed (apt-get install {package})")
    if not os.path.exists("/proc/self/ns/net"):
        missing.append("this kernel has no network namespaces")
    return missing


NETLINK_NETFILTER = 12
_CT_DELETE = (1 << 8) | 2  # NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE
_NLM_F_REQUEST_ACK = 0x1 | 0x4


def flush_conntrack(netns: str) -> None:
    """Forget every tracked connection in ``netns`` (what ``conntrack -F`` does), by netlink."""
    with in_netns(netns):
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    try:
        # nlmsghdr (len, type, flags, seq, pid) + nfgenmsg (family, version, res_id)
        message = struct.pack("=IHHII", 20, _CT_DELETE, _NLM_F_REQUEST_ACK, 1, 0)
        message += struct.pack("=BBH", socket.AF_INET, 0, 0)
        sock.settimeout(2.0)
        sock.send(message)
        reply = sock.recv(4096)
        if len(reply) >= 20:
            _length, kind, _flags, _seq, _pid, error = struct.unpack("=IHHIIi", reply[:20])
            if kind == 2 and error not in (0, -errno.ENOENT):  # NLMSG_ERROR with an error code
                raise LabError(f"cannot flush conntrack: {os.strerror(-error)}")
    except OSError as exc:
        raise LabError(f"cannot flush conntrack: {exc}") from None
    finally:
        sock.close()
