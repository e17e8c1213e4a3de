"""The lab's own servers: TCP and UDP listeners that say which pod answered, and DNS.

One TCP listener speaks just enough of three things: HTTP (a page naming the pod, for
``curl``), a probe line (``netpol-probe``), and a line-oriented session for ``telnet`` or
``nc`` (a banner naming the pod, then every line echoed). On a DNS port it also answers DNS
over TCP; the UDP listener answers DNS queries there and a probe datagram anywhere.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping

from netpol.lab import dns

PROBE = b"netpol-probe"
PROBE_HTTP = b"GET /netpol-lab.txt HTTP/1.0\r\n\r\n"
BANNER_DELAY = 0.3  # a client that says nothing first (telnet) gets the banner after this
IDLE_LIMIT = 600.0
_HTTP_METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"DELETE ", b"OPTIONS ", b"PATCH ")
_IDENT = re.compile(rb"netpol-lab pod=(\S+)")

Records = Callable[[], Mapping[str, list[str]]]


def identity(pod_id: str, ip: str, port: int, protocol: str) -> bytes:
    return f"netpol-lab pod={pod_id} ip={ip} port={port}/{protocol}".encode()


def identified_pod(reply: bytes) -> str | None:
    """The pod a reply names (our listeners, and the files next to allow-listed servers)."""
    found = _IDENT.search(reply)
    return found.group(1).decode(errors="replace") if found else None


def http_page(ident: bytes, path: bytes) -> bytes:
    if path in (b"/", b"/index.html"):
        body = (
            b"<!doctype html><html><head><title>netpol lab</title></head><body>"
            b"<h1>netpol lab</h1><pre>" + ident + b"</pre></body></html>\n"
        )
        kind = b"text/html"
    else:
        body = ident + b"\n"
        kind = b"text/plain"
    return (
        b"HTTP/1.0 200 OK\r\nServer: netpol-lab\r\nContent-Type: "
        + kind
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
        + body
    )


class TcpListener(asyncio.Protocol):
    """One accepted connection on a lab listener."""

    def __init__(self, ident: bytes, is_dns: bool, records: Records) -> None:
        self.ident = ident
        self.is_dns = is_dns
        self.records = records
        self.buffer = b""
        self.mode = ""
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(BANNER_DELAY, self._banner)

    def _banner(self) -> None:
        if self.mode or self.transport is None:
            return
        self.mode = "banner"
        self.transport.write(self.ident + b"\r\n")
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(IDLE_LIMIT, self.transport.close)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        if len(self.buffer) > 65536:
            self.transport.close()
            return
        if self.mode == "banner":
            # The banner went out first (a busy loop can run the timer before the data), but
            # a request may still follow: an HTTP client or a probe gets its answer anyway.
            self.mode = ""
            self._cancel_timer()
            self._choose_mode(banner_sent=True)
        elif not self.mode:
            self._choose_mode()
        if self.mode == "http":
            self._http()
        elif self.mode == "dns":
            self._dns()
        elif self.mode == "line":
            self._lines()

    def _choose_mode(self, banner_sent: bool = False) -> None:
        assert self.transport is not None
        head = self.buffer
        if head.startswith(_HTTP_METHODS) or any(m.startswith(head) for m in _HTTP_METHODS):
            if not head.startswith(_HTTP_METHODS):
                return  # part of a method name so far: wait for more
            self.mode = "http"
        elif head.startswith(PROBE) or PROBE.startswith(head):
            if len(head) < len(PROBE):
                return
            self._cancel_timer()
            self.transport.write(self.ident + b"\n")
            self.transport.close()
            self.mode = "done"
            return
        elif self.is_dns and not banner_sent:
            self.mode = "dns"
        else:
            self.mode = "line"
            if not banner_sent:
                self.transport.write(self.ident + b"\r\n")
        self._cancel_timer()

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _http(self) -> None:
        assert self.transport is not None
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            end = self.buffer.find(b"\n\n")
        if end < 0:
            return
        request_line = self.buffer.split(b"\n", 1)[0].split()
        path = request_line[1] if len(request_line) > 1 else b"/"
        self.transport.write(http_page(self.ident, path))
        self.transport.close()
        self.mode = "done"

    def _dns(self) -> None:
        assert self.transport is not None
        while len(self.buffer) >= 2:
            size = int.from_bytes(self.buffer[:2], "big")
            if len(self.buffer) < 2 + size:
                return
            message, self.buffer = self.buffer[2 : 2 + size], self.buffer[2 + size :]
            reply = dns.answer(message, self.records())
            if reply is None:
                self.transport.close()
                return
            self.transport.write(len(reply).to_bytes(2, "big") + reply)

    def _lines(self) -> None:
        assert self.transport is not None
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            self.transport.write(self.ident + b" echo: " + line.rstrip(b"\r") + b"\r\n")

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        self.transport = None


class UdpListener(asyncio.DatagramProtocol):
    def __init__(self, ident: bytes, is_dns: bool, records: Records) -> None:
        self.ident = ident
        self.is_dns = is_dns
        self.records = records
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        if self.transport is None:
            return
        if self.is_dns and not data.startswith(PROBE):
            reply = dns.answer(data, self.records())
            if reply is not None:
                self.transport.sendto(reply, addr)
                return
        self.transport.sendto(self.ident + b"\n", addr)
