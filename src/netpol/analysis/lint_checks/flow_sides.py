"""The other side of a flow, for one-sided-flow and the peer hints: which classes'
isolated ingress (or egress) allows part of what a rule wants with a given class.

The question is asked from the rule's side: for one of its subject classes ("mine") and
one wanted set, the classes ("theirs") that open to it come as bits, so a rule whose
peers cover thousands of classes costs a few bit operations per subject class. Without
admin tiers the bits come from the rules (indexed by the classes their peers match);
where the answer depends on both classes (admin tiers decide on top of the rules; named
ports of an egress rule resolve on each peer) from the side matrices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netpol.analysis.lint import LintContext
from netpol.analysis.lint_checks.common import (
    bit_list,
    by_wanted,
    pod_partition,
    pod_sets,
    policies_applying,
    subject_classes,
)
from netpol.engine.endpoints import POD
from netpol.engine.ports import ConnectionSet

if TYPE_CHECKING:  # numpy is imported only when a check needs the side matrices
    from collections.abc import Callable

    import numpy as np
    import numpy.typing as npt

    from netpol.engine.masks import Ids, MaskTable, PortAtoms

DIRECTIONS = ("Ingress", "Egress")
NARROW_PEERS = 64  # rules whose peers match at most this many classes are indexed by class


class FlowSides:
    """Per direction: the isolated classes, their isolating policies, and who opens to
    whom, from the rules or the side matrices."""

    def __init__(self, ctx: LintContext) -> None:
        self.ctx = ctx
        self.classes = pod_partition(ctx).classes
        self.sets = pod_sets(ctx)
        self.keys: dict[object, int] = {}
        self.policies: dict[str, dict[int, tuple[str, ...]]] = {}  # direction -> class -> ids
        self.isolated_bits: dict[str, int] = {}
        self.per_pair_bits: dict[str, int] = {}
        self.towards: dict[tuple[str, int, int], int] = {}
        self.rules_towards: dict[str, dict[int, list[tuple[int, ConnectionSet]]]] = {}
        self.broad_rules: dict[str, list[tuple[int, int, ConnectionSet]]] = {}
        self.meets: dict[tuple[int, int], bool] = {}
        self.ordered: dict[tuple[str, int], list[str]] = {}
        for direction in DIRECTIONS:
            self._sides(direction)

    def key(self, wanted: ConnectionSet) -> int:
        """A small number per distinct connection set (its parts hashed once)."""
        return self.keys.setdefault(wanted.parts, len(self.keys))

    def isolated(self, direction: str) -> int:
        """The pod classes whose ``direction`` side is isolated, as bits."""
        return self.isolated_bits[direction]

    def isolating(self, direction: str, theirs: int) -> tuple[str, ...] | None:
        """The policies isolating ``theirs``'s ``direction`` side; None: not isolated."""
        return self.policies[direction].get(theirs)

    def policies_of(self, direction: str, theirs: int) -> list[str]:
        """The policies isolating these classes, in the order of the classes (each once);
        kept per set of classes: many rules name the same peers."""
        key = (direction, theirs)
        found = self.ordered.get(key)
        if found is None:
            ids: dict[str, None] = {}
            policies = self.policies[direction]
            for index in bit_list(theirs):
                for policy_id in policies[index]:
                    ids.setdefault(policy_id, None)
            found = self.ordered[key] = list(ids)
        return found

    def closed(
        self, direction: str, theirs: int, mine: int, wanted: ConnectionSet
    ) -> tuple[str, ...] | None:
        """The policies isolating ``theirs`` when they deny all of ``wanted`` with
        ``mine``, else None."""
        ids = self.isolating(direction, theirs)
        if ids is None:
            return None
        opened = self.open_towards(direction, mine, wanted, self.key(wanted))
        return None if opened >> theirs & 1 else ids

    def open_towards(
        self, direction: str, mine: int, wanted: ConnectionSet, wanted_key: int
    ) -> int:
        """The classes whose isolated ``direction`` side allows part of ``wanted`` (numbered
        ``wanted_key`` by ``key``) with ``mine``, as bits."""
        key = (direction, mine, wanted_key)
        found = self.towards.get(key)
        if found is None:
            found = 0
            for subjects, conns in self._rules_towards(direction).get(mine, ()):
                if self._meets(conns, wanted, wanted_key):
                    found |= subjects
            for peers, subjects, conns in self.broad_rules[direction]:
                if peers >> mine & 1 and self._meets(conns, wanted, wanted_key):
                    found |= subjects
            per_pair = self.per_pair_bits[direction]
            if per_pair:
                matrices = side_matrices(self.ctx)
                opened = matrices.open_towards(direction, mine, wanted, wanted_key)
                found = (found & ~per_pair) | (opened & per_pair)
            found &= self.isolated_bits[direction]
            self.towards[key] = found
        return found

    def _meets(self, conns: ConnectionSet, wanted: ConnectionSet, wanted_key: int) -> bool:
        pair = (id(conns), wanted_key)  # the index keeps ``conns`` alive
        hit = self.meets.get(pair)
        if hit is None:
            hit = self.meets[pair] = not (conns & wanted).is_empty
        return hit

    def _sides(self, direction: str) -> None:
        """Each pod class's isolating policies, and whether its side depends on both
        classes of a pair (admin tiers decide on top; named ports of an egress rule resolve
        on the peer)."""
        policies: dict[int, tuple[str, ...]] = {}
        isolated = per_pair = 0
        tiered = self.ctx.cc.tiered is not None
        for c in self.classes:
            if c.kind != POD:
                continue
            applying = policies_applying(self.ctx, c.pods[0], direction)
            if not applying:
                continue
            policies[c.index] = tuple(p.policy.id for p in applying)
            isolated |= 1 << c.index
            if tiered or (
                direction == "Egress" and any(r.named for p in applying for r in p.rules(direction))
            ):
                per_pair |= 1 << c.index
        self.policies[direction] = policies
        self.isolated_bits[direction] = isolated
        self.per_pair_bits[direction] = per_pair

    def _rules_towards(self, direction: str) -> dict[int, list[tuple[int, ConnectionSet]]]:
        """peer class -> (the subject classes, the connections) of the ``direction`` rules
        that match it; rules with the same peers and connections merged."""
        cached = self.rules_towards.get(direction)
        if cached is not None:
            return cached
        subjects_of: dict[tuple[int, object], int] = {}  # (peers, connections) -> subjects
        conns_of: dict[object, ConnectionSet] = {}
        for compiled in self.ctx.cc.policies:
            rules = compiled.rules(direction)
            subjects = subject_classes(self.ctx, compiled) if rules else 0
            if not subjects:
                continue
            for rule in rules:
                if direction == "Egress" and rule.named:
                    continue  # its subjects read the side matrices
                peers = self.sets.rule_peers(rule) & self.sets.pod_classes
                if not peers:
                    continue
                if rule.named:  # an ingress rule's named ports resolve on each subject
                    groups = by_wanted(self.ctx, rule, subjects)
                else:
                    groups = [] if rule.numeric.is_empty else [(rule.numeric, subjects)]
                for conns, bits in groups:
                    conns_of.setdefault(conns.parts, conns)
                    key = (peers, conns.parts)
                    subjects_of[key] = subjects_of.get(key, 0) | bits
        # narrow peers are listed under each class they match; broad ones (a namespace of
        # pods, every pod of a label, an ipBlock over the pod network) would list most
        # rules under most classes, so they are kept aside and tested bit by bit
        found: dict[int, list[tuple[int, ConnectionSet]]] = {}
        broad: list[tuple[int, int, ConnectionSet]] = []
        for (peers, parts), bits in subjects_of.items():
            conns = conns_of[parts]
            if peers.bit_count() > NARROW_PEERS:
                broad.append((peers, bits, conns))
                continue
            for index in bit_list(peers):
                found.setdefault(index, []).append((bits, conns))
        self.rules_towards[direction] = found
        self.broad_rules[direction] = broad
        return found


