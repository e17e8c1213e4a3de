"""Verify reports as a table with the evidence of each failure, and as JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable
from json.encoder import encode_basestring_ascii

from netpol.analysis.verify import (
    ERROR,
    FAIL,
    PASS,
    DefaultResult,
    DefaultViolation,
    ExpectationResult,
    PairCheck,
    VerifyReport,
)
from netpol.engine.explain import Explanation
from netpol.engine.ports import ConnectionSet
from netpol.model.safe_text import MESSAGE_LIMIT, visible
from netpol.render.explain import explanation_json, explanation_text
from netpol.render.json_text import Deferred, Encoded, Record, dumps, encoded, items_at
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


class _Sets:
    """Each connection set's JSON and text, written once per report: the pairs of a large
    report share a few hundred sets (keyed by identity, the set kept alive beside its text
    so that its id is never reused)."""

    def __init__(self) -> None:
        self._found: dict[int, tuple[ConnectionSet, Encoded, str, str]] = {}
        self._placed: dict[tuple[int, int], str] = {}

    def _of(self, connections: ConnectionSet) -> tuple[ConnectionSet, Encoded, str, str]:
        found = self._found.get(id(connections))
        if found is None:
            text = connections.text()
            found = (connections, encoded(connections.to_json()), text, dumps(text))
            self._found[id(connections)] = found
        return found

    def json(self, connections: ConnectionSet, depth: int) -> str:
        """``connections.to_json()`` written ``depth`` levels deep."""
        key = (id(connections), depth)
        placed = self._placed.get(key)
        if placed is None:
            placed = self._placed[key] = self._of(connections)[1].at(depth)
        return placed

    def text(self, connections: ConnectionSet) -> str:
        """``connections.text()`` as a JSON string."""
        return self._of(connections)[3]


PAIR = Record(
    "src",
    "dst",
    "ok",
    "required",
    "requiredText",
    "allowed",
    "allowedText",
    "offendingText",
    "via",
    "evidence",
)
VIOLATION = Record("src", "dst", "unlisted", "unlistedText", "allowedText", "evidence")


def _evidence_at(explanation: Explanation | None, depth: int) -> str:
    if explanation is None:
        return "null"
    return Encoded(json.dumps(evidence_json(explanation), indent=2)).at(depth)  # shares nothing


def _string(text: str | None) -> str:
    """A JSON string (``null`` for None or empty), as json.dumps writes it."""
    return encode_basestring_ascii(text) if text else "null"


def _pairs_json(pairs: tuple[PairCheck, ...], sets: _Sets, depth: int) -> str:
    inner = depth + 2  # the values of each pair object
    return items_at(
        (
            PAIR.write(
                (
                    _string(p.src.id),
                    _string(p.dst.id),
                    "true" if p.ok else "false",
                    sets.json(p.required, inner),
                    sets.text(p.required),
                    sets.json(p.allowed, inner),
                    sets.text(p.allowed),
                    sets.text(p.offending),
                    _string(p.via()),
                    _evidence_at(p.evidence, inner),
                ),
                depth + 1,
            )
            for p in pairs
        ),
        depth,
    )


def result_json(r: ExpectationResult, sets: _Sets | None = None) -> dict[str, object]:
    """One expectation as ``-o json`` writes it, for ``json_text.dumps`` (its pairs are
    written where they are placed, the connection sets they share once)."""
    e = r.expectation
    shared = sets or _Sets()
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
        "pairs": Deferred(lambda depth: _pairs_json(r.pairs, shared, depth)),
    }


def _violations_json(violations: Iterable[DefaultViolation], sets: _Sets, depth: int) -> str:
    inner = depth + 2
    return items_at(
        (
            VIOLATION.write(
                (
                    _string(v.src.id),
                    _string(v.dst.id),
                    sets.json(v.extra, inner),
                    sets.text(v.extra),
                    sets.text(v.allowed),
                    _evidence_at(v.evidence, inner),
                ),
                depth + 1,
            )
            for v in violations
        ),
        depth,
    )


def default_json(d: DefaultResult, sets: _Sets | None = None) -> dict[str, object]:
    """The default as ``-o json`` writes it, for ``json_text.dumps``."""
    shared = sets or _Sets()
    return {
        "default": d.default,
        "scope": list(d.scope),
        "status": d.status,
        "pairsChecked": d.pairs_checked,
        "violations": Deferred(lambda depth: _violations_json(d.violations, shared, depth)),
    }


def verify_json(report: VerifyReport) -> str:
    sets = _Sets()
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
        "results": [result_json(r, sets) for r in report.results],
        "default": default_json(report.default, sets) if report.default is not None else None,
    }
    return dumps(document)  # json.dumps(document, indent=2), the shared sets written once
