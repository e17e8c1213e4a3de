"""The lab's helper process: every pod's listeners, the DNS server and allow-listed servers.

One long-lived process per lab holds all listening sockets: each is created after entering
the pod's network namespace (a socket stays in the namespace it was made in), so a few
hundred pods cost one process and one event loop, not hundreds of processes. The lab's
command-line verbs talk to it over a Unix socket in the lab's state directory, with one JSON
request per connection:

* ``{"op": "sync", "pods": [...], "records": {...}}``: make listeners, commands and DNS
  records match; answers ``{"ok": true, "listeners": N, "processes": N, "errors": [...]}``.
* ``{"op": "ping"}`` and ``{"op": "stop"}``.

Run as ``python -m netpol.lab.daemon MARKER STATE_DIR``; the marker lets cleanup find it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netpol.lab import system
from netpol.lab.listeners import TcpListener, UdpListener, identity
from netpol.lab.private import make_dir, open_append, write_file
from netpol.lab.workloads import DNS, HTTP_SERVER

PR_SET_PDEATHSIG = 1
READY_TIMEOUT = 10.0


@dataclass
class _Served:
    kind: str
    closer: Any  # asyncio.Server or DatagramTransport


@dataclass
class _PodRuntime:
    netns: str
    ip: str
    listeners: dict[tuple[int, str], _Served] = field(default_factory=dict)
    processes: dict[tuple[str, ...], subprocess.Popen[bytes]] = field(default_factory=dict)


class Daemon:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.pods: dict[str, _PodRuntime] = {}
        self.records: dict[str, list[str]] = {}
        self.stopping = asyncio.Event()
        self.log = os.fdopen(open_append(state_dir / "daemon.log"), "ab", buffering=0)

    def get_records(self) -> dict[str, list[str]]:
        return self.records

    # -- control ---------------------------------------------------------------------

    async def serve(self, socket_path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()
        # A sync message carries every pod and DNS record: far beyond the default 64 KiB line.
        server = await asyncio.start_unix_server(
            self.handle, path=str(socket_path), limit=256 * 1024 * 1024
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, self.stopping.set)
        async with server:
            await self.stopping.wait()
        self.shutdown()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            request = json.loads(line)
            op = request.get("op")
            if op == "sync":
                reply = await self.sync(request)
            elif op == "ping":
                reply = {"ok": True, "pid": os.getpid(), "listeners": self.count_listeners()}
            elif op == "stop":
                reply = {"ok": True}
                self.stopping.set()
            else:
                reply = {"ok": False, "errors": [f"unknown op {op!r}"]}
        except Exception as exc:  # a bad request must not take the lab's listeners down
            reply = {"ok": False, "errors": [f"{type(exc).__name__}: {exc}"]}
        writer.write(json.dumps(reply).encode() + b"\n")
        try:
            await writer.drain()
        finally:
            writer.close()

    def count_listeners(self) -> int:
        return sum(len(p.listeners) for p in self.pods.values())

    # -- reconcile -------------------------------------------------------------------

    async def sync(self, request: dict[str, Any]) -> dict[str, Any]:
        self.records = {k: list(v) for k, v in request.get("records", {}).items()}
        wanted = {p["id"]: p for p in request.get("pods", [])}
        errors: list[str] = []
        for pod_id in list(self.pods):
            spec = wanted.get(pod_id)
            if spec is None or spec["netns"] != self.pods[pod_id].netns:
                self.close_pod(pod_id)
        starting: list[tuple[str, int, bool]] = []
        loop = asyncio.get_running_loop()
        for pod_id, spec in wanted.items():
            runtime = self.pods.setdefault(pod_id, _PodRuntime(spec["netns"], spec["ip"]))
            want_listeners = {
                (int(p), str(proto)): str(kind) for p, proto, kind in spec["listeners"]
            }
            for key in list(runtime.listeners):
                if want_listeners.get(key) != runtime.listeners[key].kind:
                    self.close_listener(runtime.listeners.pop(key))
            for (port, proto), kind in want_listeners.items():
                if (port, proto) in runtime.listeners:
                    continue
                try:
                    served = await self.open_listener(loop, pod_id, runtime, port, proto, kind)
                except (OSError, system.LabError) as exc:
                    errors.append(f"{pod_id}: cannot listen on {port}/{proto}: {exc}")
                    continue
                runtime.listeners[(port, proto)] = served
            want_commands = {tuple(c["argv"]): c for c in spec.get("commands", [])}
            for argv in list(runtime.processes):
                if argv not in want_commands:
                    _stop_process(runtime.processes.pop(argv))
            for argv, command in want_commands.items():
                proc = runtime.processes.get(argv)
                if proc is not None and proc.poll() is None:
                    continue
                try:
                    runtime.processes[argv] = self.start_command(pod_id, spec, command)
                except (OSError, system.LabError) as exc:
                    errors.append(f"{pod_id}: cannot run {command['container']}: {exc}")
                    continue
                for port in command.get("tcp_ports") or []:
                    starting.append((pod_id, int(port), command["kind"] == HTTP_SERVER))
        warnings: list[str] = []
        for pod_id, port, ours in starting:
            if not await self.wait_ready(self.pods[pod_id], port):
                # The allow-listed server is the lab's promise; a container's own command
                # (--run-commands) may legitimately listen elsewhere or later.
                (errors if ours else warnings).append(
                    f"{pod_id}: nothing listens on port {port} after starting its command"
                )
        processes = sum(len(p.processes) for p in self.pods.values())
        return {
            "ok": not errors,
            "errors": errors,
            "warnings": warnings,
            "listeners": self.count_listeners(),
            "processes": processes,
        }

    async def open_listener(
        self,
        loop: asyncio.AbstractEventLoop,
        pod_id: str,
        runtime: _PodRuntime,
        port: int,
        proto: str,
        kind: str,
    ) -> _Served:
        ident = identity(pod_id, runtime.ip, port, proto)
        is_dns = kind == DNS
        with system.in_netns(runtime.netns):
            if proto == "TCP":
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            else:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(("0.0.0.0", port))
            sock.setblocking(False)
            if proto == "TCP":
                sock.listen(4096)
                server = await loop.create_server(
                    lambda: TcpListener(ident, is_dns, self.get_records), sock=sock, backlog=4096
                )
                return _Served(kind, server)
            transport, _ = await loop.create_datagram_endpoint(
                lambda: UdpListener(ident, is_dns, self.get_records), sock=sock
            )
            return _Served(kind, transport)
        except BaseException:
            sock.close()
            raise

    def start_command(
        self, pod_id: str, spec: dict[str, Any], command: dict[str, Any]
    ) -> subprocess.Popen[bytes]:
        scratch = Path(spec["scratch"])
        make_dir(scratch)
        netns = spec["netns"]
        if command["kind"] == HTTP_SERVER:
            port = int(command["port"])
            ident = identity(pod_id, spec["ip"], port, "TCP")
            write_file(scratch / "netpol-lab.txt", ident + b" server=http.server\n")
            write_file(
                scratch / "index.html",
                b"<!doctype html><html><body><h1>netpol lab</h1><pre>"
                + ident
                + b" server=http.server</pre></body></html>\n",
            )
            argv = [sys.executable, "-m", "http.server", str(port), "--bind", "0.0.0.0"]
            preexec = _enter(netns, spec.get("hostname"))
        else:
            # The user asked for the containers' own commands (--run-commands).
            argv = ["ip", "netns", "exec", netns, *command["argv"]]
            preexec = _enter(None, spec.get("hostname"))
        self.log.write(f"{time.strftime('%H:%M:%S')} {pod_id}: starting {argv}\n".encode())
        return subprocess.Popen(
            argv,
            cwd=scratch,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            preexec_fn=preexec,
            close_fds=True,
        )

    async def wait_ready(self, runtime: _PodRuntime, port: int) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            with system.in_netns(runtime.netns):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                await asyncio.wait_for(
                    asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port)), 1.0
                )
                return True
            except (OSError, TimeoutError):
                await asyncio.sleep(0.05)
            finally:
                sock.close()
        return False

    def close_listener(self, served: _Served) -> None:
        served.closer.close()

    def close_pod(self, pod_id: str) -> None:
        runtime = self.pods.pop(pod_id)
        for served in runtime.listeners.values():
            self.close_listener(served)
        for proc in runtime.processes.values():
            _stop_process(proc)

    def shutdown(self) -> None:
        for pod_id in list(self.pods):
            self.close_pod(pod_id)


def _enter(netns: str | None, hostname: str | None) -> Any:
    """A preexec function: die with the daemon, enter ``netns`` when given, and take the
    pod's host name in a UTS namespace of its own when given."""
    libc = ctypes.CDLL(None, use_errno=True)
    path = system.netns_path(netns) if netns else None

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if path is not None:
            fd = os.open(path, os.O_RDONLY)
            libc.setns(fd, system.CLONE_NEWNET)
            os.close(fd)
        if hostname is not None:
            system.enter_uts(hostname)

    return preexec


def _stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(1.0)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m netpol.lab.daemon MARKER STATE_DIR", file=sys.stderr)
        return 2
    state_dir = Path(argv[1])
    os.chdir("/")
    os.umask(0o077)  # its socket and whatever it makes are root's alone
    daemon = Daemon(state_dir)
    asyncio.run(daemon.serve(state_dir / "daemon.sock"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
