"""Ctrl-C while an event loop runs: the lab's probes end cleanly (no root needed)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from netpol.lab import interruptible

# A program shaped like netpol's: its SIGINT handler raises a BaseException that is not a
# KeyboardInterrupt (cli/entry.py). The signal comes while a callback runs (sent by the
# callback itself, so that it lands there every time, not in the loop's select).
PROGRAM = textwrap.dedent(
    """
    import asyncio, os, signal, time
    from netpol.lab import interruptible

    class Stop(BaseException):
        pass

    def handler(signum, frame):
        raise Stop

    signal.signal(signal.SIGINT, handler)
    closed = []

    async def busy():
        loop = asyncio.get_running_loop()

        def spin(rounds):
            if rounds == 30:
                os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
            loop.call_soon(spin, rounds + 1)

        loop.call_soon(spin, 0)
        try:
            await asyncio.sleep(3)
        finally:
            closed.append("closed")

    try:
        {runner}(busy())
        print("ran to the end", closed)
    except Stop:
        print("stopped", closed, signal.getsignal(signal.SIGINT) is handler)
    """
)


def _run(runner: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROGRAM.format(runner=runner)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_ctrl_c_in_a_callback_cancels_the_work_and_reaches_the_programs_handler() -> None:
    done = _run("interruptible.run")
    assert done.stderr == ""
    assert done.stdout == "stopped ['closed'] True\n"


def test_plain_asyncio_run_logs_that_ctrl_c_as_a_traceback_and_goes_on() -> None:
    # why the lab does not call asyncio.run: this is the failure interruptible.run mends
    done = _run("asyncio.run")
    assert "Exception in callback" in done.stderr
    assert "Traceback" in done.stderr


def test_without_ctrl_c_the_result_comes_back_and_the_handler_stays() -> None:
    before = signal.getsignal(signal.SIGINT)

    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert interruptible.run(answer()) == 42
    assert signal.getsignal(signal.SIGINT) is before


def test_an_error_in_the_work_comes_back_as_it_is() -> None:
    async def failing() -> None:
        raise ValueError("the work's own error")

    with pytest.raises(ValueError, match="the work's own error"):
        interruptible.run(failing())


def test_outside_the_main_thread_it_runs_as_asyncio_run() -> None:
    results: list[int] = []

    async def answer() -> int:
        return 7

    thread = threading.Thread(target=lambda: results.append(interruptible.run(answer())))
    thread.start()
    thread.join(timeout=30)
    assert results == [7]
