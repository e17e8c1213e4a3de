"""``netpol doctor``: which CNI runs, whether it enforces NetworkPolicy, and what that means."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click

from netpol.analysis.cni import CniReport, detect_cni_in_cluster
from netpol.cli.common import input_options, load_or_exit, options_from
from netpol.cli.live_input import cni_of, live_cluster, requested_target
from netpol.engine.compile import compile_cluster
from netpol.model.cluster import Cluster
from netpol.model.options import KNOB_HELP, PROFILES, Options

ENFORCEMENT = {True: "enforced", False: "NOT ENFORCED", None: "unknown"}


@click.command("doctor")
@input_options
@click.option(
    "-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def command(paths: tuple[str, ...], output: str, **params: Any) -> None:
    """Name the cluster's CNI, whether it enforces NetworkPolicy (kindnet before KIND v0.24
    and flannel do not), the profile that matches it, the Kubernetes version, and what the
    policies mean there. Live (--kubeconfig) or on manifests and snapshots (CNI from the
    DaemonSet pods they hold).

    \b
    Examples:
      netpol doctor --kubeconfig ~/.kube/config --context kind-kind
      netpol doctor snapshot/
    """
    options = options_from(params)
    cluster = load_or_exit(paths, options)
    target = requested_target()
    if target is not None:
        live = live_cluster(target)
        report = cni_of(live)
        where: dict[str, Any] = {
            "server": live.server,
            "context": live.context,
            "version": live.version,
            "scope": list(live.scope),
        }
    else:
        report = detect_cni_in_cluster(cluster)
        where = {
            "server": None,
            "context": None,
            "version": None,
            "scope": [],
            "paths": list(paths),
        }
    found = diagnose(cluster, options, report, where)
    if output == "json":
        click.echo(json.dumps(found, indent=2))
    else:
        click.echo(text(found))


def diagnose(
    cluster: Cluster, options: Options, report: CniReport, where: dict[str, Any]
) -> dict[str, Any]:
    """Everything doctor says, as data (the JSON output; the text is printed from it)."""
    cni = report.primary
    compiled = compile_cluster(cluster, options)
    pods = compiled.policy_pods
    ingress = sum(1 for p in pods if compiled.isolated(p, "Ingress"))
    egress = sum(1 for p in pods if compiled.isolated(p, "Egress"))
    namespaces = sorted({p.namespace for p in cluster.policies})
    kinds = Counter(
        {
            "namespaces": len(cluster.namespaces),
            "nodes": len(cluster.nodes),
            "pods": len(cluster.pods),
            "services": len(cluster.services),
            "networkPolicies": len(cluster.policies),
        }
    )
    upstream = PROFILES["upstream"].knobs()
    differs = [
        f"{knob}: {str(value).lower()} (upstream: {str(upstream[knob]).lower()}; {KNOB_HELP[knob]})"
        for knob, value in options.profile.knobs().items()
        if upstream[knob] != value
    ]
    return {
        "kind": "Doctor",
        **where,
        "cni": _finding(cni),
        "otherCnis": [_finding(f) for f in report.findings if f is not cni],
        "cniSummary": report.summary,
        "enforced": cni.enforces,
        "profile": options.profile.name,
        "profileOfCni": cni.profile,
        "profileDiffersFromUpstream": differs,
        "objects": dict(kinds),
        "policies": {
            "count": len(cluster.policies),
            "namespaces": namespaces,
            "podsSelectable": len(pods),
            "isolatedIngress": ingress,
            "isolatedEgress": egress,
        },
        "meaning": _meaning(cni.enforces, len(cluster.policies), where),
    }


def _finding(f: Any) -> dict[str, Any]:
    return {
        "name": f.name,
        "title": f.title,
        "enforces": f.enforces,
        "profile": f.profile,
        "reason": f.reason,
        "evidence": f.evidence,
    }


def _meaning(enforces: bool | None, policies: int, where: dict[str, Any]) -> list[str]:
    source = "--kubeconfig ..." if where.get("server") else "PATH..."
    if policies == 0:
        return ["no NetworkPolicy exists: every pod reaches every other on every port"]
    if enforces is False:
        return [
            "the API server accepted these policies, but nothing enforces them: on this cluster "
            "every pod reaches every other on every port",
            f"`netpol matrix {source}` shows what they would allow under a CNI that enforces "
            "NetworkPolicy (Calico, Cilium, Antrea, ...); `netpol probe` shows what happens now",
        ]
    if enforces is True:
        return [
            f"the cluster enforces them: `netpol matrix {source}` and `netpol explain` "
            "describe what it does; `netpol probe` checks it with real connections"
        ]
    return [
        "netpol cannot tell whether these policies are enforced; `netpol probe` checks it "
        "with real connections"
    ]


def text(found: dict[str, Any]) -> str:
    """The human report: one fact per line, label first."""
    cni = found["cni"]
    rows: list[tuple[str, str]] = []
    if found.get("server"):
        rows.append(("cluster", f"{found['server']} (context {found['context']})"))
        rows.append(
            ("version", f"Kubernetes {found['version'] or 'version unknown (/version refused)'}")
        )
        if found["scope"]:
            rows.append(("scope", "namespaces " + ", ".join(found["scope"])))
    else:
        rows.append(("input", " ".join(found.get("paths") or [])))
    evidence = f": {cni['evidence']}" if cni["evidence"] else ""
    rows.append(("CNI", f"{found['cniSummary']}{evidence}"))
    for other in found["otherCnis"]:
        rows.append(("", f"also {other['title']}: {other['evidence']}"))
    rows.append(("policies", f"{ENFORCEMENT[found['enforced']]}: {cni['reason']}"))
    chosen = found["profile"]
    if cni["name"] == "unknown":
        why = "no CNI recognised; --profile chooses another"
    elif chosen == found["profileOfCni"]:
        why = f"matches {cni['title']}"
    else:
        why = f"chosen with --profile; {cni['title']} matches {found['profileOfCni']}"
    rows.append(("profile", f"{chosen} ({why})"))
    for line in found["profileDiffersFromUpstream"]:
        rows.append(("", line))
    objects = found["objects"]
    rows.append(
        (
            "objects",
            f"{objects['namespaces']} namespaces, {objects['nodes']} nodes, {objects['pods']} pods, "
            f"{objects['services']} services, {objects['networkPolicies']} network policies",
        )
    )
    policies = found["policies"]
    if policies["count"]:
        rows.append(
            (
                "isolation",
                f"{policies['count']} policies in {', '.join(policies['namespaces'])} isolate "
                f"{policies['isolatedIngress']} of {policies['podsSelectable']} pods for ingress, "
                f"{policies['isolatedEgress']} for egress",
            )
        )
    for i, line in enumerate(found["meaning"]):
        rows.append(("meaning" if i == 0 else "", line))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}".rstrip() for label, value in rows)
