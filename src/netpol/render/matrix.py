"""The connectivity matrix as a truth table, a pair list, JSON (the contract), CSV or Markdown."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from itertools import chain, islice

import numpy as np
import numpy.typing as npt

from netpol.engine.pair_columns import PairCell, PairColumns
from netpol.engine.ports import ConnectionSet
from netpol.engine.views import MatrixView, ViewEndpoint

MIXED_MARK = "*"
L7_MARK = "~"  # some of it only a Cilium rule with L7 parts allows: the proxy filters it


def _cell(connections: ConnectionSet) -> str:
    if connections.is_all:
        return "all"
    if connections.is_empty:
        return "X"
    return connections.text()


def truth_tables(
    view: MatrixView, ports: Sequence[tuple[str, int]] = (), legend: bool = True
) -> str:
    """One table per port ('.' allowed, 'X' denied, as the upstream e2e tests print), or one
    table of connection sets when no port is given."""
    ids = [e.id for e in view.endpoints]
    columns = view.columns(all_pairs=True)
    n = len(ids)
    at = np.full((n, n), -1, dtype=np.intp)  # the cell of each (src, dst); -1: no pair
    at[columns.src, columns.dst] = columns.cell
    blocks = []
    if ports:
        for protocol, port in ports:
            title = f"{port}/{protocol}"
            texts = [_port_cell(c, protocol, port) for c in columns.cells]
            blocks.append(_grid(title, ids, _cell_grid(at, texts)))
    else:
        texts = [_cell(c.connections) + _marks(c) for c in columns.cells]
        blocks.append(_grid("from \\ to", ids, _cell_grid(at, texts)))
    text = "\n\n".join(blocks)
    if legend:
        marks = "'.' allowed, 'X' denied" if ports else "'all' every connection, 'X' none"
        text += f"\n\n{marks}, '-' no pair (a pod and itself)"
        if MIXED_MARK in text:
            text += f", '{MIXED_MARK}' member pods disagree (listed below)"
        if any(not columns.cells[c].l7.is_empty for c in columns.used()):
            text += f", '{L7_MARK}' {L7_LEGEND}"
    port_set = ConnectionSet.union_of(ConnectionSet.of(p, n) for p, n in ports) if ports else None
    listing = disagreements(view, columns.shown(port_set, keep_empty=True))
    return f"{text}\n\n{listing}" if listing else text


def _cell_grid(at: npt.NDArray[np.intp], texts: list[str]) -> list[list[str]]:
    """The text of each cell of ``at`` ('-' where there is no pair)."""
    lookup = [*texts, "-"]  # -1 reads the last
    return [[lookup[c] for c in row] for row in at.tolist()]


MEMBERS_SHOWN = 10


def disagreements(view: MatrixView, pairs: PairColumns) -> str:
    """Every marked pair listed at pod level, so a summary never hides who differs."""
    lines = []
    mixed = pairs.mixed
    ids = [e.id for e in view.endpoints]
    cells = pairs.cells
    # the text of a member's connections within a cell's union, by (member set, cell): a
    # namespace list of a large cluster shows 100k members that share a few hundred sets
    shown: dict[tuple[int, int], tuple[ConnectionSet, str]] = {}
    for src, dst, cell in zip(
        pairs.src[mixed].tolist(),
        pairs.dst[mixed].tolist(),
        pairs.cell[mixed].tolist(),
        strict=True,
    ):
        lines.append(f"{ids[src]} -> {ids[dst]}: member pods disagree")
        for pod_src, pod_dst, connections in islice(view.members(src, dst), MEMBERS_SHOWN):
            found = shown.get((id(connections), cell))
            if found is None:  # the set is kept beside its text, so its id is never reused
                # the union bounds every member, so this only drops ports a --port filter hides
                text = (connections & cells[cell].connections).text()
                found = shown[(id(connections), cell)] = (connections, text)
            lines.append(f"  {pod_src} -> {pod_dst}: {found[1]}")
        total = view.member_count(src, dst)
        if total > MEMBERS_SHOWN:
            lines.append(f"  ... and {total - MEMBERS_SHOWN} more pod pairs (--by pod lists all)")
    return "\n".join(lines)


L7_LEGEND = "allowed at L4 by a Cilium rule with L7 parts: its proxy filters requests"


def _marks(cell: PairCell) -> str:
    return (MIXED_MARK if cell.mixed else "") + ("" if cell.l7.is_empty else L7_MARK)


def _port_cell(cell: PairCell, protocol: str, port: int) -> str:
    allowed = cell.connections.contains(protocol, port)
    l7 = L7_MARK if cell.l7.contains(protocol, port) else ""
    if allowed and not cell.common.contains(protocol, port):
        return "." + MIXED_MARK + l7
    return "." + l7 if allowed else "X"


def _grid(title: str, ids: list[str], grid: list[list[str]]) -> str:
    header = [title, *ids]
    rows = [[ids[i], *grid[i]] for i in range(len(ids))]
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    lines = [
        "  ".join(cell.ljust(widths[c]) for c, cell in enumerate(row)).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def shown_pairs(view: MatrixView, ports: ConnectionSet | None, all_pairs: bool) -> PairColumns:
    """The pairs a list shows: restricted to ``ports``, empty ones only with ``all_pairs``.
    (A pair empty before the restriction is empty after it, so only ``all_pairs`` needs
    the empty ones.)"""
    return view.columns(all_pairs=all_pairs).shown(ports, keep_empty=all_pairs)


def pair_rows(
    view: MatrixView, ports: ConnectionSet | None, all_pairs: bool
) -> list[tuple[str, str, ConnectionSet, bool, ConnectionSet]]:
    ids = [e.id for e in view.endpoints]
    return [
        (ids[src], ids[dst], cell.connections, cell.mixed, cell.l7)
        for src, dst, cell in shown_pairs(view, ports, all_pairs).rows()
    ]


def _joined(
    pairs: PairColumns,
    sources: Sequence[str],
    destinations: Sequence[str],
    cells: Sequence[str],
    separator: str,
) -> str:
    """Per pair ``sources[src] + destinations[dst] + cells[cell]``, joined: every piece is
    encoded once, per endpoint or per cell, and the pairs are walked by map and join, not
    by a Python loop (a workload list of a large cluster holds half a million pairs)."""
    if not len(pairs):
        return ""
    led = [separator + s for s in sources]  # every pair but the first starts with it
    pieces = zip(
        map(led.__getitem__, pairs.src.tolist()),
        map(destinations.__getitem__, pairs.dst.tolist()),
        map(cells.__getitem__, pairs.cell.tolist()),
        strict=True,
    )
    return "".join(chain.from_iterable(pieces))[len(separator) :]


def _widest(picked: npt.NDArray[np.intp], lengths: Sequence[int], header: str) -> int:
    """The width of a column: its header or its longest entry among those ``picked``."""
    if not len(picked):
        return len(header)
    return max(len(header), int(np.asarray(lengths, dtype=np.int64)[picked].max()))


WIDE_HEADER = ("SOURCE", "DESTINATION", "ALLOWED")


def wide(view: MatrixView, ports: ConnectionSet | None, all_pairs: bool) -> str:
    pairs = shown_pairs(view, ports, all_pairs)
    ids = [e.id for e in view.endpoints]
    texts = [c.connections.text() + _notes(c) for c in pairs.cells]
    id_lengths = [len(i) for i in ids]
    widths = [
        _widest(pairs.src, id_lengths, WIDE_HEADER[0]),
        _widest(pairs.dst, id_lengths, WIDE_HEADER[1]),
        _widest(pairs.cell, [len(t) for t in texts], WIDE_HEADER[2]),
    ]
    lines = [_padded(WIDE_HEADER, widths)]
    if len(pairs):
        # the line ends in the cell (never empty: "No Connections" at least), so the
        # columns before it keep their padding and the cell none
        sources = [i.ljust(widths[0]) + "   " for i in ids]
        destinations = [i.ljust(widths[1]) + "   " for i in ids]
        lines.append(_joined(pairs, sources, destinations, [t.rstrip() for t in texts], "\n"))
    text = "\n".join(lines)
    listing = disagreements(view, pairs)
    return f"{text}\n\n{listing}" if listing else text


def _padded(row: Sequence[str], widths: Sequence[int]) -> str:
    return "   ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()


def _notes(cell: PairCell) -> str:
    """`` (members disagree)``, `` (L7-filtered: TCP 80)``: what a pair list adds."""
    notes = " (members disagree)" if cell.mixed else ""
    return notes + ("" if cell.l7.is_empty else f" (L7-filtered: {cell.l7.text()})")


def endpoint_json(endpoint: ViewEndpoint) -> dict[str, object]:
    if endpoint.kind == "External":
        return {"id": endpoint.id, "kind": "External", "cidrs": list(endpoint.cidrs)}
    if endpoint.kind == "Node":
        return {"id": endpoint.id, "kind": "Node", "name": endpoint.name}
    if endpoint.kind == "Namespace":
        return {"id": endpoint.id, "kind": "Namespace", "name": endpoint.name}
    return {
        "id": endpoint.id,
        "kind": endpoint.kind,
        "namespace": endpoint.namespace,
        "name": endpoint.name,
        "workload": endpoint.workload,
        "workloadKind": endpoint.workload_kind,
    }


INDENTED_UP_TO = 5000  # connections; a longer document is written on one line


def matrix_json(
    view: MatrixView, profile: str, ports: ConnectionSet | None, all_pairs: bool
) -> str:
    """The ``ConnectivityMatrix`` contract of docs/json.md."""
    pairs = shown_pairs(view, ports, all_pairs)
    document: dict[str, object] = {
        "kind": "ConnectivityMatrix",
        "granularity": view.granularity,
        "profile": profile,
        "endpoints": [endpoint_json(e) for e in view.endpoints],
        "connections": [],
    }
    if len(pairs) >= INDENTED_UP_TO:
        return _one_line_json(view, document, pairs)
    ids = [e.id for e in view.endpoints]
    connections = []
    for src, dst, cell in pairs.rows():
        allowed = cell.connections
        entry: dict[str, object] = {
            "src": ids[src],
            "dst": ids[dst],
            "allowed": allowed.to_json(),
            "text": allowed.text(),
        }
        if cell.mixed:
            entry["mixed"] = True
        if not cell.l7.is_empty:
            entry["l7Filtered"] = cell.l7.to_json()
        connections.append(entry)
    document["connections"] = connections
    return json.dumps(document, indent=1)


def _one_line_json(view: MatrixView, document: dict[str, object], pairs: PairColumns) -> str:
    """What ``json.dumps(document, indent=None)`` writes with ``pairs`` as its connections
    (the last key), byte for byte, built from pieces encoded once: a pair list of a large
    cluster holds a million entries that share a few hundred cells."""
    head = json.dumps(document)
    assert head.endswith("[]}"), "connections is the document's last key, empty here"
    ids = [json.dumps(e.id) for e in view.endpoints]
    cells = []
    for cell in pairs.cells:
        allowed = cell.connections
        mixed = ', "mixed": true' if cell.mixed else ""
        l7 = "" if cell.l7.is_empty else f', "l7Filtered": {json.dumps(cell.l7.to_json())}'
        cells.append(
            f', "allowed": {json.dumps(allowed.to_json())}, "text": {json.dumps(allowed.text())}'
            f"{mixed}{l7}}}"
        )
    sources = [f'{{"src": {i}, "dst": ' for i in ids]
    return f"{head[:-2]}{_joined(pairs, sources, ids, cells, ', ')}]}}"


def matrix_csv(view: MatrixView, ports: ConnectionSet | None, all_pairs: bool) -> str:
    pairs = shown_pairs(view, ports, all_pairs)
    # the L7 column only where a Cilium rule with L7 parts allows something
    l7 = any(not pairs.cells[c].l7.is_empty for c in pairs.used())
    header = _csv_row(["src", "dst", "allowed", "mixed", *(["l7_filtered"] if l7 else [])])
    if not len(pairs):
        return header
    ids = [_csv_field(e.id) for e in view.endpoints]
    cells = []
    for cell in pairs.cells:
        extra = [cell.l7.text() if not cell.l7.is_empty else ""] if l7 else []
        fields = [cell.connections.text(), "true" if cell.mixed else "false", *extra]
        cells.append(",".join(_csv_field(f) for f in fields))
    sources = [f"{i}," for i in ids]
    destinations = [f"{i}," for i in ids]
    return f"{header}\n{_joined(pairs, sources, destinations, cells, chr(10))}".rstrip("\n")


def _csv_row(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields)
    return out.getvalue()[:-1]


def _csv_field(text: str) -> str:
    """One field as the csv module writes it in a row of several (an empty field alone
    on its row would be quoted)."""
    return _csv_row([text, ""])[:-1]


def matrix_markdown(view: MatrixView, ports: ConnectionSet | None, all_pairs: bool) -> str:
    pairs = shown_pairs(view, ports, all_pairs)
    lines = ["| source | destination | allowed |", "|---|---|---|"]
    if len(pairs):
        ids = [e.id for e in view.endpoints]
        cells = [f"{c.connections.text()}{_notes(c)} |" for c in pairs.cells]
        sources = [f"| `{i}` | " for i in ids]
        destinations = [f"`{i}` | " for i in ids]
        lines.append(_joined(pairs, sources, destinations, cells, "\n"))
    return "\n".join(lines)
