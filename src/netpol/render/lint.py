"""Lint findings as a table (with hints) or JSON."""

from __future__ import annotations

import json

from netpol.analysis.lint import LintReport
from netpol.model.diagnostics import Severity
from netpol.model.safe_text import MESSAGE_LIMIT, visible
from netpol.render.table import render_table


def lint_text(report: LintReport, hints: bool = True) -> str:
    """``file:line: severity [check] object field: message`` per finding, then a summary."""
    lines = []
    for f in report.findings:
        # file names and messages come from the input: each stays on its line
        where = visible(f"{f.obj} {f.field}".strip(), MESSAGE_LIMIT)
        location, message = visible(f.location, MESSAGE_LIMIT), visible(f.message, MESSAGE_LIMIT)
        lines.append(f"{location}: {f.severity.value} [{f.check}] {where}: {message}")
        if hints and f.hint:
            lines.append(f"    hint: {visible(f.hint, MESSAGE_LIMIT)}")
    lines.append(summary(report))
    return "\n".join(lines)


def lint_table(report: LintReport) -> str:
    rows = [
        (f.severity.value, f.check, f.location, f"{f.obj} {f.field}".strip(), f.message)
        for f in report.findings
    ]
    table = render_table(("severity", "check", "location", "object", "message"), rows)
    return f"{table}\n\n{summary(report)}" if rows else summary(report)


def summary(report: LintReport) -> str:
    counts = [
        f"{report.count(s)} {s.value}{'s' if report.count(s) != 1 else ''}"
        for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
    ]
    text = f"{len(report.checks)} checks: {', '.join(counts)}"
    if report.suppressed:
        text += f", {report.suppressed} silenced by annotation"
    reasons: dict[str, list[str]] = {}
    for check_id, why in report.skipped:
        if why != "disabled on the command line":
            reasons.setdefault(why, []).append(check_id)
    for why, ids in reasons.items():
        text += f"; skipped {', '.join(ids)}: {why}"
    return text


def lint_json(report: LintReport) -> str:
    document = {
        "kind": "LintReport",
        "summary": {s.value: report.count(s) for s in Severity} | {"suppressed": report.suppressed},
        "checks": [c.id for c in report.checks],
        "skipped": [{"check": c, "reason": why} for c, why in report.skipped],
        "findings": [f.to_json() for f in report.findings],
    }
    return json.dumps(document, indent=2)
