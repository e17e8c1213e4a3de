"""Lint findings as SARIF 2.1.0, so code-scanning tools show them on the YAML lines."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence

from netpol import __version__
from netpol.analysis.lint import Check, LintReport
from netpol.model.diagnostics import Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
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


def _uri(path: str) -> str:
    """A relative, forward-slash URI (what code scanning resolves against the checkout)."""
    if not path or path == "-":
        return "stdin"
    if os.path.isabs(path):
        with contextlib.suppress(ValueError):  # another drive on Windows: keep it absolute
            path = os.path.relpath(path)
    return path.replace(os.sep, "/")


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
                        "artifactLocation": {"uri": _uri(f.path)},
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
