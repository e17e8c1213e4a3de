"""graph: which nodes and edges are drawn, and the dot / mermaid / svg / html texts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from netpol.engine.compile import compile_cluster
from netpol.engine.endpoints import ip_endpoint, pod_endpoint
from netpol.engine.matrix import class_matrix
from netpol.engine.ports import ConnectionSet
from netpol.model.options import Options
from netpol.render.graph import (
    GraphError,
    build_graph,
    expected_from_report,
    to_dot,
    to_mermaid,
    to_svg,
)
from netpol.render.graph_fit import Budget, fit_graph
from netpol.render.html import PageInfo, edge_evidence, render_html
from netpol.validate.pipeline import load_cluster

THREE_TIER = Path(__file__).resolve().parents[2] / "examples" / "three-tier"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


@pytest.fixture(scope="module")
def compiled():
    options = Options()
    result = load_cluster([str(THREE_TIER)], options)
    assert result.ok
    return compile_cluster(result.cluster, options)


def view_of(cc, granularity="workload", focus=None, max_nodes=60, external=True):
    matrix = class_matrix(cc, include_external=external)
    fit = fit_graph(matrix, granularity, focus, Budget(max_nodes))
    return fit.view, fit.graph.aggregated


def edges(graph) -> set[tuple[str, str, str]]:
    return {(graph.node(e.src).id, graph.node(e.dst).id, e.label) for e in graph.edges}


def test_tutorial_graph_has_the_tiers_dns_and_the_outside(compiled) -> None:
    view, aggregated = view_of(compiled)
    graph = build_graph(view)
    assert not aggregated
    assert [n.id for n in graph.nodes] == [
        "app1-ns/backend-deploy",
        "app1-ns/db-sts",
        "app1-ns/frontend-deploy",
        "kube-system/coredns",
        "external:0.0.0.0/0",
        "external:::/0",
    ]
    found = edges(graph)
    assert {
        ("external:0.0.0.0/0", "app1-ns/frontend-deploy", "TCP 80"),
        ("app1-ns/frontend-deploy", "app1-ns/backend-deploy", "TCP 5678"),
        ("app1-ns/backend-deploy", "app1-ns/db-sts", "TCP 3306"),
        ("app1-ns/frontend-deploy", "kube-system/coredns", "TCP 53,UDP 53"),
        ("app1-ns/backend-deploy", "kube-system/coredns", "TCP 53,UDP 53"),
    } <= found
    assert not any(src == "app1-ns/db-sts" for src, _, _ in found)  # 04 denies all egress


def test_dot_has_namespace_clusters_and_edge_ids(compiled) -> None:
    graph = build_graph(view_of(compiled)[0])
    dot = to_dot(graph)
    assert 'label="namespace app1-ns"' in dot and 'label="namespace kube-system"' in dot
    assert re.search(r'n2 -> n0 \[id="e\d+", label="TCP 5678"', dot)
    assert "shape=ellipse" in dot  # external blocks


def test_mermaid_is_a_flowchart_with_subgraphs(compiled) -> None:
    mermaid = to_mermaid(build_graph(view_of(compiled)[0]))
    assert mermaid.startswith("flowchart LR\n")
    assert '  subgraph ns0 ["namespace app1-ns"]' in mermaid
    assert '  n2 -->|"TCP 5678"| n0' in mermaid
    assert '  n4(["external 0.0.0.0/0"])' in mermaid


def test_focus_keeps_one_workload_and_its_neighbours(compiled) -> None:
    view, _ = view_of(compiled, focus="app1-ns/backend-deploy")
    graph = build_graph(view, focus="app1-ns/backend-deploy")
    assert {n.id for n in graph.nodes} == {
        "app1-ns/backend-deploy",
        "app1-ns/frontend-deploy",
        "app1-ns/db-sts",
        "kube-system/coredns",
    }
    assert all("app1-ns/backend-deploy" in (s, d) for s, d, _ in edges(graph))
    with pytest.raises(GraphError, match="--focus 'nope' matches no endpoint"):
        build_graph(view, focus="nope")


def test_large_inputs_are_drawn_by_namespace(compiled) -> None:
    view, aggregated = view_of(compiled, "pod", max_nodes=4)
    assert aggregated and view.granularity == "namespace"
    graph = build_graph(view, aggregated=aggregated)
    assert {n.id for n in graph.nodes} >= {"app1-ns", "kube-system"}
    # '*': members disagree (the DB has no DNS egress), the label is their union.
    assert ("app1-ns", "kube-system", "TCP 53,UDP 53 *") in edges(graph)


def test_expected_but_denied_flows_are_red(compiled) -> None:
    view, _ = view_of(compiled)
    pods = {p.workload.id: p for p in compiled.cluster.pods if p.workload}
    db = pod_endpoint(pods["app1-ns/db-sts"], compiled.options.profile)
    frontend = pod_endpoint(pods["app1-ns/frontend-deploy"], compiled.options.profile)
    tcp80 = ConnectionSet.of("TCP", 80)
    pair = SimpleNamespace(
        src=db, dst=frontend, required=tcp80, allowed=ConnectionSet.none(), evidence=None
    )
    outside = SimpleNamespace(
        src=ip_endpoint("203.0.113.9"), dst=frontend, required=tcp80, allowed=tcp80, evidence=None
    )
    report = SimpleNamespace(
        results=[
            SimpleNamespace(
                expectation=SimpleNamespace(expect="allow", name="db to web"), pairs=[pair]
            ),
            SimpleNamespace(
                expectation=SimpleNamespace(expect="allow", name="web"), pairs=[outside]
            ),
        ]
    )
    expected = expected_from_report(report, view)
    assert [(f.src, f.dst, f.expect) for f in expected] == [
        ("app1-ns/db-sts", "app1-ns/frontend-deploy", "allow")
    ]
    graph = build_graph(view, expected=expected)
    red = [e for e in graph.edges if e.style == "denied"]
    assert [e.label for e in red] == ["db to web: expected, denied: TCP 80"]
    assert 'color="#d32f2f"' in to_dot(graph)
    assert "linkStyle" in to_mermaid(graph)


@needs_dot
def test_svg_keeps_node_and_edge_ids(compiled) -> None:
    svg = to_svg(to_dot(build_graph(view_of(compiled)[0])))
    assert svg.startswith("<svg")
    assert '<g id="e0" class="edge allowed">' in svg
    assert '<g id="n0" class="node">' in svg


@needs_dot
def test_html_is_self_contained_with_evidence_for_every_edge(compiled) -> None:
    view, _ = view_of(compiled)
    graph = build_graph(view)
    evidence = edge_evidence(compiled, view, graph)
    assert set(evidence) == {e.key for e in graph.edges}
    page = render_html(
        graph, view, evidence, PageInfo("three-tier", "upstream", "examples/three-tier")
    )
    # Not even an XML namespace: the page names no URL at all.
    assert "http:" not in page and "https:" not in page and "//www." not in page
    assert "<svg " in page
    assert "<script src" not in page and '<link rel="stylesheet"' not in page
    data = json.loads(re.search(r'id="netpol-data">(.*?)</script>', page, re.S).group(1))
    web = next(e for e in data["edges"].values() if e["dst"] == "app1-ns/backend-deploy")
    assert "allowed by app1-ns/backend-policy ingress[0]" in web["evidence"]
    assert '<table id="truth-table">' in page


def test_a_layout_over_the_time_limit_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def too_slow(*args: object, **kwargs: object) -> None:
        raise subprocess.TimeoutExpired(["dot"], 60)

    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(subprocess, "run", too_slow)
    with pytest.raises(GraphError) as caught:
        to_svg("digraph {}")
    assert str(caught.value) == (
        "Graphviz's dot did not lay the graph out within 60 s; draw less of it "
        "(-n NS, --focus NS/NAME, a lower --max-nodes/--max-edges) or print -o dot / -o json"
    )


def test_a_failed_layout_is_the_first_line_of_graphviz_s_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failed = SimpleNamespace(
        returncode=1, stdout=b"", stderr=b"Error: trouble in init_rank\n\t%0 3\n\tn59 3\n"
    )
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: failed)
    with pytest.raises(GraphError) as caught:
        to_svg("digraph {}")
    assert str(caught.value) == "Graphviz's dot failed: Error: trouble in init_rank"
