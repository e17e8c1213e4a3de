"""Peers: the AND-vs-OR traps of a from/to list (spec 7.1)."""

from __future__ import annotations

from collections.abc import Iterator

from netpol.analysis.lint import Finding, LintContext, by_id, check
from netpol.analysis.lint_checks.common import (
    WARNING,
    all_rules,
    classes_matching,
    counting_rules,
    namespaces_of,
    peer_classes,
    peer_path,
    peer_word,
)
from netpol.engine.compile import CompiledPeer
from netpol.model.selectors import LabelSelector


def _selector_yaml(selector: LabelSelector) -> str:
    return (
        "{" + ", ".join(f"{k}: {v}" for k, v in selector.match_labels) + "}"
        if not selector.match_expressions
        else selector.text()
    )


@check(
    "peers-or-likely-and",
    WARNING,
    "two peers (namespaceSelector, podSelector) are ORed where one peer with both was likely meant",
    "Items of a from/to list are ORed. `- namespaceSelector: X` followed by `- podSelector: Y` "
    "admits every pod of the namespaces X, and the pods Y of the policy's own namespace. "
    "Written as one item (no dash before podSelector) it admits only pods Y in namespaces X. "
    "The tutorial's AND-vs-OR section shows how much wider the two-item form is.",
    "If you meant pods Y in namespaces X, delete the dash before `podSelector` so both "
    "selectors are in one item; if the OR is intended, silence this check for the policy.",
    pitfall="spec 7.1; tutorial 'AND vs OR'",
)
def _peers_or(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("peers-or-likely-and")
    for compiled in ctx.cc.policies:
        for rule in all_rules(compiled):
            ns_only = [
                p
                for p in rule.peers
                if p.peer.namespace_selector is not None and p.peer.pod_selector is None
            ]
            pod_only = [
                p
                for p in rule.peers
                if p.peer.pod_selector is not None and p.peer.namespace_selector is None
            ]
            if not ns_only or not pod_only:
                continue
            ns, pod = ns_only[0], pod_only[0]
            ns_sel = ns.peer.namespace_selector
            pod_sel = pod.peer.pod_selector
            assert ns_sel is not None and pod_sel is not None
            word = peer_word(rule.direction)
            yield me.on_policy(
                compiled.policy,
                f"{word}[{ns.index}] (namespaceSelector {ns_sel.text()}) and {word}[{pod.index}] "
                f"(podSelector {pod_sel.text()}) are separate peers, ORed: any pod in those "
                f"namespaces, or pods {pod_sel.text()} in {compiled.policy.namespace}",
                peer_path(rule, pod.index),
                f"for pods {pod_sel.text()} in namespaces {ns_sel.text()} only, write one item: "
                f"`- namespaceSelector: {{matchLabels: {_selector_yaml(ns_sel)}}}` and, without a "
                f"dash, `  podSelector: {{matchLabels: {_selector_yaml(pod_sel)}}}`",
            )


def and_split(ctx: LintContext, cp: CompiledPeer) -> tuple[set[str], set[str]] | None:
    """For an AND peer that matches no pod: (namespaces the namespace half selects that have
    pods, namespaces where the pod half matches pods), when both halves match something."""
    peer = cp.peer
    if peer.namespace_selector is None or peer.pod_selector is None or peer.ip_block is not None:
        return None
    if peer.namespace_selector.is_empty or peer.pod_selector.is_empty or peer_classes(ctx, cp):
        return None
    ns_side = {n for n in ctx.pods_by_namespace if cp.namespace_matches(n)}
    pod_side = namespaces_of(ctx, classes_matching(ctx, peer.pod_selector))
    if ns_side and pod_side:
        return ns_side, pod_side
    return None


@check(
    "peer-and-likely-or",
    WARNING,
    "one peer ANDs a namespaceSelector and a podSelector that match pods only separately",
    "A namespaceSelector and a podSelector in one from/to item must both hold. When the "
    "namespaces it selects have pods, and pods matching the podSelector exist, but never in "
    "those namespaces, the item matches nothing: two items (OR) were probably meant, or one "
    "of the selectors is wrong.",
    "Split the item in two (a dash before `podSelector`) if either condition should admit, "
    "or fix the selector that names the wrong namespace or label.",
    pitfall="spec 7.1 (the reverse trap)",
    needs_pods=True,
)
def _peer_and(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("peer-and-likely-or")
    for compiled in ctx.cc.policies:
        for rule in counting_rules(compiled):
            for cp in rule.peers:
                split = and_split(ctx, cp)
                if split is None:
                    continue
                ns_side, pod_side = split
                assert cp.peer.pod_selector is not None and cp.peer.namespace_selector is not None
                yield me.on_policy(
                    compiled.policy,
                    f"{peer_word(rule.direction)}[{cp.index}] matches no pod: namespaceSelector "
                    f"{cp.peer.namespace_selector.text()} selects {', '.join(sorted(ns_side))}, but "
                    f"pods with {cp.peer.pod_selector.text()} live only in {', '.join(sorted(pod_side))}",
                    peer_path(rule, cp.index),
                )