@dataclass(eq=False)
class SideMatrices:
    """What each pod class's ingress and egress allow towards every other class, admin
    tiers and named ports (resolved on the destination) included: the two halves of the
    class matrix before they are combined, read only on the rows policies isolate.

    Every question fixes the peer ("mine") and asks about all the subjects ("theirs"), so
    each half is kept [peer, subject], one contiguous row per question (the engine writes
    them [subject, peer]: a column would stride across the whole array), and in 16 bits
    when the ids fit (half the memory of the engine's arrays)."""

    atoms: PortAtoms
    table: MaskTable
    by_peer: dict[str, Ids]  # direction -> [peer, subject] ids
    answers: dict[int, npt.NDArray[np.int8]] = field(default_factory=dict)

    def open_towards(
        self, direction: str, mine: int, wanted: ConnectionSet, wanted_key: int
    ) -> int:
        """The classes whose ``direction`` side allows part of ``wanted`` (a set
        ``wanted_key`` numbers) with ``mine``, as bits; each distinct cell asked once per set."""
        import numpy as np

        cells = self.by_peer[direction][mine]
        allows = self.answers.get(wanted_key)
        if allows is None:  # per id: 1 allows part of wanted, 0 not, -1 not asked yet
            allows = self.answers[wanted_key] = np.full(len(self.table.masks), -1, np.int8)
        present = np.flatnonzero(np.bincount(cells, minlength=len(allows)))
        for cell in present[allows[present] < 0].tolist():
            allowed = self.atoms.connections(self.table.masks[cell])
            allows[cell] = not (allowed & wanted).is_empty
        hit = allows[cells] > 0
        return int.from_bytes(np.packbits(hit, bitorder="little").tobytes(), "little")


