"""Read once per distinct text: parts of documents that recur across thousands of objects.

A synthetic or a real cluster repeats itself: "from the namespaces labelled env=prod" in
every namespace's policies, one container spec in every replica of a Deployment. What the
loader reads from such a part is immutable (frozen model objects), so each distinct part,
as written, is read once and its result shared. A part with a problem is never remembered:
its FieldError names the field where it is written, so it is raised afresh each time.

Every such cache of the loader and the validator (parts read here, scalar tags, known
kinds, names and ipBlocks judged by the quick path) is a ``BoundedCache``: the one way
they stay small on a hostile input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

K = TypeVar("K")
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


class BoundedCache(dict[K, T]):
    """Answers remembered by key, never more than ``limit`` of them: keeping one more when
    full starts the cache over, so a hostile input's millions of distinct keys cost time,
    never memory. An answer is worked out from its key alone, so forgetting it is safe."""

    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def keep(self, key: K, value: T) -> T:
        """``value``, remembered under ``key``."""
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


class Memo(BoundedCache[Any, T]):
    """Parts read, by what is written (``written``), at most MEMO_LIMIT of them."""

    __slots__ = ()

    def __init__(self, limit: int = MEMO_LIMIT) -> None:
        super().__init__(limit)

    def read(self, key: Any, read: Callable[..., T], *args: Any) -> T:
        """``read(*args)``, remembered under ``key``; a None key is never remembered."""
        if key is None:
            return read(*args)
        found = self.get(key)
        if found is None:
            found = self.keep(key, read(*args))  # a FieldError propagates: nothing kept
        return found
