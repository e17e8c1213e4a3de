"""The tiered evaluation of ``engine.tiers``, for every pair of endpoint classes at once.

One direction at a time, oriented [subject, peer]. Per cell the tiers run as in
``engine.tiers``: ``undecided`` starts as everything; each rule, in tier, policy and
written order, takes its share of what is undecided for its block (its subjects x its
peers) and hands it to ``allowed`` (Allow), to ``passed`` (Pass, back to undecided after
the tier) or to nobody (Deny). The NetworkPolicy member of the default tier grants its
rows what the NetworkPolicy matrix allows; a tier's default action Deny empties what its
selected rows left undecided. Whatever stays undecided at the end is allowed.

Every step acts on whole row groups x column groups (classes no step tells apart), so a
cell's result depends only on its row group, its column group and its NetworkPolicy id.
The steps run once per such triple present in a band of rows, on small arrays, and the
band is written with one gather: a few passes over the K x K matrix per direction
instead of several per rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import numpy.typing as npt

from netpol.engine.class_sets import ClassSets
from netpol.engine.classes import EndpointClass
from netpol.engine.endpoints import POD
from netpol.engine.masks import (
    BAND_ELEMENTS,
    DIFFERENCE,
    INTERSECT,
    UNION,
    Ids,
    MaskTable,
    PortAtoms,
)
from netpol.engine.ports import ConnectionSet
from netpol.engine.tiers import (
    ALLOW,
    DENY,
    LOG,
    NETWORK_POLICIES,
    PASS,
    CompiledTieredPolicy,
    CompiledTierRule,
    TieredModel,
)
from netpol.model.objects import Pod
from netpol.model.selectors import LabelSelector
from netpol.model.tiers import PODS, EndpointMatch

Index = npt.NDArray[np.intp]
Codes = npt.NDArray[np.int32 | np.int64]
TABLE_CODES = 1 << 24  # the most codes a lookup table spans; beyond, a band's codes are sorted
TIER_END = "tier end"  # the step that hands back what a tier passed


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


@dataclass(frozen=True, slots=True)
class _Op:
    """One step of the per-cell program: a rule's share of one mask, the NetworkPolicy
    member, or a tier's end (its default Deny, or handing back what it passed)."""

    action: str  # ALLOW, DENY, PASS or LOG for a rule; NETWORK_POLICIES; TIER_END
    rows: int  # class bits
    cols: int
    mask_id: int = MaskTable.NOTHING  # a rule's connections; unused otherwise
    deny: bool = False  # TIER_END: the tier's default action is Deny
    step: int = -1  # the Step this op reports into (-1: none)


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
            for c in self._candidates(match):
                if self.model.miss(match, c.representative) is None:
                    found |= 1 << c.index
            self._match_cache[match] = found
        return found

    def _candidates(self, match: EndpointMatch) -> Sequence[EndpointClass]:
        """The classes ``match`` may cover: when it covers pods only and its pod selector
        has a matchLabels term, the pod classes with that label (its rarest term's), since
        ``miss`` fails every other one on that term; else every class. A Cilium peer such
        as ``{io.kubernetes.pod.namespace: N, app: A}`` is then tried on a few classes, not
        on all of them (generate --kind cilium at 100k pods: 18 million tries)."""
        pods = match.pods
        if match.scope != PODS or not isinstance(pods, LabelSelector) or not pods.match_labels:
            return self.classes
        return min((self._pod_classes_by_label.get(kv, ()) for kv in pods.match_labels), key=len)

    @cached_property
    def _pod_classes_by_label(self) -> dict[tuple[str, str], list[EndpointClass]]:
        """Pod classes by each (key, value) of their representative's labels, the labels
        ``miss`` reads for a LabelSelector."""
        found: dict[tuple[str, str], list[EndpointClass]] = {}
        for c in self.classes:
            pod = c.representative.pod
            if c.kind == POD and pod is not None:
                for label in pod.labels.items():
                    found.setdefault(label, []).append(c)
        return found

    @cached_property
    def _pod_classes(self) -> dict[str, list[tuple[int, Pod]]]:
        """Pod classes by namespace ("" holds them all), with their representative pod."""
        found: dict[str, list[tuple[int, Pod]]] = {"": []}
        for c in self.classes:
            pod = c.representative.pod
            if c.kind == POD and pod is not None:
                found[""].append((c.index, pod))
                found.setdefault(pod.namespace, []).append((c.index, pod))
        return found

    def subject_bits(self, compiled: CompiledTieredPolicy) -> int:
        found = self._subject_cache.get(id(compiled))
        if found is None:
            found = 0
            # a namespaced subject (Calico, Cilium) is only tried on its namespace's classes
            namespace = compiled.policy.subject.namespace or ""
            for index, pod in self._pod_classes.get(namespace, ()):
                if self.model.selects(compiled, pod):
                    found |= 1 << index
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
        self,
        direction: str,
        np_ids: Ids,
        np_isolated: int,
        steps: list[Step] | None = None,
        overwrite: bool = False,
    ) -> Ids:
        """[subject, peer] ids of what ``direction`` allows; ``np_ids`` is the
        NetworkPolicy matrix in the same orientation, meaningful on ``np_isolated`` rows.
        ``steps``, when given, receives what each rule and default did (for lint). With
        ``overwrite`` the result is written over ``np_ids`` (no second K x K matrix)."""
        ops, found = self._program(direction, np_isolated)
        row_group, row_firsts = self._groups([op.rows for op in ops])
        col_group, col_firsts = self._groups([op.cols for op in ops])
        in_rows = [self._covers(op.rows, row_firsts) for op in ops]
        in_cols = [self._covers(op.cols, col_firsts) for op in ops]
        took = np.zeros(len(found), dtype=bool)
        # a cell's code is (row group, column group, NetworkPolicy id) in one integer:
        # row_code[subject] + col_code[peer] + id
        ids_width = len(self.table.masks)
        size = len(row_firsts) * len(col_firsts) * ids_width
        dtype = np.int32 if size < 2**31 else np.int64
        row_code: Codes = (row_group * (len(col_firsts) * ids_width)).astype(dtype)
        col_code: Codes = (col_group * ids_width).astype(dtype)
        # bands follow the memory layout: the ingress [subject, peer] matrix is a transposed
        # view, and reading it by rows would stride across the whole array
        flip = not np_ids.flags.c_contiguous
        source = np_ids.T if flip else np_ids
        along, across = (col_code, row_code) if flip else (row_code, col_code)
        # each band is read before it is written, so the result can replace the input
        out = source if overwrite else np.empty(source.shape, dtype=np.int32)
        band = max(1, BAND_ELEMENTS // max(1, source.shape[1]))
        for start in range(0, source.shape[0], band):
            part = slice(start, start + band)
            codes = along[part, None] + across[None, :]
            codes += source[part]
            flat = codes.reshape(-1)
            if size > TABLE_CODES:
                present, inverse = np.unique(flat, return_inverse=True)
            else:
                present, inverse = np.flatnonzero(np.bincount(flat, minlength=size)), None
            pair, np_id = np.divmod(present, ids_width)
            row, col = np.divmod(pair, len(col_firsts))
            cells = self._run(ops, in_rows, in_cols, row, col, np_id.astype(np.int32), took)
            if inverse is None:
                lookup = np.zeros(size, dtype=np.int32)
                lookup[present] = cells
                np.take(lookup, codes, out=out[part])
            else:
                out[part] = cells[inverse].reshape(codes.shape)
        if steps is not None:
            steps.extend(replace(s, took=bool(t)) for s, t in zip(found, took, strict=True))
        return out.T if flip else out

    def _program(self, direction: str, np_isolated: int) -> tuple[list[_Op], list[Step]]:
        """The ops of ``direction`` in evaluation order, and the Steps they report into."""
        everyone = self.sets.all_classes
        ops: list[_Op] = []
        found: list[Step] = []
        for plan in self.model.plans:
            tier = plan.tier.name
            selected = 0
            passes = False
            for member in plan.members:
                if isinstance(member, str):
                    if np_isolated:
                        selected |= np_isolated
                        found.append(Step(tier, member, None, np_isolated, everyone, False))
                        ops.append(
                            _Op(NETWORK_POLICIES, np_isolated, everyone, step=len(found) - 1)
                        )
                    continue
                subjects = self.subject_bits(member) if direction in member.policy.types else 0
                if not subjects:
                    continue
                if member.policy.isolating(direction):
                    selected |= subjects
                for rule in member.rules(direction):
                    local = rule.rule.local
                    rows = subjects & (self.match_bits(local) if local is not None else subjects)
                    cols = self.peer_bits(rule)
                    found.append(Step(tier, rule.label, rule, rows, cols, False))
                    if not rows or not cols:
                        continue
                    # named ports resolve on the destination: the subject for ingress, the
                    # peer for egress
                    if direction == "Ingress":
                        blocks = [(r, cols, m) for m, r in self.rule_sets(rule, rows).items()]
                    else:
                        blocks = [(rows, c, m) for m, c in self.rule_sets(rule, cols).items()]
                    action = rule.rule.action
                    for r, c, mask in blocks:
                        if mask:
                            ops.append(_Op(action, r, c, self.table.id(mask), step=len(found) - 1))
                            passes = passes or action == PASS
            if not selected:
                continue
            if plan.tier.default_action == DENY:
                label = f"the default Deny of tier {tier}"
                found.append(Step(tier, label, None, selected, everyone, False))
                ops.append(_Op(TIER_END, selected, everyone, deny=True, step=len(found) - 1))
            elif passes:
                ops.append(_Op(TIER_END, selected, everyone))
        return ops, found

    def _groups(self, sets: list[int]) -> tuple[Index, Index]:
        """The group of each class (classes in one group lie in the same of ``sets``),
        and the first class of each group."""
        group = np.zeros(len(self.classes), dtype=np.intp)
        for bits in dict.fromkeys(sets):
            member = np.zeros(len(self.classes), dtype=np.intp)
            member[self._rows(bits)] = 1
            group = np.unique(group * 2 + member, return_inverse=True)[1].reshape(-1)
        return group, np.unique(group, return_index=True)[1]

    def _covers(self, bits: int, firsts: Index) -> npt.NDArray[np.bool_]:
        """Whether ``bits`` holds each group (by its first class)."""
        member = np.zeros(len(self.classes), dtype=bool)
        member[self._rows(bits)] = True
        return member[firsts]

    def _run(
        self,
        ops: list[_Op],
        in_rows: list[npt.NDArray[np.bool_]],
        in_cols: list[npt.NDArray[np.bool_]],
        row_group: Index,
        col_group: Index,
        np_id: Ids,
        took: npt.NDArray[np.bool_],
    ) -> Ids:
        """What is allowed for each cell (row group, column group, NetworkPolicy id),
        running every op in order; ``took`` is set for the steps that decided something."""
        table = self.table
        undecided = np.full(len(row_group), MaskTable.EVERYTHING, dtype=np.int32)
        allowed = np.zeros(len(row_group), dtype=np.int32)
        passed = np.zeros(len(row_group), dtype=np.int32)
        for op, rows, cols in zip(ops, in_rows, in_cols, strict=True):
            cells = np.flatnonzero(rows[row_group] & cols[col_group])
            if not len(cells):
                continue
            before = undecided[cells]
            if op.action == NETWORK_POLICIES:
                taken, rest = table.combine_many(before, np_id[cells], (INTERSECT, DIFFERENCE))
                undecided[cells] = rest
                allowed[cells] = table.combine(allowed[cells], taken, UNION)
            elif op.action == TIER_END:
                taken = before  # for a default Deny: what it denies
                if op.deny:
                    undecided[cells] = passed[cells]
                else:
                    undecided[cells] = table.combine(before, passed[cells], UNION)
                passed[cells] = MaskTable.NOTHING
            else:
                taken = table.apply(INTERSECT, before, op.mask_id)
                if op.action == ALLOW:
                    allowed[cells] = table.combine(allowed[cells], taken, UNION)
                elif op.action == PASS:
                    passed[cells] = table.combine(passed[cells], taken, UNION)
                if op.action != LOG:
                    undecided[cells] = table.apply(DIFFERENCE, before, op.mask_id)
            if op.step >= 0 and not took[op.step]:
                took[op.step] = bool(taken.any())
        return table.combine(allowed, undecided, UNION)

    def _rows(self, bits: int) -> Index | slice:
        """Row indexes of ``bits``; a plain slice when that is every row (no copy)."""
        if bits == self.sets.all_classes:
            return slice(None)
        return self.sets.indexes(bits)


def tiered_connection_sets(model: TieredModel, sets: ClassSets) -> list[ConnectionSet]:
    """Every set a tiered rule can cover, so the port atoms are cut by them."""
    found: list[ConnectionSet] = []
    # a named port resolves on the pod's containers only, which replicas share, and rules
    # with the same ports resolve alike: one pod per containers tuple, one rule per ports
    # (at 100k pods, 9,525 classes times every rule with a named port was 10^7 calls)
    first_of: dict[int | None, Pod | None] = {}
    for c in sets.partition.classes:
        if c.kind == POD:
            pod = c.representative.pod
            first_of.setdefault(id(pod.containers) if pod is not None else None, pod)
    pods = list(first_of.values())
    resolved: set[tuple[object, ...]] = set()
    for compiled in model.policies:
        for rule in compiled.ingress + compiled.egress:
            found.append(rule.numeric)
            if rule.has_named and rule.ports_signature not in resolved:
                resolved.add(rule.ports_signature)
                found.extend(rule.connections_to(pod) for pod in pods)
    return found


__all__ = ["DENY", "Step", "TieredMatrix", "tiered_connection_sets"]
