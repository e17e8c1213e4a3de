"""How Cilium's agent reads the ``port`` string of a ``toPorts`` item (docs/cilium.md, Cilium
semantics §5.1, §13): an IANA service name first, else Go's ``strconv.ParseUint(port, 0, 16)``.

Base 0 is Go's literal syntax, not decimal: ``"010"`` is octal 8, ``"08"`` is refused and
``"1_000"`` is 1000, while ``"0x10"`` has a letter and so is a (named) port, not 16. Python's
``int()`` gets all of these wrong, so validate and the loader both read ports here.
"""

from __future__ import annotations

import re
from typing import NamedTuple

SERVICE_NAME_MAX = 15
PORT_MAX = 65535
SYNTAX = "invalid syntax"
RANGE = "value out of range"

# iana.IsSvcName: ^[a-zA-Z0-9]+(-?[a-zA-Z0-9]+)*$ with a letter; written without nested
# quantifiers so that a long string cannot make Python's regex engine backtrack
_SERVICE_NAME = re.compile(r"[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*")
_LETTER = re.compile(r"[a-zA-Z]")
_ASCII_DIGITS = "0123456789"
_ASCII_LETTERS = "abcdefghijklmnopqrstuvwxyz"


class ParsedPort(NamedTuple):
    """A port number, or why Go refuses the text (``invalid syntax``, ``value out of range``)."""

    value: int | None
    error: str | None = None


def is_service_name(text: str) -> bool:
    """Cilium's ``iana.IsSvcName``: 1..15 letters, digits and single inner hyphens, a letter
    among them (upper case allowed: the agent lower-cases it)."""
    return (
        0 < len(text) <= SERVICE_NAME_MAX
        and _SERVICE_NAME.fullmatch(text) is not None
        and _LETTER.search(text) is not None
    )


def parse_port_number(text: str) -> ParsedPort:
    """Go's ``strconv.ParseUint(text, 0, 16)``, error kinds included."""
    if not text:
        return ParsedPort(None, SYNTAX)
    digits, base = text, 10
    if text[0] == "0":
        prefix = text[1:2].lower()
        if len(text) >= 3 and prefix in ("b", "o", "x"):
            digits, base = text[2:], {"b": 2, "o": 8, "x": 16}[prefix]
        else:
            digits, base = text[1:], 8
    value = 0
    underscores = False
    for char in digits:
        if char == "_":
            underscores = True
            continue
        if char in _ASCII_DIGITS:
            digit = ord(char) - ord("0")
        elif char.isascii() and char.lower() in _ASCII_LETTERS:
            digit = ord(char.lower()) - ord("a") + 10
        else:
            return ParsedPort(None, SYNTAX)
        if digit >= base:
            return ParsedPort(None, SYNTAX)
        value = value * base + digit
        if value > PORT_MAX:
            return ParsedPort(None, RANGE)
    if underscores and not _underscores_ok(text):
        return ParsedPort(None, SYNTAX)
    return ParsedPort(value)


def port_key(text: str) -> str:
    """The port as the agent keeps it: a name lower-cased, a number in decimal (``"010"`` ->
    ``"8"``); text the agent refuses comes back unchanged (validate reports it)."""
    if is_service_name(text):
        return text.lower()
    parsed = parse_port_number(text)
    return str(parsed.value) if parsed.value is not None else text


def _underscores_ok(text: str) -> bool:
    """Go's ``underscoreOK``: an underscore only between digits (a base prefix counts as one)."""
    saw = "^"
    i = 0
    hexadecimal = False
    if len(text) >= 2 and text[0] == "0" and text[1].lower() in ("b", "o", "x"):
        i, saw, hexadecimal = 2, "0", text[1].lower() == "x"
    for char in text[i:]:
        if char in _ASCII_DIGITS or (hexadecimal and char.isascii() and char.lower() in "abcdef"):
            saw = "0"
        elif char == "_":
            if saw != "0":
                return False
            saw = "_"
        elif saw == "_":
            return False
        else:
            saw = "!"
    return saw != "_"
