"""The tiered evaluation of ``engine.tiers``, for every pair of endpoint classes at once.

One direction at a time, oriented [subject, peer]: ``undecided`` starts as everything;
each rule, in tier, policy and written order, takes its share of what is undecided for
the block (its subjects x its peers) and hands it to ``allowed`` (Allow), to ``passed``
(Pass, back to undecided after the tier) or to nobody (Deny). The NetworkPolicy member
of the default tier grants its rows what the NetworkPolicy matrix allows; a tier's
default action Deny empties what its selected rows left undecided. Whatever stays
undecided at the end is allowed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from netpol.engine.class_sets import ClassSets
from netpol.engine.endpoints import POD
from netpol.engine.masks import DIFFERENCE, INTERSECT, UNION, Ids, MaskTable, PortAtoms
from netpol.engine.ports import ConnectionSet
from netpol.engine.tiers import (
    ALLOW,
    DENY,
    LOG,
    PASS,
    CompiledTieredPolicy,
    CompiledTierRule,
    TieredModel,
)
from netpol.model.tiers import EndpointMatch

Index = npt.NDArray[np.intp]
BLOCK_ELEMENTS = 1 << 22  # matrix cells per step of a rule


@dataclass(frozen=True, slots=True)
class Step:
    """What one rule, the NetworkPolicy member or a tier's default did during a fill:
    the subject and peer classes it applied to, and whether it decided anything there."""

    tier: str
    label: str
    rule: CompiledTierRule | None  # None: the NetworkPolicy member or a tier default
    rows: int  # subject class bits
    cols: int  # peer class bits
    took: bool


class TieredMatrix:
    """Class bitsets for the matches of tiered policies, and the per-direction fill."""

    def __init__(
        self, sets: ClassSets, model: TieredModel, atoms: PortAtoms, table: MaskTable
    ) -> None:
        self.sets = sets
        self.model = model
        self.atoms = atoms
        self.table = table
        self.classes = sets.partition.classes
        self._match_cache: dict[EndpointMatch, int] = {}
        self._subject_cache: dict[int, int] = {}

    def match_bits(self, match: EndpointMatch) -> int:
        found = self._match_cache.get(match)
        if found is None:
            found = 0
            for c in self.classes:
                if self.model.miss(match, c.representative) is None:
                    found |= 1 << c.index
            self._match_cache[match] = found
        return found

    def subject_bits(self, compiled: CompiledTieredPolicy) -> int:
        found = self._subject_cache.get(id(compiled))
        if found is None:
            found = 0
            for c in self.classes:
                pod = c.representative.pod
                if c.kind == POD and pod is not None and self.model.selects(compiled, pod):
                    found |= 1 << c.index
            self._subject_cache[id(compiled)] = found
        return found

    def peer_bits(self, rule: CompiledTierRule) -> int:
        if rule.rule.any_peer:
            return self.sets.all_classes
        bits = 0
        for peer in rule.rule.peers:
            bits |= self.match_bits(peer)
        return bits

    def rule_sets(self, rule: CompiledTierRule, classes: int) -> dict[int, int]:
        """mask -> the destination classes (among ``classes``) the rule covers it towards."""
        if not rule.has_named:
            return {self.atoms.mask(rule.numeric): classes}
        return self.sets.by_destination(
            classes, lambda pod: self.atoms.mask(rule.connections_to(pod))
        )

    def direction(
        self, direction: str, np_ids: Ids, np_isolated: int, steps: list[Step] | None = None
    ) -> Ids:
        """[subject, peer] ids of what ``direction`` allows; ``np_ids`` is the
        NetworkPolicy matrix in the same orientation, meaningful on ``np_isolated`` rows.
        ``steps``, when given, receives what each rule and default did (for lint)."""
        record = steps.append if steps is not None else None
        everyone = self.sets.all_classes
        k = len(self.classes)
        table = self.table
        undecided = np.full((k, k), MaskTable.EVERYTHING, dtype=np.int32)
        allowed = np.zeros((k, k), dtype=np.int32)
        # what Pass rules hand to the next tier; allocated on the first Pass, reset per tier
        passed = np.zeros((0, 0), dtype=np.int32)
        for plan in self.model.plans:
            selected = 0
            passing = False
            for member in plan.members:
                if isinstance(member, str):
                    if np_isolated:
                        selected |= np_isolated
                        rows = self._rows(np_isolated)
                        granted, rest = table.combine_many(
                            undecided[rows], np_ids[rows], (INTERSECT, DIFFERENCE)
                        )
                        allowed[rows] = table.combine(allowed[rows], granted, UNION)
                        undecided[rows] = rest
                        if record is not None:
                            took = bool(granted.any())
                            record(Step(plan.tier.name, member, None, np_isolated, everyone, took))
                    continue
                rules = member.rules(direction)
                in_types = direction in member.policy.types
                subjects = self.subject_bits(member) if in_types else 0
                if not subjects:
                    continue
                selected |= subjects
                for rule in rules:
                    if rule.rule.action == PASS and not passed.size:
                        passed = np.zeros((k, k), dtype=np.int32)
                    step = self._apply(rule, direction, subjects, undecided, allowed, passed)
                    passing = passing or (step.took and rule.rule.action == PASS)
                    if record is not None:
                        record(replace(step, tier=plan.tier.name))
            if not selected:
                continue
            rows = self._rows(selected)
            if plan.tier.default_action == DENY:
                if record is not None:
                    took = bool(undecided[rows].any())
                    label = f"the default Deny of tier {plan.tier.name}"
                    record(Step(plan.tier.name, label, None, selected, everyone, took))
                undecided[rows] = passed[rows] if passing else MaskTable.NOTHING
            elif passing:
                undecided[rows] = table.combine(undecided[rows], passed[rows], UNION)
            if passing:
                passed.fill(MaskTable.NOTHING)
        return table.combine(allowed, undecided, UNION)

    def _rows(self, bits: int) -> Index | slice:
        """Row indexes of ``bits``; a plain slice when that is every row (no copy)."""
        if bits == self.sets.all_classes:
            return slice(None)
        return self.sets.indexes(bits)

    def _apply(
        self,
        rule: CompiledTierRule,
        direction: str,
        subjects: int,
        undecided: Ids,
        allowed: Ids,
        passed: Ids,
    ) -> Step:
        local = rule.rule.local
        rows = subjects & (self.match_bits(local) if local is not None else subjects)
        cols = self.peer_bits(rule)
        took = False
        if not rows or not cols:
            return Step("", rule.label, rule, rows, cols, took)
        # named ports resolve on the destination: the subject for ingress, the peer for egress
        if direction == "Ingress":
            blocks = [(r, cols, m) for m, r in self.rule_sets(rule, rows).items()]
        else:
            blocks = [(rows, c, m) for m, c in self.rule_sets(rule, cols).items()]
        action = rule.rule.action
        for row_bits, col_bits, mask in blocks:
            if not mask:
                continue
            mask_id = self.table.id(mask)
            for block in self._blocks(row_bits, col_bits):
                before = undecided[block]
                taken = self.table.apply(INTERSECT, before, mask_id)
                took = took or bool(taken.any())
                if action == ALLOW:
                    allowed[block] = self.table.combine(allowed[block], taken, UNION)
                elif action == PASS:
                    passed[block] = self.table.combine(passed[block], taken, UNION)
                if action != LOG:
                    undecided[block] = self.table.apply(DIFFERENCE, before, mask_id)
        return Step("", rule.label, rule, rows, cols, took)

    def _blocks(self, row_bits: int, col_bits: int) -> Iterator[tuple[Any, ...]]:
        """Index tuples covering rows x cols, a bounded number of rows at a time (so the
        temporaries of a 10k-class matrix stay small); slices where a side is complete."""
        cols = self._rows(col_bits)
        rows = self._rows(row_bits)
        if isinstance(rows, slice):
            rows = np.arange(len(self.classes))
        step = max(1, BLOCK_ELEMENTS // max(1, len(self.classes)))
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            if isinstance(cols, slice):
                yield chunk, cols
            else:
                yield np.ix_(chunk, cols)


def tiered_connection_sets(model: TieredModel, sets: ClassSets) -> list[ConnectionSet]:
    """Every set a tiered rule can cover, so the port atoms are cut by them."""
    found: list[ConnectionSet] = []
    pods = [c.representative.pod for c in sets.partition.classes if c.kind == POD]
    for compiled in model.policies:
        for rule in compiled.ingress + compiled.egress:
            found.append(rule.numeric)
            if rule.has_named:
                found.extend(rule.connections_to(pod) for pod in pods)
    return found


__all__ = ["DENY", "Step", "TieredMatrix", "tiered_connection_sets"]
