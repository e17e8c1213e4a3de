"""The connectivity matrix as a truth table, a pair list, JSON (the contract), CSV or Markdown."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from itertools import islice

from netpol.engine.ports import ConnectionSet
from netpol.engine.views import MatrixView, ViewEndpoint, ViewPair

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
    cells: dict[tuple[int, int], ViewPair] = {}
    for pair in view.pairs(all_pairs=True):
        cells[(pair.src, pair.dst)] = pair
    blocks = []
    if ports:
        for protocol, port in ports:
            title = f"{port}/{protocol}"
            grid = [
                [_port_cell(cells.get((i, j)), protocol, port) for j in range(len(ids))]
                for i in range(len(ids))
            ]
            blocks.append(_grid(title, ids, grid))
    else:
        grid = [
            [
                _cell(cells[(i, j)].connections) + _marks(cells[(i, j)]) if (i, j) in cells else "-"
                for j in range(len(ids))
            ]
            for i in range(len(ids))
        ]
        blocks.append(_grid("from \\ to", ids, grid))
    text = "\n\n".join(blocks)
    if legend:
        marks = "'.' allowed, 'X' denied" if ports else "'all' every connection, 'X' none"
        text += f"\n\n{marks}, '-' no pair (a pod and itself)"
        if MIXED_MARK in text:
            text += f", '{MIXED_MARK}' member pods disagree (listed below)"
        if any(not p.l7.is_empty for p in cells.values()):
            text += f", '{L7_MARK}' {L7_LEGEND}"
    port_set = ConnectionSet.union_of(ConnectionSet.of(p, n) for p, n in ports) if ports else None
    listing = disagreements(view, [pair.restricted(port_set) for pair in cells.values()])
    return f"{text}\n\n{listing}" if listing else text


MEMBERS_SHOWN = 10


def disagreements(view: MatrixView, pairs: Sequence[ViewPair]) -> str:
    """Every marked pair listed at pod level, so a summary never hides who differs."""
    lines = []
    for pair in sorted((p for p in pairs if p.mixed), key=lambda p: (p.src, p.dst)):
        src, dst = view.endpoints[pair.src].id, view.endpoints[pair.dst].id
        lines.append(f"{src} -> {dst}: member pods disagree")
        shown = islice(view.members(pair.src, pair.dst), MEMBERS_SHOWN)
        for pod_src, pod_dst, connections in shown:
            # the union bounds every member, so this only drops ports a --port filter hides
            lines.append(f"  {pod_src} -> {pod_dst}: {(connections & pair.connections).text()}")
        total = view.member_count(pair.src, pair.dst)
        if total > MEMBERS_SHOWN:
            lines.append(f"  ... and {total - MEMBERS_SHOWN} more pod pairs (--by pod lists all)")
    return "\n".join(lines)


L7_LEGEND = "allowed at L4 by a Cilium rule with L7 parts: its proxy filters requests"


def _marks(pair: ViewPair) -> str:
    return (MIXED_MARK if pair.mixed else "") + ("" if pair.l7.is_empty else L7_MARK)


def _port_cell(pair: ViewPair | None, protocol: str, port: int) -> str:
    if pair is None:
        return "-"
    allowed = pair.connections.contains(protocol, port)
    l7 = L7_MARK if pair.l7.contains(protocol, port) else ""
    if allowed and not pair.common.contains(protocol, port):
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


def shown_pairs(view: MatrixView, ports: ConnectionSet | None, all_pairs: bool) -> list[ViewPair]:
    """The pairs a list shows: restricted to ``ports``, empty ones only with ``all_pairs``."""
    shown = []
    for whole in view.pairs(all_pairs=all_pairs or ports is not None):
        pair = whole.restricted(ports)
        if all_pairs or not pair.connections.is_empty:
            shown.append(pair)
    return shown


def pair_rows(
    view: MatrixView, ports: ConnectionSet | None, all_pairs: bool
) -> list[tuple[str, str, ConnectionSet, bool, ConnectionSet]]:
    ids = [e.id for e in view.endpoints]
    return [
        (ids[p.src], ids[p.dst], p.connections, p.mixed, p.l7)
        for p in shown_pairs(view, ports, all_pairs)
    ]


def wide(view: MatrixView, ports: ConnectionSet | None, all_pairs: bool) -> str:
    pairs = shown_pairs(view, ports, all_pairs)
    ids = [e.id for e in view.endpoints]
    header = ("SOURCE", "DESTINATION", "ALLOWED")
    table = [header] + [(ids[p.src], ids[p.dst], p.connections.text() + _notes(p)) for p in pairs]
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    text = "\n".join("   ".join(r[i].ljust(widths[i]) for i in range(3)).rstrip() for r in table)
    listing = disagreements(view, pairs)
    return f"{text}\n\n{listing}" if listing else text


def _notes(pair: ViewPair) -> str:
    """`` (members disagree)``, `` (L7-filtered: TCP 80)``: what a pair list adds."""
    notes = " (members disagree)" if pair.mixed else ""
    return notes + ("" if pair.l7.is_empty else f" (L7-filtered: {pair.l7.text()})")


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
    for pair in pairs:
        allowed = pair.connections
        entry: dict[str, object] = {
            "src": ids[pair.src],
            "dst": ids[pair.dst],
            "allowed": allowed.to_json(),
            "text": allowed.text(),
        }
        if pair.mixed:
            entry["mixed"] = True
        if not pair.l7.is_empty:
            entry["l7Filtered"] = pair.l7.to_json()
        connections.append(entry)
    document["connections"] = connections
    return json.dumps(document, indent=1)


def _one_line_json(view: MatrixView, document: dict[str, object], pairs: list[ViewPair]) -> str:
    """What ``json.dumps(document, indent=None)`` writes with ``pairs`` as its connections
    (the last key), byte for byte, built from pieces encoded once: a pair list of a large
    cluster holds a million entries that share a few hundred connection sets."""
    head = json.dumps(document)
    assert head.endswith("[]}"), "connections is the document's last key, empty here"
    ids = [json.dumps(e.id) for e in view.endpoints]
    # keyed by identity, the set kept alive beside its text so its id is never reused
    encoded: dict[int, tuple[ConnectionSet, str]] = {}
    entries = []
    for pair in pairs:
        allowed = pair.connections
        found = encoded.get(id(allowed))
        if found is None:
            text = f', "allowed": {json.dumps(allowed.to_json())}, "text": {json.dumps(allowed.text())}'
            found = encoded[id(allowed)] = (allowed, text)
        mixed = ', "mixed": true' if pair.mixed else ""
        l7 = "" if pair.l7.is_empty else f', "l7Filtered": {json.dumps(pair.l7.to_json())}'
        entries.append(f'{{"src": {ids[pair.src]}, "dst": {ids[pair.dst]}{found[1]}{mixed}{l7}}}')
    return f"{head[:-2]}{', '.join(entries)}]}}"


def matrix_csv(view: MatrixView, ports: ConnectionSet | None, all_pairs: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    rows = pair_rows(view, ports, all_pairs)
    # the L7 column only where a Cilium rule with L7 parts allows something
    l7 = any(not row[4].is_empty for row in rows)
    writer.writerow(["src", "dst", "allowed", "mixed", *(["l7_filtered"] if l7 else [])])
    for src, dst, allowed, mixed, filtered in rows:
        extra = [filtered.text() if not filtered.is_empty else ""] if l7 else []
        writer.writerow([src, dst, allowed.text(), "true" if mixed else "false", *extra])
    return out.getvalue().rstrip("\n")


def matrix_markdown(view: MatrixView, ports: ConnectionSet | None, all_pairs: bool) -> str:
    lines = ["| source | destination | allowed |", "|---|---|---|"]
    for src, dst, allowed, mixed, l7 in pair_rows(view, ports, all_pairs):
        note = " (members disagree)" if mixed else ""
        note += "" if l7.is_empty else f" (L7-filtered: {l7.text()})"
        lines.append(f"| `{src}` | `{dst}` | {allowed.text()}{note} |")
    return "\n".join(lines)
