"""Connectivity diffs as a table, JSON, Markdown (for a pull-request comment) or CSV."""

from __future__ import annotations

import csv
import io
import json

from netpol.analysis.diff import DiffReport, PairChange
from netpol.engine.ports import ConnectionSet
from netpol.render.explain import explanation_text
from netpol.render.table import render_table
from netpol.render.verify import evidence_json

MIXED = "*"  # the members of a group pair do not all agree


def _set(conns: ConnectionSet, mixed: bool = False) -> str:
    if conns.is_empty:
        return "-"
    text = "all" if conns.is_all else conns.text()
    return text + (MIXED if mixed else "")


def _row(c: PairChange) -> tuple[str, ...]:
    return (
        c.change,
        c.src.id,
        c.dst.id,
        _set(c.before, c.mixed_before),
        _set(c.after, c.mixed_after),
        _set(c.lost),
        _set(c.kept),
        _set(c.gained),
    )


HEADERS = ("change", "source", "destination", "before", "after", "lost", "kept", "gained")


def diff_text(report: DiffReport) -> str:
    if not report.changes:
        return (
            f"no connectivity change ({report.pairs_compared} {report.granularity} pairs compared)"
        )
    blocks = [render_table(HEADERS, [_row(c) for c in report.changes])]
    if any(c.mixed_before or c.mixed_after for c in report.changes):
        blocks.append(
            f"{MIXED} the pods of this {report.granularity} pair do not all agree; the set shown is their union"
        )
    blocks.append(_endpoint_notes(report))
    for c in report.changes:
        if c.evidence_before is None and c.evidence_after is None:
            continue
        lines = [f"{c.change} {c.src.id} -> {c.dst.id}:"]
        for label, e in (
            (report.old_label, c.evidence_before),
            (report.new_label, c.evidence_after),
        ):
            if e is None:
                lines.append(f"  {label}: (no such pair)")
                continue
            lines.append(f"  {label}:")
            lines += ["    " + line for line in explanation_text([e]).splitlines()]
        blocks.append("\n".join(lines))
    blocks.append(_summary(report))
    return "\n\n".join(b for b in blocks if b)


def _endpoint_notes(report: DiffReport) -> str:
    lines = []
    if report.only_old:
        lines.append(f"only in {report.old_label}: {', '.join(report.only_old)}")
    if report.only_new:
        lines.append(f"only in {report.new_label}: {', '.join(report.only_new)}")
    return "\n".join(lines)


def _summary(report: DiffReport) -> str:
    counts = {
        k: sum(1 for c in report.changes if c.change == k) for k in ("added", "removed", "changed")
    }
    return (
        f"{len(report.changes)} {report.granularity} pairs differ: {counts['added']} added, "
        f"{counts['removed']} removed, {counts['changed']} changed "
        f"({report.old_label} -> {report.new_label})"
    )


def diff_json(report: DiffReport) -> str:
    document = {
        "kind": "ConnectivityDiff",
        "granularity": report.granularity,
        "old": report.old_label,
        "new": report.new_label,
        "changed": report.changed,
        "pairsCompared": report.pairs_compared,
        "onlyOld": list(report.only_old),
        "onlyNew": list(report.only_new),
        "changes": [
            {
                "change": c.change,
                "src": c.src.id,
                "srcKind": c.src.kind,
                "dst": c.dst.id,
                "dstKind": c.dst.kind,
                "before": c.before.to_json(),
                "beforeText": c.before.text(),
                "after": c.after.to_json(),
                "afterText": c.after.text(),
                "lost": c.lost.to_json(),
                "lostText": c.lost.text(),
                "kept": c.kept.to_json(),
                "keptText": c.kept.text(),
                "gained": c.gained.to_json(),
                "gainedText": c.gained.text(),
                "mixedBefore": c.mixed_before,
                "mixedAfter": c.mixed_after,
                "evidenceBefore": evidence_json(c.evidence_before),
                "evidenceAfter": evidence_json(c.evidence_after),
            }
            for c in report.changes
        ],
    }
    return json.dumps(document, indent=2)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def diff_markdown(report: DiffReport) -> str:
    """A pull-request comment: a summary line, the table, evidence folded in <details>."""
    if not report.changes:
        return f"**netpol diff**: no connectivity change ({report.pairs_compared} {report.granularity} pairs compared)."
    lines = [f"**netpol diff**: {_summary(report)}", ""]
    lines.append("| " + " | ".join(h.capitalize() for h in HEADERS) + " |")
    lines.append("|" + "---|" * len(HEADERS))
    for c in report.changes:
        cells = list(_row(c))
        cells[1], cells[2] = f"`{cells[1]}`", f"`{cells[2]}`"
        lines.append("| " + " | ".join(_md_cell(x) for x in cells) + " |")
    notes = _endpoint_notes(report)
    if notes:
        lines += ["", notes]
    evidence = [c for c in report.changes if c.evidence_before or c.evidence_after]
    if evidence:
        lines += ["", "<details><summary>Evidence</summary>", ""]
        for c in evidence:
            lines.append(f"**{c.change}** `{c.src.id}` -> `{c.dst.id}`")
            lines.append("```")
            for label, e in (
                (report.old_label, c.evidence_before),
                (report.new_label, c.evidence_after),
            ):
                lines.append(f"{label}:")
                lines.append(explanation_text([e]) if e is not None else "  (no such pair)")
            lines.append("```")
        lines += ["", "</details>"]
    return "\n".join(lines)


def diff_csv(report: DiffReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["change", "src", "dst", "before", "after", "lost", "kept", "gained", "mixed"])
    for c in report.changes:
        writer.writerow(
            [
                c.change,
                c.src.id,
                c.dst.id,
                c.before.text(),
                c.after.text(),
                c.lost.text(),
                c.kept.text(),
                c.gained.text(),
                "yes" if c.mixed_before or c.mixed_after else "no",
            ]
        )
    return out.getvalue().rstrip("\n")
