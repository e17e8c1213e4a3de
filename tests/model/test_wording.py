"""The shared phrases."""

import pytest

from netpol.model.wording import first_few


@pytest.mark.parametrize(
    ("items", "limit", "text"),
    [
        ((), 3, ""),
        (("a",), 3, "a"),
        (("a", "b", "c"), 3, "a, b, c"),
        (("a", "b", "c", "d", "e"), 3, "a, b, c and 2 more"),
        (("a", "b"), 1, "a and 1 more"),
    ],
)
def test_first_few(items: tuple[str, ...], limit: int, text: str) -> None:
    assert first_few(items, limit) == text
