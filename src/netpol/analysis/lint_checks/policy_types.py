"""policyTypes: what a policy isolates, defaults to, or ignores (spec 1.2 D2, 4.1, 7.3-7.5)."""

from __future__ import annotations

from collections.abc import Iterator

from netpol.analysis.lint import Finding, LintContext, by_id, check
from netpol.analysis.lint_checks.common import (
    ERROR,
    INFO,
    WARNING,
    policies_applying,
    rules_path,
    subject_pods,
    workloads_text,
)
from netpol.analysis.lint_checks.dns import dns_reach


@check(
    "egress-deny-all",
    INFO,
    "policyTypes lists Egress but the policy has no egress rule: all egress is denied",
    "A policy with Egress in policyTypes and no egress rules denies every connection its "
    "pods initiate, DNS and the API server included. That is the usual way to write "
    "'this pod initiates nothing' (the tutorial's database), and a frequent accident. "
    "Pods that another policy allows some egress (a namespace default-deny beside an "
    "allow-DNS policy) are not denied all egress, and are not reported.",
    "If the pods must initiate nothing, keep it (and silence this note with the annotation); "
    "otherwise add the egress rules they need, DNS first.",
    pitfall="spec 7.3",
)
def _egress_deny_all(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("egress-deny-all")
    for compiled in ctx.cc.policies:
        policy = compiled.policy
        if policy.isolates_egress and not policy.egress:
            pods = subject_pods(ctx, compiled)
            if pods:
                # Pods that another policy lets out (the default-deny + allow-DNS pattern)
                # are not denied all egress: only those left with none are worth the note.
                pods = [
                    p
                    for p in pods
                    if not any(c.rules("Egress") for c in policies_applying(ctx, p, "Egress"))
                ]
                if ctx.cc.tiered is not None:  # an admin policy may let them reach DNS
                    pods = [p for p in pods if not any(dns_reach(ctx, p)[:2])]
                if not pods:
                    continue
            elif any(
                c.policy.namespace == policy.namespace and c.rules("Egress")
                for c in ctx.cc.policies
            ):
                continue  # no pods to tell: another policy of the namespace allows egress
            who = f" for {workloads_text(pods)}" if pods else ""
            yield me.on_policy(
                policy,
                f"denies all egress{who}, DNS included: intended?",
                "spec.policyTypes",
            )


@check(
    "egress-implies-ingress",
    WARNING,
    "a policy with egress rules and no policyTypes also isolates ingress",
    "When policyTypes is omitted the API server sets it to [Ingress] plus Egress if there are "
    "egress rules. A policy written only for egress therefore also becomes an ingress "
    "default-deny for the pods it selects.",
    "Write `policyTypes: [Egress]` explicitly (or add the ingress rules you meant).",
    pitfall="spec 1.2 D2, 7.4",
)
def _egress_implies_ingress(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("egress-implies-ingress")
    for compiled in ctx.cc.policies:
        policy = compiled.policy
        if policy.policy_types_defaulted and policy.egress and not policy.ingress:
            yield me.on_policy(
                policy,
                "has egress rules and no policyTypes, so policyTypes defaults to "
                "[Ingress, Egress]: with no ingress rule, all ingress to its pods is denied",
                "spec.egress",
            )


@check(
    "rules-ignored",
    ERROR,
    "rules for a direction that policyTypes does not list are ignored",
    "A policy's ingress rules count only if Ingress is in policyTypes, its egress rules only "
    "if Egress is. The API server accepts the others and CNIs ignore them: they neither "
    "isolate nor allow (except Cilium up to 1.20.1: under Cilium, "
    "cilium-policy-types-enforced reports them instead).",
    "Add the direction to policyTypes, or delete the rules that do nothing.",
    pitfall="spec 4.1, 5.8; edge cases 21-22",
)
def _rules_ignored(ctx: LintContext) -> Iterator[Finding]:
    if not ctx.cc.profile.honours_policy_types:
        return  # Cilium <= 1.20.1 enforces them: cilium-policy-types-enforced says so
    me = by_id("rules-ignored")
    for compiled in ctx.cc.policies:
        policy = compiled.policy
        for direction, rules in (("Ingress", policy.ingress), ("Egress", policy.egress)):
            if rules and direction not in policy.policy_types:
                yield me.on_policy(
                    policy,
                    f"{len(rules)} {direction.lower()} rule(s) ignored: policyTypes is "
                    f"[{', '.join(policy.policy_types)}]",
                    rules_path(direction),
                )


@check(
    "egress-empty-not-isolating",
    WARNING,
    "`egress: []` without policyTypes does not isolate egress",
    "An empty egress list looks like 'no egress allowed', but without policyTypes the API "
    "server defaults policyTypes to [Ingress] only (egress rules are absent), so egress stays "
    "open.",
    "To deny all egress, write `policyTypes: [Ingress, Egress]` (or [Egress]).",
    pitfall="spec 1.2 D2, 7.5; edge case 17",
)
def _egress_empty(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("egress-empty-not-isolating")
    for compiled in ctx.cc.policies:
        policy = compiled.policy
        if policy.policy_types_defaulted and not policy.egress and "egress" in policy.written:
            yield me.on_policy(
                policy,
                "`egress: []` with no policyTypes: policyTypes defaults to [Ingress], egress is not isolated",
                "spec.egress",
            )
