"""verify output: the table with PASS/FAIL and the explain evidence (golden), and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from netpol.analysis.expectations import read_expectations
from netpol.analysis.verify import VerifyReport, verify
from netpol.engine.compile import CompiledCluster
from netpol.render.verify import verify_json, verify_text

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def report(
    compile_example: Callable[..., CompiledCluster], monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], VerifyReport]:
    monkeypatch.chdir(REPO)

    def make(example: str) -> VerifyReport:
        expectations = read_expectations(f"examples/{example}/expectations.yaml")
        return verify(compile_example(example), expectations)

    return make


@pytest.mark.parametrize("example", ["tutorial", "three-tier"])
def test_verify_text(
    example: str, report: Callable[[str], VerifyReport], golden: Callable[[str, str], None]
) -> None:
    golden(f"verify_{example}.txt", verify_text(report(example)))


def test_verify_text_shows_actual_verdict_and_evidence(
    report: Callable[[str], VerifyReport],
) -> None:
    text = verify_text(report("tutorial"))
    row = next(line for line in text.splitlines() if line.startswith("FAIL "))
    assert "frontend reaches backend" in row and row.rstrip().endswith("allow    denied")
    assert "Ingress to app1-ns/backend-deploy" in text
    assert "role=web does not match" in text
    assert text.splitlines()[-1] == "FAIL: 10 passed, 1 failed, 0 errors"


def test_verify_json_contract(report: Callable[[str], VerifyReport]) -> None:
    document = json.loads(verify_json(report("tutorial")))
    assert document["kind"] == "VerifyReport" and document["passed"] is False
    assert document["summary"] == {"passed": 10, "failed": 1, "errors": 0}
    failed = [r for r in document["results"] if r["status"] == "fail"]
    assert [r["name"] for r in failed] == ["frontend reaches backend"]
    (pair,) = failed[0]["pairs"]
    assert pair["offendingText"] == "TCP 5678" and pair["allowedText"] == "No Connections"
    assert pair["evidence"]["ingress"]["policies"] == ["app1-ns/backend-policy"]
    assert document["default"] is None
    three = json.loads(verify_json(report("three-tier")))
    assert three["default"]["status"] == "pass" and three["default"]["scope"] == ["app1-ns"]