def _by_peer(peer_band: Callable[[int, int], Ids], k: int, width: int) -> Ids:
    """A [peer, subject] array from ``peer_band(start, stop)``, which gives those peers'
    rows (columns of a [subject, peer] matrix), in 16 bits when ``width`` ids fit, a band
    at a time (each band's reads stay within its rows)."""
    import numpy as np

    out = np.empty((k, k), dtype=np.int16 if width <= 2**15 else np.int32)
    band = max(1, (1 << 22) // max(1, k))
    for start in range(0, k, band):
        out[start : start + band] = peer_band(start, min(k, start + band))
    return out


def _columns_of(subject_peer: Ids) -> Callable[[int, int], Ids]:
    return lambda start, stop: subject_peer[:, start:stop].T


def side_matrices(ctx: LintContext) -> SideMatrices:
    """The per-direction class matrices over ``pod_partition`` (computed once, on demand:
    only sides whose answer depends on both classes ask)."""
    found = ctx.cache.get("side_matrices")
    if found is None:
        from netpol.engine.matrix import network_policy_sides  # numpy, only when needed
        from netpol.engine.tiered_matrix import TieredMatrix

        sides = network_policy_sides(ctx.cc, partition=pod_partition(ctx))
        # both are [subject, peer]: egress [src, dst], ingress [dst, src]
        halves = {"Egress": sides.egress, "Ingress": sides.ingress}
        isolated = {"Egress": sides.egress_isolated, "Ingress": sides.ingress_isolated}
        tiered = None
        if ctx.cc.tiered is not None:  # each result is written over its NetworkPolicy half
            tiered = TieredMatrix(sides.sets, ctx.cc.tiered, sides.atoms, sides.table)
        by_peer = {}
        width, k = len(sides.table.masks), len(sides.partition)
        for direction in DIRECTIONS:
            rows = halves.pop(direction)
            if tiered is None:  # straight from the distinct rows: no K x K int32 matrix
                by_peer[direction] = _by_peer(rows.transposed_band, k, width)
                continue
            half = tiered.direction(direction, rows.full(), isolated[direction], overwrite=True)
            by_peer[direction] = _by_peer(_columns_of(half), k, width)
            del half
        found = ctx.cache["side_matrices"] = SideMatrices(sides.atoms, sides.table, by_peer)
    return found  # type: ignore[return-value]


def flow_sides(ctx: LintContext) -> FlowSides:
    found = ctx.cache.get("flow_sides_index")
    if found is None:
        found = ctx.cache["flow_sides_index"] = FlowSides(ctx)
    return found  # type: ignore[return-value]
