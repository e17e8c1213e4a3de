"""Connectivity diffs as a table, JSON, Markdown (for a pull-request comment) or CSV.

Each format is written as a stream of pieces (``*_pieces``) from the report's listing, one
changed pair at a time: the cells of a pair are its endpoints' ids and its delta's sets, so
each id and each delta is formatted once and a row is a few concatenations, and a listing of
millions of pod pairs is never held in memory as text or as objects.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from netpol.analysis.diff import Delta, DiffEndpoint, DiffReport, PairChange
from netpol.engine.explain import Explanation
from netpol.engine.ports import ConnectionSet
from netpol.model.safe_text import MESSAGE_LIMIT, visible
from netpol.render.explain import explanation_text
from netpol.render.table import GAP
from netpol.render.verify import evidence_json

MIXED = "*"  # the members of a group pair do not all agree
HEADERS = ("change", "source", "destination", "before", "after", "lost", "kept", "gained")
ROWS_PER_PIECE = 2000  # rows joined into one piece: few writes, little text held

K = TypeVar("K")


def _memo(make: Callable[[K], str]) -> Callable[[K], str]:
    """``make`` computed once per key (an endpoint or a delta, shared by many rows and kept
    alive by the listing, so its ``id`` stays its own)."""
    found: dict[int, str] = {}

    def get(key: K) -> str:
        text = found.get(id(key))
        if text is None:
            text = found[id(key)] = make(key)
        return text

    return get


def _per_endpoint(make: Callable[[DiffEndpoint], str]) -> Callable[[DiffEndpoint], str]:
    return _memo(make)


def _per_delta(make: Callable[[Delta], str]) -> Callable[[Delta], str]:
    return _memo(make)


def _set(conns: ConnectionSet, mixed: bool = False) -> str:
    if conns.is_empty:
        return "-"
    text = "all" if conns.is_all else conns.text()
    return text + (MIXED if mixed else "")


def _cells(d: Delta) -> tuple[str, str, str, str, str]:
    """before, after, lost, kept, gained of a table row."""
    return (
        _set(d.before, d.mixed_before),
        _set(d.after, d.mixed_after),
        _set(d.lost),
        _set(d.kept),
        _set(d.gained),
    )


def _cell(text: str) -> str:
    """As ``render_table`` prints a cell: one visible line."""
    return visible(text, MESSAGE_LIMIT) if text else "<none>"


def _batched(lines: Iterable[str], lead: str = "") -> Iterator[str]:
    """``lines`` joined by newlines, a batch at a time; ``lead`` comes before the first."""
    yield from _batched_with(lines, "\n", lead)


def _joined(blocks: Iterable[Iterable[str]], separator: str) -> Iterator[str]:
    """Non-empty blocks (each a stream of pieces) with ``separator`` between them."""
    first = True
    for block in blocks:
        pieces = iter(block)
        head = next((piece for piece in pieces if piece), None)
        if head is None:
            continue  # an empty block
        if not first:
            yield separator
        first = False
        yield head
        yield from pieces


def _table_lines(report: DiffReport) -> Iterator[str]:
    """The table's lines, as ``render_table`` lays them out: columns padded to their widest
    cell, found per endpoint and delta shown rather than per row."""
    sources, targets, deltas = report.listing.shown()
    header = [h.upper() for h in HEADERS]
    widths = [len(h) for h in header]
    widths[0] = max([widths[0], *(len(d.change) for d in deltas)])
    widths[1] = max([widths[1], *(len(_cell(e.id)) for e in sources)])
    widths[2] = max([widths[2], *(len(_cell(e.id)) for e in targets)])
    for d in deltas:
        for column, text in enumerate(_cells(d), start=3):
            widths[column] = max(widths[column], len(_cell(text)))
    yield GAP.join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()
    source = _per_endpoint(lambda e: _cell(e.id).ljust(widths[1]) + GAP)
    target = _per_endpoint(lambda e: _cell(e.id).ljust(widths[2]) + GAP)

    def cells(d: Delta) -> str:
        texts = (d.change, *_cells(d))
        columns = (0, 3, 4, 5, 6, 7)
        return "\t".join(_cell(t).ljust(widths[c]) for t, c in zip(texts, columns, strict=True))

    row_cells = _per_delta(cells)
    for c in report.listing.rows():
        change, tail = row_cells(c.delta).split("\t", 1)
        yield (change + GAP + source(c.src) + target(c.dst) + tail.replace("\t", GAP)).rstrip()


def diff_text(report: DiffReport) -> str:
    return "".join(diff_text_pieces(report))


def diff_text_pieces(report: DiffReport) -> Iterator[str]:
    if not report.changed:
        yield f"no connectivity change ({report.pairs_compared} {report.granularity} pairs compared)"
        return
    _, _, deltas = report.listing.shown()
    mixed = (
        f"{MIXED} the pods of this {report.granularity} pair do not all agree; the set shown is their union"
        if any(d.mixed for d in deltas)
        else ""
    )
    blocks: list[Iterable[str]] = [
        _batched(_table_lines(report)),
        [mixed],
        [_endpoint_notes(report)],
        _evidence_blocks(report),
        [_summary(report)],
    ]
    yield from _joined(blocks, "\n\n")


def _evidence_blocks(report: DiffReport) -> Iterator[str]:
    first = True
    for c in _with_evidence(report):
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
        yield ("" if first else "\n\n") + "\n".join(lines)
        first = False


def _with_evidence(report: DiffReport) -> Iterator[PairChange]:
    """The changes that carry evidence: only a listing made with ``--explain`` has them."""
    if report.listing.blocks.changed or report.listing.singles:
        return  # a listing of class pairs: no evidence was asked for
    for c in report.listing.tail:
        if c.evidence_before is not None or c.evidence_after is not None:
            yield c


def _endpoint_notes(report: DiffReport) -> str:
    lines = []
    if report.only_old:
        lines.append(f"only in {report.old_label}: {', '.join(report.only_old)}")
    if report.only_new:
        lines.append(f"only in {report.new_label}: {', '.join(report.only_new)}")
    return "\n".join(lines)


def _summary(report: DiffReport) -> str:
    counts = report.counts
    total = sum(counts.values())
    return (
        f"{total} {report.granularity} pairs differ: {counts['added']} added, "
        f"{counts['removed']} removed, {counts['changed']} changed "
        f"({report.old_label} -> {report.new_label})"
    )


def diff_json(report: DiffReport) -> str:
    return "".join(diff_json_pieces(report))


def diff_json_pieces(report: DiffReport) -> Iterator[str]:
    """The document ``json.dumps(..., indent=2)`` would give, written change by change."""
    document = {
        "kind": "ConnectivityDiff",
        "granularity": report.granularity,
        "old": report.old_label,
        "new": report.new_label,
        "changed": report.changed,
        "pairsCompared": report.pairs_compared,
        "onlyOld": list(report.only_old),
        "onlyNew": list(report.only_new),
        "changes": [],
    }
    head = json.dumps(document, indent=2)
    if not report.changed:
        yield head
        return
    yield head[: -len("[]\n}")] + "[\n"
    rest = _per_delta(lambda d: _indented(json.dumps(_delta_json(d, None, None), indent=2)[2:-2]))
    source = _per_endpoint(
        lambda e: f'      "src": {json.dumps(e.id)},\n      "srcKind": {json.dumps(e.kind)},\n'
    )
    target = _per_endpoint(
        lambda e: f'      "dst": {json.dumps(e.id)},\n      "dstKind": {json.dumps(e.kind)},\n'
    )

    def entries() -> Iterator[str]:
        for c in report.listing.rows():
            if c.evidence_before is not None or c.evidence_after is not None:
                tail = _indented(json.dumps(_delta_json(c.delta, *c[3:]), indent=2)[2:-2])
            else:
                tail = rest(c.delta)
            change = json.dumps(c.change)
            yield f'    {{\n      "change": {change},\n{source(c.src)}{target(c.dst)}{tail}\n    }}'

    yield from _batched_with(entries(), ",\n")
    yield "\n  ]\n}"


def _batched_with(items: Iterable[str], separator: str, lead: str = "") -> Iterator[str]:
    """``items`` joined by ``separator``, a batch at a time (few writes, little text held);
    ``lead`` comes before the first."""
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) >= ROWS_PER_PIECE:
            yield lead + separator.join(batch)
            lead, batch = separator, []
    if batch:
        yield lead + separator.join(batch)


def _indented(lines: str) -> str:
    """The inner lines of a two-space-indented JSON object, moved to a change's depth."""
    return "\n".join("    " + line for line in lines.split("\n"))


