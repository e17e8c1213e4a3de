"""Lint findings as SARIF 2.1.0, so code-scanning tools show them on the YAML lines."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from netpol import __version__
from netpol.analysis.lint import Check, LintReport
from netpol.model.diagnostics import Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"  # the checkout the URIs are relative to
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _rule(check: Check) -> dict[str, object]:
    return {
        "id": check.id,
        "name": "".join(part.capitalize() for part in check.id.split("-")),
        "shortDescription": {"text": check.title},
        "fullDescription": {"text": check.description},
        "help": {
            "text": f"{check.description}\n\nFix: {check.hint}",
            "markdown": f"{check.description}\n\n**Fix:** {check.hint}",
        },
        "defaultConfiguration": {"level": LEVELS[check.severity]},
        "properties": {"tags": ["kubernetes", "networkpolicy"], "pitfall": check.pitfall},
    }


def _repository_root(directory: str) -> str | None:
    """The nearest enclosing directory with a ``.git`` (directory or worktree file)."""
    here = directory
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _artifact(path: str) -> dict[str, str]:
    """Where a finding is: relative to the repository root (what code scanning resolves
    against the checkout), wherever netpol ran from; else relative to the working
    directory; else an absolute ``file:`` URI."""
    if not path or path == "-":
        return {"uri": "stdin"}
    absolute = os.path.abspath(path)
    root = _repository_root(os.path.dirname(absolute))
    if root is not None:
        relative = os.path.relpath(absolute, root)
        return {"uri": Path(relative).as_posix(), "uriBaseId": SRCROOT}
    with contextlib.suppress(ValueError):  # another drive on Windows
        relative = os.path.relpath(absolute)
        if not relative.startswith(os.pardir):
            return {"uri": Path(relative).as_posix()}
    return {"uri": Path(absolute).as_uri()}


def lint_sarif(report: LintReport, catalogue: Sequence[Check]) -> str:
    """One run of the ``netpol`` driver: every catalogue rule, every finding as a result."""
    index = {c.id: i for i, c in enumerate(catalogue)}
    results = []
    for f in report.findings:
        message = f.message + (f" Fix: {f.hint}" if f.hint else "")
        result: dict[str, object] = {
            "ruleId": f.check,
            "ruleIndex": index[f.check],
            "level": LEVELS[f.severity],
            "message": {"text": message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": _artifact(f.path),
                        "region": {"startLine": max(f.line, 1)},
                    },
                    "logicalLocations": [
                        {"fullyQualifiedName": f"{f.obj}#{f.field}" if f.field else f.obj}
                    ],
                }
            ],
            "partialFingerprints": {"netpol/v1": f"{f.check}:{f.obj}:{f.field}"},
        }
        results.append(result)
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "netpol",
                        "version": __version__,
                        "rules": [_rule(c) for c in catalogue],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2)
