"""Block YAML as manifests are written, read in one pass over its lines.

PyYAML's composer builds a node with two marks for every scalar before anything is
constructed: 4.5 of the 7 CPU s it took to load 100,000 pods from YAML. Most manifests
use a small part of YAML: block mappings and lists whose scalars each sit on one line,
plain or simply quoted, flow collections on one line (``values: [a, b]``, ``{}``) and
literal ``|`` blocks (kubectl's last-applied annotation). This reader reads exactly that
part, line by line and each distinct line once, straight into LocatedMap and LocatedList.

It answers only where its answer is PyYAML's (the same values, types and lines) and
declines (None) a whole text that uses anything else: anchors, aliases, tags, folded
blocks, plain or quoted scalars over several lines, escapes, tabs, CR or other line
breaks, a directive, a duplicate, non-string or unusual key, an indentation it does not
expect, a root that is not a mapping. ``yamldoc.parse_text`` then reads that text with
PyYAML, which also gives every error its message: this reader never reports one. A
differential property test (tests/load/test_blockyaml.py) holds it to PyYAML on generated
and broken manifests.
"""

from __future__ import annotations

import re
from typing import Any

from netpol.load.scalars import (
    BOOL_TAG,
    FLOAT_TAG,
    INT_TAG,
    NULL_TAG,
    STR_TAG,
    plain_tag,
    read_bool,
    read_float,
    read_int,
)
from netpol.load.yamldoc import MAX_DEPTH, LocatedList, LocatedMap, RawDocument


class _Decline(Exception):
    """The text is outside the subset: PyYAML reads it."""


# Anything but LF, printable ASCII and the printable non-ASCII ranges YAML accepts (minus
# NEL, LS and PS, which are line breaks to libyaml, and the BOM): tabs, CR and control
# characters send the text to PyYAML, which knows what each means. ASCII text (most
# manifests) is checked by a small pattern: the large one costs 10 ms to compile.
_OUTSIDE_ASCII = re.compile("[^\n\x20-\x7e]")
_OUTSIDE_PATTERN = (
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)

# A key as Kubernetes writes them (labels, annotations, fields), never quoted by a dumper;
# in block context also with a ":" inside, as Cilium's "k8s:io.kubernetes.pod.namespace"
# (libyaml versions differ on a ":" inside a flow's plain scalar, so flows decline it).
_KEY = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_./-]|:(?=[A-Za-z0-9_./-]))*")
_FLOW_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")
_MAX_KEY = 1024  # libyaml refuses a longer simple key
# Deeper texts go to PyYAML, whose guard (yamldoc._too_deep) refuses some of them by their
# indentation or bracket count: what is read here stays well inside both of its limits.
_MAX_BOXES = MAX_DEPTH - 10
_MAX_FLOW_BRACKETS = 8
# PyYAML's guard (yamldoc._DEEP_PREFIX) also refuses any line, comments and block text
# included, that starts with more than this many spaces, "?", ":" and "-"
_DEEP_LINE = 2 * MAX_DEPTH
_MAX_COLUMN = MAX_DEPTH