def _delta_json(
    d: Delta, before: Explanation | None, after: Explanation | None
) -> dict[str, object]:
    return {
        "before": d.before.to_json(),
        "beforeText": d.before.text(),
        "after": d.after.to_json(),
        "afterText": d.after.text(),
        "lost": d.lost.to_json(),
        "lostText": d.lost.text(),
        "kept": d.kept.to_json(),
        "keptText": d.kept.text(),
        "gained": d.gained.to_json(),
        "gainedText": d.gained.text(),
        "mixedBefore": d.mixed_before,
        "mixedAfter": d.mixed_after,
        "evidenceBefore": evidence_json(before),
        "evidenceAfter": evidence_json(after),
    }


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def diff_markdown(report: DiffReport) -> str:
    return "".join(diff_markdown_pieces(report))


def diff_markdown_pieces(report: DiffReport) -> Iterator[str]:
    """A pull-request comment: a summary line, the table, evidence folded in <details>."""
    if not report.changed:
        yield f"**netpol diff**: no connectivity change ({report.pairs_compared} {report.granularity} pairs compared)."
        return
    head = [f"**netpol diff**: {_summary(report)}", ""]
    head.append("| " + " | ".join(h.capitalize() for h in HEADERS) + " |")
    head.append("|" + "---|" * len(HEADERS))
    yield "\n".join(head)
    source = _per_endpoint(lambda e: f" | {_md_cell(f'`{e.id}`')}")
    target = _per_endpoint(lambda e: f" | {_md_cell(f'`{e.id}`')} | ")
    tail = _per_delta(lambda d: " | ".join(_md_cell(x) for x in _cells(d)) + " |")
    change = _per_delta(lambda d: "| " + _md_cell(d.change))
    rows = (
        change(c.delta) + source(c.src) + target(c.dst) + tail(c.delta)
        for c in report.listing.rows()
    )
    yield from _batched(rows, lead="\n")
    lines: list[str] = []
    notes = _endpoint_notes(report)
    if notes:
        lines += ["", notes]
    evidence = list(_with_evidence(report))
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
    if lines:
        yield "\n" + "\n".join(lines)


def diff_csv(report: DiffReport) -> str:
    return "".join(diff_csv_pieces(report))


def _csv_line(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def diff_csv_pieces(report: DiffReport) -> Iterator[str]:
    yield _csv_line(["change", "src", "dst", "before", "after", "lost", "kept", "gained", "mixed"])
    endpoint = _per_endpoint(lambda e: _csv_line([e.id]))
    change = _per_delta(lambda d: _csv_line([d.change]))

    def tail(d: Delta) -> str:
        sets = (d.before, d.after, d.lost, d.kept, d.gained)
        return _csv_line([s.text() for s in sets] + ["yes" if d.mixed else "no"])

    rest = _per_delta(tail)
    rows = (
        f"{change(c.delta)},{endpoint(c.src)},{endpoint(c.dst)},{rest(c.delta)}"
        for c in report.listing.rows()
    )
    yield from _batched(rows, lead="\n")


__all__ = ["DiffEndpoint", "diff_csv", "diff_json", "diff_markdown", "diff_text"]
