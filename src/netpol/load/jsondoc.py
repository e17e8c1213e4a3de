"""JSON text -> located documents at the speed of the C JSON decoder.

A ``kubectl get -o json`` dump (or any file that starts with ``{``, which is how kubectl's
own decoder tells JSON from YAML) is decoded by the standard library's C scanner, several
times faster than composing it as YAML. The decoder keeps no positions, so the lines are
recovered afterwards by a walk that the decoded value drives: it knows what comes next at
every point (a key, a string, a number, a nested object), so it only has to find where each
token ends, with C string searches (``str.find``, ``json``'s own ``scanstring``), never by
tokenizing the text character by character in Python. The lines are those the YAML reader
gives the same text: a mapping's line is its ``{``, a key's its opening quote, a list item's
its first character.

Only valid JSON without duplicate keys takes this path, nested at most ``MAX_DEPTH``; any
other text returns None and goes through the YAML reader, which reports the problem with
the message and line it always has.
"""

from __future__ import annotations

import json
import re
from functools import partial
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

from netpol.load.scalars import json_integer, json_number
from netpol.load.yamldoc import MAX_DEPTH, DecodedMap, LocatedList, LocatedMap, RawDocument

_SPACE = re.compile(r"[ \t\n\r]*")
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
# a key up to its value; with that value too if it is a string (most are), and then up to
# the next key or past the closing bracket (group 1 tells which)
_KEY = re.compile(_STRING + r"[ \t\n\r]*:[ \t\n\r]*(" + _STRING + r"[ \t\n\r]*[,}\]][ \t\n\r]*)?")
# after a value: up to the next key or item, or past the closing bracket(s) of what ends
_AFTER_VALUE = re.compile(r"[ \t\n\r]*[,}\]][ \t\n\r]*")
_COLON = re.compile(r"[ \t\n\r]*:[ \t\n\r]*")
_COMMA = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_LITERAL_LENGTH = {"t": 4, "f": 5, "n": 4}

# Kinds that neither the validator nor the builder reads (counted as skipped, by kind and
# line): their fields' lines would never be asked for.
UNREAD_KINDS = frozenset(
    {
        "ConfigMap",
        "Secret",
        "Event",
        "Lease",
        "ControllerRevision",
        "Endpoints",
        "EndpointSlice",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PersistentVolumeClaim",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    }
)


class _NotFastJson(Exception):
    """Text the fast path leaves to the YAML reader (its messages and lines are the rule)."""


def _pairs(pairs: list[tuple[str, Any]], new: type[DecodedMap] = DecodedMap) -> DecodedMap:
    data = new(pairs)
    if len(data) != len(pairs):  # a duplicate key: the YAML reader names both lines
        raise _NotFastJson
    data.line = 0  # the walk that locates it sets it
    data.pending = None
    return data


_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_float=json_number, parse_int=json_integer
)


def starts_as_json(text: str) -> bool:
    """Whether ``text`` opens with ``{`` (after white space), as kubectl sniffs JSON."""
    start = _SPACE.match(text).end()  # type: ignore[union-attr]
    return text.startswith("{", start)


def parse_json(text: str, path: str) -> list[RawDocument] | None:
    """The one document of a JSON text, every mapping and list located; None when the
    text is not plain JSON (the YAML reader then reads it and reports what is wrong)."""
    if not _breaks_are_newlines(text):
        return None
    start = _SPACE.match(text).end()  # type: ignore[union-attr]
    try:
        data = (
            _object_items_located_later(text, start) if _OBJECT_START.match(text, start) else None
        )
        if data is None:
            data = _DECODER.decode(text)
            if not isinstance(data, LocatedMap):
                return None
            _Walk(text).mapping(data, start, 1)
    except (_NotFastJson, ValueError, RecursionError, IndexError):  # IndexError: text cut short
        return None
    return [RawDocument(path, data.line, data)]


# an object as kubectl writes it, a List ({"apiVersion": ..., "kind": "List", "items":
# [...]}) or any other: the document's first key is one of these (`kubectl get -o json`
# puts apiVersion first)
_OBJECT_START = re.compile(r'\{[ \t\n\r]*"(?:apiVersion|items|kind|metadata)"')


