"""Guards against vacuous property tests: the strategies must reach the cases that matter.

Derandomized examples depend on the Hypothesis version and on the test's own code, so a
guard that only looks at the first draws breaks on an upgrade although the strategy is
as good as before. ``unreached`` looks at the first draws (those the agreement tests see
too) and then searches further for whatever they missed, without shrinking: only
reaching a shape matters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import Phase, given, settings
from hypothesis import strategies as st


class _Reached(Exception):
    pass


def _search(strategy: st.SearchStrategy[Any], reaches: Callable[[Any], bool], budget: int) -> bool:
    @settings(max_examples=budget, deadline=None, derandomize=True, phases=[Phase.generate])
    @given(strategy)
    def look(example: Any) -> None:
        if reaches(example):
            raise _Reached

    try:
        look()
    except _Reached:
        return True
    return False


def unreached(
    strategy: st.SearchStrategy[Any],
    shapes: Callable[[Any], set[str]],
    required: set[str],
    first: int,
    budget: int = 1500,
) -> set[str]:
    """The required shapes that neither the first ``first`` examples nor a further
    search of ``budget`` examples per missing shape produce."""
    seen: set[str] = set()

    @settings(max_examples=first, deadline=None, derandomize=True)
    @given(strategy)
    def observe(example: Any) -> None:
        seen.update(shapes(example))

    observe()
    return {
        shape for shape in required - seen if not _search_shape(strategy, shapes, shape, budget)
    }


def _search_shape(
    strategy: st.SearchStrategy[Any], shapes: Callable[[Any], set[str]], shape: str, budget: int
) -> bool:
    return _search(strategy, lambda example: shape in shapes(example), budget)
