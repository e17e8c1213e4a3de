"""Lint checks for tiered policies: shadowed rules, Pass with nothing below, priority ties.

They read one instrumented run of the tiered matrix fill (``TieredMatrix.direction`` with
``steps``), over every pod, node and external class, so "no connection reaches this
rule" means exactly that for the input's endpoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netpol.analysis.lint import Finding, LintContext, by_id, check
from netpol.engine.endpoints import POD
from netpol.engine.tiers import IMPLICIT_KIND, NETWORK_POLICIES, PASS
from netpol.model.cilium import CILIUM_KINDS
from netpol.model.diagnostics import Severity
from netpol.model.tiers import ANP_KIND, CNP_KIND, TieredPolicy, order_number
from netpol.model.wording import first_few

if TYPE_CHECKING:  # the fill needs numpy; lint imports it only when the input has tiers
    from netpol.engine.matrix import NetworkPolicySides
    from netpol.engine.tiered_matrix import Step, TieredMatrix

# tiered policies the engine makes of Cilium's (and its implicit allow-localhost)
CILIUM_TIERED_KINDS = (*CILIUM_KINDS, IMPLICIT_KIND)
MAX_TIER_CLASSES = 3_000  # K x K matrices per direction; beyond this the checks give up
DIRECTIONS = ("Ingress", "Egress")


@dataclass(eq=False)
class TierFill:
    sides: NetworkPolicySides  # classes and sets; its matrices hold the tiered results
    tiered: TieredMatrix
    steps: dict[str, list[Step]]  # direction -> steps in evaluation order

    def workloads(self, bits: int) -> str:
        names: set[str] = set()
        for index in self.sides.sets.iter_bits(bits):
            cls = self.sides.partition.classes[index]
            names.update(p.workload_id for p in cls.pods)
            if not cls.pods:
                names.add(cls.id)
        return first_few(sorted(names), 3)


def _fill(ctx: LintContext, check_id: str) -> TierFill | None:
    """The instrumented fill, computed once for all three checks."""
    if ctx.cc.tiered is None:
        return None  # nothing to check: no rule can be shadowed, no Pass, no tie
    found = ctx.cache.get("tier-fill")
    if isinstance(found, str):  # too many classes, found by an earlier check
        ctx.gave_up[check_id] = found
        return None
    if found is None:
        from netpol.engine.classes import Partition
        from netpol.engine.matrix import network_policy_sides
        from netpol.engine.tiered_matrix import TieredMatrix

        # the classes are counted before any K x K matrix is allocated (at 100k pods with
        # Cilium's node classes the two would take gigabytes only to be dropped)
        partition = Partition(ctx.cc, include_external=True, include_nodes=True)
        if len(partition) > MAX_TIER_CLASSES:
            why = ctx.cache["tier-fill"] = (
                f"{len(partition)} endpoint classes: more than {MAX_TIER_CLASSES}"
            )
            ctx.gave_up[check_id] = why
            return None
        sides = network_policy_sides(ctx.cc, partition=partition)
        tiered = TieredMatrix(sides.sets, ctx.cc.tiered, sides.atoms, sides.table)
        steps: dict[str, list[Step]] = {d: [] for d in DIRECTIONS}
        # only the steps matter here: the results may overwrite the NetworkPolicy matrices
        # (no second K x K array), which nothing reads afterwards
        for direction, ids, isolated in (
            ("Egress", sides.egress, sides.egress_isolated),
            ("Ingress", sides.ingress, sides.ingress_isolated),  # [dst, src]: subject rows
        ):
            tiered.direction(direction, ids.full(), isolated, steps[direction], overwrite=True)
        found = ctx.cache["tier-fill"] = TierFill(sides, tiered, steps)
    assert isinstance(found, TierFill)
    return found


def _on_rule(check_id: str, step: Step, message: str, hint: str = "") -> Finding:
    assert step.rule is not None
    policy = step.rule.policy
    field = f"spec.{step.rule.direction.lower()}[{step.rule.rule.index}]"
    return by_id(check_id).finding(message, policy.id, policy.source, field, hint, policy.id)


@check(
    "tier-rule-shadowed",
    Severity.WARNING,
    "a tiered rule that no connection reaches: earlier rules or tiers decide first",
    "Admin, baseline and Calico rules are evaluated in order: tier, then priority or order, "
    "then the rule's position. A rule whose every connection (for the input's pods, nodes "
    "and external addresses) is already allowed, denied or passed by something before it "
    "can never act: it is dead, and usually a sign that the order is not the intended one. "
    "Cilium's rules have no order: cilium-allow-denied and cilium-l7-void speak for them.",
    "Move the rule before the one that decides first (or give its policy a smaller "
    "priority/order), or delete it.",
    pitfall="spec 6.3",
    needs_pods=True,
)
def _shadowed(ctx: LintContext) -> Iterator[Finding]:
    fill = _fill(ctx, "tier-rule-shadowed")
    if fill is None:
        return
    for direction in DIRECTIONS:
        steps = fill.steps[direction]
        for position, step in enumerate(steps):
            rule = step.rule
            if rule is None or step.took or not step.rows or not step.cols:
                continue
            if rule.policy.kind in CILIUM_TIERED_KINDS:
                continue  # Cilium has no rule order: the cilium-* checks say what it means
            if rule.rule.unmatchable or (rule.numeric.is_empty and not rule.has_named):
                continue  # it matches nothing by itself: not a question of order
            earlier = [
                s.label
                for s in steps[:position]
                if s.took
                and s.rows & step.rows
                and s.cols & step.cols
                and _ports_meet(fill, s, step)
            ]
            blame = ", ".join(dict.fromkeys(earlier[:3])) or "earlier rules"
            yield _on_rule(
                "tier-rule-shadowed",
                step,
                f"{rule.label}: no connection reaches this rule; everything it matches "
                f"({direction.lower()} of {fill.workloads(step.rows)}) is decided before it "
                f"by {blame}",
            )


def _ports_meet(fill: TierFill, earlier: Step, later: Step) -> bool:
    """Whether two steps can decide a common port towards a common destination (named
    ports resolved on each destination class; defaults cover every port)."""
    if earlier.rule is None or later.rule is None:
        return True
    if not earlier.rule.has_named and not later.rule.has_named:
        return not (earlier.rule.numeric & later.rule.numeric).is_empty
    ingress = later.rule.direction == "Ingress"
    shared = (earlier.rows & later.rows) if ingress else (earlier.cols & later.cols)
    classes = fill.sides.partition.classes
    for index in fill.sides.sets.iter_bits(shared):
        pod = classes[index].representative.pod if classes[index].kind == POD else None
        if not (earlier.rule.connections_to(pod) & later.rule.connections_to(pod)).is_empty:
            return True
    return False


@check(
    "tier-pass-to-nothing",
    Severity.WARNING,
    "a Pass rule with no policy below it: what it passes is simply allowed",
    "Pass hands a connection to the next tiers: NetworkPolicies, then the baseline. When no "
    "NetworkPolicy isolates the pods it passes for that direction and no later tier selects "
    "them, the passed connections are allowed by default, exactly as if the rule said "
    "Allow; the author usually expected a lower tier to decide.",
    "Write the NetworkPolicy (or baseline rule) the Pass delegates to, or say Allow if "
    "allowing is the intent.",
    pitfall="spec 6.3",
    needs_pods=True,
)
def _pass_to_nothing(ctx: LintContext) -> Iterator[Finding]:
    fill = _fill(ctx, "tier-pass-to-nothing")
    if fill is None:
        return
    tiers = [plan.tier.name for plan in ctx.cc.tiered.plans] if ctx.cc.tiered else []
    for direction in DIRECTIONS:
        steps = fill.steps[direction]
        for step in steps:
            rule = step.rule
            if rule is None or rule.rule.action != PASS or not step.took:
                continue
            below = [s for s in steps if tiers.index(s.tier) > tiers.index(step.tier)]
            if any(s.rows & step.rows for s in below):
                continue
            yield _on_rule(
                "tier-pass-to-nothing",
                step,
                f"{rule.label} passes {direction.lower()} of {fill.workloads(step.rows)} to "
                "lower tiers, but no NetworkPolicy or later tier selects them there: the "
                "passed connections are allowed by default",
            )


@check(
    "pass-skips-network-policies",
    Severity.WARNING,
    "a Calico Pass before the NetworkPolicies in their own tier skips them",
    "Calico puts Kubernetes NetworkPolicies in the default tier at order 1000. A Pass rule "
    "of a policy in that same tier with a smaller order sends the connection to the next "
    "tier, past every NetworkPolicy: the pods they isolate lose that isolation for what the "
    "Pass takes (usually the author meant 'leave it to the NetworkPolicies').",
    "Move the policy to a tier of its own above the default tier (then Pass reaches the "
    "NetworkPolicies), or give it an order above 1000, or end with no rule instead of Pass.",
    pitfall="Calico tiers",
    needs_pods=True,
)
def _pass_skips_network_policies(ctx: LintContext) -> Iterator[Finding]:
    fill = _fill(ctx, "pass-skips-network-policies")
    if fill is None:
        return
    for direction in DIRECTIONS:
        steps = fill.steps[direction]
        network_policies = [
            i for i, s in enumerate(steps) if s.rule is None and s.label == NETWORK_POLICIES
        ]
        if not network_policies:
            continue
        member = steps[network_policies[0]]
        for step in steps[: network_policies[0]]:
            rule = step.rule
            if rule is None or rule.rule.action != PASS or step.tier != member.tier:
                continue
            skipped = step.rows & member.rows
            if not step.took or not skipped:
                continue
            yield _on_rule(
                "pass-skips-network-policies",
                step,
                f"{rule.label} passes {direction.lower()} of {fill.workloads(skipped)} out of "
                f"tier {step.tier} before its NetworkPolicies, which isolate them: those "
                "NetworkPolicies never see what the Pass takes",
            )


@check(
    "admin-priority-tie",
    Severity.WARNING,
    "two admin policies of one priority that match the same traffic: order undefined",
    "The Network Policy API leaves the order of two AdminNetworkPolicies (or "
    "ClusterNetworkPolicies of one tier) with the same priority undefined: an "
    "implementation may apply either, so a cluster can behave differently after an "
    "upgrade or on another CNI. netpol evaluates them by name and reports the tie.",
    "Give each admin policy its own priority.",
    pitfall="spec 6.3, edge case 68",
    needs_pods=True,
)
def _priority_tie(ctx: LintContext) -> Iterator[Finding]:
    fill = _fill(ctx, "admin-priority-tie")
    if fill is None:
        return
    api = sorted(
        (p for p in ctx.cluster.tiered_policies if p.kind in (ANP_KIND, CNP_KIND)),
        key=lambda p: p.sort_key,
    )
    for i, first in enumerate(api):
        for second in api[i + 1 :]:
            if (first.tier, first.order) != (second.tier, second.order):
                continue
            overlap = _overlap(fill, first, second)
            if overlap is None:
                continue
            direction, rows = overlap
            yield by_id("admin-priority-tie").finding(
                f"{second.id} has priority {_number(second.order)} like {first.id}, and both "
                f"have {direction.lower()} rules for {fill.workloads(rows)}: the API leaves "
                f"their order undefined (netpol evaluates {first.name} first, by name)",
                second.id,
                second.source,
                "spec.priority",
                policy=second.id,
            )


def _overlap(fill: TierFill, a: TieredPolicy, b: TieredPolicy) -> tuple[str, int] | None:
    """A direction and the subject classes where rules of ``a`` and ``b`` meet: common
    subjects, common peers and a common port (rules on other ports never race)."""
    for direction in DIRECTIONS:
        of_a = [s for s in fill.steps[direction] if s.rule is not None and s.rule.policy is a]
        of_b = [s for s in fill.steps[direction] if s.rule is not None and s.rule.policy is b]
        for x in of_a:
            for y in of_b:
                rows = x.rows & y.rows
                if rows and x.cols & y.cols and _ports_meet(fill, x, y):
                    return direction, rows
    return None


def _number(value: float | None) -> str:
    return "none" if value is None else str(order_number(value))
