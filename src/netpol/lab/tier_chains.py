"""Tiered policies as nftables chains: one chain per (pod, direction, tier) segment.

A segment holds, in evaluation order, the rules of the tier's members that select the
pod: ``accept`` for Allow (and for the NetworkPolicy member's rules), ``goto deny`` for
Deny, ``goto <next segment>`` for Pass, a bare ``log`` for Log (nftables goes on to the
next rule, as Calico does). The segment ends with the tier's default: ``goto deny`` when
its default action is Deny, else on to the next segment; after the last one, ``accept``.
Segments are built from the last tier up, so every Pass knows where it goes, and
identical segments are shared between pods like the plain NetworkPolicy chains. A policy
that selects a pod without isolating it (a Cilium rule with ``enableDefaultDeny`` off,
allow-localhost) adds its rules but never the Deny default. Cilium's deny tier comes
first among the plans, so its segment precedes the ``default`` one (docs/cilium.md).

Everything comes from the engine's ``TieredModel`` (the same plans, matches and
connection sets the verdict walks), never from the manifests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netpol.engine.ports import ConnectionSet, merge_intervals
from netpol.engine.tiers import ALLOW, DENY, LOG, PASS, CompiledTierRule, TieredModel
from netpol.lab.ranges import ALL_V4, Ranges, network_ranges, subtract
from netpol.model.objects import Pod
from netpol.model.tiers import ANY, WORLD, EndpointMatch

if TYPE_CHECKING:
    from netpol.lab.nftables import RulesetBuilder


def tiered_chain(b: RulesetBuilder, pod: Pod, direction: str) -> str | None:
    """The first segment's chain for ``pod``'s ``direction``; None when nothing applies
    (every connection is allowed, so the pod needs no map entry)."""
    model = b.cc.tiered
    assert model is not None
    prefix = "eg" if direction == "Egress" else "in"
    following: str | None = None  # the next segment's chain; None: accept
    for plan in reversed(model.plans):
        onward = f"goto {following}" if following else "accept"
        lines: list[str] = []
        selected = False
        for member in plan.members:
            if isinstance(member, str):
                if b.cc.isolated(pod, direction):
                    selected = True
                    np_lines = (
                        b.ingress_lines(pod) if direction == "Ingress" else b.egress_lines(pod)
                    )
                    lines += np_lines
                continue
            if direction not in member.policy.types or not model.selects(member, pod):
                continue
            selected = selected or member.policy.isolating(direction)
            for rule in member.rules(direction):
                lines += _rule_lines(b, model, rule, pod, direction, _verdict(rule, onward))
        # a member that selects without isolating (a Cilium rule with enableDefaultDeny
        # off, allow-localhost) has its rules here, but never the tier's Deny default
        ending = "goto deny" if selected and plan.tier.default_action == DENY else onward
        if ending == onward and (not lines or (not selected and _all_go(lines, onward))):
            continue  # the segment would only go on: leave it out
        following = b.chain_for(prefix, [*lines, ending])
    return following


def _all_go(lines: list[str], onward: str) -> bool:
    """Whether every line ends in ``onward`` (accept, or the next segment)."""
    return all(line == onward or line.endswith(f" {onward}") for line in lines)


def _verdict(rule: CompiledTierRule, onward: str) -> str:
    action = rule.rule.action
    if action == ALLOW:
        return "accept"
    if action == PASS:
        return onward
    if action == LOG:
        return f'log prefix "netpol {rule.policy.name[:20]}: "'
    return "goto deny"


def _rule_lines(
    b: RulesetBuilder,
    model: TieredModel,
    rule: CompiledTierRule,
    pod: Pod,
    direction: str,
    verdict: str,
) -> list[str]:
    local = rule.rule.local
    if local is not None and model.miss(local, b.endpoint(pod)) is not None:
        return []
    ranges = b.once(rule, lambda: _peer_ranges(b, model, rule))
    if direction == "Ingress":
        line = b.rule_line("saddr", ranges, rule.connections_to(pod), verdict)
        return [line] if line is not None else []
    if not rule.has_named:
        line = b.rule_line("daddr", ranges, rule.numeric, verdict)
        return [line] if line is not None else []
    # named ports resolve on each destination pod: one line per distinct meaning; on any
    # other address they resolve to nothing (a named notPorts excludes no port there)
    lines = []
    others = subtract(ALL_V4 if ranges is None else ranges, b.pod_ranges)
    line = b.rule_line("daddr", others, rule.numeric, verdict)
    if line is not None:
        lines.append(line)
    groups: dict[ConnectionSet, list[int]] = {}
    for target in b.pods_in(ranges):
        groups.setdefault(rule.connections_to(target), []).append(b.ip_of[target.id])
    for connections, ips in groups.items():
        line = b.rule_line("daddr", merge_intervals((v, v) for v in ips), connections, verdict)
        if line is not None:
            lines.append(line)
    return lines


def _peer_ranges(b: RulesetBuilder, model: TieredModel, rule: CompiledTierRule) -> Ranges | None:
    """Every lab address the rule's peers match (None: any address)."""
    if rule.rule.any_peer:
        return None
    parts: list[tuple[int, int]] = []
    for peer in rule.rule.peers:
        parts += _match_ranges(b, model, peer)
    return merge_intervals(parts)


def _match_ranges(b: RulesetBuilder, model: TieredModel, match: EndpointMatch) -> Ranges:
    """Every lab address ``match`` covers, as ``TieredModel.miss`` decides it: pods one by
    one (a match of scope "any" still applies its pod conditions, a GlobalNetworkPolicy's
    lone notSelector, to pods), nodes one by one (Cilium's host and remote-node are node
    conditions), and every other address when the scope reaches outside the cluster (any,
    or Cilium's world; never with a node condition, an outside address is on no node)."""
    parts = [
        (b.ip_of[p.id], b.ip_of[p.id])
        for p in b.pods_in(None)
        if model.miss(match, b.endpoint(p)) is None
    ]
    if match.ip_version == 6:
        return merge_intervals(parts)
    for endpoint, ranges in b.node_addresses:
        if model.miss(match, endpoint) is None:
            parts += ranges
    outside = match.scope in (ANY, WORLD) and match.node_name is None
    if outside and match.not_node_name is None:
        inside = network_ranges(match.nets) if match.nets else ALL_V4
        parts += subtract(subtract(inside, network_ranges(match.not_nets)), b.cluster_ranges)
    return merge_intervals(parts)
