"""``describe`` in plain words, like ``kubectl describe netpol`` but with the cluster in view."""

from __future__ import annotations

from netpol.engine.describe import (
    PeerMatch,
    PodDescription,
    PolicyDescription,
    RuleDescription,
    TieredPolicyDescription,
    TierPeerMatch,
    TierRuleDescription,
)
from netpol.model.policy import PolicyPort
from netpol.model.tiers import (
    ANP_KIND,
    ANY_PROTOCOL,
    BANP_KIND,
    CALICO_GNP_KIND,
    CALICO_NP_KIND,
    CNP_KIND,
    NODES,
    PODS,
    TierRule,
    order_number,
)
from netpol.model.wording import first_few


def _list(items: tuple[str, ...], limit: int = 8) -> str:
    if not items:
        return "none"
    return first_few(items, limit)


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


# -- admin, baseline and Calico policies -----------------------------------------------------


def _tier_port(port: PolicyPort) -> str:
    if port.protocol == ANY_PROTOCOL:
        return f"the port named {port.port}"
    return port.text()


def _tier_ports(rule: TierRule) -> str:
    """``on 53/UDP, 53/TCP except 2050/TCP``; ``on any port, any protocol``."""
    if rule.ports:
        text = "on " + ", ".join(_tier_port(p) for p in rule.ports)
    elif rule.protocols is None:
        text = "on any port, any protocol"
    elif rule.protocols:
        text = "on any port of " + ", ".join(rule.protocols)
    else:
        text = "on no TCP, UDP or SCTP port"
    if rule.not_ports:
        text += " except " + ", ".join(_tier_port(p) for p in rule.not_ports)
    return text


def _tier_match_line(found: TierPeerMatch) -> str:
    match = found.match
    text = match.text()
    pods = f"{len(found.pods)} pod(s): {_list(found.pods)}"
    nodes = f"{len(found.nodes)} node(s): {_list(found.nodes)}"
    if match.scope == NODES:
        return f"{text}: {nodes}" if found.nodes else f"{text}: matches NO node — check the labels"
    if match.scope == PODS:
        where = f"in namespaces {_list(found.namespaces)}"
        if not found.pods:
            return f"{text}: matches NO pod ({where}) — check the labels"
        return f"{text}: {len(found.pods)} pod(s) {where}: {_list(found.pods)}"
    outside = "addresses outside the cluster" + (
        f" in {', '.join(match.nets_shown)}" if match.nets else ""
    )
    inside = [part for part, found_any in ((pods, found.pods), (nodes, found.nodes)) if found_any]
    return f"{text}: {'; '.join(inside) or 'no pod or node'}; and {outside}"


ADMIN_KINDS = (ANP_KIND, BANP_KIND, CNP_KIND)


def _tier_rule_lines(rule: TierRuleDescription) -> list[str]:
    compiled = rule.rule
    name = f' "{compiled.rule.name}"' if compiled.rule.name else ""
    word = "from" if compiled.direction == "Ingress" else "to"
    who = "anyone" if compiled.rule.any_peer else "these peers"
    if compiled.rule.any_peer and compiled.policy.kind in ADMIN_KINDS:
        who = "peers netpol cannot evaluate"  # an admin rule always names peers
    lines = [
        f"[{compiled.rule.index}]{name} {compiled.rule.action} {word} {who} "
        + _tier_ports(compiled.rule)
    ]
    if compiled.rule.unmatchable:
        lines.append(f"    never matches in netpol: {compiled.rule.unmatchable}")
    if rule.local is not None:
        side = "to" if compiled.direction == "Ingress" else "from"
        lines.append(f"    only {side} the selected pods matching {_tier_match_line(rule.local)}")
    lines += [f"    - {_tier_match_line(match)}" for match in rule.peers]
    return lines


def _order_text(order: float | None) -> str:
    if order is None:
        return "none (after every ordered one)"
    return str(order_number(order))


def tiered_text(d: TieredPolicyDescription) -> str:
    policy = d.compiled.policy
    tier = d.tier
    calico = policy.kind in (CALICO_NP_KIND, CALICO_GNP_KIND)
    lines = [f"Name:         {policy.name}", f"Kind:         {policy.kind} ({policy.api_version})"]
    if policy.namespace is not None:
        lines.append(f"Namespace:    {policy.namespace}")
    lines += [
        f"Source:       {policy.source}",
        f"Tier:         {tier.name} (order {_order_text(tier.order)}, "
        f"default action {tier.default_action})",
    ]
    if policy.kind != BANP_KIND:
        word = "Order:   " if calico else "Priority:"
        lines.append(f"{word}     {_order_text(policy.order)}")
    lines += [
        f"Subject:      {policy.subject.text()}",
        f"Selects:      {len(d.selected)} pod(s): {_list(d.selected)}",
        f"Types:        {', '.join(policy.types)}",
    ]
    for direction, rules in (("Ingress", d.ingress), ("Egress", d.egress)):
        if direction not in policy.types:
            continue
        if not rules:
            lines.append(
                f"{direction}: no rule; what no later policy of tier {tier.name} decides "
                f"for the selected pods gets the tier's default action ({tier.default_action})"
            )
            continue
        lines.append(f"{direction}: rules in order, the first that matches decides:")
        for rule in rules:
            lines += ["  " + line for line in _tier_rule_lines(rule)]
    return "\n".join(lines)


def _tier_match_json(found: TierPeerMatch) -> dict[str, object]:
    match = found.match
    return {
        "peer": match.text(),
        "scope": match.scope,
        "pods": list(found.pods),
        "nodes": list(found.nodes),
        "namespaces": list(found.namespaces),
        "networks": list(match.nets_shown),
        "notNetworks": list(match.not_nets_shown),
        "matchesNothing": found.matches_nothing,
    }


def _tier_rule_json(rule: TierRuleDescription) -> dict[str, object]:
    tier_rule = rule.rule.rule
    return {
        "index": tier_rule.index,
        "name": tier_rule.name,
        "action": tier_rule.action,
        "anyPeer": tier_rule.any_peer,
        "ports": [_tier_port(p) for p in tier_rule.ports],
        "notPorts": [_tier_port(p) for p in tier_rule.not_ports],
        "protocols": None if tier_rule.protocols is None else list(tier_rule.protocols),
        "unmatchable": tier_rule.unmatchable or None,
        "local": None if rule.local is None else _tier_match_json(rule.local),
        "peers": [_tier_match_json(m) for m in rule.peers],
    }


def tiered_json(d: TieredPolicyDescription) -> dict[str, object]:
    policy = d.compiled.policy
    return {
        "kind": "TieredPolicyDescription",
        "policy": policy.id,
        "policyKind": policy.kind,
        "apiVersion": policy.api_version,
        "source": policy.source.at(),
        "tier": {
            "name": d.tier.name,
            "order": d.tier.order,
            "defaultAction": d.tier.default_action,
        },
        "order": policy.order,
        "subject": policy.subject.text(),
        "types": list(policy.types),
        "selects": list(d.selected),
        "ingress": [_tier_rule_json(r) for r in d.ingress],
        "egress": [_tier_rule_json(r) for r in d.egress],
    }