def _object_items_located_later(text: str, start: int) -> LocatedMap | None:
    """The document, its ``items`` list (when it has one) item by item: each item decoded in
    C and given its own line, and what it holds located only when asked
    (``yamldoc.settle``): on a valid cluster almost nothing asks, and walking two million
    keys for their lines is most of the time of reading a 100,000-pod dump. Every other
    value is located now (a single object is read once, whole). None for a key that is not
    a string (the YAML reader then says what is wrong)."""
    walk = _Walk(text)
    data = LocatedMap()
    data.line = walk.line_at(start)
    at = _SPACE.match(text, start + 1).end()  # type: ignore[union-attr]
    while text[at] != "}":
        if text[at] != '"':
            return None
        key, value_at = scanstring(text, at + 1)
        if key in data:
            raise _NotFastJson  # a duplicate key: the YAML reader names both lines
        data.key_lines[key] = walk.line_at(at)
        colon = _COLON.match(text, value_at)
        if colon is None:
            raise _NotFastJson
        value_at = colon.end()
        if key == "items" and text[value_at] == "[":
            data[key], at = walk.items_located_later(value_at)
        else:
            value, end = _DECODER.raw_decode(text, value_at)
            if isinstance(value, LocatedMap):
                walk.mapping(value, value_at, 2)
            elif isinstance(value, list):
                value, _ = walk.sequence(value, value_at, 2)
            data[key] = value
            at = end
        at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
        if text[at] == ",":
            at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
        elif text[at] != "}":
            raise _NotFastJson
    if _SPACE.match(text, at + 1).end() != len(text):  # type: ignore[union-attr]
        raise _NotFastJson  # more after the document: the YAML reader's message
    return data


def _breaks_are_newlines(text: str) -> bool:
    """Whether every line break of ``text`` is a newline (CRLF included): YAML also breaks
    lines at a lone CR, NEL, LS and PS, which JSON allows raw inside strings, and the lines
    must be the YAML reader's. The rare text with them is left to the YAML reader."""
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return False
    return "\x85" not in text and "\u2028" not in text and "\u2029" not in text


