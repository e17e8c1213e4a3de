"""YAML scalars read as kubectl reads them, not as YAML 1.1 says.

kubectl turns YAML into JSON with sigs.k8s.io/yaml, whose reader is go-yaml v2; the API
server then decodes that JSON. Where PyYAML's YAML 1.1 rules differ, a manifest would
mean one thing to netpol and another to the cluster: ``port: 1e3`` is the number 1000
there (PyYAML: the named port "1e3"), ``port: 1:30`` is the string "1:30" (PyYAML:
sexagesimal 90), ``0o17`` is 15, ``08`` is 8, ``y`` and ``n`` are booleans, ``=`` is a
string (PyYAML: a tag it cannot construct). A whole float such as ``80.0`` travels as
the JSON number ``80``, so it reads as an integer. Dates stay strings: go-yaml keeps a
timestamp as its text when decoding into an untyped value, and so does a number beyond
a float (``1e400``: Go's ParseFloat fails with a range error), and ``<<`` anywhere but
as a mapping key. ``.inf`` and ``.nan`` are floats go-yaml reads but JSON cannot carry:
kubectl refuses the file (``json: unsupported value: +Inf``), except as a mapping key,
which it writes as text.
"""

from __future__ import annotations

import math
import re
import struct
from typing import Any

import yaml

from netpol.load.memo import BoundedCache

STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
BOOL_TAG = "tag:yaml.org,2002:bool"
NULL_TAG = "tag:yaml.org,2002:null"
MERGE_TAG = "tag:yaml.org,2002:merge"
SEQ_TAG = "tag:yaml.org,2002:seq"
MAP_TAG = "tag:yaml.org,2002:map"

_BOOLS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE"), True),
    **dict.fromkeys(("on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE"), False),
    **dict.fromkeys(("off", "Off", "OFF"), False),
}
_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_WORD_TAGS = {
    **dict.fromkeys(_BOOLS, BOOL_TAG),
    **dict.fromkeys(_SPECIAL_FLOATS, FLOAT_TAG),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), NULL_TAG),
    "<<": MERGE_TAG,  # a merge as a mapping key; a string elsewhere (``construct_merge``)
}
# Go's strconv.ParseInt(s, 0, 64) after go-yaml removed every underscore
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\Z")
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_NUMBER_START = frozenset("+-0123456789")
_INT64 = 2**63
_MAX_DECIMAL_DIGITS = len(str(2 * _INT64))  # longer decimals are beyond ParseUint


def plain_tag(value: str) -> str:
    """The tag go-yaml v2 gives an unquoted, untagged scalar."""
    tag = _WORD_TAGS.get(value)
    if tag is not None:
        return tag
    first = value[:1]
    if first in _NUMBER_START:
        digits = value.replace("_", "")
        if _go_int(digits) is not None:
            return INT_TAG
        if _go_float(digits) is not None:
            return FLOAT_TAG
    elif first == "." and _go_float(value) is not None:
        return FLOAT_TAG
    return STR_TAG


def _go_int(digits: str) -> int | None:
    """The integer Go's ParseInt or, for large unsigned values, ParseUint reads; None
    where both fail (go-yaml then tries a float)."""
    match = _GO_INT.match(digits)
    if match is None:
        return None
    sign, body = match.groups()
    if len(body) > _MAX_DECIMAL_DIGITS and body[:1] != "0":
        return None  # out of range; also beyond what int() converts from decimal text
    number = int(body, 8) if body[:1] == "0" and body[1:2].isdigit() else int(body, 0)
    if sign == "-":
        return -number if number <= _INT64 else None
    return number if number < (_INT64 if sign else 2 * _INT64) else None


def read_int(text: str) -> int | float:
    """An ``!!int`` scalar; ValueError when it is none. Beyond a signed 64-bit integer
    (go-yaml's uint64) it is the float64 the API server's JSON decoding makes of it."""
    number = _go_int(text.replace("_", ""))
    if number is None:
        raise ValueError(text)
    return number if number < _INT64 else float(number)


class NotJsonError(ValueError):
    """A value go-yaml reads that JSON cannot carry, so kubectl refuses the file."""


def read_float(text: str) -> int | float:
    """A ``!!float`` scalar; ValueError when it is none. A whole number comes back as an
    int, as it reaches the API server (JSON ``80``, not ``80.0``). Infinities and NaN
    raise NotJsonError: kubectl's YAML-to-JSON step refuses them."""
    if text in _SPECIAL_FLOATS:
        raise NotJsonError(
            f'"{text}" is a YAML float (infinite or NaN) that JSON cannot carry: kubectl '
            f'refuses the file (json: unsupported value); quote it for the string "{text}"'
        )
    digits = text.replace("_", "")
    number = _go_int(digits)
    if number is not None:
        return number
    found = _go_float(digits)
    if found is None:
        raise ValueError(text)
    return found


def _go_float(digits: str) -> int | float | None:
    """The number Go's ParseFloat reads from go-yaml's float syntax, whole numbers as
    integers (``json_number``); None where the syntax differs or the number is beyond a
    float (ParseFloat's range error)."""
    if not _GO_FLOAT.match(digits):
        return None
    try:
        return json_number(digits)
    except ValueError:  # beyond a float
        return None


_SPECIAL_FLOAT_KEYS = {math.inf: ".inf", -math.inf: "-.inf"}


