"""The probe's truth table as text: observed connections, with the engine's disagreements marked.

Rows are sources, columns destinations; a cell has one mark per probed port of the
destination (its header names them): ``✓`` connected, ``✗`` refused, ``·`` the pod itself.
A ``!`` after a mark means the engine predicted the opposite; every such cell is listed below
the table with what was observed and what was predicted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from netpol.lab.probe import Cell, ProbeReport
from netpol.model.cluster import Cluster

YES, NO, SELF = "✓", "✗", "·"
MAX_TABLE = 24  # endpoints; beyond that only the summary and the disagreements are printed


def short_labels(cluster: Cluster, ids: Iterable[str]) -> dict[str, str]:
    """Readable names, ``namespace/`` first as everywhere else: the workload's name when it
    has one pod here, else its pod name."""
    ids = list(ids)
    per_workload: dict[str, int] = {}
    for pid in ids:
        pod = cluster.pod_by_id.get(pid)
        if pod is not None and pod.workload is not None:
            per_workload[pod.workload.id] = per_workload.get(pod.workload.id, 0) + 1
    labels: dict[str, str] = {}
    for pid in ids:
        pod = cluster.pod_by_id.get(pid)
        if pod is None:
            labels[pid] = pid
            continue
        name = pod.name
        if (
            pod.workload is not None
            and per_workload[pod.workload.id] == 1
            and pod.workload.kind != "StatefulSet"
        ):
            name = pod.workload.name
        labels[pid] = f"{pod.namespace}/{name}"
    if len(set(labels.values())) < len(labels):  # a workload and a pod of the same name
        labels = {pid: pid if "/" in pid else name for pid, name in labels.items()}
    return labels


def _ports_text(ports: list[tuple[int, str]]) -> str:
    return ",".join(f"{p}" if proto == "TCP" else f"{p}/{proto.lower()}" for p, proto in ports)


def mark(cell: Cell | None) -> str:
    if cell is None:
        return SELF
    text = YES if cell.observed else NO
    return text + ("!" if not cell.agrees else " ")


def table(report: ProbeReport, labels: Mapping[str, str]) -> list[str]:
    """The truth table lines (empty when there are too many endpoints to draw)."""
    endpoints = set(report.sources) | set(report.destinations)
    if len(endpoints) > MAX_TABLE:
        return []
    cells = report.cell_map()
    name = {e: labels.get(e, e) for e in endpoints}
    row_width = max(len("from \\ to"), *(len(name[s]) for s in report.sources))
    columns = []
    for dst in report.destinations:
        ports = report.ports.get(dst, [])
        header = name[dst]
        port_text = _ports_text(ports) or "-"
        width = max(len(header), len(port_text), 2 * len(ports))
        columns.append((dst, ports, header, port_text, width))
    lines = [
        " " * row_width + "  " + "  ".join(h.ljust(w) for _, _, h, _, w in columns),
        "from \\ to".ljust(row_width) + "  " + "  ".join(t.ljust(w) for _, _, _, t, w in columns),
    ]
    for src in report.sources:
        parts = []
        for dst, ports, _, _, width in columns:
            if src == dst:
                text = SELF
            elif not ports:
                text = "-"
            else:
                text = "".join(mark(cells.get((src, dst, p, proto))) for p, proto in ports).rstrip()
            parts.append(text.ljust(width))
        lines.append(name[src].ljust(row_width) + "  " + "  ".join(parts).rstrip())
    return lines


def describe_cell(cell: Cell, labels: Mapping[str, str]) -> str:
    a = cell.attempt
    src = labels.get(a.src, a.src)
    dst = labels.get(a.dst, a.dst)
    observed = cell.outcome + (f" ({cell.detail})" if cell.detail else "")
    predicted = "allowed" if cell.predicted else "denied"
    return f"{src} -> {dst} {a.port}/{a.protocol}: observed {observed}, engine predicts {predicted}"


def summary(report: ProbeReport) -> str:
    total = len(report.cells)
    connected = sum(1 for c in report.cells if c.observed)
    if report.predicted_only:
        return (
            f"{total} connections predicted by the engine (no packets): "
            f"{connected} allowed, {total - connected} denied"
        )
    wrong = len(report.disagreements)
    verdict = "all agree with the engine" if not wrong else f"{wrong} DISAGREE with the engine"
    return (
        f"{total} connections probed in {report.elapsed:.1f} s: {connected} connected, "
        f"{total - connected} refused; {verdict}"
    )


def render(report: ProbeReport, labels: Mapping[str, str], limit: int = 50) -> list[str]:
    """Table (when small enough), summary, and each disagreement (up to ``limit``)."""
    lines = table(report, labels)
    if lines:
        lines.append("")
    lines.append(summary(report))
    for cell in report.disagreements[:limit]:
        lines.append("  ! " + describe_cell(cell, labels))
    more = len(report.disagreements) - limit
    if more > 0:
        lines.append(f"  ... and {more} more")
    return lines


def changes(before: ProbeReport, after: ProbeReport) -> tuple[list[str], list[str]]:
    """Connections of both reports that became refused, and that became possible (lines)."""
    old = before.cell_map()
    closed: list[str] = []
    opened: list[str] = []
    for cell in after.cells:
        a = cell.attempt
        was = old.get((a.src, a.dst, a.port, a.protocol))
        if was is None or was.observed == cell.observed:
            continue
        src, dst = after.labels.get(a.src, a.src), after.labels.get(a.dst, a.dst)
        (opened if cell.observed else closed).append(f"{src} -> {dst} {a.port}/{a.protocol}")
    return closed, opened


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def changes_summary(closed: list[str], opened: list[str]) -> str:
    """``2 connections now refused, 1 now open``; ``no connection changed``."""
    parts = [(len(found), what) for found, what in ((closed, "refused"), (opened, "open")) if found]
    if not parts:
        return "no connection changed"
    (first, what), *rest = parts
    return ", ".join(
        [f"{count(first, 'connection')} now {what}"] + [f"{n} now {w}" for n, w in rest]
    )


def changes_lines(closed: list[str], opened: list[str], limit: int) -> list[str]:
    """One ``✗``/``✓`` line per changed connection, at most ``limit`` of each kind."""
    lines = [f"{NO} {line}" for line in closed[:limit]]
    if len(closed) > limit:
        lines.append(f"... and {len(closed) - limit} more now refused")
    lines += [f"{YES} {line}" for line in opened[:limit]]
    if len(opened) > limit:
        lines.append(f"... and {len(opened) - limit} more now open")
    return lines
