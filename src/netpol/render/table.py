"""kubectl-style column tables: upper-case headers, columns padded to their widest cell."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from netpol.model.safe_text import MESSAGE_LIMIT, visible

GAP = "   "  # kubectl's tabwriter pads columns with three spaces


def render_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The table as text, one line per row, no trailing blanks; ``None`` cells print ``<none>``."""
    cells = [[str(h).upper() for h in headers]]
    cells += [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells if i < len(row)) for i in range(len(headers))]
    lines = []
    for row in cells:
        padded = [value.ljust(widths[i]) for i, value in enumerate(row)]
        lines.append(GAP.join(padded).rstrip())
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None or value == "":
        return "<none>"
    return visible(value, MESSAGE_LIMIT)  # a newline or tab inside a cell would break the grid
