"""The progress line: on a terminal's stderr, for work that has taken over ``DELAY`` seconds,
one line rewritten in place (``netpol: computing the matrix 120/400``) and erased when the
work ends or anything else is printed. Silent in pipes and with ``--quiet``.

A verb asks ``progress_for_command()`` and passes the result down (``model.progress``); the
loader and the engine call it, and this module alone draws it.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO

import click

from netpol.cli.terminal import on_write, raw
from netpol.model.progress import SILENT, Progress

DELAY = 2.0  # seconds of work before a line appears: short runs stay clean
INTERVAL = 0.1  # seconds between redraws


class TerminalProgress:
    """A ``Progress`` drawn as one line on ``stream`` (a terminal)."""

    def __init__(
        self,
        stream: TextIO,
        delay: float = DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.delay = delay
        self.clock = clock
        self.started = clock()
        self.name = ""
        self.total = 0
        self.done = 0
        self.shown = False
        self.drawn_at = float("-inf")

    def phase(self, name: str, total: int = 0) -> None:
        self.name, self.total, self.done = name, total, 0
        self._draw(force=True)

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        self._draw(force=self.total > 0 and self.done >= self.total)

    def text(self) -> str:
        """What the line says now."""
        if self.total:
            return f"netpol: {self.name} {self.done:,}/{self.total:,}"
        return f"netpol: {self.name} {self.done:,}" if self.done else f"netpol: {self.name}"

    def clear(self) -> None:
        """Erase the line (before other output, and at the end)."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    def _draw(self, force: bool = False) -> None:
        now = self.clock()
        if now - self.started < self.delay or (not force and now - self.drawn_at < INTERVAL):
            return
        width = shutil.get_terminal_size().columns - 1
        self.stream.write("\r\x1b[K" + self.text()[:width])
        self.stream.flush()
        self.shown = True
        self.drawn_at = now


def progress_for_command() -> Progress:
    """The running verb's Progress: a ``TerminalProgress`` when stderr is a terminal and no
    ``--quiet`` (global or the verb's) was given, else ``SILENT``. One per run, erased
    before anything else is printed and when the verb ends."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or _quiet(ctx):
        return SILENT
    stream = raw(sys.stderr)
    if not stream.isatty():
        return SILENT
    meta = ctx.find_root().meta
    progress = meta.get(_META_KEY)
    if progress is None:
        progress = meta[_META_KEY] = TerminalProgress(stream, DELAY)
        on_write(progress.clear)
        ctx.find_root().call_on_close(progress.clear)
    return progress


_META_KEY = "netpol.progress"


def _quiet(ctx: click.Context) -> bool:
    while ctx is not None:
        if ctx.params.get("quiet"):
            return True
        ctx = ctx.parent  # type: ignore[assignment]
    return False


def counted(progress: Progress, name: str, total: int = 0) -> Callable[[int], None]:
    """For work that reports how many steps are done so far (``probing 12/40``)."""
    progress.phase(name, total)
    seen = [0]

    def show(done: int) -> None:
        progress.advance(done - seen[0])
        seen[0] = done

    return show


def per_resource(progress: Progress) -> Callable[[str, int, bool], None]:
    """For the live reader, which reports (resource, items read so far, finished)."""
    current = [""]
    count = counted(progress, "reading the cluster")

    def show(resource: str, items: int, done: bool) -> None:
        nonlocal count
        if resource and resource != current[0]:
            current[0] = resource
            count = counted(progress, f"reading {resource}")
        count(items)

    return show
