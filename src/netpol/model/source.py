"""Where an object came from: a file and line, stdin, or a live cluster."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from netpol.model.safe_text import MESSAGE_LIMIT, visible


@dataclass(frozen=True, slots=True)
class Source:
    """A file (or ``-`` for stdin, ``live`` for a cluster) and the 1-based line of the object.

    ``locate`` maps a field path such as ``spec.ingress[0].from[1]`` to the line where that
    field is written, so findings can point at the exact YAML line.
    """

    path: str
    line: int = 0
    locate: Callable[[str], int] | None = field(default=None, compare=False, repr=False)

    def line_of(self, field_path: str) -> int:
        """Line of ``field_path`` inside this object, or the object's own line if unknown."""
        if self.locate is None or not field_path:
            return self.line
        return self.locate(field_path) or self.line

    def at(self, field_path: str = "") -> str:
        """``file:line`` for the object or one of its fields, printable (a file name may
        hold a newline or an escape: ``safe_text.visible``)."""
        line = self.line_of(field_path)
        path = visible(self.path, MESSAGE_LIMIT)
        return f"{path}:{line}" if line else path

    def __str__(self) -> str:
        return self.at()


GENERATED = Source("<generated>")
