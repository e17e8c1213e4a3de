"""How much of the graph to draw: the most detailed view within the drawing budget.

Graphviz's ``dot`` lays out a graph with labelled edges in time that grows far faster than
its edges (on the synth clusters: 379 edges in 1.3 s, 895 edges in 66 s, 6,155 edges not
within two minutes), and a picture with thousands of edges cannot be read anyway. So the
graph is drawn at the first of these that has at most ``max_nodes`` nodes and
``max_edges`` edges: the granularity asked with every external block; the same with the
external blocks as one node; by namespace with every block; by namespace with the blocks
as one node. A merged node's edges are the union over its members, marked ``mixed``
where they differ, as for a workload or namespace group: no edge is dropped. When even
the last does not fit, it is the one written, and ``fits`` is false: svg refuses to lay
it out and html shows its table without a drawing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from netpol.engine.endpoints import EXTERNAL
from netpol.engine.matrix import ClassMatrix
from netpol.engine.views import MatrixView, endpoint_count
from netpol.model.objects import Pod
from netpol.render.graph import Graph, build_graph

DEFAULT_MAX_NODES = 60
DEFAULT_MAX_EDGES = 300


@dataclass(frozen=True, slots=True)
class Budget:
    max_nodes: int = DEFAULT_MAX_NODES
    max_edges: int = DEFAULT_MAX_EDGES

    def excess(self, nodes: int, edges: int | None) -> str:
        """Why a graph of this size is not drawn ('' when it fits); ``edges`` None: not
        counted (too many nodes already)."""
        if nodes > self.max_nodes:
            return f"{nodes:,} nodes, more than --max-nodes {self.max_nodes}"
        if edges is not None and edges > self.max_edges:
            return f"{edges:,} edges, more than --max-edges {self.max_edges}"
        return ""


@dataclass(frozen=True, slots=True)
class Fit:
    graph: Graph
    view: MatrixView
    excess: str  # why even the smallest graph is not laid out; '' when it fits
    note: str  # one line for stderr ('' when the graph asked for is the one drawn)

    @property
    def fits(self) -> bool:
        """Within the budget: Graphviz lays it out in seconds."""
        return not self.excess

    def refusal(self) -> str:
        """The one-line error of a drawing that is not laid out."""
        return (
            f"too large to lay out in seconds even {self.drawn()} ({self.excess}); draw part "
            "of it with -n NS or --focus NS/NAME, or see all of it with -o html (a table)"
        )

    def drawn(self) -> str:
        merged = self.graph.external_merged
        return f"by {self.view.granularity}" + (
            ", the external blocks as one node" if merged else ""
        )


def fit_graph(
    matrix: ClassMatrix,
    granularity: str,
    focus: str | None,
    budget: Budget,
    admits: Callable[[Pod], bool] | None = None,
) -> Fit:
    """The graph to draw; ``focus`` keeps the granularity asked (it names an endpoint of it)."""
    blocks = sum(1 for c in matrix.classes if c.kind == EXTERNAL)
    steps = [(granularity, False)]
    if granularity != "pod" and blocks > 1:
        steps.append((granularity, True))
    if focus is None and granularity != "namespace":
        steps.append(("namespace", False))
        if blocks > 1:
            steps.append(("namespace", True))
    first_excess = ""
    for n, (level, merge) in enumerate(steps):
        last = n == len(steps) - 1
        if focus is None and not last:
            nodes = endpoint_count(matrix, level, admits, merge)
            excess = budget.excess(nodes, None)
            if excess:
                first_excess = first_excess or excess
                continue
        view = MatrixView(matrix, level, admits, merge)
        graph = build_graph(view, focus, aggregated=level != granularity)
        graph.external_merged = merge
        excess = budget.excess(len(graph.nodes), len(graph.edges))
        first_excess = first_excess or excess
        if excess and not last:
            continue
        fit = Fit(graph, view, excess, "")
        return Fit(graph, view, excess, _note(fit, granularity, first_excess, n))
    raise AssertionError("the last step is always returned")


def _note(fit: Fit, asked: str, first_excess: str, step: int) -> str:
    if fit.excess:
        return (
            f"note: too large to lay out even {fit.drawn()} ({fit.excess}): written without "
            "a drawing; draw part of it with -n NS or --focus NS/NAME"
        )
    if step == 0:
        return ""
    graph = fit.graph
    size = f"{len(graph.nodes):,} nodes, {len(graph.edges):,} edges"
    detail = (
        "detail with -n NS or --focus NS/NAME"
        if graph.aggregated
        else "each block in netpol matrix --include-external, or raise the budget"
    )
    return (
        f"note: by {asked}: {first_excess}; drawn {fit.drawn()} ({size}; a merged edge is "
        f"the union of its members', * where they differ); {detail}"
    )
