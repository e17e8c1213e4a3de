"""``netpol graph``: the allowed connections as a picture (dot, svg, mermaid, html)."""

from __future__ import annotations

from typing import Any

import click

from netpol.cli.common import (
    document_text,
    fail,
    input_options,
    load_or_exit,
    note_empty_scope,
    options_from,
    output_option,
    scope_from,
    scope_options,
)
from netpol.cli.progress import progress_for_command
from netpol.engine.compile import compile_cluster
from netpol.engine.matrix import class_matrix
from netpol.engine.views import GRANULARITIES
from netpol.render.graph import (
    GRAPH_FORMATS,
    GraphError,
    add_expected,
    expected_from_report,
    graph_json,
    to_dot,
    to_mermaid,
    to_svg,
)
from netpol.render.graph_fit import DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES, Budget, fit_graph


@click.command("graph")
@input_options
@click.option(
    "--by", "granularity", type=click.Choice(GRANULARITIES), default="workload", show_default=True
)
@click.option("--focus", default=None, help="Only this workload (NS/NAME) and its neighbours.")
@click.option(
    "--max-nodes",
    type=click.IntRange(1, 100_000),
    default=DEFAULT_MAX_NODES,
    show_default=True,
    help="Drawing budget: above this many nodes, merge external blocks, then draw namespaces.",
)
@click.option(
    "--max-edges",
    type=click.IntRange(1, 1_000_000),
    default=DEFAULT_MAX_EDGES,
    show_default=True,
    help="Drawing budget: above this many edges, merge external blocks, then draw namespaces.",
)
@click.option("--no-external", is_flag=True, help="Leave out the external IP blocks.")
@click.option(
    "--expect",
    "expect_path",
    type=click.Path(dir_okay=False),
    help="Expectations file: expected flows that are denied are drawn in red.",
)
@click.option("--title", default=None, help="Title of the drawing.")
@scope_options
@output_option(*GRAPH_FORMATS, default="dot")
@click.option(
    "-w", "--write", "write_path", type=click.Path(dir_okay=False), help="Write to this file."
)
def command(
    paths: tuple[str, ...],
    granularity: str,
    focus: str | None,
    max_nodes: int,
    max_edges: int,
    no_external: bool,
    expect_path: str | None,
    title: str | None,
    output: str,
    write_path: str | None,
    **params: Any,
) -> None:
    """Draw who may connect to whom: namespaces as clusters, workloads (or pods) as nodes,
    external blocks as their own nodes, edges labelled with the allowed connection set.

    html is one self-contained page (no network needed): the graph, the truth table, and
    the explain evidence of each edge on click. svg and html need Graphviz's dot. json
    (and yaml) is the graph as data: its nodes and edges (docs/json.md).

    A large graph is drawn within a budget (--max-nodes, --max-edges) so that it is laid
    out in seconds: the external blocks as one node, then by namespace; a note says what
    was drawn, and past even that html is the table alone and svg is refused.

    -n and -l draw only the pods they admit (a workload or namespace node stands for its
    admitted pods; external blocks stay). The default, like -A, is every namespace.

    \b
    Examples:
      netpol graph examples/three-tier -o svg -w three-tier.svg
      netpol graph examples/three-tier -o html -w three-tier.html
      netpol graph examples/three-tier -o mermaid --focus app1-ns/backend-deploy
      netpol graph examples/tutorial -n app1-ns -o json
      netpol graph examples/tutorial --expect examples/tutorial/expectations.yaml -o html -w t.html
    """
    options = options_from(params)
    expectations = None
    if expect_path is not None:
        from netpol.analysis.expectations import ExpectationsError, read_expectations

        try:
            expectations = read_expectations(expect_path, options.input_limits)
        except ExpectationsError as exc:
            fail(str(exc))
    cluster = load_or_exit(paths, options)
    scope = scope_from(params, cluster)
    cc = compile_cluster(cluster, options)
    progress = progress_for_command()
    matrix = class_matrix(cc, include_external=not no_external, progress=progress)
    admits = None if scope.everything else scope.admits
    try:
        progress.phase("choosing what to draw")
        fit = fit_graph(matrix, granularity, focus, Budget(max_nodes, max_edges), admits)
        view, graph = fit.view, fit.graph
        if output == "svg" and not fit.fits:
            fail(fit.refusal())
        if fit.note:  # before the long part: the user knows at once what is coming
            click.echo(fit.note, err=True)
        note_empty_scope(sum(len(e.pods) for e in view.endpoints), scope)
        if expectations is not None:
            from netpol.analysis.verify import verify

            add_expected(graph, expected_from_report(verify(cc, expectations), view))
        if title:
            graph.title = title
        if output == "mermaid":
            text = to_mermaid(graph)
        elif output == "dot":
            text = to_dot(graph)
        elif output == "svg":
            progress.phase("laying out with Graphviz")
            text = to_svg(to_dot(graph))
        elif output in ("json", "yaml"):
            text = document_text(graph_json(graph), output)
        else:
            from netpol.render.html import PageInfo, edge_evidence, render_html

            progress.phase("explaining the edges")
            evidence = edge_evidence(cc, view, graph)
            if fit.fits:
                progress.phase("laying out with Graphviz")
            info = PageInfo(graph.title, options.profile.name, " ".join(paths))
            text = render_html(graph, view, evidence, info, laid_out=fit.fits)
    except GraphError as exc:
        fail(str(exc))
    progress.phase("writing")
    if write_path is None:
        click.echo(text.rstrip("\n"))
        return
    try:
        with open(write_path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        fail(f"{write_path}: cannot write: {exc.strerror or exc}")
    click.echo(
        f"{len(graph.nodes)} nodes, {len(graph.edges)} edges; written to {write_path}", err=True
    )
