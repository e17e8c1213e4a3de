"""The guard helper searches past the first draws and reports what it never reaches."""

from hypothesis import strategies as st

from .reach import unreached


def parity(n: int) -> set[str]:
    return {"even" if n % 2 == 0 else "odd", *(["seven"] if n == 7 else [])}


def test_a_shape_the_first_draws_miss_is_searched_for() -> None:
    assert unreached(st.integers(0, 60), parity, {"even", "odd", "seven"}, first=1) == set()


def test_a_shape_no_example_has_is_reported() -> None:
    assert unreached(st.integers(0, 60), parity, {"odd", "eight"}, first=5, budget=50) == {"eight"}
