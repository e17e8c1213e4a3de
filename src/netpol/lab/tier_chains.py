"""Tiered policies as nftables chains: one chain per (pod, direction, tier) segment.

A segment holds, in evaluation order, the rules of the tier's members that select the
pod: ``accept`` for Allow (and for the NetworkPolicy member's rules), ``goto deny`` for
Deny, ``goto <next segment>`` for Pass, a bare ``log`` for Log (nftables goes on to the
next rule, as Calico does). The segment ends with the tier's default: ``goto deny`` when
its default action is Deny, else on to the next segment; after the last one, ``accept``.
Segments are built from the last tier up, so every Pass knows where it goes, and
identical segments are shared between pods like the plain NetworkPolicy chains.

Everything comes from the engine's ``TieredModel`` (the same plans, matches and
connection sets the verdict walks), never from the manifests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netpol.engine.ports import ConnectionSet, merge_intervals
from netpol.engine.tiers import ALLOW, DENY, LOG, PASS, CompiledTierRule, TieredModel
from netpol.lab.ranges import ALL_V4, Ranges, network_ranges, subtract
from netpol.model.objects import Pod
from netpol.model.tiers import ANY, EndpointMatch

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
        if not selected:
            continue
        ending = "goto deny" if plan.tier.default_action == DENY else onward
        following = b.chain_for(prefix, [*lines, ending])
    return following


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
    # pods are checked one by one, as the verdict does (a match of scope "any" still
    # applies its pod conditions, a GlobalNetworkPolicy's lone notSelector, to pods); node
    # peers never see lab traffic (a pod's packets to its node are delivered locally)
    pods = [
        (b.ip_of[p.id], b.ip_of[p.id])
        for p in b.pods_in(None)
        if model.miss(match, b.endpoint(p)) is None
    ]
    if match.scope != ANY or match.ip_version == 6:
        return merge_intervals(pods)
    inside = network_ranges(match.nets) if match.nets else ALL_V4
    others = subtract(subtract(inside, network_ranges(match.not_nets)), b.pod_ranges)
    return merge_intervals([*others, *pods])
