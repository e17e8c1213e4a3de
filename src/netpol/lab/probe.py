"""Real connections between every pair of lab endpoints, beside the engine's prediction.

A TCP probe connects, asks for ``/netpol-lab.txt`` and reads the answer, which names the pod
that answered (the lab's listener and the files beside allow-listed servers both do), so an
open port proves the packet reached the right pod. A UDP probe sends a datagram and waits for
the pod's answer. Denied connections are rejected by the lab's rules (TCP reset, ICMP port
unreachable), so they fail at once; the timeout only bounds what should never happen.

Sockets are made inside the source's network namespace (``setns`` on this thread, then back),
and many probes run at once on one event loop, at most ``concurrency`` at a time.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
import resource
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from netpol.engine.compile import CompiledCluster
from netpol.engine.endpoints import POD, Endpoint, ip_endpoint
from netpol.engine.matrix import class_matrix
from netpol.engine.ports import ConnectionSet
from netpol.engine.verdict import allowed
from netpol.lab import interruptible, system
from netpol.lab.listeners import PROBE, PROBE_HTTP, identified_pod

_IDENT_LINE = re.compile(rb"netpol-lab pod=\S+[^\n]*\n")

OPEN = "open"  # connected, and the right pod answered
UNVERIFIED = "connected"  # connected, but the answer names no pod (a container's own server)
WRONG_POD = "wrong-pod"  # connected to another pod than the one probed: always a bug
REFUSED = "refused"  # TCP reset or ICMP port unreachable: denied (or nothing listening)
UNREACHABLE = "unreachable"  # ICMP host/net unreachable
TIMEOUT = "timeout"  # nothing came back in time
CONNECTED = frozenset({OPEN, UNVERIFIED, WRONG_POD})

OUTSIDE = "outside"


@dataclass(frozen=True, slots=True)
class Attempt:
    src: str  # endpoint id: a pod id or OUTSIDE
    netns: str
    dst: str  # pod id
    ip: str
    port: int
    protocol: str


@dataclass(frozen=True, slots=True)
class Cell:
    attempt: Attempt
    outcome: str
    predicted: bool
    detail: str = ""

    @property
    def observed(self) -> bool:
        return self.outcome in CONNECTED

    @property
    def agrees(self) -> bool:
        return self.observed == self.predicted and self.outcome != WRONG_POD


@dataclass
class ProbeReport:
    sources: list[str]
    destinations: list[str]
    ports: dict[str, list[tuple[int, str]]]  # destination -> probed (port, protocol)
    cells: list[Cell]
    elapsed: float
    labels: dict[str, str] = field(default_factory=dict)
    predicted_only: bool = False  # the engine's verdicts alone, no packets (demo without root)

    @property
    def disagreements(self) -> list[Cell]:
        return [c for c in self.cells if not c.agrees]

    def cell_map(self) -> dict[tuple[str, str, int, str], Cell]:
        return {
            (c.attempt.src, c.attempt.dst, c.attempt.port, c.attempt.protocol): c
            for c in self.cells
        }


class _Sockets:
    """Makes sockets inside network namespaces, keeping one open handle per namespace."""

    def __init__(self) -> None:
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        self.fds: dict[str, int] = {}

    def make(self, netns: str, protocol: str) -> socket.socket:
        fd = self.fds.get(netns)
        if fd is None:
            fd = self.fds[netns] = os.open(system.netns_path(netns), os.O_RDONLY)
        kind = socket.SOCK_STREAM if protocol == "TCP" else socket.SOCK_DGRAM
        system.setns(fd)
        try:
            sock = socket.socket(socket.AF_INET, kind)
        finally:
            system.setns(self.home)
        sock.setblocking(False)
        return sock

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        os.close(self.home)


async def _tcp(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, a: Attempt, timeout: float
) -> tuple[str, str]:
    try:
        async with asyncio.timeout(timeout):
            await loop.sock_connect(sock, (a.ip, a.port))
            await loop.sock_sendall(sock, PROBE_HTTP)
            data = b""
            while len(data) < 8192 and not _complete(data):
                chunk = await loop.sock_recv(sock, 4096)
                if not chunk:
                    break
                data += chunk
    except TimeoutError:
        return TIMEOUT, ""
    except ConnectionRefusedError:
        return REFUSED, ""
    except ConnectionResetError:
        return REFUSED, "reset after connecting"
    except OSError as exc:
        return _os_error(exc)
    return _judge(data, a)


async def _udp(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, a: Attempt, timeout: float
) -> tuple[str, str]:
    try:
        sock.connect((a.ip, a.port))
        # Datagrams can be lost; ask twice within the timeout before calling it silence.
        for tries in range(2):
            sock.send(PROBE + b"\n")
            try:
                async with asyncio.timeout(timeout / 2):
                    data = await loop.sock_recv(sock, 4096)
                return _judge(data, a)
            except TimeoutError:
                if tries == 1:
                    return TIMEOUT, ""
    except ConnectionRefusedError:
        return REFUSED, ""
    except OSError as exc:
        return _os_error(exc)
    return TIMEOUT, ""


def _complete(data: bytes) -> bool:
    """The answer has named its pod (a whole line of it): no need to wait for the close."""
    found = _IDENT_LINE.search(data)
    return found is not None


def _os_error(exc: OSError) -> tuple[str, str]:
    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return UNREACHABLE, os.strerror(exc.errno)
    return REFUSED, exc.strerror or str(exc)


def _judge(data: bytes, a: Attempt) -> tuple[str, str]:
    pod = identified_pod(data)
    if pod is None:
        return UNVERIFIED, "the answer names no pod"
    if not a.dst:  # any pod may answer (a Service name): say which one did
        return OPEN, pod
    if pod != a.dst:
        return WRONG_POD, f"answered by {pod}"
    return OPEN, ""


def run_attempts(
    attempts: Sequence[Attempt], concurrency: int = 256, timeout: float = 2.0
) -> list[tuple[str, str]]:
    """Every attempt's (outcome, detail), in order."""
    _raise_fd_limit(concurrency * 2 + 64)
    return interruptible.run(_run(attempts, concurrency, timeout))


