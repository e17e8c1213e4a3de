"""YAML/JSON text -> documents whose every mapping and list remembers its line.

Hostile input is expected: duplicate keys, alias bombs, deep nesting, binary bytes and
malformed text all end in a Diagnostic naming the file and line, never in a traceback.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from netpol.load import jsontext
from netpol.load.scalars import (
    BOOL_TAG,
    FLOAT_TAG,
    INT_TAG,
    MAP_TAG,
    MERGE_TAG,
    SEQ_TAG,
    STR_TAG,
    KubectlResolver,
    NotJsonError,
    construct,
    construct_merge,
    json_integer,
    json_number,
    key_text,
    number_key_text,
    read_bool,
    read_float,
    read_int,
)
from netpol.model.diagnostics import Diagnostic, Severity

try:  # libyaml's C parser is several times faster; the constructor stays Python
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader

MAX_EXPANDED_NODES = 1_000_000  # an alias bomb expands far beyond any real manifest
MAX_DEPTH = 200  # real manifests nest ~15 deep; libyaml recurses in C


class LocatedMap(dict[Any, Any]):
    """A mapping with the line of the mapping and of each key (1-based).

    ``pending``, when set, locates what the mapping holds: an item of a large JSON List has
    only its own line until something asks for a line inside it (see ``settle``)."""

    __slots__ = ("key_lines", "line", "pending")

    def __init__(self) -> None:
        # no super().__init__(): dict.__new__ made it empty, and this runs once per
        # mapping read (half a million at 100,000 pods), where that call was half the cost
        self.line = 0
        self.key_lines: dict[Any, int] = {}
        self.pending: Callable[[], None] | None = None


# the slot itself (a member descriptor), under DecodedMap's property
_KEY_LINES: Any = LocatedMap.__dict__["key_lines"]


class DecodedMap(LocatedMap):
    """A LocatedMap as the JSON decoder makes it, one per object of the text (some 450,000
    for a 100,000-pod List): built from the decoded pairs by dict's own ``__init__``, in C,
    where LocatedMap's runs in Python for each; the maker sets ``line`` and ``pending``,
    and ``key_lines`` is made when first asked (most objects of a List never are)."""

    __slots__ = ()
    __init__ = dict.__init__

    @property
    def key_lines(self) -> dict[Any, int]:
        try:
            return _KEY_LINES.__get__(self)
        except AttributeError:
            lines: dict[Any, int] = {}
            _KEY_LINES.__set__(self, lines)
            return lines

    @key_lines.setter
    def key_lines(self, lines: dict[Any, int]) -> None:
        _KEY_LINES.__set__(self, lines)


def settle(data: LocatedMap) -> bool:
    """Locate everything ``data`` holds if that was left for later; whether it was.

    The lines inside a settled mapping are its own ``key_lines`` and those of the maps and
    lists it holds (its lists become LocatedLists: read them from ``data`` afresh)."""
    pending = data.pending
    if pending is None:
        return False
    data.pending = None
    pending()
    return True


class LocatedList(list[Any]):
    """A sequence with its own line and the line of each item."""

    __slots__ = ("item_lines", "line")

    def __init__(self) -> None:
        self.line = 0  # empty already, as a LocatedMap
        self.item_lines: list[int] = []


class _DuplicateKeyError(yaml.MarkedYAMLError):
    pass


class _Loader(KubectlResolver, _BaseLoader):
    """Safe loader with line-tracking containers, kubectl's scalars (``scalars``), and a
    size guard."""

    check_aliases = True  # parse_text turns it off for text without any "*" (no alias)
    constructed_objects: dict[Any, Any]

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except NotJsonError as exc:
            raise yaml.constructor.ConstructorError(None, None, str(exc), node.start_mark) from exc
        except (ValueError, KeyError, AttributeError, TypeError) as exc:
            # an explicit tag on text it does not fit (`!!int abc`), as go-yaml refuses it
            raise yaml.constructor.ConstructorError(
                None, None, f'cannot read "{node.value}" as {_short_tag(node.tag)}', node.start_mark
            ) from exc

    def construct_document(self, node: yaml.Node) -> Any:
        if self.check_aliases:
            _check_expansion(node)
            return super().construct_document(node)
        try:
            return self._tree(node)
        except _NeedsGeneralPath:
            return super().construct_document(node)
        finally:
            self.constructed_objects = {}

    def _tree(self, node: yaml.Node) -> Any:
        """The document without aliases, built directly: same result as the general path
        (which handles shared and cyclic nodes) at half the cost; strings are most nodes."""
        cls = node.__class__
        if cls is yaml.ScalarNode:
            return node.value if node.tag == STR_TAG else self.construct_object(node)
        if cls is yaml.MappingNode and node.tag == MAP_TAG:
            data = LocatedMap()
            data.line = node.start_mark.line + 1
            key_lines = data.key_lines
            for key_node, value_node in node.value:
                if key_node.tag == MERGE_TAG:
                    raise _NeedsGeneralPath
                key = _key(self, key_node) if key_node.tag in _NUMBER_TAGS else self._tree(key_node)
                if key.__class__ is not str:
                    key = _string_key(key, key_node)
                if key in key_lines:
                    raise _DuplicateKeyError(
                        None,
                        None,
                        f'duplicate key "{key}" (first at line {key_lines[key]})',
                        key_node.start_mark,
                    )
                key_lines[key] = key_node.start_mark.line + 1
                data[key] = self._tree(value_node)
            return data
        if cls is yaml.SequenceNode and node.tag == SEQ_TAG:
            seq = LocatedList()
            seq.line = node.start_mark.line + 1
            lines = seq.item_lines
            for item in node.value:
                lines.append(item.start_mark.line + 1)
                seq.append(self._tree(item))
            return seq
        return self.construct_object(node, deep=True)


class _NeedsGeneralPath(Exception):
    """A merge key (``<<``): left to PyYAML's own constructor."""


