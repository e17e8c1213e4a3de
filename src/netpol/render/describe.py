"""``describe`` in plain words, like ``kubectl describe netpol`` but with the cluster in view."""

from __future__ import annotations

from netpol.engine.describe import PeerMatch, PodDescription, PolicyDescription, RuleDescription


def _list(items: tuple[str, ...], limit: int = 8) -> str:
    if not items:
        return "none"
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _peer_lines(match: PeerMatch) -> list[str]:
    peer = match.peer.peer
    text = peer.text()
    if peer.ip_block is not None:
        return [f"{text}: addresses {peer.ip_block.text()}"]
    where = f"in namespaces {_list(match.namespaces)}"
    if not match.pods:
        return [f"{text}: matches NO pod ({where}) — check the labels"]
    return [f"{text}: {len(match.pods)} pod(s) {where}: {_list(match.pods)}"]


def _rule_lines(rule: RuleDescription) -> list[str]:
    compiled = rule.rule
    word = "from" if compiled.direction == "Ingress" else "to"
    ports = (
        "any port, any protocol"
        if compiled.any_port
        else ", ".join(p.text() for p in compiled.rule.ports)
    )
    lines = [
        f"[{compiled.index}] allow {word} {'anyone' if compiled.any_peer else 'these peers'} on {ports}"
    ]
    for match in rule.peers:
        lines += [f"    - {line}" for line in _peer_lines(match)]
    return lines


def policy_text(d: PolicyDescription) -> str:
    policy = d.compiled.policy
    types = ", ".join(policy.policy_types)
    lines = [
        f"Name:         {policy.name}",
        f"Namespace:    {policy.namespace}",
        f"Source:       {policy.source}",
        f"PodSelector:  {policy.pod_selector.text()} (in {policy.namespace})",
        f"Selects:      {len(d.selected)} pod(s): {_list(d.selected)}",
        f"PolicyTypes:  {types}"
        + (" (defaulted: the policy did not say)" if policy.policy_types_defaulted else ""),
    ]
    for direction, rules in (("Ingress", d.ingress), ("Egress", d.egress)):
        if direction not in policy.policy_types:
            if rules:
                lines.append(
                    f"{direction}: {len(rules)} rule(s) IGNORED: {direction} is not in policyTypes"
                )
            continue
        if not rules:
            lines.append(
                f"{direction}: isolates the selected pods and allows nothing (default deny)"
            )
            continue
        lines.append(f"{direction}: isolates the selected pods; allowed only:")
        for rule in rules:
            lines += ["  " + line for line in _rule_lines(rule)]
    return "\n".join(lines)


def pod_text(d: PodDescription) -> str:
    pod = d.pod
    labels = ",".join(f"{k}={v}" for k, v in sorted(pod.labels.items())) or "none"
    lines = [
        f"Name:       {pod.name}",
        f"Namespace:  {pod.namespace}",
        f"IP:         {', '.join(pod.ips) or 'none'}",
        f"Node:       {pod.node}",
        f"Labels:     {labels}",
        f"Ingress:    {'isolated by ' + ', '.join(d.ingress_policies) if d.ingress_policies else 'not isolated (everything allowed)'}",
        f"Egress:     {'isolated by ' + ', '.join(d.egress_policies) if d.egress_policies else 'not isolated (everything allowed)'}",
    ]
    for direction, tiered in (("Ingress", d.ingress_tiered), ("Egress", d.egress_tiered)):
        if tiered:
            lines.append(f"{direction} tiers: {', '.join(tiered)}")
    lines += [
        "May connect to:",
    ]
    if not pod.ips:
        lines[-1:] = [
            f"Traffic:    none: the pod has no IP ({pod.phase}), so it sends and receives nothing"
        ]
        return "\n".join(lines)
    lines += [f"  {pid}: {conns.text()}" for pid, conns in d.reaches] or ["  no pod"]
    lines.append("May be reached by:")
    lines += [f"  {pid}: {conns.text()}" for pid, conns in d.reached_by] or ["  no pod"]
    return "\n".join(lines)


def _rule_json(rule: RuleDescription) -> dict[str, object]:
    compiled = rule.rule
    return {
        "index": compiled.index,
        "anyPeer": compiled.any_peer,
        "ports": [p.text() for p in compiled.rule.ports],
        "peers": [
            {
                "peer": m.peer.peer.text(),
                "pods": list(m.pods),
                "namespaces": list(m.namespaces),
                "ipBlock": m.peer.peer.ip_block.text() if m.peer.peer.ip_block else None,
                "matchesNothing": m.peer.peer.ip_block is None and not m.pods,
            }
            for m in rule.peers
        ],
    }


def policy_json(d: PolicyDescription) -> dict[str, object]:
    policy = d.compiled.policy
    return {
        "kind": "PolicyDescription",
        "policy": policy.id,
        "source": policy.source.at(),
        "podSelector": policy.pod_selector.text(),
        "policyTypes": list(policy.policy_types),
        "policyTypesDefaulted": policy.policy_types_defaulted,
        "selects": list(d.selected),
        "ingress": [_rule_json(r) for r in d.ingress],
        "egress": [_rule_json(r) for r in d.egress],
    }


def pod_json(d: PodDescription) -> dict[str, object]:
    return {
        "kind": "PodDescription",
        "pod": d.pod.id,
        "ips": list(d.pod.ips),
        "node": d.pod.node,
        "labels": dict(d.pod.labels),
        "ingressPolicies": list(d.ingress_policies),
        "egressPolicies": list(d.egress_policies),
        "ingressTieredPolicies": list(d.ingress_tiered),
        "egressTieredPolicies": list(d.egress_tiered),
        "reaches": [{"pod": pid, "allowed": c.to_json(), "text": c.text()} for pid, c in d.reaches],
        "reachedBy": [
            {"pod": pid, "allowed": c.to_json(), "text": c.text()} for pid, c in d.reached_by
        ],
    }
