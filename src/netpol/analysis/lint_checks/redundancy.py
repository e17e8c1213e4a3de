"""Redundancy: rules and policies whose removal changes no verdict."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from netpol.analysis.lint import Finding, LintContext, by_id, check
from netpol.analysis.lint_checks.common import (
    INFO,
    bit_list,
    counting_rules,
    pod_partition,
    pod_sets,
    rule_connections,
    rule_path,
)
from netpol.engine.class_sets import ClassSets
from netpol.engine.classes import Partition
from netpol.engine.compile import CompiledPolicy, CompiledRule
from netpol.engine.endpoints import EXTERNAL, POD
from netpol.engine.ports import ConnectionSet


@dataclass(eq=False)
class _SubjectSide:
    """One direction of one subject class: the rules that apply to it (in policy order), its
    peer classes in groups that every one of those rules treats alike, and per rule and group
    what the rule allows. Greedy removal reads, for a rule at position i, the union of the
    rules before it (not decided yet, so kept) and of the kept rules after it."""

    rules: list[CompiledRule]
    position: dict[int, int]  # id(rule) -> index in rules
    allows: list[list[ConnectionSet]]  # [rule][group]
    before: list[list[ConnectionSet]]  # [rule][group]: union of allows of the rules before it
    kept_after: list[ConnectionSet]  # [group]: union over the decided rules that were kept


class _Sides:
    """Per (direction, subject class), built when a rule of that subject is first decided:
    every decided rule visits all its subjects' sides, so a side built later has no kept
    rule to catch up on."""

    def __init__(self, ctx: LintContext, partition: Partition, sets: ClassSets) -> None:
        self.ctx = ctx
        self.partition = partition
        self.sets = sets
        self.peers = 0  # the classes a rule can face: pods and external blocks, not nodes
        for c in partition.classes:
            if c.kind in (POD, EXTERNAL):
                self.peers |= 1 << c.index
        self.found: dict[tuple[str, int], _SubjectSide] = {}
        self.shared: dict[tuple[object, ...], _SubjectSide] = {}

    def get(self, direction: str, subject: int) -> _SubjectSide:
        key = (direction, subject)
        found = self.found.get(key)
        if found is None:
            found = self.found[key] = self._shared(direction, subject)
        return found

    def _shared(self, direction: str, subject: int) -> _SubjectSide:
        """Subject classes with the same applying policies (and, for ingress, the same
        resolution of their named ports) share one side: every rule that applies to one
        applies to the other, so each decision reads and updates them alike (a kept rule's
        union, added once per subject, is added again to no effect)."""
        cls = self.partition.classes[subject]
        pod = cls.representative.pod
        assert pod is not None
        applying = self.ctx.cc.applying(pod, direction)
        rules = [r for c in applying for r in c.rules(direction)]
        # a pod reaches itself whatever the rules say: a one-pod class leaves itself out
        alone = subject if len(cls.pods) < 2 else -1
        named: tuple[object, ...] = ()
        if direction == "Ingress":
            named = tuple(rule_connections(self.ctx, r, pod).parts for r in rules if r.named)
        key = (direction, tuple(id(c) for c in applying), alone, named)
        found = self.shared.get(key)
        if found is None:
            found = self.shared[key] = self._build(direction, subject, rules)
        return found

    def _build(self, direction: str, subject: int, rules: list[CompiledRule]) -> _SubjectSide:
        cls = self.partition.classes[subject]
        pod = cls.representative.pod
        assert pod is not None
        universe = self.peers
        if len(cls.pods) < 2:
            universe &= ~(1 << subject)  # a pod reaches itself whatever the rules say
        groups = [universe] if universe else []
        for rule in rules:
            groups = _split(groups, self.sets.rule_peers(rule))
            if direction == "Egress":  # named ports resolve on each peer
                for name, protocol in rule.named:
                    for bits in self.sets.named_port_classes(name, protocol).values():
                        groups = _split(groups, bits)
        allows = []
        classes = self.partition.classes
        for rule in rules:
            matched = self.sets.rule_peers(rule)
            row = []
            for group in groups:
                peer = (group & -group).bit_length() - 1
                if not matched >> peer & 1:
                    row.append(ConnectionSet.none())
                elif direction == "Ingress":
                    row.append(rule_connections(self.ctx, rule, pod))
                else:
                    target = classes[peer]
                    row.append(
                        rule_connections(self.ctx, rule, target.representative.pod)
                        if target.kind == POD and target.representative.pod is not None
                        else rule.numeric
                    )
            allows.append(row)
        before = []
        running = [ConnectionSet.none()] * len(groups)
        for row in allows:
            before.append(running)
            running = [a | b for a, b in zip(running, row, strict=True)]
        return _SubjectSide(
            rules,
            {id(r): i for i, r in enumerate(rules)},
            allows,
            before,
            [ConnectionSet.none()] * len(groups),
        )


def _split(groups: list[int], bits: int) -> list[int]:
    out = []
    for group in groups:
        inside, outside = group & bits, group & ~bits
        out += [g for g in (inside, outside) if g]
    return out


def _redundancy(ctx: LintContext) -> tuple[list[CompiledRule], list[CompiledPolicy]] | None:
    """Rules and policies whose removal changes no verdict (greedy, later ones first).

    Per endpoint class pair, a rule is redundant when what it allows is also allowed by
    the rules still kept; a policy when all its rules are and each of its pods stays
    isolated through another kept policy. Pairs are visited a group of peer classes at a
    time (the peers every rule of the subject treats alike), and the rules still kept are
    kept as running unions, so the work grows with rules x groups, not rules squared.
    """
    if "redundancy" in ctx.cache:
        return ctx.cache["redundancy"]  # type: ignore[return-value]
    partition = pod_partition(ctx)
    sets = pod_sets(ctx)
    subjects_of = {
        id(c): sets.subjects(c.policy.namespace, c.policy.pod_selector) for c in ctx.cc.policies
    }
    sides = _Sides(ctx, partition, sets)
    removed: set[int] = set()
    redundant_rules: list[CompiledRule] = []
    for compiled in reversed(ctx.cc.policies):
        subjects = subjects_of[id(compiled)]
        if not subjects:
            continue
        for rule in reversed(list(counting_rules(compiled))):
            useful = False
            redundant = True
            for s in bit_list(subjects):
                side = sides.get(rule.direction, s)
                i = side.position[id(rule)]
                for mine, before, after in zip(
                    side.allows[i], side.before[i], side.kept_after, strict=True
                ):
                    if mine.is_empty:
                        continue
                    useful = True
                    if not mine <= before | after:
                        redundant = False
                        break
                if not redundant:
                    break
            if useful and redundant:
                removed.add(id(rule))
                redundant_rules.append(rule)
                continue
            for s in bit_list(subjects):  # kept: later decisions see it
                side = sides.get(rule.direction, s)
                row = side.allows[side.position[id(rule)]]
                side.kept_after = [a | b for a, b in zip(side.kept_after, row, strict=True)]
    result = (redundant_rules, _redundant_policies(ctx, subjects_of, removed, sets))
    ctx.cache["redundancy"] = result
    return result


def _redundant_policies(
    ctx: LintContext, subjects_of: dict[int, int], removed: set[int], sets: ClassSets
) -> list[CompiledPolicy]:
    """Policies whose rules are all redundant and whose pods another kept policy isolates.

    ``isolating[(direction, class)]`` counts the kept policies that isolate the class in
    that direction: [all of them, the rule-less ones].
    """
    isolating: dict[tuple[str, int], list[int]] = {}

    def count(compiled: CompiledPolicy, step: int) -> None:
        ruleless = not any(counting_rules(compiled))
        for direction in dict.fromkeys(compiled.policy.policy_types):
            for s in bit_list(subjects_of[id(compiled)]):
                counts = isolating.setdefault((direction, s), [0, 0])
                counts[0] += step
                counts[1] += step if ruleless else 0

    for compiled in ctx.cc.policies:
        count(compiled, 1)
    found: list[CompiledPolicy] = []
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
        if all(
            isolating[(direction, s)][1 if deny_only else 0] > 1  # itself and another
            for direction in compiled.policy.policy_types
            for s in bit_list(subjects)
        ):
            count(compiled, -1)
            found.append(compiled)
    return found


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
