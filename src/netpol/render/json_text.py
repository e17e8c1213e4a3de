"""``json.dumps(value, indent=2)``, byte for byte, with repeated parts encoded once.

A verify report lists a hundred thousand pairs that share a few hundred connection sets, and
the standard library's indenting encoder is pure Python: it walks every set of every pair
again. ``dumps`` writes the same text, taking an ``Encoded`` value as already written, so a
caller encodes each shared part once and the pairs reuse it. Strings are escaped by the
standard library's own C function, exactly as ``json.dumps`` (ensure_ascii) escapes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from json.encoder import encode_basestring_ascii

INDENT = "  "


class Encoded:
    """A value already written as ``json.dumps(value, indent=2)`` would write it at the top
    level; ``dumps`` indents it to where it is placed."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def at(self, depth: int) -> str:
        """The text placed ``depth`` levels deep (JSON text has no raw newline but its own)."""
        return self.text.replace("\n", "\n" + INDENT * depth) if depth else self.text


class Deferred(Encoded):
    """A value written only where it is placed, by ``write(depth)`` (a list of a hundred
    thousand records is written once, at its depth, not written and then indented)."""

    __slots__ = ("write",)

    def __init__(self, write: Callable[[int], str]) -> None:
        super().__init__("")
        self.write = write

    def at(self, depth: int) -> str:
        return self.write(depth)


def encoded(value: object) -> Encoded:
    return Encoded(dumps(value))


def items_at(texts: Iterable[str], depth: int) -> str:
    """A JSON array at ``depth`` of items already written for ``depth + 1``."""
    inner = "\n" + INDENT * (depth + 1)
    joined = ("," + inner).join(texts)
    return "[" + inner + joined + "\n" + INDENT * depth + "]" if joined else "[]"


class Record:
    """Objects with the same keys in the same order: the text around their values is made
    once per depth, and each object is one ``str.format`` of its values."""

    def __init__(self, *keys: str) -> None:
        self.keys = keys
        self._templates: dict[int, str] = {}

    def write(self, values: Sequence[str], depth: int) -> str:
        """The object at ``depth``; ``values`` already written for ``depth + 1``, in order."""
        if not self.keys:
            return "{}"
        template = self._templates.get(depth)
        if template is None:
            inner = "\n" + INDENT * (depth + 1)
            heads = [
                f"{encode_basestring_ascii(k)}: ".replace("{", "{{").replace("}", "}}")
                for k in self.keys
            ]
            body = ("," + inner).join(head + "{}" for head in heads)
            template = self._templates[depth] = "{{" + inner + body + "\n" + INDENT * depth + "}}"
        return template.format(*values)


def dumps(value: object, depth: int = 0) -> str:
    """``json.dumps(value, indent=2)`` of ``value`` placed ``depth`` levels deep."""
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if type(value) is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Encoded):
        return value.at(depth)
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        if not value:
            return "{}"
        inner = "\n" + INDENT * (depth + 1)
        items = [
            f"{encode_basestring_ascii(key)}: {dumps(item, depth + 1)}"
            for key, item in value.items()
        ]
        return "{" + inner + ("," + inner).join(items) + "\n" + INDENT * depth + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        inner = "\n" + INDENT * (depth + 1)
        items = [dumps(item, depth + 1) for item in value]
        return "[" + inner + ("," + inner).join(items) + "\n" + INDENT * depth + "]"
    # numbers, and a mapping with keys json turns into strings: as json writes them
    return json.dumps(value, indent=len(INDENT)).replace("\n", "\n" + INDENT * depth)
