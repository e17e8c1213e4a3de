"""A BuiltOnRead sequence indexes and slices as a list of the same items does, and makes
only the items read."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.analysis.built_on_read import BuiltOnRead


class Squares(BuiltOnRead[int]):
    def __init__(self, length: int) -> None:
        self.length = length
        self.made: list[int] = []

    def __len__(self) -> int:
        return self.length

    def _item(self, index: int) -> int:
        if index >= self.length:
            raise IndexError(index)
        self.made.append(index)
        return index * index


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.integers(0, 12),
    st.one_of(st.none(), st.integers(-15, 15)),
    st.one_of(st.none(), st.integers(-15, 15)),
    st.one_of(st.none(), st.integers(-4, 4).filter(lambda step: step != 0)),
)
def test_slices_are_those_of_a_list(
    length: int, start: int | None, stop: int | None, step: int | None
) -> None:
    expected = [i * i for i in range(length)]
    assert list(Squares(length)[start:stop:step]) == expected[start:stop:step]


@pytest.mark.parametrize("index", [0, 1, 4, -1, -5])
def test_an_index_inside_is_that_of_a_list(index: int) -> None:
    assert Squares(5)[index] == [0, 1, 4, 9, 16][index]


@pytest.mark.parametrize("index", [5, 6, -6, -100])
def test_an_index_outside_raises_index_error(index: int) -> None:
    with pytest.raises(IndexError):
        Squares(5)[index]


def test_only_the_items_read_are_made() -> None:
    squares = Squares(1000)
    assert squares[3] == 9 and squares[-1] == 999 * 999
    assert squares.made == [3, 999]


def test_iteration_and_membership_come_from_the_items() -> None:
    assert list(Squares(4)) == [0, 1, 4, 9]
    assert 9 in Squares(4) and 16 not in Squares(4)