def _short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _string_key(key: object, node: yaml.Node) -> str:
    text = key_text(key)
    if text is None:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            "found a mapping key that is not a string, a number or a boolean",
            node.start_mark,
        )
    return text


_NUMBER_TAGS = (INT_TAG, FLOAT_TAG)


def _key(loader: _Loader, node: yaml.Node) -> Any:
    """A mapping key's value; a number key is its text as kubectl writes it into JSON
    (``number_key_text``: ``.inf`` is read there though refused as a value)."""
    if isinstance(node, yaml.ScalarNode) and node.tag in _NUMBER_TAGS:
        try:
            return number_key_text(node.tag, node.value)
        except NotJsonError as exc:
            raise yaml.constructor.ConstructorError(None, None, str(exc), node.start_mark) from exc
        except ValueError:
            pass  # not a number of its tag: construct_object says so
    return loader.construct_object(node, deep=True)


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterator[LocatedMap]:
    data = LocatedMap()
    data.line = node.start_mark.line + 1
    yield data
    written = sum(1 for key_node, _ in node.value if key_node.tag != MERGE_TAG)
    loader.flatten_mapping(node)
    # flatten_mapping puts the merged pairs first, earlier maps after later ones: a key
    # written in the mapping overrides a merged one, the first merged map wins (go-yaml);
    # only a key written twice in the mapping itself is a duplicate
    merged = len(node.value) - written
    for index, (key_node, value_node) in enumerate(node.value):
        key = _string_key(_key(loader, key_node), key_node)
        line = key_node.start_mark.line + 1
        if index >= merged and key in data.key_lines and data.key_lines[key] >= 0:
            raise _DuplicateKeyError(
                None,
                None,
                f'duplicate key "{key}" (first at line {data.key_lines[key]})',
                key_node.start_mark,
            )
        data.key_lines[key] = line if index >= merged else -line
        data[key] = loader.construct_object(value_node)
    for key, line in data.key_lines.items():
        data.key_lines[key] = abs(line)


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Iterator[LocatedList]:
    data = LocatedList()
    data.line = node.start_mark.line + 1
    yield data
    for item in node.value:
        data.item_lines.append(item.start_mark.line + 1)
        data.append(loader.construct_object(item))


_Loader.add_constructor(MAP_TAG, _construct_map)
_Loader.add_constructor(SEQ_TAG, _construct_seq)
_Loader.add_constructor(INT_TAG, construct(read_int))
_Loader.add_constructor(FLOAT_TAG, construct(read_float))
_Loader.add_constructor(BOOL_TAG, construct(read_bool))
_Loader.add_constructor(MERGE_TAG, construct_merge)