class _Walk:
    """Positions -> lines over one text, in document order (so each newline is counted
    once). The loops are written out flat: they run once per key and list item of the
    text, two million times for a 100,000-pod cluster."""

    __slots__ = ("counted", "line", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.counted = 0  # newlines are counted up to here
        self.line = 1

    def line_at(self, position: int) -> int:
        self.line += self.text.count("\n", self.counted, position)
        self.counted = position
        return self.line

    def scalar_end(self, start: int) -> int:
        """Where the string, number, ``true``, ``false`` or ``null`` at ``start`` ends."""
        text = self.text
        first = text[start]
        if first == '"':
            end = text.find('"', start + 1)
            if text[end - 1] == "\\":  # an escape before the quote: let json scan it
                return int(scanstring(text, start + 1)[1])
            return end + 1
        length = _LITERAL_LENGTH.get(first)
        if length is not None:
            return start + length
        found = _NUMBER.match(text, start)
        if found is None:  # pragma: no cover - the decoder accepted the text
            raise _NotFastJson
        return found.end()

    def mapping(self, data: LocatedMap, start: int, depth: int) -> int:
        """Locate ``data`` (its ``{`` at ``start``); where the token after it starts."""
        if depth > MAX_DEPTH:
            raise _NotFastJson
        text = self.text
        count = text.count
        key_end = _KEY.match
        after = _AFTER_VALUE.match
        line = self.line + count("\n", self.counted, start)
        data.line = line
        key_lines = data.key_lines
        at = _SPACE.match(text, start + 1).end()  # type: ignore[union-attr]
        counted = at
        line += count("\n", start, at)
        for key, value in data.items():
            line += count("\n", counted, at)
            counted = at
            key_lines[key] = line
            found = key_end(text, at)
            at = found.end()  # type: ignore[union-attr]
            if found.lastindex:  # type: ignore[union-attr]
                continue  # a string value, passed with its key
            first = text[at]
            if first == "{" or first == "[":
                self.line, self.counted = line, counted
                if first == "{":
                    at = self.mapping(value, at, depth + 1)
                else:
                    data[key], at = self.sequence(value, at, depth + 1)
                line, counted = self.line, self.counted
            else:
                at = self.scalar_end(at)
            at = after(text, at).end()  # type: ignore[union-attr]
        self.line, self.counted = line, counted
        if not data:
            at = after(text, at).end()  # type: ignore[union-attr]
        return at

    def unread(self, item: LocatedMap, start: int, depth: int) -> tuple[LocatedMap, int]:
        """An object of a kind netpol never reads, in a list (``kubectl get -A -o json``
        dumps are mostly such objects): only its own line, its fields are not located.
        Decoded again, in C, only to find where it ends; walked as any other when it
        names no apiVersion (whose error names the line of the key) or nests deeply."""
        if not isinstance(item.get("apiVersion"), str) or not item["apiVersion"]:
            return item, self.mapping(item, start, depth)
        copy, end = _DECODER.raw_decode(self.text, start)
        if self.text.count("{", start, end) + self.text.count("[", start, end) + depth > MAX_DEPTH:
            return item, self.mapping(item, start, depth)
        copy.line = self.line_at(start)
        return copy, end

    def items_located_later(self, start: int) -> tuple[LocatedList, int]:
        """The list at ``start`` (its ``[``), item by item: each mapping with its own line
        and a ``pending`` walk for the rest; where the list ends."""
        text = self.text
        located = LocatedList()
        located.line = self.line_at(start)
        lines = located.item_lines
        at = _SPACE.match(text, start + 1).end()  # type: ignore[union-attr]
        # once per item (43,000 of a 100,000-pod List): the decoder's C scanner called
        # directly, the newlines counted inline, the later walk a partial
        scan, count, comma = _DECODER.scan_once, text.count, _COMMA.match  # type: ignore[attr-defined]
        line, counted = self.line, self.counted
        while text[at] != "]":
            line += count("\n", counted, at)
            counted = at
            try:
                item, end = scan(text, at)
            except StopIteration:
                raise _NotFastJson from None
            lines.append(line)
            if isinstance(item, LocatedMap):
                item.line = line
                if count("{", at, end) + count("[", at, end) + 2 > MAX_DEPTH:
                    self.line, self.counted = line, counted
                    self.mapping(item, at, 3)  # deep enough to check now (refused if too deep)
                    line, counted = self.line, self.counted
                else:
                    item.pending = partial(_walk_later, text, item, at, line)
            elif isinstance(item, list):
                self.line, self.counted = line, counted
                item, _ = self.sequence(item, at, 3)
                line, counted = self.line, self.counted
            located.append(item)
            found = comma(text, end)
            if found is not None:
                at = found.end()
                continue
            at = _SPACE.match(text, end).end()  # type: ignore[union-attr]
            if text[at] != "]":
                raise _NotFastJson
        self.line, self.counted = line, counted
        return located, at + 1

    def sequence(self, items: list[Any], start: int, depth: int) -> tuple[LocatedList, int]:
        """``items`` (its ``[`` at ``start``) as a LocatedList; where the token after it starts."""
        if depth > MAX_DEPTH:
            raise _NotFastJson
        text = self.text
        after = _AFTER_VALUE.match
        located = LocatedList()
        located.line = self.line_at(start)
        lines = located.item_lines
        at = _SPACE.match(text, start + 1).end()  # type: ignore[union-attr]
        for item in items:
            lines.append(self.line_at(at))
            first = text[at]
            if first == "{" and item.get("kind") in UNREAD_KINDS:
                item, at = self.unread(item, at, depth + 1)
            elif first == "{":
                at = self.mapping(item, at, depth + 1)
            elif first == "[":
                item, at = self.sequence(item, at, depth + 1)
            else:
                at = self.scalar_end(at)
            located.append(item)
            at = after(text, at).end()  # type: ignore[union-attr]
        if not items:
            at = after(text, at).end()  # type: ignore[union-attr]
        return located, at


def _walk_later(text: str, item: LocatedMap, start: int, line: int) -> None:
    """The walk of one List item, run when a line inside it is first asked for."""
    walk = _Walk(text)
    walk.line, walk.counted = line, start
    # depth 3: the document, its items list, the item; the depth was bounded when the
    # item was decoded, so the walk cannot refuse it
    walk.mapping(item, start, 3)
