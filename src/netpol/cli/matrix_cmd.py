"""``netpol matrix``: every ordered pair of endpoints and what may flow between them."""

from __future__ import annotations

from typing import Any

import click

from netpol.cli.common import (
    echo_json_text,
    input_options,
    load_or_exit,
    note_empty_scope,
    options_from,
    output_option,
    parse_port_options,
    scope_from,
    scope_options,
)
from netpol.cli.progress import progress_for_command
from netpol.engine.compile import compile_cluster
from netpol.engine.matrix import class_matrix
from netpol.engine.ports import ConnectionSet
from netpol.engine.views import GRANULARITIES, MatrixView
from netpol.render.matrix import matrix_csv, matrix_json, matrix_markdown, truth_tables, wide

FORMATS = ("table", "wide", "json", "yaml", "csv", "md")
TABLE_LIMIT = 150  # endpoints; a table grows with their square
# what a too-large table may suggest instead: only views coarser than the one asked for
COARSER_VIEWS = {
    "pod": "--by workload or --by namespace",
    "workload": "--by namespace",
    "namespace": "",
}


@click.command("matrix")
@input_options
@click.option(
    "--by", "granularity", type=click.Choice(GRANULARITIES), default="pod", show_default=True
)
@click.option(
    "--port", "port_specs", multiple=True, help="Only this port (repeatable): 80, 80/TCP, 53/UDP."
)
@click.option(
    "--include-external", is_flag=True, help="Add the external IP blocks (cut by every ipBlock)."
)
@click.option("--include-nodes", is_flag=True, help="Add the nodes as endpoints.")
@click.option("--all-pairs", is_flag=True, help="List denied pairs too (json, csv, md, wide).")
@scope_options
@output_option(*FORMATS, default="table")
def command(
    paths: tuple[str, ...],
    granularity: str,
    port_specs: tuple[str, ...],
    include_external: bool,
    include_nodes: bool,
    all_pairs: bool,
    output: str,
    **params: Any,
) -> None:
    """Print who can connect to whom: a truth table ('.' allowed, 'X' denied, one table per
    --port), or the allowed connection set of every ordered pair.

    -n and -l keep the pods they admit as both sources and destinations (external blocks
    and nodes stay when asked for); a workload or namespace stands for its admitted pods.
    The default, like -A, is every namespace.

    \b
    Examples:
      netpol matrix examples/three-tier
      netpol matrix examples/three-tier --port 80 --port 5678 --port 3306
      netpol matrix examples/three-tier --by workload -o json
      netpol matrix examples/tutorial -n app1-ns -l 'role in (frontend,backend)'
      kustomize build overlays/prod | netpol matrix - --by namespace -o md
    """
    ports = [(protocol, port) for port, protocol in parse_port_options(port_specs)]
    options = options_from(params)
    cluster = load_or_exit(paths, options)
    scope = scope_from(params, cluster)
    cc = compile_cluster(cluster, options)
    progress = progress_for_command()
    matrix = class_matrix(
        cc, include_external=include_external, include_nodes=include_nodes, progress=progress
    )
    progress.phase("writing")
    admits = None if scope.everything else scope.admits
    view = MatrixView(matrix, granularity, admits)
    if cc.without_l7 is not None:  # mark what only Cilium's L7-filtered allows let through
        without = class_matrix(
            cc.without_l7, include_external=include_external, include_nodes=include_nodes
        )
        view.mark_l7(MatrixView(without, granularity, admits))
    note_empty_scope(sum(len(e.pods) for e in view.endpoints), scope)
    port_set = ConnectionSet.union_of(ConnectionSet.of(p, n) for p, n in ports) if ports else None
    if output == "table" and len(view.endpoints) > TABLE_LIMIT:
        coarser = COARSER_VIEWS[granularity]
        click.echo(
            f"note: {len(view.endpoints)} endpoints are too many for a readable truth table; "
            f"listing the allowed pairs instead (try {coarser + ', or ' if coarser else ''}"
            "-o json)",
            err=True,
        )
        output = "wide"
    if output == "table":
        click.echo(truth_tables(view, ports))
    elif output == "wide":
        click.echo(wide(view, port_set, all_pairs))
    elif output in ("json", "yaml"):
        echo_json_text(matrix_json(view, options.profile.name, port_set, all_pairs), output)
    elif output == "csv":
        click.echo(matrix_csv(view, port_set, all_pairs))
    else:
        click.echo(matrix_markdown(view, port_set, all_pairs))
