"""Every HTTP request of a live read bounded in time and in size.

urllib3's timeouts bound each socket operation, not a request: a server that sends its
body a byte every half second never trips a 3 s read timeout, and nothing bounds how much
it sends. ``BoundedPool`` stands in for the client's urllib3 pool manager (the one place
every request passes): each request runs with a total deadline (its ``--request-timeout``)
and its body is read to at most ``max_bytes``. The answer is handed back complete, so the
client never reads from the socket again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

_CHUNK = 1 << 16


class RequestDeadline(Exception):
    """The request did not finish within its total deadline (seconds)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no complete answer within {seconds:g}s")
        self.seconds = seconds


class ResponseTooLarge(Exception):
    """The body was longer than the cap (bytes)."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"answer larger than {cap} bytes")
        self.cap = cap


@dataclass
class Answered:
    """A response read to its end: what the client's RESTResponse and ApiException read."""

    status: int
    reason: str
    headers: Any
    data: bytes

    def getheaders(self) -> Any:
        return self.headers

    def getheader(self, name: str, default: Any = None) -> Any:
        return self.headers.get(name, default)

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        return self.data

    def release_conn(self) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class _Outcome:
    done: threading.Event = field(default_factory=threading.Event)
    answer: Answered | None = None
    error: BaseException | None = None


class BoundedPool:
    """A urllib3 PoolManager whose ``request`` ends within the request's timeout (its
    ``total``) and refuses a body over ``max_bytes``; everything else is delegated."""

    def __init__(self, pool: Any, max_bytes: int, default_seconds: float) -> None:
        self._pool = pool
        self.max_bytes = max_bytes
        self.default_seconds = default_seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    def request(self, method: str, url: str, **kwargs: Any) -> Answered:
        seconds = _total(kwargs.get("timeout")) or self.default_seconds
        deadline = time.monotonic() + seconds
        kwargs["preload_content"] = False
        outcome = _Outcome()
        # A daemon thread: a request still stuck in the socket when the deadline passes is
        # abandoned (it stops at its next chunk); it never keeps the process alive.
        worker = threading.Thread(
            target=self._fetch, args=(method, url, kwargs, deadline, outcome), daemon=True
        )
        worker.start()
        if not outcome.done.wait(max(deadline - time.monotonic(), 0)):
            raise RequestDeadline(seconds)
        if outcome.error is not None:
            raise outcome.error
        assert outcome.answer is not None
        return outcome.answer

    def _fetch(
        self, method: str, url: str, kwargs: dict[str, Any], deadline: float, outcome: _Outcome
    ) -> None:
        try:
            response = self._pool.request(method, url, **kwargs)
            try:
                body = self._body(response, deadline)
            except BaseException:
                response.close()  # the rest is unread: the connection cannot be reused
                raise
            response.release_conn()
            outcome.answer = Answered(
                int(response.status), str(response.reason or ""), response.headers, body
            )
        except BaseException as exc:  # handed to the caller's thread, raised there
            outcome.error = exc
        finally:
            outcome.done.set()

    def _body(self, response: Any, deadline: float) -> bytes:
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            raise ResponseTooLarge(self.max_bytes)
        chunks: list[bytes] = []
        total = 0
        while True:
            if time.monotonic() > deadline:
                raise RequestDeadline(0)  # the caller has already given up on this one
            chunk = response.read1(_CHUNK)
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > self.max_bytes:
                raise ResponseTooLarge(self.max_bytes)
            chunks.append(chunk)


def _total(timeout: Any) -> float | None:
    """The total seconds of a urllib3 Timeout (the client sets ``total``), or a number."""
    if isinstance(timeout, int | float):
        return float(timeout)
    total = getattr(timeout, "total", None)
    if isinstance(total, int | float):
        return float(total)
    return None
