"""Explanations as text and JSON: the verdict's own evidence, printed."""

from __future__ import annotations

from netpol.engine.explain import Explanation
from netpol.engine.tiers import NETWORK_POLICIES, CompiledTierRule, Decision, RuleMiss
from netpol.engine.verdict import (
    LOCAL_NODE,
    NOT_A_POD,
    NOT_ISOLATED,
    OWN_NODE,
    RuleOutcome,
    SideVerdict,
)
from netpol.model.tiers import DEFAULT_TIER

_EXEMPTIONS = {
    NOT_A_POD: "not a pod: NetworkPolicy does not restrict it",
    NOT_ISOLATED: "no NetworkPolicy selects it for {direction}: everything allowed",
    LOCAL_NODE: "traffic from the pod's own node is always allowed (spec 2.6)",
    OWN_NODE: "a pod may always reach its own node under this profile",
}


def endpoint_text(explanation: Explanation, side: str) -> str:
    endpoint = explanation.src if side == "src" else explanation.target.endpoint
    ip = f" ({endpoint.ip})" if endpoint.ip is not None and endpoint.pod is not None else ""
    return f"{endpoint.id}{ip}"


def _flow_text(e: Explanation) -> str:
    port = f" port {e.port}/{e.protocol}" if e.port is not None else " (all ports)"
    return f"{endpoint_text(e, 'src')} -> {endpoint_text(e, 'dst')}{port}"


def _rule_text(outcome: RuleOutcome) -> str:
    rule = outcome.rule
    word = "from" if rule.direction == "Ingress" else "to"
    if rule.any_peer:
        peers = f"{word} anywhere"
    elif outcome.peer_index is not None:
        peers = f"{word}[{outcome.peer_index}] {rule.peers[outcome.peer_index].peer.text()}"
    else:
        peers = f"{word}: " + "; ".join(p.peer.text() for p in rule.peers)
    ports = "all ports" if rule.any_port else ", ".join(p.text() for p in rule.rule.ports)
    return f"{rule.label}: {peers}; ports {ports}"


def _side_lines(e: Explanation, side: SideVerdict) -> list[str]:
    subject = endpoint_text(e, "src" if side.direction == "Egress" else "dst")
    ok = (
        side.allowed.contains(e.protocol, e.port)
        if e.port is not None
        else not side.allowed.is_empty
    )
    head = f"{side.direction} {'from' if side.direction == 'Egress' else 'to'} {subject}: {'allowed' if ok else 'DENIED'}"
    lines = [head]
    if side.decisions:
        return lines + _chain_lines(e, side)
    if side.exemption is not None:
        lines.append("  " + _EXEMPTIONS[side.exemption].format(direction=side.direction.lower()))
        if side.exemption in (LOCAL_NODE, OWN_NODE):
            lines.append(f"  isolated by: {', '.join(p.id for p in side.policies)}")
        return lines
    return lines + _network_policy_lines(e, side, in_chain=False)


def _chain_lines(e: Explanation, side: SideVerdict) -> list[str]:
    """Tiered policies: the decision chain, then the NetworkPolicy evidence if it took part."""
    steps = side.decisions
    if e.port is not None:
        steps = tuple(d for d in steps if d.connections.contains(e.protocol, e.port))
        lines = ["  decision: " + " -> ".join(_step_text(side, d, e) for d in steps)]
    else:
        lines = ["  decisions:"]
        lines += [f"    {_step_text(side, d, e)} on {d.connections.text()}" for d in steps]
    if any(d.rule is None and d.by.startswith(NETWORK_POLICIES) for d in steps):
        lines += _network_policy_lines(e, side, in_chain=True)
    misses = e.egress_misses if side.direction == "Egress" else e.ingress_misses
    if e.port is not None:  # only rules that would have covered the asked port
        misses = tuple(m for m in misses if m.connections.contains(e.protocol, e.port))
    if misses:
        lines.append("  rules that did not match (in evaluation order):")
        lines += [f"    [{m.rule.label}] {m.rule.rule.action}: {m.reason}" for m in misses]
    return lines


def _beaten_text(beaten: CompiledTierRule | str, side: SideVerdict, e: Explanation) -> str:
    """``[NetworkPolicy app1-ns/backend-policy ingress[0]] Allow``: an allow a deny beats."""
    if isinstance(beaten, str):
        named = ", ".join(o.rule.label for o in _allowing(e, side)) or NETWORK_POLICIES
        return f"[{NETWORK_POLICIES} {named}] Allow"
    return f"[{beaten.label}] Allow"


def _step_text(side: SideVerdict, decision: Decision, e: Explanation) -> str:
    """``[AdminNetworkPolicy allow-dns egress[0] "dns"] Allow``; ``[NetworkPolicy
    app1-ns/db-policy] Deny (no rule matched)``; ``[no tier decided] Allow (default)``."""
    if not decision.by:
        return "[no tier decided] Allow (default)"
    if decision.rule is not None:
        note = f" ({decision.rule.rule.note})" if decision.rule.rule.note else ""
        beaten = [_beaten_text(b, side, e) for b in decision.beats]
        beats = f" beats {', '.join(beaten)}" if beaten else ""
        return f"[{decision.rule.label}] {decision.action}{note}{beats}"
    if decision.reason:
        tier = "" if decision.tier == DEFAULT_TIER.name else f" (end of tier {decision.tier})"
        return f"[{decision.by}] {decision.action} ({decision.reason}){tier}"
    named = ", ".join(o.rule.label for o in _allowing(e, side)) or NETWORK_POLICIES
    return f"[{NETWORK_POLICIES} {named}] {decision.action}"


