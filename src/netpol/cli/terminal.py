"""The one door every printed character goes through: stdout and stderr made safe, and
coloured when a person reads them.

``install`` replaces ``sys.stdout`` and ``sys.stderr`` with a ``SafeStream`` before any verb
runs, so whatever a verb prints (``click.echo``, ``print``, a table, a server's message)
has its escapes shown visibly and its secrets masked (``model.safe_text.visible_lines``),
and, when colour is on, its verdicts and severities painted (``render.colour``). The
renderers escape each value for their own format (JSON, XML, HTML); this is the net under
all of them. A progress line, the one thing that must move the cursor, writes to
``raw(stream)``.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

import click

from netpol.model.safe_text import visible_lines
from netpol.render.colour import highlight

COLOR_CHOICES = ("auto", "always", "never")
# -o values read by a person; the others (json, yaml, csv, sarif, dot, ...) are data
HUMAN_FORMATS = frozenset({"text", "table", "wide"})


class SafeStream(io.TextIOBase):
    """A text stream that writes ``visible_lines`` of what it is given to ``raw``."""

    def __init__(self, raw: TextIO) -> None:
        super().__init__()
        self.raw = raw
        self.colour = False
        self.before_write: Callable[[], None] | None = None  # erases the progress line

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"  # the raw stream replaces what its own encoding cannot carry

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "backslashreplace"

    @property
    def buffer(self) -> Any:
        return self.raw.buffer

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        safe = visible_lines(text)
        if self.colour and _human_output():
            safe = highlight(safe)
        if self.before_write is not None and safe:
            self.before_write()
        self.raw.write(safe)
        return len(text)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()


def _human_output() -> bool:
    """Whether the running verb prints for a person (no ``-o`` asking for data)."""
    ctx = click.get_current_context(silent=True)
    output = ctx.params.get("output") if ctx is not None else None
    return not isinstance(output, str) or output in HUMAN_FORMATS


def install() -> None:
    """Put a ``SafeStream`` in front of stdout and stderr (once)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None or isinstance(stream, SafeStream):
            continue
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")  # a lone surrogate must not end the run
        setattr(sys, name, SafeStream(stream))


def raw(stream: TextIO) -> TextIO:
    """The stream under a ``SafeStream``: for the progress line's own cursor moves only."""
    return stream.raw if isinstance(stream, SafeStream) else stream


def on_write(callback: Callable[[], None]) -> None:
    """Call ``callback`` before anything is printed (to erase a progress line first)."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, SafeStream):
            stream.before_write = callback


def wants_colour(choice: str, stream: TextIO, environ: dict[str, str] | None = None) -> bool:
    """``--color``: always, never, or (auto) on a terminal unless NO_COLOR is set
    (https://no-color.org: any non-empty value) or TERM is ``dumb``."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    return stream.isatty()


def set_colour(choice: str) -> None:
    """Turn colour on or off for each installed stream, as ``--color`` asks."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, SafeStream):
            stream.colour = wants_colour(choice, stream.raw)


def program_name(argv0: str | None = None) -> str:
    """``kubectl netpol`` when kubectl started us as its plugin (``kubectl-netpol``), else
    ``netpol``: what usage lines and help show."""
    name = os.path.basename(sys.argv[0] if argv0 is None else argv0)
    return "kubectl netpol" if name.startswith("kubectl-netpol") else "netpol"