async def _run(
    attempts: Sequence[Attempt], concurrency: int, timeout: float
) -> list[tuple[str, str]]:
    loop = asyncio.get_running_loop()
    sockets = _Sockets()
    results: list[tuple[str, str]] = [("", "")] * len(attempts)
    queue: Iterator[int] = iter(range(len(attempts)))

    async def worker() -> None:
        for i in queue:
            a = attempts[i]
            sock = sockets.make(a.netns, a.protocol)
            try:
                if a.protocol == "TCP":
                    results[i] = await _tcp(loop, sock, a, timeout)
                else:
                    results[i] = await _udp(loop, sock, a, timeout)
            finally:
                sock.close()

    try:
        await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(attempts))))))
    finally:
        sockets.close()
    return results


def _raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


@dataclass(frozen=True, slots=True)
class ProbeEndpoint:
    id: str
    netns: str
    endpoint: Endpoint
    ip: str


def probe(
    cc: CompiledCluster,
    sources: Sequence[ProbeEndpoint],
    destinations: Sequence[ProbeEndpoint],
    ports: dict[str, list[tuple[int, str]]],
    concurrency: int = 256,
    timeout: float = 2.0,
    labels: dict[str, str] | None = None,
    reference: bool = False,
) -> ProbeReport:
    """Probe every (source, destination, port) but self pairs, beside the engine's prediction.

    The prediction is ``verdict.allowed`` per pair when ``reference`` (the engine's reference
    evaluation, what the differential tests compare with), else the engine's class matrix for
    pod pairs (the same answers in bulk; a few hundred pods cost milliseconds, not seconds).
    """
    attempts, predicted = _attempts(cc, sources, destinations, ports, reference)
    start = time.perf_counter()
    outcomes = run_attempts(attempts, concurrency, timeout)
    elapsed = time.perf_counter() - start
    cells = [
        Cell(a, outcome, p, detail)
        for a, (outcome, detail), p in zip(attempts, outcomes, predicted, strict=True)
    ]
    return ProbeReport(
        [s.id for s in sources], [d.id for d in destinations], ports, cells, elapsed, labels or {}
    )


def predict_only(
    cc: CompiledCluster,
    sources: Sequence[ProbeEndpoint],
    destinations: Sequence[ProbeEndpoint],
    ports: dict[str, list[tuple[int, str]]],
    labels: dict[str, str] | None = None,
    reference: bool = False,
) -> ProbeReport:
    """The report ``probe`` would give if every packet did what the engine says (no packets):
    the demo without root, and what ``lab apply`` changed."""
    attempts, predicted = _attempts(cc, sources, destinations, ports, reference)
    cells = [Cell(a, OPEN if p else REFUSED, p) for a, p in zip(attempts, predicted, strict=True)]
    return ProbeReport(
        [s.id for s in sources],
        [d.id for d in destinations],
        ports,
        cells,
        0.0,
        labels or {},
        predicted_only=True,
    )


