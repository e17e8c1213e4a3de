"""A Sequence whose items are made when they are read.

A verb at 100k pods holds sequences of millions of items (a default's violating pod pairs,
a diff's pod endpoints) of which a table reads a few: each is made when asked for, and the
whole sequence only by a full iteration (JSON output). The indexing rules (negative
indexes, slices, ``IndexError`` past the end) are written here once.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import TypeVar, overload

Item = TypeVar("Item")


class BuiltOnRead(Sequence[Item]):
    """Subclasses give ``__len__`` and ``_item``; ``_items`` may make a slice faster than
    item by item (a sequence made in order, which need not count itself first)."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def _item(self, index: int) -> Item:
        """The item at ``index`` (not negative); IndexError past the end."""

    def _items(self, index: slice) -> Sequence[Item]:
        return [self._item(i) for i in range(len(self))[index]]

    @overload
    def __getitem__(self, index: int) -> Item: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Item]: ...

    def __getitem__(self, index: int | slice) -> Item | Sequence[Item]:
        if isinstance(index, slice):
            return self._items(index)
        if index < 0:
            index += len(self)
            if index < 0:
                raise IndexError(index - len(self))
        return self._item(index)
