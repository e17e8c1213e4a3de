"""lint output: text with hints (golden), table and the JSON contract."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from netpol.analysis.checks import CHECKS
from netpol.analysis.lint import LintReport, run_checks
from netpol.engine.compile import compile_cluster
from netpol.model.options import Options
from netpol.render.lint import lint_json, lint_table, lint_text
from netpol.validate.pipeline import load_cluster

REPO = Path(__file__).resolve().parents[2]


def report(example: str) -> LintReport:
    options = Options()
    result = load_cluster([f"examples/{example}"], options)
    return run_checks(compile_cluster(result.cluster, options), CHECKS)


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@pytest.mark.parametrize("example", ["tutorial", "three-tier"])
def test_lint_text(example: str, golden: Callable[[str, str], None]) -> None:
    golden(f"lint_{example}.txt", lint_text(report(example)))


def test_lint_table_lists_location_and_check() -> None:
    text = lint_table(report("tutorial"))
    assert text.splitlines()[0].split() == ["SEVERITY", "CHECK", "LOCATION", "OBJECT", "MESSAGE"]
    assert "examples/tutorial/05-revised-backend-netpol.yaml:17" in text
    assert text.splitlines()[-1] == "36 checks: 0 errors, 2 warnings, 3 infos"


def test_lint_json_contract() -> None:
    document = json.loads(lint_json(report("tutorial")))
    assert document["kind"] == "LintReport"
    assert document["summary"] == {"error": 0, "warning": 2, "info": 3, "suppressed": 0}
    finding = next(f for f in document["findings"] if f["check"] == "peer-selects-nothing")
    assert finding == {
        "check": "peer-selects-nothing",
        "severity": "warning",
        "message": finding["message"],
        "object": "NetworkPolicy/app1-ns/backend-policy",
        "field": "spec.ingress[0].from[0]",
        "file": "examples/tutorial/05-revised-backend-netpol.yaml",
        "line": 17,
        "hint": finding["hint"],
    }