def _network_policy_lines(e: Explanation, side: SideVerdict, in_chain: bool) -> list[str]:
    """Who isolates the side and which NetworkPolicy rules allow, or why none matched; in
    a decision chain the chain already says what is allowed and what the tiers denied."""
    lines = [f"  isolated by: {', '.join(p.id for p in side.policies)}"]
    allowing = _allowing(e, side)
    if allowing:
        lines += [f"  allowed by {_rule_text(o)}" for o in allowing]
        if e.port is None and not in_chain:
            lines.append(f"  allows: {side.allowed.text()}")
        return lines
    if not side.outcomes:
        denied = "" if in_chain else ": everything denied"
        return [*lines, f"  the isolating policies have no rule for this direction{denied}"]
    lines.append("  no NetworkPolicy rule matched:" if in_chain else "  no rule matched:")
    lines += [f"    {o.rule.label}: {_miss_reason(e, o)}" for o in side.outcomes]
    return lines


def _allowing(e: Explanation, side: SideVerdict) -> tuple[RuleOutcome, ...]:
    """The NetworkPolicy rules that allow the asked port (any port when none was asked)."""
    return side.allowing(e.protocol, e.port) if e.port is not None else side.allowing()


def _miss_reason(e: Explanation, outcome: RuleOutcome) -> str:
    if not outcome.peer_matched:
        reasons = []
        for miss in outcome.peer_misses:
            word = "from" if outcome.rule.direction == "Ingress" else "to"
            text = f"{word}[{miss.peer_index}] {miss.detail}"
            compiled = outcome.rule.peers[miss.peer_index]
            if compiled.peer.ip_block is None and not compiled.matches_some_pod:
                text += " — this peer matches no pod at all"
            reasons.append(text)
        return "peer does not match: " + "; ".join(reasons)
    if e.port is not None:
        return (
            f"peer matches, but port {e.port}/{e.protocol} is not in {outcome.connections.text()}"
        )
    return "peer matches, but the rule's ports allow nothing towards this pod"


def explanation_text(explanations: list[Explanation]) -> str:
    blocks = []
    for e in explanations:
        verdict = e.verdict
        lines = [f"{_flow_text(e)}: {'ALLOWED' if e.allowed else 'DENIED'}"]
        if e.target.via:
            lines.append(f"  via {e.target.via}")
        if verdict.note:
            lines.append(f"  {verdict.note}")
        else:
            lines += ["  " + line for line in _side_lines(e, verdict.egress)]
            lines += ["  " + line for line in _side_lines(e, verdict.ingress)]
        if e.port is None:
            lines.append(f"  allowed connections: {verdict.allowed.text()}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _side_json(side: SideVerdict) -> dict[str, object]:
    return {
        "direction": side.direction,
        "subject": side.subject.id,
        "isolated": side.isolated,
        "exemption": side.exemption,
        "policies": [p.id for p in side.policies],
        "allowed": side.allowed.to_json(),
        "allowedText": side.allowed.text(),
        "rules": [
            {
                "policy": o.rule.policy.id,
                "direction": o.rule.direction,
                "rule": o.rule.index,
                "peerMatched": o.peer_matched,
                "peer": o.peer_index,
                "connections": o.connections.text(),
                "allows": o.allowed.text(),
                "peerMisses": [
                    {"peer": m.peer_index, "part": m.part, "detail": m.detail}
                    for m in o.peer_misses
                ],
            }
            for o in side.outcomes
        ],
        "decisions": [_decision_json(d) for d in side.decisions],
    }


def _rule_ref(rule: CompiledTierRule) -> dict[str, object]:
    return {
        "policy": rule.policy.id,
        "direction": rule.direction,
        "index": rule.rule.index,
        "name": rule.rule.name or None,
        "section": rule.rule.section or None,
    }


def _misses_json(misses: tuple[RuleMiss, ...]) -> list[dict[str, object]]:
    return [
        {"rule": _rule_ref(m.rule), "action": m.rule.rule.action, "reason": m.reason}
        for m in misses
    ]


def _decision_json(decision: Decision) -> dict[str, object]:
    rule = decision.rule
    found: dict[str, object] = {
        "tier": decision.tier or None,
        "by": decision.by or None,
        "action": decision.action,
        "rule": None if rule is None else _rule_ref(rule),
        "reason": decision.reason or None,
        "note": (rule.rule.note or None) if rule is not None else None,
        "connections": decision.connections.to_json(),
        "connectionsText": decision.connections.text(),
    }
    if decision.beats:  # a Cilium deny: the allows it overrides
        found["beats"] = [
            {"policy": NETWORK_POLICIES} if isinstance(b, str) else _rule_ref(b)
            for b in decision.beats
        ]
    return found


def explanation_json(explanations: list[Explanation]) -> dict[str, object]:
    return {
        "kind": "Explanation",
        "flows": [
            {
                "src": e.src.id,
                "srcIP": str(e.src.ip) if e.src.ip is not None else None,
                "dst": e.target.endpoint.id,
                "dstIP": str(e.target.endpoint.ip) if e.target.endpoint.ip is not None else None,
                "port": e.port,
                "protocol": e.protocol,
                "via": e.target.via or None,
                "allowed": e.allowed,
                "allowedConnections": e.verdict.allowed.to_json(),
                "allowedText": e.verdict.allowed.text(),
                "note": e.verdict.note,
                "egress": {
                    **_side_json(e.verdict.egress),
                    "notMatched": _misses_json(e.egress_misses),
                },
                "ingress": {
                    **_side_json(e.verdict.ingress),
                    "notMatched": _misses_json(e.ingress_misses),
                },
            }
            for e in explanations
        ],
    }
