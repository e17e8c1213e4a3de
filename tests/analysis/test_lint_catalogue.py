"""docs/lint.md is generated from the catalogue; the committed file must be current."""

from __future__ import annotations

from pathlib import Path

from netpol.analysis.checks import CHECKS
from netpol.analysis.lint_catalogue import catalogue_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "lint.md"


def test_committed_catalogue_equals_the_generated_one() -> None:
    assert DOC.read_text() == catalogue_markdown(), (
        "docs/lint.md is stale: run `python3 -m netpol.analysis.lint_catalogue > docs/lint.md`"
    )


def test_catalogue_names_every_check() -> None:
    text = catalogue_markdown()
    for check in CHECKS:
        assert f"## {check.id}\n" in text
        assert check.hint in text
