"""``netpol explain``: one flow, its verdict and the evidence for it."""

from __future__ import annotations

import click

from netpol.cli.common import (
    echo_document,
    fail,
    input_options,
    load_or_exit,
    options_from,
    output_option,
)
from netpol.engine.compile import compile_cluster
from netpol.engine.explain import explain
from netpol.engine.resolve import ResolveError
from netpol.load.gcpause import gc_paused
from netpol.render.explain import explanation_json, explanation_text


@click.command("explain")
@input_options
@click.option(
    "--from",
    "source",
    required=True,
    help="Source: NS/POD, NS/WORKLOAD, KIND/NAME, Service, or IP.",
)
@click.option(
    "--to",
    "destination",
    required=True,
    help="Destination[:PORT[/PROTO]]: NS/POD, NS/WORKLOAD, Service or DNS name, or IP.",
)
@click.option("-n", "--namespace", default=None, help="Namespace for names written without one.")
@output_option("text", "json", "yaml", default="text")
@click.option("--exit-code", is_flag=True, help="Exit 1 when the flow is denied.")
def command(
    paths: tuple[str, ...],
    source: str,
    destination: str,
    namespace: str | None,
    output: str,
    exit_code: bool,
    **params: object,
) -> None:
    """Decide one connection and say why: which policies isolate each side, and which rule
    allowed it or why none did.

    A Service destination resolves to its backend pods and its port to their target
    port, as kube-proxy would; a bare name resolves from the source's namespace.

    \b
    Examples:
      netpol explain examples/three-tier --from app1-ns/frontend-deploy --to backend-svc:5678
      netpol explain examples/tutorial --from app1-ns/frontend-deploy --to db-sts-0.db-svc.app1-ns.svc.cluster.local:3306
      netpol explain examples/three-tier --from 203.0.113.7 --to app1-ns/frontend-deploy:80
    """
    options = options_from(params)
    cluster = load_or_exit(paths, options)
    # the compiled policies and the verdicts hold no cycles: no collector pass walks them,
    # neither while they are built nor on the way out (frozen)
    with gc_paused(freeze=True):
        cc = compile_cluster(cluster, options)
        try:
            explanations = explain(cc, source, destination, namespace)
        except ResolveError as exc:
            fail(str(exc))
    if output in ("json", "yaml"):
        echo_document(explanation_json(explanations), output)
    else:
        click.echo(explanation_text(explanations))
    if exit_code and not all(e.allowed for e in explanations):
        raise SystemExit(1)
