"""`netpol doctor` as text: one fact per line, label first."""

from __future__ import annotations

from typing import Any

ENFORCEMENT = {True: "enforced", False: "NOT ENFORCED", None: "unknown"}


def doctor_text(found: dict[str, Any]) -> str:
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
