"""ipBlocks: covering pod IPs, and one address family only on dual-stack input."""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterator

from netpol.analysis.lint import Finding, LintContext, by_id, check
from netpol.analysis.lint_checks.common import (
    INFO,
    WARNING,
    cilium_in_play,
    counting_rules,
    peer_path,
    peer_word,
    workloads_text,
)
from netpol.engine.compile import CompiledPeer
from netpol.engine.ipspace import address_of_text
from netpol.model.objects import Pod
from netpol.model.policy import IPBlock


def pods_in_block(ctx: LintContext, block: IPBlock) -> list[Pod]:
    """Pods with an address in ``block`` (cidr minus excepts), by bisecting sorted addresses."""
    index = ctx.cache.get("pod_addresses")
    if index is None:
        built: dict[int, list[tuple[int, str]]] = {4: [], 6: []}
        for pod in ctx.pods:
            for ip in pod.ips:
                version, value = address_of_text(ip)
                built[version].append((value, pod.id))
        for found in built.values():
            found.sort()
        ctx.cache["pod_addresses"] = index = built
    entries: list[tuple[int, str]] = index[block.network.version]  # type: ignore[index]
    covered: dict[IPBlock, list[Pod]] = ctx.cache.setdefault("pods_in_block", {})  # type: ignore[assignment]
    if block not in covered:
        spans = [_span(entries, block.network)]
        for x in block.except_networks:
            if x.version == block.network.version:
                spans = _without(spans, _span(entries, x))
        ids = {pod_id for lo, hi in spans for _, pod_id in entries[lo:hi]}
        by_id = ctx.cluster.pod_by_id
        covered[block] = [by_id[i] for i in sorted(ids)]
    return covered[block]


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _span(entries: list[tuple[int, str]], network: Network) -> tuple[int, int]:
    """The slice of the sorted (address, pod id) entries that ``network`` holds."""
    start = int(network.network_address)
    lo = bisect.bisect_left(entries, (start, ""))
    return lo, bisect.bisect_left(entries, (start + network.num_addresses, ""))


def _without(spans: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    if cut[0] >= cut[1]:
        return spans  # the except holds no pod address
    out = []
    for lo, hi in spans:
        out += [s for s in ((lo, min(hi, cut[0])), (max(lo, cut[1]), hi)) if s[0] < s[1]]
    return out


@check(
    "ipblock-covers-pods",
    WARNING,
    "an ipBlock covers pod IPs: Calico matches them, Cilium does not",
    "Whether an ipBlock matches traffic of pods whose IP it covers is implementation-defined: "
    "upstream e2e tests and Calico say yes, Cilium says no (pods are matched by identity). A "
    "policy that relies on it behaves differently across CNIs. For an internet-wide block "
    "(prefix /8 or shorter) this is a note: it also admits every pod whose egress is open. "
    "Under Cilium, cilium-cidr-selects-pods reports them instead.",
    "Use pod/namespace selectors for pods, and `except` the pod CIDR in ipBlocks meant for "
    "the outside world.",
    pitfall="spec 2.5, 7.11; edge case 36",
    needs_pods=True,
)
def _ipblock_pods(ctx: LintContext) -> Iterator[Finding]:
    if cilium_in_play(ctx):
        return  # not a portability question any more: cilium-cidr-selects-pods reports it
    me = by_id("ipblock-covers-pods")
    for compiled in ctx.cc.policies:
        for rule in counting_rules(compiled):
            for cp in rule.peers:
                block = cp.peer.ip_block
                if block is None:
                    continue
                covered = pods_in_block(ctx, block)
                if not covered:
                    continue
                broad = block.network.prefixlen <= 8
                yield me.on_policy(
                    compiled.policy,
                    f"{peer_word(rule.direction)}[{cp.index}] ipBlock {block.text()} covers the IPs of "
                    f"{len(covered)} pod(s) ({workloads_text(covered)}): matched on Calico and upstream, "
                    "not on Cilium",
                    peer_path(rule, cp.index),
                    severity=INFO if broad else None,
                )


@check(
    "ipv4-any-without-ipv6",
    WARNING,
    "`0.0.0.0/0` without `::/0` (or the reverse) on dual-stack input",
    "An IPv4 CIDR never matches IPv6 addresses. On a dual-stack cluster, 'anywhere' is "
    "`0.0.0.0/0` and `::/0`; with only one, the other family is denied.",
    "Add an ipBlock peer with `::/0` (or `0.0.0.0/0`) next to the other one.",
    pitfall="spec 2.5, 7.15; edge case 35",
    needs_pods=True,
)
def _dual_stack(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("ipv4-any-without-ipv6")
    versions = {address_of_text(ip)[0] for p in ctx.pods for ip in p.ips}
    if versions != {4, 6}:
        return
    for compiled in ctx.cc.policies:
        for rule in counting_rules(compiled):
            blocks: dict[tuple[int, int], CompiledPeer] = {
                (cp.peer.ip_block.network.version, cp.peer.ip_block.network.prefixlen): cp
                for cp in rule.peers
                if cp.peer.ip_block is not None
            }
            for version, other, text in ((4, 6, "::/0"), (6, 4, "0.0.0.0/0")):
                cp = blocks.get((version, 0))
                if cp is not None and (other, 0) not in blocks:
                    yield me.on_policy(
                        compiled.policy,
                        f"{peer_word(rule.direction)}[{cp.index}] allows {cp.peer.ip_block.text() if cp.peer.ip_block else ''} "
                        f"but not {text}: the other address family is denied on this dual-stack input",
                        peer_path(rule, cp.index),
                        f"add `- ipBlock: {{cidr: {text}}}` to the same list",
                    )