def _attempts(
    cc: CompiledCluster,
    sources: Sequence[ProbeEndpoint],
    destinations: Sequence[ProbeEndpoint],
    ports: dict[str, list[tuple[int, str]]],
    reference: bool,
) -> tuple[list[Attempt], list[bool]]:
    """Every (source, destination, port) but self pairs, and the engine's verdict on each."""
    predict = _predictor(cc, reference)
    attempts: list[Attempt] = []
    predicted: list[bool] = []
    for src in sources:
        for dst in destinations:
            if src.id == dst.id:
                continue
            conns = predict(src, dst)
            for port, protocol in ports.get(dst.id, []):
                attempts.append(Attempt(src.id, src.netns, dst.id, dst.ip, port, protocol))
                predicted.append(conns.contains(protocol, port))
    return attempts, predicted


def _predictor(
    cc: CompiledCluster, reference: bool
) -> Callable[[ProbeEndpoint, ProbeEndpoint], ConnectionSet]:
    if reference:
        return lambda src, dst: allowed(cc, src.endpoint, dst.endpoint)
    matrix = class_matrix(cc)

    def predict(src: ProbeEndpoint, dst: ProbeEndpoint) -> ConnectionSet:
        if src.endpoint.kind == POD and dst.endpoint.kind == POD:
            return matrix.pod_connections(src.id, dst.id)
        return allowed(cc, src.endpoint, dst.endpoint)

    return predict


def pod_probe_endpoint(cc: CompiledCluster, pod_id: str, netns: str, ip: str) -> ProbeEndpoint:
    pod = cc.cluster.pod_by_id[pod_id]
    return ProbeEndpoint(pod_id, netns, cc.endpoint(pod), ip)


def outside_probe_endpoint(netns: str, ip: str) -> ProbeEndpoint:
    return ProbeEndpoint(OUTSIDE, netns, ip_endpoint(ip), ip)


@dataclass(frozen=True, slots=True)
class NameCheck:
    """``telnet HOST PORT`` from inside a pod: what the name resolved to and what happened."""

    host: str
    port: int
    address: str | None  # None: the name did not resolve
    outcome: str  # OPEN/UNVERIFIED/REFUSED/..., or "no-dns"/"nxdomain" when resolution failed
    answered_by: str | None = None
    detail: str = ""

    @property
    def connected(self) -> bool:
        return self.outcome in CONNECTED


def query_names(host: str, search: Sequence[str]) -> list[str]:
    """The names a pod's resolver asks for ``host``, in order (search path, ndots:5)."""
    if host.endswith("."):
        return [host.rstrip(".")]
    candidates = [f"{host}.{domain}" for domain in search]
    return [*candidates, host] if host.count(".") < 5 else [host, *candidates]


def resolve_in_pod(
    netns: str, search: Sequence[str], nameserver: str, host: str, timeout: float = 1.0
) -> tuple[str | None, str]:
    """Resolve ``host`` as the pod's resolver would (search path, ndots:5), through the
    pod's own network namespace, so DNS egress policy applies; returns (address, problem)."""
    from dnslib import QTYPE, RCODE, DNSRecord

    try:
        socket.inet_aton(host)
        if host.count(".") == 3:
            return host, ""
    except OSError:
        pass
    sockets = _Sockets()
    try:
        for name in query_names(host, search):
            sock = sockets.make(netns, "UDP")
            sock.setblocking(True)
            sock.settimeout(timeout)
            try:
                sock.connect((nameserver, 53))
                sock.send(DNSRecord.question(name, "A").pack())
                reply = DNSRecord.parse(sock.recv(4096))
            except TimeoutError:
                return None, f"no answer from the cluster DNS {nameserver} (DNS egress denied?)"
            except ConnectionRefusedError:
                return None, f"the cluster DNS {nameserver} refused (DNS egress denied)"
            except OSError as exc:
                return None, f"cannot reach the cluster DNS {nameserver}: {exc.strerror or exc}"
            finally:
                sock.close()
            if reply.header.rcode == RCODE.NXDOMAIN:
                continue
            for rr in reply.rr:
                if rr.rtype == QTYPE.A:
                    return str(rr.rdata), ""
    finally:
        sockets.close()
    return None, f"{host}: no such name (NXDOMAIN)"


def connect_name(
    netns: str,
    search: Sequence[str],
    nameserver: str,
    host: str,
    port: int,
    timeout: float = 2.0,
) -> NameCheck:
    """Resolve ``host`` from the pod, connect to ``port`` over TCP and read who answered."""
    address, problem = resolve_in_pod(netns, search, nameserver, host, min(timeout, 1.0))
    if address is None:
        return NameCheck(host, port, None, "no-dns", detail=problem)
    attempt = Attempt("", netns, "", address, port, "TCP")
    ((outcome, detail),) = run_attempts([attempt], 1, timeout)
    if outcome == OPEN:
        return NameCheck(host, port, address, outcome, answered_by=detail)
    return NameCheck(host, port, address, outcome, detail=detail)