# A plain scalar in block context, without its comment and trailing spaces: it does not
# start with an indicator (a "-" is allowed before a non-space, as in "-1"), and holds no
# ": ", no "#" after a space, nothing that is not a space or printable.
_PLAIN = re.compile(r"(?:[^\s\-?:,\[\]{}#&*!|>'\"%@`]|-(?=\S))(?:[^\s:]|:(?=\S)| +(?=\S))*")
# The same in a flow list: no ",", bracket, brace or ":" at all.
_FLOW_PLAIN = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`](?:[^\s:,\[\]{}]| +(?=\S))*")

_READERS: dict[str, Any] = {
    INT_TAG: read_int,
    FLOAT_TAG: read_float,
    BOOL_TAG: read_bool,
    NULL_TAG: lambda text: None,
}
_NONE_OPEN = 1 << 30


def read(text: str, path: str) -> list[RawDocument] | None:
    """The mapping documents of ``text``, or None when it is not all in the subset."""
    if text.isascii():
        if _OUTSIDE_ASCII.search(text) is not None:
            return None
    elif re.search(_OUTSIDE_PATTERN, text) is not None:  # compiled once, by re's cache
        return None
    try:
        return _Reader(path).documents(text)
    except _Decline:
        return None


# What a line holds after its dashes: a scalar, nothing (its value is on the lines below,
# or null), a flow collection on the line, a literal block scalar's header ("|", "|-",
# "|+": its text is the lines below); or it is a document marker.
_SCALAR, _OPEN, _FLOW, _MARKER, _LITERAL = range(5)
# A line's reading:
# (its column again if it is "key: ..." without dashes, else -2; column of its first token;
# columns of its "- " dashes; column of what follows them; key or None; one of the kinds
# above; the scalar, or the flow collection's template for ``_flow``)
_Line = tuple[int, int, tuple[int, ...], int, "str | None", int, Any]
_MARKER_LINE: _Line = (-2, 0, (), 0, None, _MARKER, None)


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path
        # a line's reading by its text: a manifest repeats most of its lines
        # ("      protocol: TCP"), so each distinct line is read once
        self.lines: dict[str, _Line | None] = {}

    def documents(self, text: str) -> list[RawDocument]:
        docs: list[RawDocument] = []
        known = self.lines
        read_line = self.read_line
        indents: list[int] = []  # the open containers, outermost first, and their columns
        boxes: list[Any] = []
        top: Any = None  # boxes[-1]
        top_lines: dict[str, int] = {}
        # top's column while top is a mapping and no value is pending, else -3: a line
        # whose reading starts with it is "key: value" in that mapping (most lines are)
        map_column = -3
        # a "key:" or "-" whose value is on the lines after it (or null): where it goes
        pending: tuple[Any, str | None, int, int] | None = None
        # the pending key's column when it is a mapping's key, else _NONE_OPEN: a "key:"
        # line deeper than it opens that key's mapping (the next most common line)
        open_column = _NONE_OPEN
        nested: Any = None
        key: Any = None
        # a literal block scalar being read: where its text goes (a mapping and key, or a
        # list and index), the column its lines must be deeper than, its chomping; then
        # its lines' indentation (0 until its first line) and its lines
        literal: tuple[Any, Any, int, str] | None = None
        literal_indent = 0
        literal_lines: list[str] = []
        for number, line in enumerate(text.split("\n"), 1):
            if literal is not None:
                content = line.lstrip(" ")
                indent = len(line) - len(content)
                if not literal_indent:
                    if not content or indent <= literal[2]:
                        raise _Decline  # leading empty lines, or an empty block
                    literal_indent = indent
                if not content:
                    if indent > literal_indent:
                        raise _Decline  # spaces beyond the indentation are text
                    literal_lines.append("")
                    continue
                if indent >= literal_indent:
                    if len(line) > _DEEP_LINE and _deep(line):
                        raise _Decline
                    literal_lines.append(line[literal_indent:])
                    continue
                literal[0][literal[1]] = _literal_text(literal_lines, literal[3])
                literal, literal_indent, literal_lines = None, 0, []
            try:
                reading = known[line]
            except KeyError:
                reading = known[line] = read_line(line)
            if reading is None:
                continue  # blank or a comment
            fast, start, dashes, column, key, kind, value = reading
            if fast == map_column:
                if key in top:
                    raise _Decline  # a duplicate: PyYAML says where
                top_lines[key] = number
                if kind == _SCALAR:
                    top[key] = value
                elif kind == _OPEN:
                    pending = (top, key, map_column, number)
                    open_column = map_column
                    map_column = -3
                elif kind == _LITERAL:
                    top[key] = None
                    literal = (top, key, map_column, value)
                else:
                    top[key] = _flow(value, number)
                continue
            if fast > open_column:
                # the next common line: "key: ..." opening the mapping of the key above
                nested = LocatedMap()
                nested.line = number
                pending[0][pending[1]] = nested  # type: ignore[index]
                indents.append(start)
                boxes.append(nested)
                if len(boxes) > _MAX_BOXES:
                    raise _Decline
                top = nested
                top_lines = nested.key_lines
                top_lines[key] = number
                if kind == _SCALAR:
                    nested[key] = value
                    pending, open_column, map_column = None, _NONE_OPEN, start
                elif kind == _OPEN:
                    pending = (nested, key, start, number)
                    open_column = start
                else:
                    if kind == _LITERAL:
                        nested[key] = None
                        literal = (nested, key, start, value)
                    else:
                        nested[key] = _flow(value, number)
                    pending, open_column, map_column = None, _NONE_OPEN, start
                continue
            open_column = _NONE_OPEN
            if kind == _MARKER:
                _finish(docs, self.path, boxes, pending)
                indents, boxes, top, map_column, pending = [], [], None, -3, None
                open_column = _NONE_OPEN
                continue
            if pending is not None:
                box, owner_key, owner, owner_line = pending
                pending = None
                if start > owner or (start == owner and dashes and owner_key is not None):
                    nested = LocatedList() if dashes else LocatedMap()
                    nested.line = number
                    if owner_key is None:
                        box.append(nested)
                        box.item_lines.append(number)
                    else:
                        box[owner_key] = nested
                    indents.append(start)
                    boxes.append(nested)
                elif owner_key is None:
                    box.append(None)
                    box.item_lines.append(owner_line)
                else:
                    box[owner_key] = None
            if not boxes:
                if dashes:
                    raise _Decline  # a list at the root: PyYAML says it is not a mapping
                root = LocatedMap()
                root.line = number
                indents.append(start)
                boxes.append(root)
            while indents[-1] > start:
                indents.pop()
                boxes.pop()
                if not boxes:
                    raise _Decline
            if indents[-1] != start:
                raise _Decline
            top = boxes[-1]
            if top.__class__ is LocatedList and not dashes:
                indents.pop()  # an indentless list ends at a key of its mapping's column
                boxes.pop()
                if not boxes or indents[-1] != start:
                    raise _Decline
                top = boxes[-1]
            if dashes:
                last = len(dashes) - 1
                for index, dash in enumerate(dashes):  # "- - a", "- key: a" open containers
                    if top.__class__ is not LocatedList:
                        raise _Decline
                    if index < last:
                        nested = LocatedList()
                        nested.line = number
                        top.append(nested)
                        top.item_lines.append(number)
                        indents.append(dashes[index + 1])
                        boxes.append(nested)
                        top = nested
                    elif key is not None:
                        nested = LocatedMap()
                        nested.line = number
                        top.append(nested)
                        top.item_lines.append(number)
                        indents.append(column)
                        boxes.append(nested)
                        top = nested
                    elif kind == _OPEN:
                        pending = (top, None, dash, number)
                    elif kind == _LITERAL:
                        literal = (top, len(top), dash, value)
                        top.append(None)
                        top.item_lines.append(number)
                    else:
                        top.append(value if kind == _SCALAR else _flow(value, number))
                        top.item_lines.append(number)
            if len(boxes) > _MAX_BOXES:
                raise _Decline
            if key is not None:
                if top.__class__ is not LocatedMap:
                    raise _Decline
                if key in top:
                    raise _Decline
                top.key_lines[key] = number
                if kind == _SCALAR:
                    top[key] = value
                elif kind == _OPEN:
                    pending = (top, key, column, number)
                    open_column = column
                elif kind == _LITERAL:
                    top[key] = None
                    literal = (top, key, column, value)
                else:
                    top[key] = _flow(value, number)
            if pending is None and top.__class__ is LocatedMap:
                map_column = indents[-1]
                top_lines = top.key_lines
            else:
                map_column = -3
        if literal is not None:
            if not literal_lines or literal_lines[-1] or not text.endswith("\n"):
                raise _Decline  # the text ends inside the block without a line break
            # the "" after the text's last line break is no line of the block
            literal[0][literal[1]] = _literal_text(literal_lines[:-1], literal[3])
        _finish(docs, self.path, boxes, pending)
        return docs

    def read_line(self, line: str) -> _Line | None:
        """What ``line`` holds, or None for a blank line or a comment."""
        content = line.lstrip(" ")
        if len(line) > _DEEP_LINE and content and _deep(line):
            raise _Decline
        if not content or content[0] == "#":
            return None
        start = len(line) - len(content)
        if start > _MAX_COLUMN:
            raise _Decline
        if start == 0 and content[0] in "-.%" and content[:2] != "- " and content != "-":
            if content.startswith("---") and not content[3:].strip(" "):
                return _MARKER_LINE
            raise _Decline  # "...", a directive, "--- text", or a plain "-x" key
        column = start
        dashes: list[int] = []
        while content[0] == "-" and (len(content) == 1 or content[1] == " "):
            dashes.append(column)
            rest = content[1:].lstrip(" ")
            column += len(content) - len(rest)
            if column > _MAX_COLUMN:
                raise _Decline
            if not rest or rest[0] == "#":
                return (-2, start, tuple(dashes), column, None, _OPEN, None)
            content = rest
        if dashes and not _is_entry(content):
            return (-2, start, tuple(dashes), column, None, *_value(content))
        colon = content.find(": ")
        if colon < 0:
            if content[-1] != ":":
                raise _Decline  # a scalar where a key belongs, or a continued one
            colon = len(content) - 1
        key = content[:colon]
        if len(key) > _MAX_KEY or _KEY.fullmatch(key) is None or plain_tag(key) != STR_TAG:
            raise _Decline  # quoted, spaced, numeric, boolean, null or merge keys
        rest = content[colon + 1 :].lstrip(" ")
        fast = -2 if dashes else start
        if not rest or rest[0] == "#":
            return (fast, start, tuple(dashes), column, key, _OPEN, None)
        return (fast, start, tuple(dashes), column, key, *_value(rest))


_CHOMPING = ("|", "|-", "|+")  # clip, strip, keep


def _literal_text(lines: list[str], header: str) -> str:
    """A literal block scalar's text from its lines (indentation removed, "" for an empty
    line): every line break kept, the final ones as its chomping says."""
    kept = len(lines)
    while kept and not lines[kept - 1]:
        kept -= 1
    if not kept:
        raise _Decline  # no text at all: the chomping of nothing is PyYAML's
    text = "\n".join(lines[:kept])
    if header == "|-":
        return text
    if header == "|+":
        return text + "\n" * (1 + len(lines) - kept)
    return text + "\n"


def _value(text: str) -> tuple[int, Any]:
    """The kind and value written at the start of ``text`` (after "key: " or "- ")."""
    first = text[0]
    if first == "'" or first == '"':
        return _SCALAR, _quoted(text)
    if first == "[" or first == "{":
        return _FLOW, _flow_template(text)
    if first == "|":
        header = text.rstrip(" ")
        if header not in _CHOMPING:
            raise _Decline  # an indentation indicator, a comment, or text after it
        return _LITERAL, header
    comment = text.find(" #")
    plain = (text if comment < 0 else text[:comment]).rstrip(" ")
    if _PLAIN.fullmatch(plain) is None:
        raise _Decline
    return _SCALAR, _resolve(plain)


def _deep(line: str) -> bool:
    """Whether PyYAML's depth guard refuses ``line`` (not blank): see ``_DEEP_LINE``."""
    return len(line) - len(line.lstrip(" ?:-")) > _DEEP_LINE


def _finish(docs: list[RawDocument], path: str, boxes: list[Any], pending: Any) -> None:
    """End a document: an open "key:" or "-" left at its end is null."""
    if pending is not None:
        box, key, _, owner_line = pending
        if key is None:
            box.append(None)
            box.item_lines.append(owner_line)
        else:
            box[key] = None
    if boxes:
        root = boxes[0]
        docs.append(RawDocument(path, root.line, root))


def _flow(template: Any, number: int) -> Any:
    """Fresh containers on line ``number`` for a flow collection's template."""
    shape, body = template
    if shape == "map":
        located: Any = LocatedMap()
        located.line = number
        for key, item in body:
            located.key_lines[key] = number
            located[key] = item[1] if item[0] == "scalar" else _flow(item, number)
        return located
    located = LocatedList()
    located.line = number
    located.extend(item[1] if item[0] == "scalar" else _flow(item, number) for item in body)
    located.item_lines = [number] * len(body)
    return located


def _resolve(plain: str) -> Any:
    """A plain scalar's value as the loader makes it (``scalars``: kubectl's tags)."""
    tag = plain_tag(plain)
    if tag == STR_TAG:
        return plain
    reader = _READERS.get(tag)
    if reader is None:
        raise _Decline
    try:
        return reader(plain)
    except ValueError:
        raise _Decline from None  # NotJsonError too: PyYAML's path words it


_GLUED_COLON = re.compile(r":(?! )")  # every ":" read in a flow is "key: value"
_FLOW_TOKENS = re.compile(r"([\[\]{},])")


def _flow_template(text: str) -> tuple[str, Any]:
    """A flow collection that opens and closes on its line, of plain scalars and flow
    collections (``[a, b]``, ``{name: dns, port: 53}``, ``{}``): what ``_flow`` builds from.
    Quotes, comments, ":" in a scalar, keys without a value, empty items and trailing
    commas are declined."""
    body = text.rstrip(" ")
    if "#" in body or "'" in body or '"' in body:
        raise _Decline
    if _GLUED_COLON.search(body) is not None:
        raise _Decline  # "{a:[b]}": libyaml refuses a ":" glued to a bracket
    if body.count("[") + body.count("{") > _MAX_FLOW_BRACKETS:
        raise _Decline  # deep flows are PyYAML's (its depth guard)
    tokens = [token.strip(" ") for token in _FLOW_TOKENS.split(body)]
    tokens = [token for token in tokens if token]
    template, end = _flow_node(tokens, 0)
    if end != len(tokens) or template[0] == "scalar":
        raise _Decline  # something after the collection
    return template


def _flow_node(tokens: list[str], at: int) -> tuple[tuple[str, Any], int]:
    """The flow node starting at ``tokens[at]``, and the index after it."""
    if at >= len(tokens):
        raise _Decline
    token = tokens[at]
    if token == "[":
        items: list[Any] = []
        at += 1
        if at < len(tokens) and tokens[at] == "]":
            return ("list", tuple(items)), at + 1
        while True:
            item, at = _flow_node(tokens, at)
            items.append(item)
            at = _flow_separator(tokens, at, "]")
            if at < 0:
                return ("list", tuple(items)), -at
    if token == "{":
        pairs: dict[str, Any] = {}
        at += 1
        if at < len(tokens) and tokens[at] == "}":
            return ("map", ()), at + 1
        while True:
            if at >= len(tokens):
                raise _Decline
            entry = tokens[at]
            if entry.endswith(":"):  # "key:" and a collection after it
                key = _flow_key(entry[:-1])
                value, at = _flow_node(tokens, at + 1)
                if value[0] == "scalar":
                    raise _Decline
            else:
                key_text, colon, plain = entry.partition(": ")
                if not colon:
                    raise _Decline  # a key without a value, "a:b", or a stray token
                key = _flow_key(key_text)
                value = _flow_scalar(plain.lstrip(" "))
                at += 1
            if key in pairs:
                raise _Decline
            pairs[key] = value
            at = _flow_separator(tokens, at, "}")
            if at < 0:
                return ("map", tuple(pairs.items())), -at
    return _flow_scalar(token), at + 1


def _flow_separator(tokens: list[str], at: int, closing: str) -> int:
    """After an item: the next item's index, or minus the index after ``closing``."""
    if at < len(tokens) and tokens[at] == closing:
        return -(at + 1)
    if at + 1 < len(tokens) and tokens[at] == "," and tokens[at + 1] not in ",]}":
        return at + 1
    raise _Decline  # a trailing or doubled comma, or an unclosed collection


def _flow_key(text: str) -> str:
    if len(text) > _MAX_KEY or _FLOW_KEY.fullmatch(text) is None or plain_tag(text) != STR_TAG:
        raise _Decline
    return text


def _flow_scalar(text: str) -> tuple[str, Any]:
    if text in "[]{},:" or _FLOW_PLAIN.fullmatch(text) is None:
        raise _Decline  # empty, an indicator, or with ":"
    return ("scalar", _resolve(text))


def _is_entry(content: str) -> bool:
    """Whether ``content`` (after "- ") is a mapping entry rather than a scalar: a plain
    scalar holds no ": " and does not end in ":"; a quoted one or a flow list declines
    later if a ":" follows it."""
    first = content[0]
    if first in "'\"[{":
        return False
    return ": " in content or content.rstrip(" ").endswith(":")


def _quoted(text: str) -> str:
    """A quoted scalar that ends on its line, without escapes; nothing but a comment after it."""
    quote = text[0]
    if quote == "'":
        end = 1
        while True:
            end = text.find("'", end)
            if end < 0:
                raise _Decline  # continued on the next line
            if text[end + 1 : end + 2] != "'":
                break
            end += 2
        value = text[1:end].replace("''", "'")
    else:
        end = text.find('"', 1)
        if end < 0:
            raise _Decline
        value = text[1:end]
        if "\\" in value:
            raise _Decline
    after = text[end + 1 :]
    if after and (after[0] != " " or not after.lstrip(" ").startswith("#")) and after.strip(" "):
        raise _Decline  # a quoted key ("'a': b") or text after the quote
    return value
