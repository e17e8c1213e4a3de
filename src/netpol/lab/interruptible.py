"""Run an event loop that Ctrl-C ends as it ends the rest of the program.

The program's SIGINT handler raises an exception wherever the main thread happens to be.
Inside an event loop that is often a callback, and asyncio catches anything raised there
that is not a KeyboardInterrupt or SystemExit: it logs it as ``Exception in callback``
with a traceback and goes on running. So while a loop runs, the loop takes the signal
itself (between callbacks, through its wake-up descriptor), cancels the work, whose
``finally`` blocks close what it opened, and once the loop is closed hands the signal to
the handler that was in place, outside any callback.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``; a Ctrl-C cancels ``main`` and then reaches the SIGINT handler
    that was in place before (a Ctrl-C that comes as ``main`` ends still does)."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        return asyncio.run(main)  # only the main thread receives signals; or they are ignored
    interrupted = False

    async def guarded() -> T:
        nonlocal interrupted
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None  # asyncio.run runs this as a task

        def on_interrupt() -> None:
            nonlocal interrupted
            interrupted = True
            task.cancel()

        loop.add_signal_handler(signal.SIGINT, on_interrupt)
        try:
            return await main
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            signal.signal(signal.SIGINT, previous)  # not the default remove_signal_handler puts

    try:
        result = asyncio.run(guarded())
    except asyncio.CancelledError:
        if not interrupted:
            raise
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        previous(signal.SIGINT, None)  # raises: the program's handler, or Python's own
        raise KeyboardInterrupt  # a handler that returned: the run was still interrupted
    return result
