"""JSON text -> Python values, nested at most ``MAX_JSON_DEPTH`` deep.

``json.loads`` recurses once per level and so stops with a RecursionError somewhere near the
interpreter's limit, which depends on how deep the caller already is; and netpol's own walks
over the result (locating fields, converting served objects) recurse too. So the depth is
capped at a number the user can be told: the decoder's RecursionError (text nested some
thousand levels deep) and any value deeper than the cap both end in a JsonDepthError naming
the line where the text passes the cap. The depth is measured on the decoded value, level
by level, only when the text has more opening brackets than the cap: measuring it on the
text (strings stripped) costs about as much as decoding it, for large API answers.
Used for every JSON netpol reads outside YAML: files the YAML reader refuses,
``generate --from-matrix``, API server answers and exec statuses.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 200  # as for YAML (yamldoc.MAX_DEPTH): real objects nest ~15 deep

# A JSON string (escapes included), or one bracket, or a newline (for the line number)
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]|[\]}]|\n', re.DOTALL)


class JsonDepthError(ValueError):
    """The text nests deeper than ``MAX_JSON_DEPTH``; ``line`` is where (1-based)."""

    def __init__(self, line: int) -> None:
        super().__init__(f"nested deeper than {MAX_JSON_DEPTH} levels (line {line})")
        self.line = line


def too_deep(text: str) -> int:
    """The line where ``text`` first nests deeper than MAX_JSON_DEPTH, else 0 (a scan of
    its strings and brackets: for the message, once the cap is known to be passed)."""
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
    return 0


def loads(text: str | bytes, **hooks: Any) -> Any:
    """``json.loads`` for text nested at most MAX_JSON_DEPTH deep; JsonDepthError otherwise
    (json.JSONDecodeError, a ValueError, for text that is not JSON, as json.loads)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        value = json.loads(text, **hooks)
    except RecursionError:
        raise JsonDepthError(too_deep(text) or 1) from None
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and _deeper_than_cap(value):
        raise JsonDepthError(too_deep(text) or 1)
    return value


def _deeper_than_cap(value: Any) -> bool:
    """Whether lists and objects nest more than MAX_JSON_DEPTH deep in ``value`` (breadth
    first, without recursion, stopping at the cap)."""
    level = [value]
    for _ in range(MAX_JSON_DEPTH):
        below: list[Any] = []
        for node in level:
            children = node.values() if node.__class__ is dict else node
            if node.__class__ is dict or node.__class__ is list:
                below += [c for c in children if c.__class__ is dict or c.__class__ is list]
        if not below:
            return False
        level = below
    return True
