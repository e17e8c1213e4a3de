"""The allowed-connection graph: which endpoints to draw, then DOT, SVG (Graphviz) or Mermaid.

Namespaces are clusters, workloads (or pods, or whole namespaces) are nodes, external
blocks are nodes of their own, and every edge carries the connection set the engine
allows. How much of a large input is drawn is graph_fit's decision; ``focus`` keeps
one workload and its neighbours. Expected-but-denied flows (from an expectations file) are drawn in red.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

from netpol.engine.endpoints import POD, Endpoint
from netpol.engine.ports import ConnectionSet
from netpol.engine.views import MERGED_EXTERNAL_ID, MatrixView, ViewEndpoint

GRAPH_FORMATS = ("dot", "svg", "mermaid", "html", "json", "yaml")
MAX_LABEL = 40


class GraphError(ValueError):
    """A graph that cannot be drawn as asked (unknown focus, no Graphviz), in one line."""


@dataclass(frozen=True, slots=True)
class GraphNode:
    key: str  # DOT/Mermaid-safe identifier: n0, n1, ...
    id: str  # the matrix endpoint id
    label: str
    kind: str  # Pod, a workload kind, Namespace, External, Node
    namespace: str = ""
    detail: str = ""  # tooltip: CIDRs of an external block, pods of a workload
    endpoint: int = -1  # index in the view


@dataclass(frozen=True, slots=True)
class GraphEdge:
    key: str  # e0, e1, ...: the edge's id in the SVG, the key of its explanation
    src: str  # node keys
    dst: str
    connections: ConnectionSet
    style: str = "allowed"  # allowed | denied (expected allow, denied) | blocked (expected deny)
    mixed: bool = False  # members of the groups disagree (the label is their union)
    note: str = ""
    evidence: str = ""  # for expectation edges: the verdict's evidence, already printed

    @property
    def label(self) -> str:
        if self.style != "allowed":
            return self.note
        return short_connections(self.connections) + (" *" if self.mixed else "")


@dataclass
class Graph:
    granularity: str
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)
    aggregated: bool = False  # collapsed to namespaces because the input was large
    external_merged: bool = False  # the external blocks are one node (graph_fit)
    focus: str | None = None
    title: str = "netpol: allowed connections"

    # node key -> node and endpoint id -> node key, rebuilt when ``nodes`` has grown: asked
    # once or twice per edge, and a namespace graph of a large cluster has thousands of edges
    _by_key: dict[str, GraphNode] = field(default_factory=dict, repr=False, compare=False)
    _key_of: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    _indexed: tuple[int, int] = field(default=(0, -1), repr=False, compare=False)

    def _index(self) -> None:
        if self._indexed != (id(self.nodes), len(self.nodes)):
            self._indexed = (id(self.nodes), len(self.nodes))
            self._by_key = {}
            self._key_of = {}
            for node in self.nodes:
                self._by_key.setdefault(node.key, node)
                self._key_of.setdefault(node.id, node.key)

    def node(self, key: str) -> GraphNode:
        self._index()
        return self._by_key[key]

    def key_of(self, endpoint_id: str) -> str | None:
        self._index()
        return self._key_of.get(endpoint_id)


@dataclass(frozen=True, slots=True)
class ExpectedFlow:
    """A flow an expectations file names, with what the engine denies of it."""

    src: str  # endpoint ids at the graph's granularity
    dst: str
    expect: str  # allow | deny
    denied: ConnectionSet
    name: str = ""
    evidence: str = ""


def short_connections(connections: ConnectionSet) -> str:
    if connections.is_all:
        return "all"
    text = connections.text()
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 3] + "..."


def build_graph(
    view: MatrixView,
    focus: str | None = None,
    aggregated: bool = False,
    expected: list[ExpectedFlow] | None = None,
) -> Graph:
    """Nodes and edges of ``view``; with ``focus``, only that endpoint and its neighbours."""
    pairs = [p for p in view.pairs() if not p.connections.is_empty]
    keep: set[int] | None = None
    if focus is not None:
        centre = _focus_indexes(view, focus)
        keep = set(centre)
        for p in pairs:
            if p.src in centre:
                keep.add(p.dst)
            if p.dst in centre:
                keep.add(p.src)
        pairs = [p for p in pairs if p.src in centre or p.dst in centre]
    graph = Graph(view.granularity, aggregated=aggregated, focus=focus)
    keys: dict[int, str] = {}
    for i, endpoint in enumerate(view.endpoints):
        if keep is not None and i not in keep:
            continue
        key = f"n{len(keys)}"
        keys[i] = key
        graph.nodes.append(_node(key, endpoint, i, view.granularity))
    for p in pairs:
        graph.edges.append(
            GraphEdge(
                f"e{len(graph.edges)}", keys[p.src], keys[p.dst], p.connections, mixed=p.mixed
            )
        )
    add_expected(graph, expected or [])
    return graph


def add_expected(graph: Graph, expected: list[ExpectedFlow]) -> None:
    """Edges for the expected flows the policies deny, between the nodes already drawn."""
    for flow in expected:
        src, dst = graph.key_of(flow.src), graph.key_of(flow.dst)
        if src is None or dst is None or flow.denied.is_empty:
            continue
        style = "denied" if flow.expect == "allow" else "blocked"
        word = "expected, denied" if flow.expect == "allow" else "denied as expected"
        note = f"{word}: {short_connections(flow.denied)}"
        if flow.name:
            note = f"{flow.name}: {note}"
        graph.edges.append(
            GraphEdge(
                f"e{len(graph.edges)}",
                src,
                dst,
                flow.denied,
                style,
                note=note,
                evidence=flow.evidence,
            )
        )


def _focus_indexes(view: MatrixView, focus: str) -> set[int]:
    found = {
        i
        for i, e in enumerate(view.endpoints)
        if focus in (e.id, e.workload, e.name)
        or (e.namespace and focus == f"{e.namespace}/{e.name}")
    }
    if not found:
        names = ", ".join(e.id for e in view.endpoints[:8])
        raise GraphError(f"--focus {focus!r} matches no endpoint (endpoints: {names}, ...)")
    return found


def _node(key: str, endpoint: ViewEndpoint, index: int, granularity: str) -> GraphNode:
    if endpoint.id == MERGED_EXTERNAL_ID:
        label = f"external\n{len(endpoint.classes)} blocks"
        detail = ", ".join(endpoint.cidrs)
        return GraphNode(key, endpoint.id, label, "External", "", detail, index)
    if endpoint.kind == "External":
        cidrs = list(endpoint.cidrs)
        shown = ", ".join(cidrs[:2]) + (f" +{len(cidrs) - 2} more" if len(cidrs) > 2 else "")
        return GraphNode(
            key, endpoint.id, f"external {shown}", "External", "", ", ".join(cidrs), index
        )
    if endpoint.kind == "Node":
        return GraphNode(key, endpoint.id, f"node {endpoint.name}", "Node", "", "", index)
    if endpoint.kind == "Namespace":
        count = f"{len(endpoint.pods)} pods"
        return GraphNode(key, endpoint.id, endpoint.name, "Namespace", "", count, index)
    pods = ", ".join(p.name for p in endpoint.pods[:5]) + (" ..." if len(endpoint.pods) > 5 else "")
    label = endpoint.name if granularity == "pod" else f"{endpoint.name}\n{endpoint.kind}"
    return GraphNode(key, endpoint.id, label, endpoint.kind, endpoint.namespace, pods, index)


# --- DOT ----------------------------------------------------------------------------------

_COLOURS = {
    "External": ("#fff4e0", "#c77700"),
    "Node": ("#eeeeee", "#555555"),
    "Namespace": ("#e8f0fe", "#1a56c4"),
}
_POD = ("#e8f5e9", "#2e7d32")


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: Graph) -> str:
    lines = [
        "digraph netpol {",
        f"  label={_dot_text(graph.title)};",
        "  labelloc=t; rankdir=LR; fontname=Helvetica; nodesep=0.4; ranksep=1.1;",
        '  node [shape=box, style="rounded,filled", fontname=Helvetica, fontsize=11];',
        '  edge [fontname=Helvetica, fontsize=10, color="#37474f"];',
    ]
    by_namespace: dict[str, list[GraphNode]] = {}
    loose: list[GraphNode] = []
    for node in graph.nodes:
        if node.namespace:
            by_namespace.setdefault(node.namespace, []).append(node)
        else:
            loose.append(node)
    for n, (namespace, nodes) in enumerate(sorted(by_namespace.items())):
        lines.append(f"  subgraph cluster_{n} {{")
        lines.append(f"    label={_dot_text('namespace ' + namespace)};")
        lines.append('    style="rounded,dashed"; color="#90a4ae"; fontname=Helvetica; labelloc=b;')
        lines += [f"    {_dot_node(node)}" for node in nodes]
        lines.append("  }")
    lines += [f"  {_dot_node(node)}" for node in loose]
    for edge in graph.edges:
        attrs = [f"id={_dot_text(edge.key)}", f"label={_dot_text(edge.label)}"]
        attrs.append(f"tooltip={_dot_text(edge.connections.text())}")
        attrs.append(f"class={edge.style}")
        if edge.style == "denied":
            attrs += ['color="#d32f2f"', 'fontcolor="#d32f2f"', "penwidth=2", "style=bold"]
        elif edge.style == "blocked":
            attrs += ['color="#e57373"', 'fontcolor="#e57373"', "style=dashed"]
        elif edge.connections.is_all:
            attrs += ['color="#9e9e9e"', 'fontcolor="#757575"']
        lines.append(f"  {edge.src} -> {edge.dst} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_node(node: GraphNode) -> str:
    fill, line = _COLOURS.get(node.kind, _POD)
    shape = "ellipse" if node.kind in ("External", "Node") else "box"
    tooltip = node.id + (f"\n{node.detail}" if node.detail else "")
    return (
        f"{node.key} [id={_dot_text(node.key)}, label={_dot_text(node.label)}, "
        f'tooltip={_dot_text(tooltip)}, shape={shape}, fillcolor="{fill}", color="{line}"];'
    )


# graph_fit keeps what is laid out to seconds; this bounds a budget raised by hand
DOT_SECONDS = 60


def to_svg(dot_text: str) -> str:
    """Graphviz's SVG of ``dot_text``; GraphError when the ``dot`` program is missing."""
    dot = shutil.which("dot")
    if dot is None:
        raise GraphError(
            "svg and html need Graphviz's dot program (apt-get install graphviz); "
            "-o dot and -o mermaid do not"
        )
    try:
        done = subprocess.run(
            [dot, "-Tsvg"],
            input=dot_text.encode(),
            capture_output=True,
            timeout=DOT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GraphError(
            f"Graphviz's dot did not lay the graph out within {DOT_SECONDS} s; draw less of it "
            "(-n NS, --focus NS/NAME, a lower --max-nodes/--max-edges) or print -o dot / -o json"
        ) from None
    if done.returncode != 0:
        first = (done.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[0]
        raise GraphError(f"Graphviz's dot failed: {first[:200]}")
    svg = done.stdout.decode()
    return svg[svg.find("<svg") :] if "<svg" in svg else svg


# --- Mermaid --------------------------------------------------------------------------------

_MERMAID_UNSAFE = re.compile(r'["<>#]')


def _mermaid_text(text: str) -> str:
    escaped = _MERMAID_UNSAFE.sub(lambda m: f"#{ord(m.group(0))};", text)
    return '"' + escaped.replace("\n", "<br/>") + '"'


def graph_json(graph: Graph) -> dict[str, Any]:
    """The ``Graph`` contract of docs/json.md: nodes by endpoint id, edges between them."""
    ids = {node.key: node.id for node in graph.nodes}
    return {
        "kind": "Graph",
        "granularity": graph.granularity,
        "aggregated": graph.aggregated,
        "external_merged": graph.external_merged,
        "focus": graph.focus,
        "title": graph.title,
        "nodes": [
            {
                "id": node.id,
                "label": node.label,
                "kind": node.kind,
                "namespace": node.namespace,
                "detail": node.detail,
            }
            for node in graph.nodes
        ],
        "edges": [
            {
                "src": ids[edge.src],
                "dst": ids[edge.dst],
                "style": edge.style,
                "allowed": edge.connections.to_json(),
                "text": edge.connections.text(),
                "mixed": edge.mixed,
                "note": edge.note,
            }
            for edge in graph.edges
        ],
    }


def to_mermaid(graph: Graph) -> str:
    lines = ["flowchart LR"]
    by_namespace: dict[str, list[GraphNode]] = {}
    for node in graph.nodes:
        if node.namespace:
            by_namespace.setdefault(node.namespace, []).append(node)
    for n, (namespace, nodes) in enumerate(sorted(by_namespace.items())):
        lines.append(f"  subgraph ns{n} [{_mermaid_text('namespace ' + namespace)}]")
        lines += [f"    {_mermaid_node(node)}" for node in nodes]
        lines.append("  end")
    lines += [f"  {_mermaid_node(node)}" for node in graph.nodes if not node.namespace]
    styles = []
    for i, edge in enumerate(graph.edges):
        arrow = "-.->" if edge.style == "blocked" else "-->"
        lines.append(f"  {edge.src} {arrow}|{_mermaid_text(edge.label)}| {edge.dst}")
        if edge.style != "allowed":
            styles.append(f"  linkStyle {i} stroke:#d32f2f,color:#d32f2f")
    lines += styles
    lines.append("  classDef external fill:#fff4e0,stroke:#c77700")
    external = [n.key for n in graph.nodes if n.kind in ("External", "Node")]
    if external:
        lines.append(f"  class {','.join(external)} external")
    return "\n".join(lines) + "\n"


def _mermaid_node(node: GraphNode) -> str:
    if node.kind in ("External", "Node"):
        return f"{node.key}([{_mermaid_text(node.label)}])"
    return f"{node.key}[{_mermaid_text(node.label)}]"


# --- expectations overlay -------------------------------------------------------------------


def expected_from_report(report: Any, view: MatrixView) -> list[ExpectedFlow]:
    """The denied part of every expectation pair (netpol.analysis.verify's VerifyReport),
    grouped by the view's endpoints; its evidence printed as ``explain`` prints it."""
    from netpol.render.explain import explanation_text

    merged: dict[tuple[str, str, str, str], tuple[ConnectionSet, str]] = {}
    for result in report.results:
        expectation = result.expectation
        for pair in result.pairs:
            denied = pair.required - pair.allowed
            if denied.is_empty:
                continue
            src, dst = _view_id(view, pair.src), _view_id(view, pair.dst)
            if src is None or dst is None:
                continue
            key = (src, dst, expectation.expect, expectation.name)
            before, evidence = merged.get(key, (ConnectionSet.none(), ""))
            if not evidence and pair.evidence is not None:
                evidence = explanation_text([pair.evidence])
            merged[key] = (before | denied, evidence)
    return [
        ExpectedFlow(src, dst, expect, denied, name, evidence)
        for (src, dst, expect, name), (denied, evidence) in merged.items()
    ]


def _view_id(view: MatrixView, endpoint: Endpoint) -> str | None:
    if endpoint.pod is not None and endpoint.kind == POD:
        pod = endpoint.pod
        if view.granularity == "pod":
            return pod.id
        if view.granularity == "namespace":
            return pod.namespace
        return pod.workload_id
    if endpoint.ip is None:
        return None
    for e in view.endpoints:
        if e.kind == "External" and any(
            endpoint.ip.version == n.version and endpoint.ip in n
            for n in (ipaddress.ip_network(c) for c in e.cidrs)
        ):
            return e.id
    return None
