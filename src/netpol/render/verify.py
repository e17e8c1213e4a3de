"""Verify reports as a table with the evidence of each failure, and as JSON."""

from __future__ import annotations

import json

from netpol.analysis.verify import (
    ERROR,
    FAIL,
    PASS,
    DefaultResult,
    ExpectationResult,
    PairCheck,
    VerifyReport,
)
from netpol.engine.explain import Explanation
from netpol.model.safe_text import MESSAGE_LIMIT, visible
from netpol.render.explain import explanation_json, explanation_text
from netpol.render.table import render_table

MAX_LISTED = 20  # failing pairs listed per expectation in text output


def evidence_json(explanation: Explanation | None) -> object:
    """One flow of ``netpol explain -o json`` (the same contract), or None."""
    if explanation is None:
        return None
    flows = explanation_json([explanation])["flows"]
    assert isinstance(flows, list)
    return flows[0]


def _status(status: str) -> str:
    return status.upper()


def pair_text(pair: PairCheck) -> str:
    word = "needs" if pair.expect == "allow" else "must not allow"
    return (
        f"{pair.src.id} -> {pair.dst.id}: {word} {pair.offending.text()}; "
        f"allowed: {pair.allowed.text()}"
    )


def verify_text(report: VerifyReport, verbose: bool = False) -> str:
    """One row per expectation (PASS/FAIL/ERROR), then why each failure failed."""
    rows = []
    for r in report.results:
        e = r.expectation
        rows.append(
            (
                _status(r.status),
                e.name,
                e.src.text(),
                e.dst.text(),
                e.ports_text,
                e.expect,
                r.actual,
            )
        )
    if report.default is not None:
        d = report.default
        rows.append(
            (
                _status(d.status),
                d.name,
                "*",
                "*",
                "all",
                d.default,
                f"{len(d.violations)} pair(s) differ"
                if d.violations
                else f"{d.pairs_checked} pairs ok",
            )
        )
    blocks = [
        render_table(("result", "expectation", "from", "to", "ports", "expect", "actual"), rows)
    ]
    for r in report.results:
        if r.status != PASS or verbose:
            blocks.append(_detail(r))
    if report.default is not None and report.default.violations:
        blocks.append(_default_detail(report.default))
    counts = report.counts
    summary = (
        f"{counts.get(PASS, 0)} passed, {counts.get(FAIL, 0)} failed, {counts.get(ERROR, 0)} errors"
    )
    blocks.append(f"{'PASS' if report.passed else 'FAIL'}: {summary}")
    return "\n\n".join(b for b in blocks if b)


def _detail(r: ExpectationResult) -> str:
    e = r.expectation
    head = f"{_status(r.status)} {visible(e.name)} (expectations line {e.line})"
    if r.status == ERROR:
        return f"{head}\n  error: {visible(r.error, MESSAGE_LIMIT)}"
    lines = [head]
    failures = r.failures
    for pair in failures[:MAX_LISTED]:
        lines.append("  " + pair_text(pair))
    if len(failures) > MAX_LISTED:
        lines.append(f"  ... and {len(failures) - MAX_LISTED} more pairs")
    for pair in failures:
        if pair.evidence is not None:
            lines.append(_indent(explanation_text([pair.evidence]), "  "))
    if r.status == PASS:
        for pair in r.pairs:
            lines.append(f"  {pair.src.id} -> {pair.dst.id}: allowed {pair.allowed.text()}")
    return "\n".join(lines)


def _default_detail(d: DefaultResult) -> str:
    word = (
        "allowed but listed by no allow expectation"
        if d.default == "deny"
        else "denied but listed by no deny expectation"
    )
    lines = [f"FAIL {visible(d.name)}: {len(d.violations)} pod pair(s) {word}"]
    for v in d.violations[:MAX_LISTED]:
        lines.append(f"  {v.src.id} -> {v.dst.id}: {v.extra.text()}")
    if len(d.violations) > MAX_LISTED:
        lines.append(f"  ... and {len(d.violations) - MAX_LISTED} more pairs")
    shown = d.explained[:3]
    for v in shown:
        assert v.evidence is not None
        lines.append(_indent(explanation_text([v.evidence]), "  "))
    return "\n".join(lines)


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def _pair_json(pair: PairCheck) -> dict[str, object]:
    return {
        "src": pair.src.id,
        "dst": pair.dst.id,
        "ok": pair.ok,
        "required": pair.required.to_json(),
        "requiredText": pair.required.text(),
        "allowed": pair.allowed.to_json(),
        "allowedText": pair.allowed.text(),
        "offendingText": pair.offending.text(),
        "via": pair.via() or None,
        "evidence": evidence_json(pair.evidence),
    }


def result_json(r: ExpectationResult) -> dict[str, object]:
    e = r.expectation
    return {
        "index": e.index,
        "name": e.name,
        "line": e.line,
        "from": e.src.text(),
        "to": e.dst.text(),
        "ports": [p.text() for p in e.ports],
        "expect": e.expect,
        "status": r.status,
        "actual": r.actual,
        "error": r.error or None,
        "pairs": [_pair_json(p) for p in r.pairs],
    }


def default_json(d: DefaultResult) -> dict[str, object]:
    return {
        "default": d.default,
        "scope": list(d.scope),
        "status": d.status,
        "pairsChecked": d.pairs_checked,
        "violations": [
            {
                "src": v.src.id,
                "dst": v.dst.id,
                "unlisted": v.extra.to_json(),
                "unlistedText": v.extra.text(),
                "allowedText": v.allowed.text(),
                "evidence": evidence_json(v.evidence),
            }
            for v in d.violations
        ],
    }


def verify_json(report: VerifyReport) -> str:
    document = {
        "kind": "VerifyReport",
        "expectations": report.path,
        "profile": report.profile,
        "passed": report.passed,
        "summary": {
            "passed": report.counts.get(PASS, 0),
            "failed": report.counts.get(FAIL, 0),
            "errors": report.counts.get(ERROR, 0),
        },
        "results": [result_json(r) for r in report.results],
        "default": default_json(report.default) if report.default is not None else None,
    }
    return json.dumps(document, indent=2)
