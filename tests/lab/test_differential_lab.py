"""Lab versus engine: for many seeded random clusters and policy sets, the matrix observed on
real packets equals the engine's, pair by pair and port by port."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from tests.lab.conftest import probed_against_engine, random_lab, requires_lab
from tests.lab.generator import random_case

pytestmark = [pytest.mark.lab, requires_lab, pytest.mark.usefixtures("host_untouched")]

CASES = 200
CILIUM_CASES = 30


@pytest.fixture(scope="module")
def lab() -> Iterator[str]:
    yield from random_lab("diff", random_case(0), "upstream")


@pytest.fixture(scope="module")
def cilium_lab() -> Iterator[str]:
    yield from random_lab("dcil", random_case(0), "cilium")


def check(lab: str, seed: int) -> None:
    objects = random_case(seed)
    _, _, problems = probed_against_engine(lab, objects)
    assert not problems, (
        f"seed {seed}: the lab disagrees with the engine:\n  "
        + "\n  ".join(problems)
        + "\nobjects:\n"
        + json.dumps(objects, indent=1)
    )


@pytest.mark.parametrize("seed", range(CASES))
def test_lab_matrix_equals_engine_matrix(lab: str, seed: int) -> None:
    check(lab, seed)


@pytest.mark.parametrize("seed", range(1000, 1000 + CILIUM_CASES))
def test_lab_matrix_equals_engine_matrix_under_cilium(cilium_lab: str, seed: int) -> None:
    check(cilium_lab, seed)
