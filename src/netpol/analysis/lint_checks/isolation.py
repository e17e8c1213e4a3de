"""Isolation coverage: pods left open beside isolated ones, namespaces without default-deny."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from netpol.analysis.lint import Finding, LintContext, by_id, check
from netpol.analysis.lint_checks.common import (
    INFO,
    SYSTEM_NAMESPACE_PREFIX,
    WARNING,
    cilium_isolates,
    is_isolated,
    workloads_text,
)
from netpol.engine.cilium import identity_labels
from netpol.model.cilium import CILIUM_KINDS
from netpol.model.objects import Pod
from netpol.model.policy import NetworkPolicy
from netpol.model.source import Source
from netpol.model.tiers import DENY, NODES, TierRule


def _namespace_source(ctx: LintContext, namespace: str) -> Source:
    """Where a finding on ``namespace`` (one with pods) points: its manifest or, when the
    input does not declare it, the first policy of the namespace, else its first pod."""
    ns = ctx.namespace(namespace)
    if ns is not None and not ns.implicit:
        return ns.source
    for p in ctx.cluster.policies:
        if p.namespace == namespace:
            return p.source
    return ctx.pods_by_namespace[namespace][0].source


@check(
    "pods-not-isolated",
    WARNING,
    "pods that no policy isolates, in a namespace where other pods are isolated",
    "When some pods of a namespace are isolated for a direction, the others usually should "
    "be too; a pod that no podSelector matches is open to (or from) everything, often "
    "because its labels differ from what the policies expect.",
    "Add a default-deny policy (`podSelector: {}`) for the namespace, or extend a policy's "
    "podSelector to these pods.",
    pitfall="spec 4.1, 7.6",
    needs_pods=True,
)
def _not_isolated(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("pods-not-isolated")
    for namespace, pods in sorted(ctx.pods_by_namespace.items()):
        for direction in ("Ingress", "Egress"):
            isolated = [p for p in pods if _isolated(ctx, p, direction)]
            open_ = [p for p in pods if not _isolated(ctx, p, direction)]
            if not isolated or not open_:
                continue
            yield me.finding(
                f"{workloads_text(open_)}: not {direction.lower()}-isolated, while {len(isolated)} other "
                f"pod(s) of {namespace} are",
                f"Namespace/{namespace}",
                _namespace_source(ctx, namespace),
            )


def _isolated(ctx: LintContext, pod: Pod, direction: str) -> bool:
    """By a NetworkPolicy or, under Cilium, by a Cilium rule with default deny on."""
    return is_isolated(ctx, pod, direction) or cilium_isolates(ctx, pod, direction)


@check(
    "namespace-without-default-deny",
    INFO,
    "a namespace with pods and no default-deny policy",
    "A default-deny policy (`podSelector: {}` with the direction in policyTypes) isolates "
    "every pod of a namespace, including pods added later with new labels. Without one, "
    "a new workload is open until someone writes a policy for it. Namespaces named kube-* "
    "are left out.",
    "Add `podSelector: {}` + `policyTypes: [Ingress, Egress]` (no rules) to the namespace, "
    "then allow what each tier needs.",
    pitfall="spec 7.6",
    needs_pods=True,
)
def _no_default_deny(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("namespace-without-default-deny")
    select_all: dict[str, list[NetworkPolicy]] = {}
    for c in ctx.cc.policies:
        if c.policy.pod_selector.is_empty:
            select_all.setdefault(c.policy.namespace, []).append(c.policy)
    for namespace in sorted(ctx.pods_by_namespace):
        if namespace.startswith(SYSTEM_NAMESPACE_PREFIX):
            continue
        covering = select_all.get(namespace, [])
        missing = [
            d
            for d in ("Ingress", "Egress")
            if not any(d in p.policy_types for p in covering)
            and not _tier_default_deny(ctx, namespace, d)
        ]
        if not missing:
            continue
        yield me.finding(
            f"namespace {namespace} has no default-deny for {' and '.join(m.lower() for m in missing)}",
            f"Namespace/{namespace}",
            _namespace_source(ctx, namespace),
        )


def _tier_default_deny(ctx: LintContext, namespace: str, direction: str) -> bool:
    """Whether an admin, baseline or Calico policy denies ``direction`` to any new pod of
    ``namespace`` (a BaselineAdminNetworkPolicy deny-all, a rule-less Calico policy)."""
    tiered = ctx.cc.tiered
    if tiered is None:
        return False
    newcomer = ctx.cc.endpoint(_newcomer(ctx, namespace))
    for compiled in tiered.policies:
        policy = compiled.policy
        if direction not in policy.types or tiered.miss(policy.subject, newcomer) is not None:
            continue
        if policy.kind in CILIUM_KINDS:  # a Cilium rule isolates whatever it holds
            if policy.isolating(direction):
                return True
            continue
        rules = compiled.rules(direction)
        if not rules and tiered.tiers[policy.tier].default_action == DENY:
            return True
        if any(r.rule.action == DENY and _covers_everyone(r.rule) for r in rules):
            return True
    return False


def _newcomer(ctx: LintContext, namespace: str) -> Pod:
    """A pod with no labels of its own, as policies would see it in ``namespace`` (under
    Cilium, with the identity labels every pod gets)."""
    pod = Pod(namespace, "a-new-pod")
    if not ctx.cc.relabelled:
        return pod
    return replace(pod, labels=identity_labels(pod, ctx.cluster.namespace_labels(namespace)))


def _covers_everyone(rule: TierRule) -> bool:
    if rule.unmatchable or rule.ports or rule.not_ports or rule.protocols is not None:
        return False
    return rule.any_peer or any(
        m.scope != NODES
        and m.namespace is None
        and (m.namespaces is None or m.namespaces.is_empty)
        and (m.pods is None or m.pods.is_empty)
        and not m.networks()
        and m.not_pods is None
        and not m.uses_service_accounts
        for m in rule.peers
    )