def number_key_text(tag: str, text: str) -> str:
    """A number as a mapping key, as sigs.k8s.io/yaml writes it into JSON: an integer in
    decimal (NotJsonError beyond a signed 64-bit one: kubectl refuses an uint64 key), a
    float as Go's FormatFloat(f, 'g', -1, 32) writes it (``1e6`` is "1e+06", ``80.0`` is
    "80", ``.inf`` is ".inf"). ValueError when ``text`` is not of ``tag``."""
    if tag == INT_TAG:
        number = _go_int(text.replace("_", ""))
        if number is None:
            raise ValueError(text)
        if number >= _INT64:
            raise NotJsonError(
                f"mapping key {text} is beyond a signed 64-bit integer: kubectl refuses the "
                f'file (unsupported map key of type: uint64); quote it for the key "{text}"'
            )
        return str(number)
    special = _SPECIAL_FLOATS.get(text)
    if special is not None:
        return ".nan" if math.isnan(special) else _SPECIAL_FLOAT_KEYS[special]
    digits = text.replace("_", "")
    whole = _go_int(digits)
    if whole is None and not _GO_FLOAT.match(digits):
        raise ValueError(text)
    value = float(whole if whole is not None else digits)
    if not math.isfinite(value):
        raise ValueError(text)  # beyond a float64: ParseFloat's range error
    return _go_float32_text(value)


def _go_float32_text(value: float) -> str:
    """Go's strconv.FormatFloat(value, 'g', -1, 32): the shortest digits that read back as
    the same float32, in %e form when the exponent is below -4 or at least 6."""
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        single = math.copysign(math.inf, value)
    if math.isinf(single):  # beyond a float32: Go rounds it to an infinity
        return _SPECIAL_FLOAT_KEYS[single]
    for precision in range(1, 10):
        text = f"{single:.{precision - 1}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            break
    mantissa, exponent_text = text.split("e")
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    exponent = int(exponent_text)
    sign = "-" if mantissa.startswith("-") else ""
    if exponent < -4 or exponent >= 6:
        shown = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{shown}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return f"{single:.{max(len(digits) - 1 - exponent, 0)}f}"


def read_bool(text: str) -> bool:
    """A ``!!bool`` scalar; ValueError when it is none."""
    try:
        return _BOOLS[text]
    except KeyError:
        raise ValueError(text) from None


def json_number(text: str) -> int | float:
    """A JSON or YAML float as the API server receives it: whole numbers as integers.
    ValueError for a number beyond a float, which Go's JSON decoder refuses."""
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"number {_shown(text)} is out of range")
    return int(number) if number.is_integer() and abs(number) < _INT64 else number


def json_integer(text: str) -> int | float:
    """A JSON integer; beyond a signed 64-bit one the float64 the API server's decoding
    makes of it; ValueError beyond a float, as Go's JSON decoder refuses it (and before
    Python's int() refuses thousands of digits)."""
    if len(text.lstrip("-")) > _MAX_DECIMAL_DIGITS:
        return json_number(text)
    number = int(text)
    return number if -_INT64 <= number < _INT64 else float(number)


def _shown(text: str) -> str:
    return text if len(text) <= 20 else f"{text[:10]}..."


def key_text(key: object) -> str | None:
    """A mapping key as sigs.k8s.io/yaml writes it into JSON: a string as it is, a boolean
    or a number as its text (``y: a`` is the key "true", ``80: a`` the key "80"); None for
    any other key (null, a list, a mapping), which kubectl refuses."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        if math.isnan(key):
            return ".nan"
        if math.isinf(key):
            return ".inf" if key > 0 else "-.inf"
        return repr(key)
    return None


def construct_merge(loader: Any, node: Any) -> str:
    """``<<`` as a value or list item: go-yaml merges only at a mapping key."""
    return str(node.value)


def construct(reader: Any) -> Any:
    """A PyYAML constructor that reads a scalar node's text with ``reader``."""
    return lambda loader, node: reader(node.value)


class KubectlResolver:
    """Tags as kubectl's reader gives them, for a PyYAML loader (what it reads) or dumper
    (what it must quote: a string such as "y" or "1e3" written plain would read back as
    something else).

    PyYAML's own resolver also serves path resolvers, which netpol never registers; the
    composer asks these of every node, so they are kept cheap.
    """

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if not implicit[0]:
                return STR_TAG
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                tag = plain_tag(value)
                if len(value) <= _PLAIN_TAGS_TEXT_MAX:  # a long text is not kept alive
                    _PLAIN_TAGS.keep(value, tag)
            return tag
        return SEQ_TAG if kind is yaml.SequenceNode else MAP_TAG


# The tag of each plain scalar text, judged once: a manifest repeats its keys, labels,
# ports and protocols, and the composer asks for the tag of every scalar (two million at
# 100,000 pods)
_PLAIN_TAGS: BoundedCache[str, str] = BoundedCache(100_000)
_PLAIN_TAGS_TEXT_MAX = 64


try:  # libyaml's emitter: a snapshot of 100,000 pods is large
    _BaseDumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseDumper = yaml.SafeDumper


class SafeDumper(KubectlResolver, _BaseDumper):
    """PyYAML's safe dumper, quoting every string kubectl would not read back as itself."""
