"""graph_fit: the most detailed graph within the drawing budget, and its one-line note."""

from __future__ import annotations

import pytest
from tests.render.conftest import compiled as compile_example

from netpol.engine.matrix import class_matrix
from netpol.engine.views import MERGED_EXTERNAL_ID
from netpol.render.graph import to_dot
from netpol.render.graph_fit import Budget, fit_graph
from netpol.render.html import PageInfo, edge_evidence, render_html

# three-tier by workload: 4 workloads + 2 external blocks (0.0.0.0/0, ::/0), 11 edges;
# the blocks as one node: 5 nodes, 9 edges; by namespace: 2 + 2 nodes, 9 edges; the blocks
# as one node: 3 nodes, 7 edges.
MERGED_NOTE = (
    "note: by workload: 6 nodes, more than --max-nodes 5; drawn by workload, the external "
    "blocks as one node (5 nodes, 9 edges; a merged edge is the union of its members', * "
    "where they differ); each block in netpol matrix --include-external, or raise the budget"
)


@pytest.fixture(scope="module")
def three_tier():
    return compile_example("three-tier")


@pytest.fixture(scope="module")
def matrix(three_tier):
    return class_matrix(three_tier, include_external=True)


def edges(graph) -> dict[tuple[str, str], str]:
    return {(graph.node(e.src).id, graph.node(e.dst).id): e.label for e in graph.edges}


@pytest.mark.parametrize(
    ("granularity", "max_nodes", "max_edges", "drawn", "merged", "fits", "nodes", "edge_count"),
    [
        ("workload", 60, 300, "workload", False, True, 6, 11),
        ("workload", 6, 11, "workload", False, True, 6, 11),
        ("workload", 5, 300, "workload", True, True, 5, 9),
        ("workload", 60, 10, "workload", True, True, 5, 9),
        ("workload", 4, 300, "namespace", False, True, 4, 9),
        ("workload", 4, 8, "namespace", True, True, 3, 7),
        ("workload", 3, 300, "namespace", True, True, 3, 7),
        ("workload", 2, 300, "namespace", True, False, 3, 7),
        ("workload", 60, 5, "namespace", True, False, 3, 7),
        ("pod", 6, 300, "namespace", False, True, 4, 9),  # pods are never merged
        ("namespace", 3, 300, "namespace", True, True, 3, 7),
    ],
)
def test_the_first_step_within_the_budget_is_drawn(
    matrix, granularity, max_nodes, max_edges, drawn, merged, fits, nodes, edge_count
) -> None:
    fit = fit_graph(matrix, granularity, None, Budget(max_nodes, max_edges))
    graph = fit.graph
    assert (graph.granularity, graph.external_merged, fit.fits) == (drawn, merged, fits)
    assert (len(graph.nodes), len(graph.edges)) == (nodes, edge_count)
    assert graph.aggregated == (drawn != granularity)
    assert fit.view.granularity == drawn


def test_a_graph_within_the_budget_has_no_note(matrix) -> None:
    assert fit_graph(matrix, "workload", None, Budget()).note == ""


def test_merged_blocks_are_one_node_whose_edges_are_the_union(matrix) -> None:
    each = fit_graph(matrix, "workload", None, Budget()).graph
    fit = fit_graph(matrix, "workload", None, Budget(5, 300))
    assert fit.note == MERGED_NOTE
    world = next(n for n in fit.graph.nodes if n.id == MERGED_EXTERNAL_ID)
    assert (world.label, world.detail) == ("external\n2 blocks", "0.0.0.0/0, ::/0")
    before, after = edges(each), edges(fit.graph)
    # the IPv4 world may reach the frontend on TCP 80, the IPv6 one may not: '*'
    assert before[("external:0.0.0.0/0", "app1-ns/frontend-deploy")] == "TCP 80"
    assert ("external:::/0", "app1-ns/frontend-deploy") not in before
    assert after[(MERGED_EXTERNAL_ID, "app1-ns/frontend-deploy")] == "TCP 80 *"
    # both blocks agree on coredns: no '*'
    assert before[("external:0.0.0.0/0", "kube-system/coredns")] == "all"
    assert before[("external:::/0", "kube-system/coredns")] == "all"
    assert after[(MERGED_EXTERNAL_ID, "kube-system/coredns")] == "all"
    # every edge between pods is kept as it was; the block edges become one per neighbour
    inside = {k: v for k, v in before.items() if not k[0].startswith("external:")}
    inside = {k: v for k, v in inside.items() if not k[1].startswith("external:")}
    assert {k: v for k, v in after.items() if MERGED_EXTERNAL_ID not in k} == inside
    assert 'n4 [id="n4", label="external\\n2 blocks"' in to_dot(fit.graph)


def test_namespace_note_says_what_was_asked_and_where_the_detail_is(matrix) -> None:
    fit = fit_graph(matrix, "workload", None, Budget(3, 300))
    assert fit.note == (
        "note: by workload: 6 nodes, more than --max-nodes 3; drawn by namespace, the "
        "external blocks as one node (3 nodes, 7 edges; a merged edge is the union of its "
        "members', * where they differ); detail with -n NS or --focus NS/NAME"
    )


def test_the_edge_budget_is_named_when_it_is_the_one_exceeded(matrix) -> None:
    fit = fit_graph(matrix, "workload", None, Budget(60, 10))
    assert fit.note.startswith("note: by workload: 11 edges, more than --max-edges 10; drawn ")


def test_too_large_even_at_the_last_step_is_said_and_refused(matrix) -> None:
    fit = fit_graph(matrix, "workload", None, Budget(2, 300))
    assert not fit.fits
    assert fit.note == (
        "note: too large to lay out even by namespace, the external blocks as one node "
        "(3 nodes, more than --max-nodes 2): written without a drawing; draw part of it "
        "with -n NS or --focus NS/NAME"
    )
    assert fit.refusal() == (
        "too large to lay out in seconds even by namespace, the external blocks as one node "
        "(3 nodes, more than --max-nodes 2); draw part of it with -n NS or --focus NS/NAME, "
        "or see all of it with -o html (a table)"
    )


def test_focus_keeps_its_granularity_and_merges_the_blocks(matrix) -> None:
    focus = "kube-system/coredns"
    fit = fit_graph(matrix, "workload", focus, Budget(4, 300))
    assert (fit.graph.granularity, fit.graph.external_merged, fit.fits) == (
        "workload",
        True,
        True,
    )
    assert {n.id for n in fit.graph.nodes} == {
        "kube-system/coredns",
        "app1-ns/frontend-deploy",
        "app1-ns/backend-deploy",
        MERGED_EXTERNAL_ID,
    }
    # a focus is never traded for namespaces: past the budget it is written, not drawn
    small = fit_graph(matrix, "workload", focus, Budget(3, 300))
    assert small.graph.granularity == "workload" and not small.fits


def test_html_past_the_budget_is_the_table_without_a_drawing(three_tier, matrix) -> None:
    fit = fit_graph(matrix, "workload", None, Budget(2, 300))
    evidence = edge_evidence(three_tier, fit.view, fit.graph)
    assert set(evidence) == {e.key for e in fit.graph.edges}  # every edge explained
    info = PageInfo("three-tier", "upstream", "examples/three-tier")
    page = render_html(fit.graph, fit.view, evidence, info, laid_out=False)
    assert "<svg" not in page
    assert '<p id="not-drawn" class="legend">Not drawn: too large to lay out in seconds ' in page
    assert "(3 nodes, 7 edges). Every edge is in the truth table below" in page
    assert "external blocks merged into one node" in page
    assert page.count('<td class="allowed" data-edge="e') == len(fit.graph.edges)
