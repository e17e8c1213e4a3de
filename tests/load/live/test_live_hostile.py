"""A hostile API server: each misbehaviour ends within its deadline with one line naming the
resource and the bound, never a hang, and nothing the server says reaches the terminal raw
(control characters shown, long messages cut, the bearer token masked).

The CLI runs in a subprocess, so that a regression is a child killed by a timeout, not a
test run that never ends; the timing bound is a hang check (generous), not a target."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from netpol.load.live import LiveError, LiveTarget, connect, read_cluster
from netpol.load.live.client import client_module
from netpol.load.live.exec import KubeExecutor, _exit

from .fake_apiserver import HUGE, TOKEN, FakeApiServer

TIMEOUT = 2.0  # --request-timeout of these runs
STARTUP = 15.0  # seconds a CLI run may take besides the deadline (imports, a loaded machine)


def _netpol(kubeconfig: str, *extra: str) -> tuple[int, str, float]:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "netpol", "matrix", "--kubeconfig", kubeconfig, *extra],
        capture_output=True,
        timeout=3 * TIMEOUT + STARTUP + 30,
        check=False,
    )
    return done.returncode, done.stderr.decode(), time.monotonic() - start


def _one_line(apiserver: FakeApiServer, kubeconfig: str, mode: str, *extra: str) -> str:
    apiserver.hostile = mode
    code, stderr, seconds = _netpol(kubeconfig, "--request-timeout", f"{TIMEOUT:g}", *extra)
    assert code == 2, stderr
    assert stderr.count("\n") == 1, stderr[:2000]
    assert seconds < 3 * TIMEOUT + STARTUP
    return stderr.rstrip("\n")


@pytest.mark.parametrize("mode", ["slow-body", "slow-headers"])
def test_a_slow_answer_ends_at_the_request_timeout(
    apiserver: FakeApiServer, kubeconfig: str, mode: str
) -> None:
    expected = (
        f"the API server at {apiserver.url} (context kind-kind) did not answer list "
        f"pods within {TIMEOUT:g}s (--request-timeout)"
    )
    assert _one_line(apiserver, kubeconfig, mode) == f"error: {expected}"
    message, seconds = _read(kubeconfig, max_pages=1000)  # in process: the time is the reads'
    assert message == expected
    assert seconds < 3 * TIMEOUT


def test_json_nested_100000_deep(apiserver: FakeApiServer, kubeconfig: str) -> None:
    assert _one_line(apiserver, kubeconfig, "deep-json") == (
        f"error: the API server at {apiserver.url} answered list pods with JSON nested deeper "
        "than 200 levels"
    )


def test_a_body_beyond_the_size_cap(apiserver: FakeApiServer, kubeconfig: str) -> None:
    assert _one_line(apiserver, kubeconfig, "huge-body", "--max-input-size", "1M") == (
        f"error: the API server at {apiserver.url} answered list pods with more than 1MiB "
        "(--max-input-size 1MiB)"
    )


def test_escapes_in_a_message_are_shown_not_sent(apiserver: FakeApiServer, kubeconfig: str) -> None:
    line = _one_line(apiserver, kubeconfig, "escapes-in-message")
    assert line == (
        f"error: the API server at {apiserver.url} failed to list pods (500 Internal Server "
        "Error): x\\x1b]0;PWNED\\x07 error: all good"
    )
    assert "\x1b" not in line and "\x07" not in line


def test_an_echoed_token_is_masked(apiserver: FakeApiServer, kubeconfig: str) -> None:
    line = _one_line(apiserver, kubeconfig, "echoed-token")
    assert TOKEN not in line
    assert line.endswith("(500 Internal Server Error): bad request from Bearer ***")


def test_a_huge_message_is_cut(apiserver: FakeApiServer, kubeconfig: str) -> None:
    line = _one_line(apiserver, kubeconfig, "huge-message")
    assert line.endswith(f"(500 Internal Server Error): {'y' * 300}...({HUGE} bytes)")


def _read(
    kubeconfig: str, max_pages: int, listing_timeout: float | None = None
) -> tuple[str, float]:
    """read_cluster's LiveError (in a thread: a hang fails the test, it does not block it)."""
    outcome: list[str] = []

    def read() -> None:
        target = LiveTarget(
            kubeconfig=kubeconfig,
            request_timeout=TIMEOUT,
            max_pages=max_pages,
            listing_timeout=listing_timeout,
        )
        try:
            read_cluster(target)
        except LiveError as exc:
            outcome.append(str(exc))

    client_module()  # imported before the clock starts: the import is not the reads' time
    start = time.monotonic()
    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the listing did not end"
    assert len(outcome) == 1
    return outcome[0], time.monotonic() - start


