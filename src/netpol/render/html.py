"""One self-contained HTML page: the graph (Graphviz SVG, inline), the truth table, and the
``explain`` evidence of every edge, embedded at export time so a click needs no server and
no network.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass

import numpy as np

from netpol.engine.classes import EndpointClass
from netpol.engine.compile import CompiledCluster
from netpol.engine.endpoints import Endpoint
from netpol.engine.explain import Explanation
from netpol.engine.resolve import Target
from netpol.engine.verdict import evaluate
from netpol.engine.views import MatrixView
from netpol.render.explain import explanation_text
from netpol.render.graph import Graph, GraphEdge, short_connections, to_dot, to_svg

MAX_MEMBER_PAIRS = 64  # allowed class pairs tried to find two distinct member endpoints


@dataclass(frozen=True, slots=True)
class PageInfo:
    title: str
    profile: str
    sources: str  # the PATHs, as the user gave them


def edge_evidence(cc: CompiledCluster, view: MatrixView, graph: Graph) -> dict[str, str]:
    """For each allowed edge, ``explain``'s evidence for one member pair that shows it."""
    out: dict[str, str] = {}
    for edge in graph.edges:
        if edge.evidence:
            out[edge.key] = edge.evidence
            continue
        src = view.endpoints[graph.node(edge.src).endpoint]
        dst = view.endpoints[graph.node(edge.dst).endpoint]
        pair = _member_pair(cc, view, src.classes, dst.classes, edge.src == edge.dst)
        if pair is None:
            continue
        a, b = pair
        verdict = evaluate(cc, a, b)
        text = explanation_text([Explanation(a, Target(b, None, "TCP"), verdict)])
        if len(set(src.classes)) > 1 or len(set(dst.classes)) > 1 or edge.mixed:
            text = (
                f"(one member pair of {src.id} -> {dst.id}; "
                f"members may differ: see --by pod)\n{text}"
            )
        out[edge.key] = text
    return out


def _member_pair(
    cc: CompiledCluster, view: MatrixView, src: list[int], dst: list[int], same: bool
) -> tuple[Endpoint, Endpoint] | None:
    """A member pair of classes that allows something, looked up in the class matrix at
    once (a namespace or the merged external node holds hundreds of classes, and only a
    few of their pairs may allow anything)."""
    classes = view.matrix.classes
    rows = np.array(list(dict.fromkeys(src)), dtype=np.intp)
    columns = np.array(list(dict.fromkeys(dst)), dtype=np.intp)
    allowed = np.argwhere(view.matrix.ids[np.ix_(rows, columns)] != 0)
    for r, c in allowed[:MAX_MEMBER_PAIRS].tolist():
        s, d = int(rows[r]), int(columns[c])
        a, b = _endpoints(cc, classes[s], classes[d], same or s == d)
        if a is not None and b is not None:
            return a, b
    return None


def _endpoints(
    cc: CompiledCluster, s: EndpointClass, d: EndpointClass, distinct: bool
) -> tuple[Endpoint | None, Endpoint | None]:
    if not distinct:
        return s.representative, d.representative
    pods = s.pods if s.index == d.index else [*s.pods, *d.pods]
    if len(pods) < 2:
        return None, None
    first, second = (cc.endpoint(p) for p in pods[:2])
    return first, second


def _edge_json(graph: Graph, edge: GraphEdge, evidence: dict[str, str]) -> dict[str, object]:
    return {
        "src": graph.node(edge.src).id,
        "dst": graph.node(edge.dst).id,
        "style": edge.style,
        "label": edge.label,
        "connections": edge.connections.text(),
        "evidence": evidence.get(edge.key, "no evidence recorded for this edge"),
    }


