"""Typed reads of raw YAML values: a wrong type ends the object with a reason, never a crash."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Set
from dataclasses import dataclass
from typing import Any

from netpol.model.objects import PROTOCOLS


class FieldError(Exception):
    """The object cannot be built: ``field`` (a path such as ``spec.ports[0]``) is wrong."""

    def __init__(self, field: str, message: str, value: object = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.value = value


@dataclass(frozen=True, slots=True)
class FieldWarning:
    """The object is built, but ``field`` says something netpol cannot model (a Calico
    source-port or HTTP match): the loader turns it into a warning diagnostic."""

    field: str
    message: str
    value: object = None


_TYPE_NAMES = {
    "LocatedMap": "a mapping",
    "DecodedMap": "a mapping",
    "dict": "a mapping",
    "LocatedList": "a list",
    "list": "a list",
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "NoneType": "null",
    "bytes": "binary data",
}


def type_name(value: object) -> str:
    """What a YAML reader calls the value's type, with its article: "an integer"."""
    return _TYPE_NAMES.get(type(value).__name__, f"a {type(value).__name__}")


def unknown_key(data: Mapping[Any, Any], known: Collection[str]) -> tuple[str, str] | None:
    """The first key of ``data`` (in sorted order) that is not ``known``, with the message
    that names it and the known keys (a set is listed sorted, a sequence as given); None
    when every key is known."""
    unknown = sorted(str(k) for k in data if k not in known)
    if not unknown:
        return None
    listed = sorted(known) if isinstance(known, Set) else known
    return unknown[0], f"unknown key {unknown[0]!r} (known: {', '.join(listed)})"


def api_group(api_version: object) -> str:
    """The API group of an ``apiVersion`` ("" for the core group, or when it is no string)."""
    return api_version.rpartition("/")[0] if isinstance(api_version, str) else ""


def mapping(value: Any, field: str) -> Mapping[Any, Any]:
    """A mapping; absent (None) reads as empty."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise FieldError(field, f"must be a mapping, not {type_name(value)}", value)


def sequence(value: Any, field: str) -> list[Any]:
    """A list; absent (None) reads as empty."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise FieldError(field, f"must be a list, not {type_name(value)}", value)


def string(value: Any, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise FieldError(field, f"must be a string, not {type_name(value)}", value)


def integer(value: Any, field: str) -> int | None:
    """An integer (YAML booleans are not integers, whatever Python thinks)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise FieldError(field, f"must be an integer, not {type_name(value)}", value)


def required_integer(data: Mapping[Any, Any], key: str, field: str) -> int:
    """``data[key]``, an integer that must be there (``field`` is the path of ``data``)."""
    number = integer(data.get(key), f"{field}.{key}")
    if number is None:
        raise FieldError(f"{field}.{key}", "is required")
    return number


def port_protocol(value: Any, field: str) -> str:
    """A port's protocol: TCP, UDP or SCTP; absent reads as TCP."""
    name = string(value, field) or "TCP"
    if name not in PROTOCOLS:
        raise FieldError(field, f"must be one of {', '.join(PROTOCOLS)}", name)
    return name


def boolean(value: Any, field: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise FieldError(field, f"must be true or false, not {type_name(value)}", value)


def strings(value: Any, field: str) -> tuple[str, ...]:
    """``[]string``; a null item reads as "", as the API server's JSON decoding reads it."""
    items = ["" if item is None else item for item in sequence(value, field)]
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise FieldError(f"{field}[{i}]", f"must be a string, not {type_name(item)}", item)
    return tuple(items)


def string_map(value: Any, field: str) -> dict[str, str]:
    """``map[string]string`` (labels, annotations, selectors); null values read as ""."""
    data = mapping(value, field)
    out: dict[str, str] = {}
    for key, item in data.items():
        if not isinstance(key, str):
            raise FieldError(field, f"key {key!r} must be a string, not {type_name(key)}", key)
        if item is None:
            item = ""
        elif not isinstance(item, str):
            raise FieldError(
                f"{field}.{key}",
                f"must be a string, not {type_name(item)} (quote it)",
                item,
            )
        out[key] = item
    return out
