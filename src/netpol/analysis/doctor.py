"""What `netpol doctor` finds: the CNI, whether it enforces NetworkPolicy, the profile, and
what the policies mean on that cluster, as data (rendered by ``render.doctor``)."""

from __future__ import annotations

from typing import Any

from netpol.analysis.cni import CniFinding, CniReport
from netpol.engine.compile import compile_cluster
from netpol.model.cluster import Cluster
from netpol.model.options import KNOB_HELP, PROFILES, Options


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
    kinds = {
        "namespaces": len(cluster.namespaces),
        "nodes": len(cluster.nodes),
        "pods": len(cluster.pods),
        "services": len(cluster.services),
        "networkPolicies": len(cluster.policies),
    }
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
        "objects": kinds,
        "policies": {
            "count": len(cluster.policies),
            "namespaces": namespaces,
            "podsSelectable": len(pods),
            "isolatedIngress": ingress,
            "isolatedEgress": egress,
        },
        "meaning": _meaning(cni.enforces, len(cluster.policies), where),
    }


def _finding(f: CniFinding) -> dict[str, Any]:
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