@pytest.mark.parametrize(
    ("mode", "max_pages", "ending", "tokens"),
    [
        (
            "cycling-continue",
            1000,
            "answered list pods with the continue token it had sent before, so the listing "
            "would never end",
            [None, "a", "b"],
        ),
        (
            "endless-continue",
            40,
            "kept paging list pods: stopped after 40 pages of 500, more than any cluster needs",
            None,
        ),
        (
            "repeated-page",
            1000,
            "answered list pods with objects it had already sent, so the listing would never end",
            [None, "page-4"],
        ),
    ],
    ids=["cycling", "endless", "repeated-page"],
)
def test_paging_that_would_never_end_stops(
    apiserver: FakeApiServer,
    kubeconfig: str,
    mode: str,
    max_pages: int,
    ending: str,
    tokens: list[str | None] | None,
) -> None:
    apiserver.hostile = mode
    message, _ = _read(kubeconfig, max_pages=max_pages)
    assert message == f"the API server at {apiserver.url} {ending}"
    sent = [r.query.get("continue") for r in apiserver.requests if r.path == "/api/v1/pods"]
    assert len(sent) == len(tokens or []) or len(sent) == max_pages
    if tokens is not None:
        assert sent == tokens


def test_slow_endless_paging_ends_at_the_listing_deadline(
    apiserver: FakeApiServer, kubeconfig: str
) -> None:
    """Empty pages under ever new tokens, each a little slow: the page cap alone would take
    1000 of them (200 s here); the listing's deadline ends it after about a second."""
    apiserver.hostile, apiserver.delay = "endless-continue", 0.2
    message, seconds = _read(kubeconfig, max_pages=1000, listing_timeout=1.0)
    pages = len([r for r in apiserver.requests if r.path == "/api/v1/pods"])
    assert message == (
        f"the API server at {apiserver.url} kept paging list pods: stopped after 1s and "
        f"{pages} pages"
    )
    assert 2 <= pages <= 1.0 / 0.2 + 1  # each page takes 0.2 s at least: then the deadline
    assert seconds < 30  # a hang check: the page cap alone takes 200 s


def test_the_listing_deadline_is_ten_request_timeouts_by_default(
    apiserver: FakeApiServer, kubeconfig: str
) -> None:
    apiserver.hostile, apiserver.delay = "endless-continue", 0.1
    code, stderr, seconds = _netpol(kubeconfig, "--request-timeout", "1")
    assert code == 2, stderr
    assert stderr.count("\n") == 1, stderr[:2000]
    assert re.fullmatch(
        f"error: the API server at {re.escape(apiserver.url)} kept paging list pods: stopped "
        r"after 10s \(10 times --request-timeout\) and \d+ pages\n",
        stderr,
    ), stderr
    pages = len([r for r in apiserver.requests if r.path == "/api/v1/pods"])
    assert pages <= 10 / 0.1 + 1  # each page takes 0.1 s at least: then the deadline
    assert seconds < 60  # a hang check: the page cap alone takes 100 s


def test_the_page_cap_leaves_real_listings_alone(apiserver: FakeApiServer, tmp_path: Path) -> None:
    """A listing of exactly max_pages pages is read whole."""
    kubeconfig = str(apiserver.kubeconfig(tmp_path / "kc"))
    pods = len(apiserver.objects["pods"])
    target = LiveTarget(kubeconfig=kubeconfig, page_size=1, max_pages=pods)
    cluster = read_cluster(target)
    assert len(cluster.of_kind("Pod")) == pods


def test_an_exec_error_is_masked_escaped_and_cut(apiserver: FakeApiServer, kubeconfig: str) -> None:
    said = f"no such command; token {TOKEN} \x1b[2J" + "z" * 5000
    apiserver.exec_handler = lambda pod, command: (None, "", said)
    pod = apiserver.objects["pods"][0]["metadata"]
    executor = KubeExecutor(connect(LiveTarget(kubeconfig=kubeconfig)))
    result = executor.run(pod["namespace"], pod["name"], None, ["nc", "-z", "x", "80"], 5.0)
    assert result.code is None
    shown = "no such command; token *** \\x1b[2J" + "z" * 5000
    assert result.error == f"{shown[:300]}...({len(shown)} bytes)"


def test_exec_status_nested_deep_is_a_result_not_a_crash() -> None:
    assert _exit("[" * 100_000 + "]" * 100_000) == (None, "[" * 100_000 + "]" * 100_000)
