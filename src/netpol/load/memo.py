"""Read once per distinct text: parts of documents that recur across thousands of objects.

A synthetic or a real cluster repeats itself: "from the namespaces labelled env=prod" in
every namespace's policies, one container spec in every replica of a Deployment. What the
loader reads from such a part is immutable (frozen model objects), so each distinct part,
as written, is read once and its result shared. A part with a problem is never remembered:
its FieldError names the field where it is written, so it is raised afresh each time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

MEMO_LIMIT = 50_000  # a hostile input's many distinct parts make a memo start over
MEMO_TEXT_MAX = 4096  # characters of a part's text, at most, for it to be remembered


def written(value: Any) -> str | None:
    """What tells ``value`` apart from any other: its repr, exact for what the readers
    produce (strings, numbers, booleans, null, mappings and lists: ``1``, ``True``,
    ``1.0`` and ``"1"`` all differ); None when it cannot tell (a cycle prints as ``...``)."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an int past str()'s digit limit, deep nesting
        return None
    if len(text) > MEMO_TEXT_MAX or "..." in text:
        return None  # a long part (a script, a huge list) is rarely repeated: not kept
    return text


class Memo(Generic[T]):
    """Results by key, at most MEMO_LIMIT of them."""

    __slots__ = ("found",)

    def __init__(self) -> None:
        self.found: dict[Any, T] = {}

    def read(self, key: Any, read: Callable[..., T], *args: Any) -> T:
        """``read(*args)``, remembered under ``key``; a None key is never remembered."""
        if key is None:
            return read(*args)
        found = self.found.get(key)
        if found is None:
            found = read(*args)  # a FieldError propagates, and nothing is remembered
            if len(self.found) >= MEMO_LIMIT:
                self.found.clear()
            self.found[key] = found
        return found

    def clear(self) -> None:
        self.found.clear()