def _check_expansion(root: yaml.Node) -> None:
    """Reject documents whose aliases expand to more nodes than any manifest has."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes and not children_done:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                children += [k, v]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        if not children_done and children:
            sizes[key] = -1  # in progress: a cycle through an alias counts once
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        total = 1 + sum(max(sizes.get(id(c), 0), 0) for c in children)
        if total > MAX_EXPANDED_NODES:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"document expands to more than {MAX_EXPANDED_NODES:,} nodes through "
                "aliases (a YAML bomb?)",
                node.start_mark,
            )
        sizes[key] = total


@dataclass(frozen=True, slots=True)
class RawDocument:
    """One top-level object of a file: its data and where it starts.

    ``served`` marks an object an API server returned (live mode): it was validated there,
    so a field netpol does not know is a newer API's, not a typo.
    """

    path: str
    line: int
    data: LocatedMap
    served: bool = False


# libyaml parses without recursion, but PyYAML composes nodes recursively in C, where no
# recursion limit applies: a document nested some ten thousand levels deep crashes the
# interpreter. So the depth is bounded before composing, soundly and cheaply:
#  * block nesting needs one more column of indentation (or a compact "- ", "? ", ": ")
#    per level, so no line's prefix of those characters may exceed 2 * MAX_DEPTH;
#  * flow nesting in a document is at most its number of "[" and "{" (quoted or not), so a
#    document with fewer than MAX_DEPTH of them is safe, and only the rare document with
#    more is measured exactly on libyaml's (non-recursive) event stream.
# A quote-aware text scan would be cheaper but unsound: YAML decides what is quoted by
# context (plain scalars, block scalars), and a scan fooled into "quoted" hides brackets.
_DOCUMENT_START = re.compile(r"^---(?=[ \t\r\n]|$)", re.MULTILINE)
_DEEP_PREFIX = re.compile(rf"^[ ?:\-]{{{MAX_DEPTH * 2 + 1},}}", re.MULTILINE)


def _too_deep(text: str) -> int:
    """Line where nesting first exceeds MAX_DEPTH levels (roughly, for block style), else 0."""
    for match in _DEEP_PREFIX.finditer(text):
        end = text.find("\n", match.start())
        if text[match.start() : end if end >= 0 else len(text)].strip():
            return text.count("\n", 0, match.start()) + 1
    if text.count("[") + text.count("{") < MAX_DEPTH:
        return 0
    starts = [0] + [m.start() for m in _DOCUMENT_START.finditer(text)] + [len(text)]
    for begin, end in itertools.pairwise(starts):
        segment = text[begin:end]
        if segment.count("[") + segment.count("{") >= MAX_DEPTH:
            line = _flow_too_deep(segment)
            if line:
                return text.count("\n", 0, begin) + line
    return 0


def _flow_too_deep(segment: str) -> int:
    """Line (in ``segment``) where libyaml's events nest deeper than MAX_DEPTH, else 0."""
    depth = 0
    try:
        for event in yaml.parse(segment, Loader=_BaseLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line + 1 if event.start_mark else 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        if _libyaml_depth_limit(exc):  # libyaml >= 0.2.6 (PyYAML 6.0.4 wheels) stops first
            mark = exc.problem_mark or exc.context_mark
            return mark.line + 1 if mark is not None else 1
        return 0  # the real parse reports it, at a depth already known to be safe
    except yaml.YAMLError:
        return 0
    return 0


def _libyaml_depth_limit(exc: yaml.MarkedYAMLError) -> bool:
    return "maximum nesting depth" in f"{exc.problem} {exc.context}"


def parse_text(text: str, path: str) -> tuple[list[RawDocument], list[Diagnostic]]:
    """All mapping documents of ``text``; a non-mapping document or a syntax error is a Diagnostic.

    A syntax error stops the file (what follows cannot be trusted); documents before it
    are kept so that the user sees every problem at once. JSON (text that opens with
    ``{``, as kubectl tells it) is decoded by the JSON decoder, which is much faster
    (``jsondoc``); it hands anything but plain valid JSON back to the YAML reader. Plain
    block YAML, as manifests are written, is read line by line (``blockyaml``), several
    times faster than PyYAML's composer; it hands anything else to PyYAML.
    """
    from netpol.load import blockyaml, jsondoc  # both build on this module's containers

    if jsondoc.starts_as_json(text):
        found = jsondoc.parse_json(text, path)
        if found is not None:
            return found, []
    else:
        found = blockyaml.read(text, path)
        if found is not None:
            return found, []
    return read_with_pyyaml(text, path)


def read_with_pyyaml(text: str, path: str) -> tuple[list[RawDocument], list[Diagnostic]]:
    """``parse_text`` by PyYAML alone: any YAML, and every error's message and line."""
    deep = _too_deep(text)
    if deep:
        return [], [_error(path, deep, f"document nested deeper than {MAX_DEPTH} levels")]
    docs: list[RawDocument] = []
    loader = _Loader(text)
    loader.check_aliases = "*" in text
    index = 0
    try:
        while loader.check_node():
            index += 1
            node = loader.get_node()
            data = loader.construct_document(node) if node is not None else None
            line = node.start_mark.line + 1 if node is not None else 0
            if data is None:
                continue  # an empty document (`---` alone) is allowed, as kubectl does
            if not isinstance(data, LocatedMap):
                kind = type(data).__name__
                return docs, [
                    _error(path, line, f"document {index} is a {_yaml_type(kind)}, not a mapping")
                ]
            docs.append(RawDocument(path, line, data))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        if _libyaml_depth_limit(exc):
            return docs, [_error(path, line, f"document nested deeper than {MAX_DEPTH} levels")]
        if path.endswith(".json") or text.lstrip().startswith("{"):
            # kubectl decodes a stream that starts with "{" as JSON, whatever its name
            return _parse_json(text, path, docs, exc)
        return docs, [
            _error(path, line, f"invalid YAML: {_yaml_problem(exc)}", reason="ParseError")
        ]
    except yaml.YAMLError as exc:  # reader errors (control characters) carry no mark class
        line = _reader_line(text, exc)
        return docs, [_error(path, line, f"invalid YAML: {_reader_problem(exc)}", "ParseError")]
    except RecursionError:
        return docs, [_error(path, 0, f"document nested deeper than {MAX_DEPTH} levels")]
    finally:
        loader.dispose()
    return docs, []


def _parse_json(
    text: str, path: str, docs: list[RawDocument], yaml_error: yaml.MarkedYAMLError
) -> tuple[list[RawDocument], list[Diagnostic]]:
    """JSON that the YAML reader refuses (tabs, some escapes): exact, without field lines."""
    try:
        data = jsontext.loads(text, parse_float=json_number, parse_int=json_integer)
    except jsontext.JsonDepthError as exc:
        return docs, [_error(path, exc.line, f"document nested deeper than {MAX_DEPTH} levels")]
    except json.JSONDecodeError as exc:
        return docs, [_error(path, exc.lineno, f"invalid JSON: {exc.msg}", reason="ParseError")]
    except ValueError as exc:  # a number beyond a float (json_number, json_integer)
        return docs, [_error(path, 1, f"invalid JSON: {exc}", reason="ParseError")]
    located = locate_plain(data, 1)
    if not isinstance(located, LocatedMap):
        return [], [_error(path, 1, "document 1 is a list, not a mapping")]
    del yaml_error
    return [RawDocument(path, 1, located)], []


def locate_plain(value: Any, line: int = 0) -> Any:
    """Plain dicts and lists as LocatedMap/LocatedList, every line ``line`` (JSON text,
    objects served by an API server or kept by the lab: no lines to point at)."""
    if isinstance(value, dict):
        out = LocatedMap()
        out.line = line
        for k, v in value.items():
            out.key_lines[k] = line
            out[k] = locate_plain(v, line)
        return out
    if isinstance(value, list):
        seq = LocatedList()
        seq.line = line
        for item in value:
            seq.item_lines.append(line)
            seq.append(locate_plain(item, line))
        return seq
    return value


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or exc.context or "syntax error"
    if exc.context and exc.problem and exc.context not in problem:
        problem = f"{problem} ({exc.context})"
    return problem


def _yaml_type(python_type: str) -> str:
    return {"LocatedList": "list", "str": "string", "int": "number", "float": "number"}.get(
        python_type, python_type
    )


def _reader_problem(exc: yaml.YAMLError) -> str:
    character = getattr(exc, "character", None)
    reason = getattr(exc, "reason", None) or "unreadable text"
    if isinstance(character, str):
        character = ord(character)
    if isinstance(character, int):
        return f"unacceptable character #x{character:04x}: {reason}"
    return str(reason).splitlines()[0]


def _reader_line(text: str, exc: yaml.YAMLError) -> int:
    position = getattr(exc, "position", None)
    if isinstance(position, int):
        return text.count("\n", 0, position) + 1
    return 0


def _error(path: str, line: int, message: str, reason: str = "ParseError") -> Diagnostic:
    return Diagnostic(Severity.ERROR, message, path=path, line=line, reason=reason)


def decode(data: bytes, path: str) -> tuple[str | None, Diagnostic | None]:
    """Bytes -> text: UTF-8 (a BOM is dropped) or UTF-16/32 with a BOM, as kubectl reads."""
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec), None
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, _error(
            path, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        )


def locate(data: LocatedMap, field_path: str) -> int:
    """Line where ``field_path`` (``spec.ingress[0].from[1]``) is written in ``data``; 0 if absent."""
    node: Any = data
    settle(data)
    line = data.line
    for name, index in _steps(field_path):
        if name is not None:
            if not isinstance(node, LocatedMap) or name not in node:
                return line
            line = node.key_lines.get(name, line)
            node = node[name]
        if index is not None:
            if not isinstance(node, LocatedList) or index >= len(node):
                return line
            line = node.item_lines[index]
            node = node[index]
            if isinstance(node, LocatedMap):
                settle(node)
    return line


_STEP = re.compile(r"([^.\[\]]+)?((?:\[\d+\])*)")


def _steps(field_path: str) -> Iterator[tuple[str | None, int | None]]:
    for part in field_path.split("."):
        match = _STEP.fullmatch(part)
        if not match:
            yield part, None
            continue
        name, indexes = match.group(1), match.group(2)
        numbers = [int(n) for n in re.findall(r"\d+", indexes)]
        if not numbers:
            yield name, None
            continue
        yield name, numbers[0]
        for n in numbers[1:]:
            yield None, n
