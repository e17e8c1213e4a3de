"""``netpol describe policy|pod NAME``: one object in plain words, with the cluster in view."""

from __future__ import annotations

from typing import Any

import click

from netpol.cli.common import (
    echo_document,
    fail,
    input_options,
    load_or_exit,
    note_empty_scope,
    options_from,
    output_option,
    scope_from,
    scope_options,
)
from netpol.cli.short_names import SHARED, cnp_kind
from netpol.engine.cilium_describe import describe_cilium, find_cilium
from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.engine.describe import (
    describe_pod,
    describe_policy,
    describe_tiered,
    find_pod,
    find_policy,
    find_tiered,
)
from netpol.engine.names import Scope
from netpol.engine.resolve import ResolveError
from netpol.load.gcpause import gc_paused
from netpol.model.cilium import CCNP_KIND, CILIUM_KINDS
from netpol.model.cilium import CNP_KIND as CILIUM_CNP_KIND
from netpol.model.cluster import Cluster
from netpol.model.options import Options
from netpol.model.tiers import ANP_KIND, BANP_KIND, CALICO_GNP_KIND, CALICO_NP_KIND, CNP_KIND
from netpol.render.cilium_describe import cilium_json, cilium_text
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
    # Cilium's; "cnp" (above) means CiliumNetworkPolicy with NS/NAME or where the input has
    # no ClusterNetworkPolicy (short_names)
    **{
        alias: CILIUM_CNP_KIND
        for alias in ("ciliumnp", "ciliumnetworkpolicy", "ciliumnetworkpolicy.cilium.io")
    },
    **{
        alias: CCNP_KIND
        for alias in (
            "ccnp",
            "ciliumclusterwidenetworkpolicy",
            "ciliumclusterwidenetworkpolicy.cilium.io",
        )
    },
}
# the Calico NetworkPolicy is the one tiered kind that lives in a namespace
CLUSTER_SCOPED = (ANP_KIND, BANP_KIND, CNP_KIND, CALICO_GNP_KIND)


@click.command("describe")
@click.argument("kind", metavar="KIND", type=click.Choice(sorted(KINDS), case_sensitive=False))
@click.argument("name", metavar="NAME", required=False)
@input_options
@scope_options
@output_option("text", "json", "yaml", default="text")
def command(
    kind: str,
    name: str | None,
    paths: tuple[str, ...],
    namespace: str | None,
    all_namespaces: bool,
    selector: str | None,
    output: str,
    **params: Any,
) -> None:
    """Describe a NetworkPolicy (what it isolates, each rule in words, and the pods,
    namespaces and IP ranges every peer matches right now, flagging peers that match
    nothing), an admin, baseline or Calico policy (its tier and order, the pods it
    selects, each rule with its action and what every peer matches), or a pod (the
    policies isolating it and whom it reaches).

    A Cilium policy (ciliumnp, ccnp) is described rule by rule: its subject, the pods it
    selects, its default deny per direction, and each entry (allow or deny, peers, ports,
    L7).

    \b
    KIND: policy (netpol), pod (po), anp, banp, cnp, gnp, cnetpol (a Calico
    NetworkPolicy, namespaced), ciliumnp (cnp with NS/NAME, or where the input has no
    ClusterNetworkPolicy), ccnp.

    NAME is read as every verb reads it: NS/NAME (or -n NS), a workload (its first pod),
    or the only workload a short name begins; a pod name alone, without -n, is looked up
    in every namespace. With -l, leave NAME out: every pod the selector matches (in -n's
    namespace, else in all) is described, or for policy every NetworkPolicy that selects
    one of them (json and yaml print a List).

    \b
    Examples:
      netpol describe policy backend-policy -n app1-ns examples/tutorial
      netpol describe pod app1-ns/db-sts-0 examples/three-tier
      netpol describe pod app1-ns/frontend examples/tutorial
      netpol describe pod -l role=db examples/tutorial
      netpol describe anp app1-boundary examples/admin-tiers
      netpol describe banp default examples/admin-tiers
      netpol describe cnp app1-ns/backend-l7 --live
    """
    options = options_from(params)
    if selector is not None and name is not None:
        paths = (name, *paths)  # NAME is left out with -l: the first argument is a path
    elif name is None and selector is None:
        fail("give the NAME to describe (or -l SELECTOR for every match)")
    cluster = load_or_exit(paths, options)
    scope = scope_from(
        {"namespace": namespace, "all_namespaces": all_namespaces, "selector": selector}, cluster
    )
    # the compiled policies and the verdicts hold no cycles: no collector pass walks them,
    # neither while they are built nor on the way out (frozen)
    with gc_paused(freeze=True):
        _describe(cluster, options, kind, name, namespace, scope, output)


def _describe(
    cluster: Cluster,
    options: Options,
    kind: str,
    name: str | None,
    namespace: str | None,
    scope: Scope,
    output: str,
) -> None:
    cc = compile_cluster(cluster, options)
    chosen = KINDS[kind.lower()]
    if scope.selector is not None:
        _describe_selected(cc, chosen, scope, output)
        return
    assert name is not None, "checked above: without -l there is a NAME"
    if "/" in name:
        namespace, name = name.split("/", 1)
    given = namespace
    namespace = namespace or options.default_namespace
    if kind.lower() == SHARED:
        chosen, warning = cnp_kind(cluster, namespaced=given is not None)
        if warning:
            click.echo(f"warning: {warning}", err=True)
    try:
        if chosen in CILIUM_KINDS:
            cilium = describe_cilium(cluster, find_cilium(cluster, chosen, namespace, name))
            document, text = cilium_json(cilium), cilium_text(cilium)
        elif chosen not in ("policy", "pod"):
            scope_ns = None if chosen in CLUSTER_SCOPED else namespace
            tiered = describe_tiered(cc, find_tiered(cc, chosen, scope_ns, name))
            document, text = tiered_json(tiered), tiered_text(tiered)
        elif chosen == "policy":
            description = describe_policy(cc, find_policy(cc, namespace, name))
            document, text = policy_json(description), policy_text(description)
        else:
            pod_description = describe_pod(cc, find_pod(cluster, given, name))
            document, text = pod_json(pod_description), pod_text(pod_description)
    except ResolveError as exc:
        fail(str(exc))
    if output == "text":
        click.echo(text)
    else:
        echo_document(document, output)


def _describe_selected(cc: CompiledCluster, chosen: str, scope: Scope, output: str) -> None:
    """``describe pod|policy -l SELECTOR``: every pod in scope, or every NetworkPolicy
    selecting one."""
    pods = [p for p in cc.cluster.pods if scope.admits(p)]
    documents: list[dict[str, Any]] = []
    texts: list[str] = []
    if chosen == "pod":
        for pod in pods:
            pod_description = describe_pod(cc, pod)
            documents.append(pod_json(pod_description))
            texts.append(pod_text(pod_description))
    elif chosen == "policy":
        for compiled in cc.policies:
            if any(compiled.selects(p) for p in pods):
                description = describe_policy(cc, compiled)
                documents.append(policy_json(description))
                texts.append(policy_text(description))
    else:
        fail(
            "-l/--selector describes pods or the NetworkPolicies selecting them (KIND pod or policy)"
        )
    note_empty_scope(len(documents), scope, "pods" if chosen == "pod" else "policies")
    if output == "text":
        click.echo("\n\n".join(texts))
    else:
        echo_document({"kind": "List", "items": documents}, output)
