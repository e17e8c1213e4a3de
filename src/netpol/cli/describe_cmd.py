"""``netpol describe policy|pod NAME``: one object in plain words, with the cluster in view."""

from __future__ import annotations

import json

import click

from netpol.cli.common import fail, input_options, load_or_exit, options_from
from netpol.engine.compile import compile_cluster
from netpol.engine.describe import describe_pod, describe_policy, find_pod, find_policy
from netpol.engine.resolve import ResolveError
from netpol.render.describe import pod_json, pod_text, policy_json, policy_text

KINDS = {
    "policy": "policy",
    "netpol": "policy",
    "networkpolicy": "policy",
    "pod": "pod",
    "po": "pod",
}


@click.command("describe")
@click.argument("kind", type=click.Choice(sorted(KINDS), case_sensitive=False))
@click.argument("name")
@input_options
@click.option("-n", "--namespace", default=None, help="Namespace of NAME (or write NS/NAME).")
@click.option(
    "-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def command(
    kind: str,
    name: str,
    paths: tuple[str, ...],
    namespace: str | None,
    output: str,
    **params: object,
) -> None:
    """Describe a NetworkPolicy (what it isolates, each rule in words, and the pods,
    namespaces and IP ranges every peer matches right now, flagging peers that match
    nothing) or a pod (the policies isolating it and whom it reaches).

    \b
    Examples:
      netpol describe policy backend-policy -n app1-ns examples/tutorial
      netpol describe pod app1-ns/db-sts-0 examples/three-tier
    """
    options = options_from(params)
    cluster = load_or_exit(paths, options)
    if "/" in name:
        namespace, name = name.split("/", 1)
    namespace = namespace or options.default_namespace
    cc = compile_cluster(cluster, options)
    try:
        if KINDS[kind.lower()] == "policy":
            description = describe_policy(cc, find_policy(cc, namespace, name))
            text = _json(policy_json(description)) if output == "json" else policy_text(description)
        else:
            pod_description = describe_pod(cc, find_pod(cluster, namespace, name))
            text = (
                _json(pod_json(pod_description)) if output == "json" else pod_text(pod_description)
            )
    except ResolveError as exc:
        fail(str(exc))
    click.echo(text)


def _json(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2)
