"""Problems found in the input, as values: the CLI turns each into one line."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

from netpol.model.safe_text import MESSAGE_LIMIT, cut, mask_secrets, visible


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem: where (file:line, object, field path), what, and the offending value.

    ``reason`` carries the API server's error type (Required, Invalid, Forbidden,
    NotSupported, or a loader reason such as ``ParseError``).
    """

    severity: Severity
    message: str
    path: str = ""
    line: int = 0
    obj: str = ""
    field: str = ""
    value: object = None
    reason: str = "Invalid"
    # lines printed under the one line, e.g. a selector with a caret under the error
    excerpt: tuple[str, ...] = ()

    @property
    def location(self) -> str:
        if not self.path:
            return "<input>"
        return f"{self.path}:{self.line}" if self.line else self.path

    def one_line(self) -> str:
        """``file:line: error: Kind/ns/name: spec.x: message (value: ...)``, on one line
        whatever the input's names and the server's messages hold (``safe_text.visible``)."""
        parts = [f"{visible(self.location, MESSAGE_LIMIT)}: {self.severity.value}:"]
        if self.obj:
            parts.append(f"{visible(self.obj)}:")
        if self.field:
            parts.append(f"{visible(self.field)}:")
        parts.append(visible(self.message, MESSAGE_LIMIT))
        text = " ".join(parts)
        if self.value is not None:
            text += f" (value: {_short(self.value)})"
        return text

    def text(self) -> str:
        """The one line, then the excerpt (if any) under it: what the CLI prints."""
        return "\n".join(
            (self.one_line(), *(visible(line, MESSAGE_LIMIT) for line in self.excerpt))
        )

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "reason": self.reason,
            "file": self.path,
            "line": self.line,
            "object": self.obj,
            "field": self.field,
            "message": mask_secrets(cut(self.message, MESSAGE_LIMIT)),
            "value": _jsonable(self.value),
        }


def _short(value: object, limit: int = 60) -> str:
    """The value as YAML would show it: strings quoted, booleans lowercase."""
    if isinstance(value, bool):
        return "true" if value else "false"
    # json.dumps escapes newlines and control characters: a diagnostic stays on one line
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    return visible(text, limit)


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return _short(value, 200)
