"""How long work says how far it got, without printing: nothing below the CLI prints, so
the loader and the engine call a ``Progress`` they are given, and the CLI decides whether
a person sees it (a line on a terminal's stderr) or nobody does."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def phase(self, name: str, total: int = 0) -> None:
        """A new phase of the work (``reading files``), of ``total`` steps (0: unknown)."""

    def advance(self, steps: int = 1) -> None:
        """``steps`` more steps of the current phase are done."""


class Silent:
    """The Progress nobody watches: the default of every function that takes one."""

    def phase(self, name: str, total: int = 0) -> None:
        return None

    def advance(self, steps: int = 1) -> None:
        return None


SILENT: Progress = Silent()


class Prefixed:
    """``progress`` with each phase named after the part of the work it belongs to (a diff
    builds the classes of two sides: ``old: building classes``, ``new: ...``)."""

    def __init__(self, progress: Progress, prefix: str) -> None:
        self.progress = progress
        self.prefix = prefix

    def phase(self, name: str, total: int = 0) -> None:
        self.progress.phase(self.prefix + name, total)

    def advance(self, steps: int = 1) -> None:
        self.progress.advance(steps)
