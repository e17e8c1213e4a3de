"""The program's first module: Ctrl-C ends it cleanly at any moment, imports included.

It imports only modules the interpreter has already loaded (``_signal`` rather than
``signal``, which would import ``enum``), so the handler is in place before the CLI
(click, the verbs) starts importing. ``netpol``, ``kubectl-netpol`` and
``python -m netpol`` all start here, and ``kubectl_complete-netpol`` too.
"""

from __future__ import annotations

import _signal
import os
import sys

EXIT_INTERRUPTED = 128 + _signal.SIGINT  # what a shell reports for a job ended by Ctrl-C


class Interrupted(BaseException):
    """Ctrl-C. Not a KeyboardInterrupt, which click turns into ``Aborted!`` and exit 1;
    ``finally`` blocks (the lab's clean-up) still run on the way out."""


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted


def run(argv: list[str] | None = None) -> None:
    """Run the CLI (``netpol``, ``kubectl-netpol``, ``python -m netpol``); Ctrl-C exits 130
    with the one line ``interrupted``."""
    _signal.signal(_signal.SIGINT, _raise_interrupted)
    try:
        try:
            from netpol.cli import terminal

            terminal.install()
            from netpol.cli.main import main

            main(argv)
        finally:
            # the run is over (or interrupted): a Ctrl-C now, while the interpreter shuts
            # down and has put the default handler back, would kill it by the signal (-2)
            _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
    except (Interrupted, KeyboardInterrupt):
        _interrupted()
    except SystemExit as done:
        _exit_now(done)


def _exit_now(done: SystemExit) -> None:
    """End the run without the interpreter's teardown, which frees every object one by one:
    ~1 s of CPU after a verb on 100k pods has printed everything, for nothing a user sees.
    The streams are flushed first; an exit that is not a number, or a flush that fails (a
    closed pipe), takes the ordinary way out, which reports it as it always has. Nothing
    is left to run: ``finally`` blocks (the lab's clean-up) ran on the way here, and the
    CLI registers no ``atexit`` work. Under a profiler or a tracer (``python -m cProfile``,
    coverage), whose results are written on the ordinary way out, that way is taken."""
    code = 0 if done.code is None else done.code
    if not isinstance(code, int) or sys.getprofile() is not None or sys.gettrace() is not None:
        raise done
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe, a closed stream
        raise done from None
    os._exit(code)


def kubectl_complete() -> None:
    """``kubectl_complete-netpol WORD...``: the candidates kubectl shows for
    ``kubectl netpol WORD...<TAB>``."""
    _signal.signal(_signal.SIGINT, _raise_interrupted)
    try:
        from netpol.cli.completion_cmd import kubectl_candidates

        sys.stdout.write("".join(line + "\n" for line in kubectl_candidates(sys.argv[1:])))
    except (Interrupted, KeyboardInterrupt):
        _interrupted()


def _interrupted() -> None:
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)  # a second Ctrl-C must not start a traceback
    import contextlib  # not at the top: this module imports nothing the interpreter lacks

    with contextlib.suppress(BaseException):  # a closed pipe or a full disk: the line matters
        sys.stdout.flush()
    # past the stream wrappers: nothing here came from input; on a terminal, the progress
    # line (if any) is cleared first
    clear = b"\r\x1b[K" if os.isatty(2) else b""
    with contextlib.suppress(OSError):
        os.write(2, clear + b"interrupted\n")
    os._exit(EXIT_INTERRUPTED)
