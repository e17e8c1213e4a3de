"""Starting the lab's helper process and talking to it."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

from netpol.lab.names import LabNames
from netpol.lab.private import open_append
from netpol.lab.system import LabError

START_TIMEOUT = 10.0


def start_daemon(names: LabNames) -> int:
    """Start the helper (detached from the terminal, so Ctrl-C in a shell leaves it alone)."""
    log = open_append(names.daemon_log)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "netpol.lab.daemon", names.daemon_marker, str(names.state_dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
    finally:
        os.close(log)
    return proc.pid


def wait_daemon(names: LabNames, pid: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            request(names, {"op": "ping"}, timeout=1.0)
            return
        except LabError:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            if not os.path.exists(f"/proc/{pid}"):
                break
            time.sleep(0.02)
    raise LabError(f"the lab's helper process did not start (see {names.daemon_log})")


def request(names: LabNames, message: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
    """One request to the helper; LabError when it is not there."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(names.control_socket))
        sock.sendall(json.dumps(message).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        raise LabError(
            f"the lab's helper process is not answering ({exc.strerror or exc})"
        ) from None
    finally:
        sock.close()
    try:
        reply: dict[str, Any] = json.loads(data)
    except ValueError:
        raise LabError("the lab's helper process gave no answer") from None
    return reply


def daemon_alive(names: LabNames) -> bool:
    try:
        return bool(request(names, {"op": "ping"}, timeout=1.0).get("ok"))
    except LabError:
        return False
