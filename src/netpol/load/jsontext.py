"""JSON text -> Python values, with its nesting bounded before the (recursive) decoder runs.

``json.loads`` recurses once per level and so stops with a RecursionError somewhere near the
interpreter's limit, which depends on how deep the caller already is. Measuring the depth
first, on the text, makes the cap a number the user can be told (``MAX_JSON_DEPTH``) and keeps
the decoder far from the limit. Used for every JSON netpol reads outside YAML: files the
YAML reader refuses, ``generate --from-matrix`` and API server responses.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_JSON_DEPTH = 200  # as for YAML (yamldoc.MAX_DEPTH): real objects nest ~15 deep

# A JSON string (escapes included), or one bracket, or a newline (for the line number)
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_STRINGS = re.compile(_STRING, re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_TOKENS = re.compile(_STRING + r"|[\[{]|[\]}]|\n", re.DOTALL)
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonDepthError(ValueError):
    """The text nests deeper than ``MAX_JSON_DEPTH``; ``line`` is where (1-based)."""

    def __init__(self, line: int) -> None:
        super().__init__(f"nested deeper than {MAX_JSON_DEPTH} levels (line {line})")
        self.line = line


def too_deep(text: str) -> int:
    """The line where ``text`` first nests deeper than MAX_JSON_DEPTH, else 0.

    Linear and at C speed on the common path (strings removed, brackets summed); the exact
    line is looked for only when the cap is passed."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:  # depth <= number of openings
        return 0
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    if not brackets or max(accumulate(map(_STEP.__getitem__, brackets))) <= MAX_JSON_DEPTH:
        return 0
    depth, line = 0, 1
    for token in _TOKENS.finditer(text):
        found = token.group()
        if found == "\n":
            line += 1
        elif found in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return line
        elif found in "]}":
            depth -= 1
        else:
            line += found.count("\n")
    return line


def loads(text: str | bytes, **hooks: Any) -> Any:
    """``json.loads`` for text nested at most MAX_JSON_DEPTH deep; JsonDepthError otherwise
    (json.JSONDecodeError, a ValueError, for text that is not JSON, as json.loads)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    line = too_deep(text)
    if line:
        raise JsonDepthError(line)
    return json.loads(text, **hooks)
