"""Lab versus engine: for many seeded random clusters and policy sets, the matrix observed on
real packets equals the engine's, pair by pair and port by port."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from tests.lab.conftest import lab_name, requires_lab
from tests.lab.generator import random_case

from netpol.lab import lifecycle
from netpol.lab.truth import describe_cell
from netpol.model.options import PROFILES, Options

pytestmark = [pytest.mark.lab, requires_lab, pytest.mark.usefixtures("host_untouched")]

CASES = 200
CILIUM_CASES = 30


def _lab(tag: str, profile: str) -> Iterator[str]:
    name = lab_name(tag)
    lifecycle.up_objects(random_case(0), name, Options(profile=PROFILES[profile]))
    try:
        yield name
    finally:
        lifecycle.down(name)


@pytest.fixture(scope="module")
def lab() -> Iterator[str]:
    yield from _lab("diff", "upstream")


@pytest.fixture(scope="module")
def cilium_lab() -> Iterator[str]:
    yield from _lab("dcil", "cilium")


def check(lab: str, seed: int) -> None:
    objects = random_case(seed)
    lifecycle.replace(objects, lab)
    report, _ = lifecycle.probe_lab(lab, timeout=2.0, reference=True)
    assert len(report.cells) > 20
    problems = [describe_cell(c, report.labels) for c in report.disagreements]
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
