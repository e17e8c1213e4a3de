"""``netpol describe policy|pod NAME``: one object in plain words, with the cluster in view."""

from __future__ import annotations

import json

import click

from netpol.cli.common import fail, input_options, load_or_exit, options_from
from netpol.engine.compile import compile_cluster
from netpol.engine.describe import (
    describe_pod,
    describe_policy,
    describe_tiered,
    find_pod,
    find_policy,
    find_tiered,
)
from netpol.engine.resolve import ResolveError
from netpol.model.tiers import ANP_KIND, BANP_KIND, CALICO_GNP_KIND, CALICO_NP_KIND, CNP_KIND
from netpol.render.describe import (
    pod_json,
    pod_text,
    policy_json,
    policy_text,
    tiered_json,
    tiered_text,
)

KINDS = {
    "policy": "policy",
    "netpol": "policy",
    "networkpolicy": "policy",
    "pod": "pod",
    "po": "pod",
    **{alias: ANP_KIND for alias in ("anp", "adminnetworkpolicy")},
    **{alias: BANP_KIND for alias in ("banp", "baselineadminnetworkpolicy")},
    **{alias: CNP_KIND for alias in ("cnp", "clusternetworkpolicy")},
    **{alias: CALICO_GNP_KIND for alias in ("gnp", "globalnetworkpolicy")},
    **{
        alias: CALICO_NP_KIND
        for alias in ("caliconetworkpolicy", "cnetpol", "networkpolicy.projectcalico.org")
    },
}
# the Calico NetworkPolicy is the one tiered kind that lives in a namespace
CLUSTER_SCOPED = (ANP_KIND, BANP_KIND, CNP_KIND, CALICO_GNP_KIND)


@click.command("describe")
@click.argument("kind", metavar="KIND", type=click.Choice(sorted(KINDS), case_sensitive=False))
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
    nothing), an admin, baseline or Calico policy (its tier and order, the pods it
    selects, each rule with its action and what every peer matches), or a pod (the
    policies isolating it and whom it reaches).

    \b
    KIND: policy (netpol), pod (po), anp, banp, cnp, gnp, cnetpol (a Calico
    NetworkPolicy, namespaced).

    \b
    Examples:
      netpol describe policy backend-policy -n app1-ns examples/tutorial
      netpol describe pod app1-ns/db-sts-0 examples/three-tier
      netpol describe anp app1-boundary examples/admin-tiers
      netpol describe banp default examples/admin-tiers
    """
    options = options_from(params)
    cluster = load_or_exit(paths, options)
    if "/" in name:
        namespace, name = name.split("/", 1)
    given = namespace
    namespace = namespace or options.default_namespace
    cc = compile_cluster(cluster, options)
    chosen = KINDS[kind.lower()]
    try:
        if chosen not in ("policy", "pod"):
            scope = None if chosen in CLUSTER_SCOPED else namespace
            tiered = describe_tiered(cc, find_tiered(cc, chosen, scope, name))
            text = _json(tiered_json(tiered)) if output == "json" else tiered_text(tiered)
        elif chosen == "policy":
            description = describe_policy(cc, find_policy(cc, namespace, name))
            text = _json(policy_json(description)) if output == "json" else policy_text(description)
        else:
            pod_description = describe_pod(cc, find_pod(cluster, given, name))
            text = (
                _json(pod_json(pod_description)) if output == "json" else pod_text(pod_description)
            )
    except ResolveError as exc:
        fail(str(exc))
    click.echo(text)


def _json(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2)