def _table(graph: Graph, view: MatrixView) -> str:
    """Rows are sources, columns destinations; an allowed cell opens its edge's evidence."""
    edges = {(e.src, e.dst): e for e in graph.edges if e.style == "allowed"}
    head = "".join(f'<th scope="col">{html.escape(n.id)}</th>' for n in graph.nodes)
    rows = []
    for src in graph.nodes:
        cells = []
        for dst in graph.nodes:
            pair = view.pair(src.endpoint, dst.endpoint)
            edge = edges.get((src.key, dst.key))
            if pair is None:
                cells.append('<td class="none">-</td>')
            elif edge is not None:
                text = html.escape(short_connections(pair.connections))
                cells.append(f'<td class="allowed" data-edge="{edge.key}">{text}</td>')
            else:
                cells.append('<td class="denied">X</td>')
        rows.append(f'<tr><th scope="row">{html.escape(src.id)}</th>{"".join(cells)}</tr>')
    return (
        f'<table id="truth-table"><thead><tr><th>from \\ to</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


_STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:0;color:#263238;background:#fafafa}
header{padding:12px 20px;background:#263238;color:#fff}
header h1{font-size:18px;margin:0}header p{margin:4px 0 0;font-size:13px;color:#cfd8dc}
main{display:flex;gap:16px;padding:16px 20px;align-items:flex-start}
#graph{flex:1 1 auto;overflow:auto;background:#fff;border:1px solid #cfd8dc;border-radius:6px}
#graph svg{max-width:100%;height:auto}
#graph g.edge{cursor:pointer}
#graph g.edge:hover path,#graph g.edge.selected path{stroke-width:3;stroke:#1565c0}
#graph g.edge.selected text{fill:#1565c0;font-weight:bold}
#panel{flex:0 0 420px;background:#fff;border:1px solid #cfd8dc;border-radius:6px;padding:12px}
#panel h2{font-size:15px;margin:0 0 8px}#evidence-title{font-size:13px;margin:8px 0}
#evidence{white-space:pre-wrap;font-size:12px;background:#eceff1;padding:8px;border-radius:4px;
 max-height:60vh;overflow:auto}
#evidence:empty{display:none}
section#table{padding:0 20px 24px}section#table h2{font-size:15px}
table{border-collapse:collapse;font-size:12px;background:#fff}
th,td{border:1px solid #cfd8dc;padding:4px 8px;text-align:left}
td.allowed{background:#e8f5e9;cursor:pointer}td.denied{background:#ffebee;color:#c62828}
td.none{color:#90a4ae}
.legend{font-size:12px;color:#546e7a}
"""

_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById('netpol-data').textContent);
  function show(key) {
    var edge = data.edges[key];
    if (!edge) { return; }
    document.querySelectorAll('#graph g.edge.selected').forEach(function (g) {
      g.classList.remove('selected');
    });
    var g = document.getElementById(key);
    if (g) { g.classList.add('selected'); }
    document.getElementById('hint').hidden = true;
    document.getElementById('evidence-title').textContent =
      edge.src + ' \\u2192 ' + edge.dst + ': ' + edge.connections;
    document.getElementById('evidence').textContent = edge.evidence;
    document.getElementById('panel').setAttribute('data-edge', key);
  }
  document.querySelectorAll('#graph g.edge').forEach(function (g) {
    g.addEventListener('click', function (event) { event.preventDefault(); show(g.id); });
  });
  document.querySelectorAll('td[data-edge]').forEach(function (td) {
    td.addEventListener('click', function () { show(td.getAttribute('data-edge')); });
  });
  window.netpolShow = show;
})();
"""


_NAMESPACE_DECLARATION = re.compile(r'\s+xmlns(?::[A-Za-z]+)?="[^"]*"')


def _inline_svg(svg: str) -> str:
    """Graphviz's SVG without its ``xmlns`` declarations: inline in HTML the parser puts
    ``<svg>`` and ``xlink:`` in their namespaces itself, and the page names no URL at all."""
    end = svg.find(">")
    if end < 0:
        return svg
    return _NAMESPACE_DECLARATION.sub("", svg[:end]) + svg[end:]


def render_html(
    graph: Graph,
    view: MatrixView,
    evidence: dict[str, str],
    info: PageInfo,
    svg: str | None = None,
    laid_out: bool = True,
) -> str:
    """The page; ``svg`` defaults to Graphviz's drawing of ``graph`` (needs ``dot``).
    Without ``laid_out`` (a graph past the drawing budget) the table is the whole view."""
    if laid_out:
        drawing = _inline_svg(svg if svg is not None else to_svg(to_dot(graph)))
    else:
        drawing = (
            '<p id="not-drawn" class="legend">Not drawn: too large to lay out in seconds '
            f"({len(graph.nodes):,} nodes, {len(graph.edges):,} edges). Every edge is in the "
            "truth table below; click an allowed cell for its evidence. Draw part of the "
            "graph with <code>-n NS</code> or <code>--focus NS/NAME</code>.</p>"
        )
    data = {
        "title": info.title,
        "profile": info.profile,
        "granularity": graph.granularity,
        "nodes": {n.key: {"id": n.id, "kind": n.kind, "label": n.label} for n in graph.nodes},
        "edges": {e.key: _edge_json(graph, e, evidence) for e in graph.edges},
    }
    payload = json.dumps(data, indent=None, sort_keys=True).replace("</", "<\\/")
    notes = []
    if graph.aggregated:
        notes.append("aggregated by namespace (large input; use -n NS or --focus)")
    if graph.external_merged:
        notes.append("external blocks merged into one node")
    if graph.focus:
        notes.append(f"focused on {graph.focus} and its neighbours")
    meta = (
        f"{html.escape(info.sources)} · profile {html.escape(info.profile)} · by "
        f"{graph.granularity} · {len(graph.nodes)} nodes · {len(graph.edges)} edges"
        + "".join(f" · {html.escape(n)}" for n in notes)
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{html.escape(info.title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<header><h1>{html.escape(info.title)}</h1><p>{meta}</p></header>
<main>
<section id="graph" aria-label="allowed connections">{drawing}</section>
<aside id="panel">
<h2>Why is it allowed?</h2>
<p id="hint" class="legend">Click an edge (or an allowed cell of the table) to see the
evidence from <code>netpol explain</code>: which policies isolate each side and which rule
allows the connection.</p>
<h3 id="evidence-title"></h3>
<pre id="evidence"></pre>
<p class="legend">Edges: allowed connection sets (grey: everything).
Red: an expected flow that is denied; dashed red: denied, as expected.</p>
</aside>
</main>
<section id="table"><h2>Truth table</h2>{_table(graph, view)}
<p class="legend">Rows: source, columns: destination. X: nothing allowed, -: no pair.</p>
</section>
<script type="application/json" id="netpol-data">{payload}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""
