"""Redundancy: rules and policies whose removal changes no verdict."""

from __future__ import annotations

from collections.abc import Iterator

from netpol.analysis.lint import Finding, LintContext, by_id, check
from netpol.analysis.lint_checks.common import (
    INFO,
    counting_rules,
    rule_path,
)
from netpol.engine.classes import Partition
from netpol.engine.compile import CompiledPolicy, CompiledRule
from netpol.engine.endpoints import EXTERNAL, POD
from netpol.engine.ports import ConnectionSet
from netpol.engine.verdict import side_verdict

MAX_REDUNDANCY_PAIRS = 250_000  # class pairs; beyond this the redundancy checks are skipped


def _redundancy(ctx: LintContext) -> tuple[list[CompiledRule], list[CompiledPolicy]] | None:
    """Rules and policies whose removal changes no verdict (greedy, later ones first).

    Per endpoint class pair, a rule is redundant when what it allows is also allowed by
    the rules still kept; a policy when all its rules are and each of its pods stays
    isolated through another kept policy.
    """
    if "redundancy" in ctx.cache:
        return ctx.cache["redundancy"]  # type: ignore[return-value]
    partition = Partition(ctx.cc, include_external=True)
    classes = [c for c in partition.classes if c.kind in (POD, EXTERNAL)]
    pod_classes = [c for c in classes if c.kind == POD]
    if len(pod_classes) * len(classes) > MAX_REDUNDANCY_PAIRS:
        why = (
            f"{len(pod_classes)} x {len(classes)} endpoint classes is more than "
            f"{MAX_REDUNDANCY_PAIRS:,} pairs"
        )
        ctx.gave_up["redundant-policy"] = ctx.gave_up["redundant-rule"] = why
        ctx.cache["redundancy"] = None
        return None
    # side outcomes: (direction, subject class, peer class) -> {rule id: allowed}
    sides: dict[tuple[str, int, int], dict[int, ConnectionSet]] = {}
    subjects_of: dict[int, list[int]] = {}
    for compiled in ctx.cc.policies:
        subjects_of[id(compiled)] = [
            c.index
            for c in pod_classes
            if c.representative.pod is not None and compiled.selects(c.representative.pod)
        ]
    by_index = {c.index: c for c in classes}

    def side(direction: str, subject: int, peer: int) -> dict[int, ConnectionSet]:
        key = (direction, subject, peer)
        found = sides.get(key)
        if found is None:
            s, p = by_index[subject].representative, by_index[peer].representative
            verdict = side_verdict(ctx.cc, s, p, direction)
            found = {id(o.rule): o.allowed for o in verdict.outcomes}
            sides[key] = found
        return found

    removed: set[int] = set()
    redundant_rules: list[CompiledRule] = []
    for compiled in reversed(ctx.cc.policies):
        subjects = subjects_of[id(compiled)]
        if not subjects:
            continue
        for rule in reversed(list(counting_rules(compiled))):
            useful = False
            redundant = True
            for s in subjects:
                for peer in classes:
                    if peer.index == s and len(by_index[s].pods) < 2:
                        continue
                    outcomes = side(rule.direction, s, peer.index)
                    mine = outcomes.get(id(rule), ConnectionSet.none())
                    if mine.is_empty:
                        continue
                    useful = True
                    rest = ConnectionSet.union_of(
                        a for r, a in outcomes.items() if r != id(rule) and r not in removed
                    )
                    if not mine <= rest:
                        redundant = False
                        break
                if not redundant:
                    break
            if useful and redundant:
                removed.add(id(rule))
                redundant_rules.append(rule)
    redundant_policies: list[CompiledPolicy] = []
    gone: set[int] = set()
    for compiled in reversed(ctx.cc.policies):
        subjects = subjects_of[id(compiled)]
        if not subjects:
            continue
        rules = list(counting_rules(compiled))
        if any(id(r) not in removed for r in rules):
            continue
        # A rule-less policy (a default-deny) is a safety net: the allow policies that
        # isolate the same pods today do not make it redundant, only another deny does.
        deny_only = not rules
        covered = True
        for direction in compiled.policy.policy_types:
            for s in subjects:
                others = [
                    o
                    for o in ctx.cc.policies
                    if o is not compiled
                    and id(o) not in gone
                    and direction in o.policy.policy_types
                    and s in subjects_of[id(o)]
                    and not (deny_only and any(counting_rules(o)))
                ]
                if not others:
                    covered = False
        if covered:
            gone.add(id(compiled))
            redundant_policies.append(compiled)
    result = (redundant_rules, redundant_policies)
    ctx.cache["redundancy"] = result
    return result


@check(
    "redundant-policy",
    INFO,
    "a policy that allows nothing other policies do not already allow, and isolates nothing new",
    "Removing the policy would change no verdict: each rule's connections (per pod and peer) "
    "are already allowed by other rules, and every pod it selects is isolated by another "
    "policy in the same directions. Computed with the engine's connection sets per "
    "endpoint class. A policy without rules (a default-deny) is a safety net for pods and "
    "rules added later: it is reported only when another rule-less policy isolates the "
    "same pods.",
    "Delete the policy, or merge what it was meant to add into it.",
    needs_pods=True,
)
def _redundant_policy(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("redundant-policy")
    found = _redundancy(ctx)
    if found is None:
        return
    for compiled in found[1]:
        yield me.on_policy(
            compiled.policy,
            "removing this policy changes no connection: other policies already isolate its "
            "pods and allow everything it allows",
        )


@check(
    "redundant-rule",
    INFO,
    "a rule that allows nothing other rules do not already allow",
    "For every pod the rule applies to and every peer it matches, the connections it allows "
    "are also allowed by other rules (of this or other policies) applying to that pod. "
    "Duplicates are reported once (the later one).",
    "Delete the rule, or narrow the broader rule that covers it if that one is too wide.",
    needs_pods=True,
)
def _redundant_rule(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("redundant-rule")
    found = _redundancy(ctx)
    if found is None:
        return
    whole = {id(c.policy) for c in found[1]}
    for rule in found[0]:
        if id(rule.policy) in whole:
            continue
        yield me.on_policy(
            rule.policy,
            f"{rule.label} allows nothing that other rules do not already allow",
            rule_path(rule),
        )
