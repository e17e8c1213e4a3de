"""Cilium allow entries that nothing reaches, read off the engine's tiered fill (one
instrumented matrix fill over every endpoint class, shared with the tier checks).

The engine puts every Cilium deny in the tier ``cilium-deny`` before the default tier,
and in the default tier the NetworkPolicies, then the allows at L4, then the allows with
L7 parts (docs/cilium.md). So an allow entry whose every step decided nothing, although
it applies to some classes, is dead for the input's pods: what it matches was denied
first (an allow a deny overrides) or, for an L7 allow, allowed at L4 first (its L7 rules
never filter). Per class, never per pod pair: the fill's cost is that of the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

from netpol.analysis.lint import LintContext
from netpol.analysis.lint_checks.tiers import DIRECTIONS, TierFill, _fill, _ports_meet
from netpol.engine.tiered_matrix import Step
from netpol.model.cilium import CILIUM_KINDS
from netpol.model.tiers import ALLOW, DENY, TieredPolicy


@dataclass(frozen=True)
class DeadAllow:
    """A Cilium allow entry no connection of the input reaches, and who decides first."""

    policy: TieredPolicy
    field: str  # "spec.ingress[0]", "specs[1].egress[2]"
    label: str  # "CiliumNetworkPolicy app1-ns/db ingress[0]"
    l7: bool
    workloads: str  # the subjects it applies to
    denied_by: tuple[str, ...]  # labels of the deny steps that decide first
    allowed_by: tuple[str, ...]  # labels of the allow steps (or NetworkPolicies) first


def dead_allows(ctx: LintContext, check_id: str) -> list[DeadAllow]:
    """Every dead Cilium allow entry (computed once for the checks that ask)."""
    cached = ctx.cache.get("cilium-dead-allows")
    if cached is not None:
        return cached  # type: ignore[return-value]
    found: list[DeadAllow] = []
    if ctx.cluster.cilium_policies and ctx.cc.tiered is not None:
        fill = _fill(ctx, check_id)
        # too many classes: the model-level part of the check still ran and reported
        ctx.gave_up.pop(check_id, None)
        if fill is not None:
            for direction in DIRECTIONS:
                found += _dead(fill, fill.steps[direction])
    ctx.cache["cilium-dead-allows"] = found
    return found


def _dead(fill: TierFill, steps: list[Step]) -> list[DeadAllow]:
    groups: dict[tuple[str, str, int], list[int]] = {}
    for position, step in enumerate(steps):
        rule = step.rule
        if rule is None or rule.policy.kind not in CILIUM_KINDS or rule.rule.action != ALLOW:
            continue
        # an entry may be several rules (host and remote-node expand per node)
        groups.setdefault((rule.policy.id, rule.rule.section, rule.rule.index), []).append(position)
    found = []
    for positions in groups.values():
        if any(steps[p].took for p in positions):
            continue
        live = [p for p in positions if _matches_something(steps[p])]
        if not live:
            continue  # it matches nothing by itself: not a question of who decides first
        denied: dict[str, None] = {}
        allowed: dict[str, None] = {}
        rows = 0
        for position in live:
            step = steps[position]
            rows |= step.rows
            for earlier in steps[:position]:
                if not (earlier.took and earlier.rows & step.rows and earlier.cols & step.cols):
                    continue
                if not _ports_meet(fill, earlier, step):
                    continue
                deny = earlier.rule is not None and earlier.rule.rule.action == DENY
                (denied if deny else allowed)[earlier.label] = None
        first = steps[live[0]].rule
        assert first is not None
        section, index = first.rule.section, first.rule.index
        field = (
            f"{section}[{index}]" if section.startswith("specs[") else f"spec.{section}[{index}]"
        )
        found.append(
            DeadAllow(
                first.policy,
                field,
                f"{first.policy.label} {section}[{index}]",
                first.rule.note.startswith("L7"),
                fill.workloads(rows),
                tuple(denied),
                tuple(allowed),
            )
        )
    return found


def _matches_something(step: Step) -> bool:
    rule = step.rule
    assert rule is not None
    if not step.rows or not step.cols or rule.rule.unmatchable:
        return False
    return not (rule.numeric.is_empty and not rule.has_named)
