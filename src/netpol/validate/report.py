"""Collects the problems of one object, each with its field path, line, value and error type.

The typed accessors (``mapping``, ``sequence``, ``string``, ``integer``) are the decoder's
half of the API server: a value of the wrong type becomes a ``BadRequest`` diagnostic and
the accessor returns None, so validation carries on and every problem is reported at once.
YAML ``null`` is the same as an absent field, as in the API server's JSON decoding.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from netpol.load.fields import type_name
from netpol.load.scalars import key_text
from netpol.load.yamldoc import LocatedList, LocatedMap, RawDocument, locate
from netpol.model.diagnostics import Diagnostic, Severity

INT32_MAX = 2**31 - 1


class Report:
    """The diagnostics of one object (``obj`` = ``Kind/namespace/name``) of one document."""

    def __init__(self, doc: RawDocument, data: LocatedMap, obj: str) -> None:
        self.doc = doc
        self.data = data
        self.obj = obj
        self.diagnostics: list[Diagnostic] = []

    # -- findings ------------------------------------------------------------------------

    def add(
        self,
        reason: str,
        field: str,
        message: str,
        value: object = None,
        line: int = 0,
        severity: Severity = Severity.ERROR,
        excerpt: tuple[str, ...] = (),
    ) -> None:
        self.diagnostics.append(
            Diagnostic(
                severity,
                message,
                path=self.doc.path,
                line=line or locate(self.data, field) or self.data.line or self.doc.line,
                obj=self.obj,
                field=field,
                value=value,
                reason=reason,
                excerpt=excerpt,
            )
        )

    def required(self, field: str, detail: str = "", line: int = 0) -> None:
        self.add("Required", field, detail or "Required value", line=line)

    def invalid(self, field: str, value: object, detail: str, line: int = 0) -> None:
        self.add("Invalid", field, detail, value, line=line)

    def forbidden(self, field: str, detail: str, value: object = None) -> None:
        self.add("Forbidden", field, detail, value)

    def not_supported(self, field: str, value: object, supported: Sequence[str]) -> None:
        listed = ", ".join(f'"{s}"' for s in supported)
        self.add("NotSupported", field, f"supported values: {listed}", value)

    def duplicate(self, field: str, value: object) -> None:
        self.add("Duplicate", field, "Duplicate value", value)

    def bad_request(self, field: str, message: str, value: object = None, line: int = 0) -> None:
        self.add("BadRequest", field, message, value, line=line)

    def warning(self, field: str, message: str, value: object = None) -> None:
        self.add("Warning", field, message, value, severity=Severity.WARNING)

    def wrong_type(self, field: str, value: object, expected: str, line: int = 0) -> None:
        self.bad_request(field, f"must be {expected}, not {type_name(value)}", value, line)

    # -- typed access (the decoder) ------------------------------------------------------

    def mapping(self, value: object, field: str) -> LocatedMap | None:
        """``value`` if it is a mapping; None (reported unless null) otherwise."""
        if value is None or isinstance(value, LocatedMap):
            return value
        self.wrong_type(field, value, "a mapping (an object)")
        return None

    def sequence(self, value: object, field: str) -> list[Any]:
        """``value`` if it is a list; [] (reported unless null) otherwise."""
        if value is None:
            return []
        if isinstance(value, list):
            return value
        self.wrong_type(field, value, "a list")
        return []

    def string(self, value: object, field: str, line: int = 0) -> str | None:
        if value is None or isinstance(value, str):
            return value
        self.wrong_type(field, value, "a string", line)
        return None

    def item_string(self, value: object, field: str, line: int = 0) -> str | None:
        """A string item of a custom resource's list: its schema refuses a null item (a
        built-in type's decoder would read it as "")."""
        if value is None:
            self.bad_request(field, "must be a string, not null", line=line)
            return None
        return self.string(value, field, line)

    def integer(self, value: object, field: str) -> int | None:
        """An int32 (bools and floats are refused, as Go's JSON decoder refuses them)."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.wrong_type(field, value, "an integer")
            return None
        if not -(2**31) <= value <= INT32_MAX:
            self.bad_request(field, "does not fit in a 32-bit integer", value)
            return None
        return value

    def boolean(self, value: object, field: str) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        self.wrong_type(field, value, "a boolean (true or false)")
        return None

    def string_entries(self, value: object, field: str, what: str) -> list[tuple[str, str, int]]:
        """A ``map[string]string`` (labels, annotations, selectors) as (key, value, line).

        Non-string values are reported (``what`` names the entries: "label", "annotation")
        and left out; each entry's line is the line of its key.
        """
        data = self.mapping(value, field)
        if not data:
            return []
        out: list[tuple[str, str, int]] = []
        for key, item in data.items():
            line = data.key_lines.get(key, data.line)
            name = str(key)  # already a string: the reader spells keys as kubectl does
            if item is None:
                out.append((name, "", line))  # JSON null decodes to the empty string
            elif isinstance(item, str):
                out.append((name, item, line))
            else:
                self.bad_request(field, _not_a_string(what, name, item), item, line)
        return out

    def line_of_key(self, data: LocatedMap, key: object) -> int:
        return data.key_lines.get(key, data.line)

    def known_fields(
        self,
        data: LocatedMap,
        field: str,
        allowed: Sequence[str],
        hints: Mapping[str, str] | None = None,
    ) -> None:
        """Strict decoding (kubectl's default): a field the type does not have is an error.

        The message suggests the nearest allowed name, or ``hints[name]`` when given. An
        object an API server returned is not refused for it: the field is a newer API's, and
        a warning says that netpol ignores it.
        """
        for key in data:
            if key in allowed:
                continue
            name = str(key)
            if self.doc.served:
                path = f"{field}.{name}" if field else name
                self.warning(
                    path,
                    f'unknown field "{name}": the API server has it, this netpol does not; '
                    "ignored (upgrade netpol if it changes what is allowed)",
                )
                continue
            hint = (hints or {}).get(name) or _closest(name, allowed)
            path = f"{field}.{name}" if field else name
            message = f'unknown field "{name}"' + (f' (did you mean "{hint}"?)' if hint else "")
            self.bad_request(path, message, line=self.line_of_key(data, key))


def item_line(items: list[Any], index: int, default: int) -> int:
    if isinstance(items, LocatedList) and index < len(items.item_lines):
        return items.item_lines[index]
    return default


def _not_a_string(what: str, name: str, item: object) -> str:
    text = f'{what} "{name}" must be a string, not {type_name(item)}'
    if isinstance(item, bool | int | float):
        text += f': quote it ({name}: "{key_text(item)}")'
        if isinstance(item, bool):
            text += "; YAML reads unquoted true/false/yes/no/on/off/y/n as booleans"
    return text


def _closest(name: str, allowed: Sequence[str]) -> str | None:
    lowered = {a.lower(): a for a in allowed}
    if name.lower() in lowered:
        return lowered[name.lower()]
    match = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.75)
    return match[0] if match else None
