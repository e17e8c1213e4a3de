"""The connectivity matrix, computed per endpoint class.

The (protocol, port) space is cut into atoms by every connection set in play; atoms that
every rule treats alike merge into one group, and a set of connections becomes a bitmask
over the groups (a Python int of any width). Distinct masks are few, so the matrices
hold small integer ids into a ``MaskTable``: egress[src, dst] and ingress[src, dst] are
filled rule by rule with numpy, then allowed = egress AND ingress per pair, computed once
per distinct (egress id, ingress id) combination instead of once per pair.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from netpol.engine.classes import EndpointClass, Partition
from netpol.engine.compile import CompiledCluster, CompiledPeer, CompiledRule
from netpol.engine.endpoints import EXTERNAL, NODE, POD
from netpol.engine.ports import PROTOCOLS, ConnectionSet
from netpol.engine.selectors import matches
from netpol.model.options import Profile
from netpol.model.policy import IPBlock
from netpol.model.selectors import LabelSelector


class PortAtoms:
    """Port atoms grouped by identical coverage; each group is one bit of a mask."""

    def __init__(self, sets: Iterable[ConnectionSet]) -> None:
        distinct = list(dict.fromkeys(sets))
        self._cuts = {p: sorted({1, 65536} | self._bounds(distinct, p)) for p in PROTOCOLS}
        atoms: list[tuple[str, int, int]] = [
            (p, cuts[i], cuts[i + 1] - 1)
            for p in PROTOCOLS
            for cuts in (self._cuts[p],)
            for i in range(len(cuts) - 1)
        ]
        self._atom_index = {(p, lo): i for i, (p, lo, _) in enumerate(atoms)}
        coverage: list[list[int]] = [[] for _ in atoms]
        for set_id, conns in enumerate(distinct):
            for atom_id in self._atoms_of(conns):
                coverage[atom_id].append(set_id)
        group_of_signature: dict[tuple[int, ...], int] = {}
        self._group_of_atom: list[int] = []
        members: list[list[tuple[str, int, int]]] = []
        for atom, signature in zip(atoms, coverage, strict=True):
            group = group_of_signature.setdefault(tuple(signature), len(group_of_signature))
            if group == len(members):
                members.append([])
            members[group].append(atom)
            self._group_of_atom.append(group)
        self.groups = len(members)
        self.group_sets = [ConnectionSet.from_intervals(_by_protocol(m)) for m in members]
        self._mask_cache: dict[ConnectionSet, int] = {}
        self._port_cache: dict[tuple[str, int], int] = {}
        self._set_cache: dict[int, ConnectionSet] = {}

    @staticmethod
    def _bounds(sets: list[ConnectionSet], protocol: str) -> set[int]:
        cuts: set[int] = set()
        for conns in sets:
            for lo, hi in conns.intervals(protocol):
                cuts.add(lo)
                cuts.add(hi + 1)
        return cuts

    def _atoms_of(self, conns: ConnectionSet) -> Iterator[int]:
        for protocol, lo, hi in conns:
            cuts = self._cuts[protocol]
            first = self._atom_index[(protocol, lo)]
            count = bisect.bisect_left(cuts, hi + 1) - bisect.bisect_left(cuts, lo)
            yield from range(first, first + count)

    def mask(self, conns: ConnectionSet) -> int:
        """Group bitmask of a connection set that was among those the atoms were cut by."""
        found = self._mask_cache.get(conns)
        if found is None:
            found = 0
            for atom in self._atoms_of(conns):
                found |= 1 << self._group_of_atom[atom]
            self._mask_cache[conns] = found
        return found

    def port_mask(self, protocol: str, port: int) -> int:
        """Group bitmask of one (protocol, port), as resolved named ports need."""
        key = (protocol, port)
        found = self._port_cache.get(key)
        if found is None:
            found = self._port_cache[key] = self.mask(ConnectionSet.of(protocol, port))
        return found

    def connections(self, mask: int) -> ConnectionSet:
        found = self._set_cache.get(mask)
        if found is None:
            found = ConnectionSet.union_of(
                self.group_sets[g] for g in range(self.groups) if mask >> g & 1
            )
            self._set_cache[mask] = found
        return found

    @property
    def full(self) -> int:
        return (1 << self.groups) - 1


def _by_protocol(atoms: list[tuple[str, int, int]]) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for protocol, lo, hi in atoms:
        out.setdefault(protocol, []).append((lo, hi))
    return out


Ids = npt.NDArray[np.int32]


class MaskTable:
    """Distinct group masks by id: 0 is nothing, 1 is everything; unions/intersections cached."""

    NOTHING, EVERYTHING = 0, 1

    def __init__(self, full: int) -> None:
        self.masks: list[int] = [0, full]
        self._ids: dict[int, int] = {0: 0, full: 1}
        self._or: dict[tuple[int, int], int] = {}
        self._and: dict[tuple[int, int], int] = {}

    def id(self, mask: int) -> int:
        found = self._ids.get(mask)
        if found is None:
            found = self._ids[mask] = len(self.masks)
            self.masks.append(mask)
        return found

    def union(self, a: int, b: int) -> int:
        key = (a, b) if a <= b else (b, a)
        found = self._or.get(key)
        if found is None:
            found = self._or[key] = self.id(self.masks[a] | self.masks[b])
        return found

    def intersect(self, a: int, b: int) -> int:
        key = (a, b) if a <= b else (b, a)
        found = self._and.get(key)
        if found is None:
            found = self._and[key] = self.id(self.masks[a] & self.masks[b])
        return found

    def union_with(self, ids: Ids, mask_id: int) -> Ids:
        """Elementwise ``ids | mask``, one table lookup per distinct id."""
        low, high = int(ids.min()), int(ids.max())
        if low == high:  # one value (often all zero): no sort needed
            return np.full(ids.shape, self.union(low, mask_id), dtype=np.int32)
        # ids are small dense integers: a lookup table beats sorting for np.unique
        present = np.flatnonzero(np.bincount(ids.ravel(), minlength=high + 1))
        lookup = np.zeros(high + 1, dtype=np.int32)
        lookup[present] = [self.union(int(i), mask_id) for i in present]
        return lookup[ids]

    def combine(self, a: Ids, b: Ids, intersect: bool) -> Ids:
        """Elementwise union (or intersection) of two id arrays of one shape."""
        if a.size == 0:
            return a.copy()
        width = np.int64(len(self.masks))
        codes = a.astype(np.int64) * width + b
        distinct, inverse = np.unique(codes, return_inverse=True)
        operation = self.intersect if intersect else self.union
        mapped = np.array(
            [operation(int(c // width), int(c % width)) for c in distinct], dtype=np.int32
        )
        return mapped[inverse].reshape(a.shape)


@dataclass(eq=False)
class ClassMatrix:
    """Allowed connections between every ordered pair of endpoint classes."""

    partition: Partition
    atoms: PortAtoms
    table: MaskTable
    ids: Ids  # (K, K): id in ``table`` of the groups allowed src -> dst, before node exceptions
    profile: Profile

    @cached_property
    def has_node_classes(self) -> bool:
        return any(c.kind == NODE for c in self.partition.classes)

    def overridden(self, src: int, src_node: str, dst: int, dst_node: str) -> bool:
        """The node exceptions of spec 2.6, which depend on where each pod runs, not its class:
        a node (or hostNetwork pod) reaches every pod on it; a pod reaches its own node when
        the profile says so."""
        if not src_node or src_node != dst_node:
            return False
        src_kind, dst_kind = self.partition.classes[src].kind, self.partition.classes[dst].kind
        if src_kind == NODE and dst_kind == POD:
            return True
        return src_kind == POD and dst_kind == NODE and self.profile.pod_to_own_node

    @property
    def classes(self) -> list[EndpointClass]:
        return self.partition.classes

    def mask(self, src: int, dst: int) -> int:
        return self.table.masks[int(self.ids[src, dst])]

    def connections(self, src: int, dst: int) -> ConnectionSet:
        return self.atoms.connections(self.mask(src, dst))

    def allowed_pairs(self) -> Iterator[tuple[int, int, ConnectionSet]]:
        """Class pairs (row-major) that allow something, with what they allow."""
        src, dst = np.nonzero(self.ids)
        for s, d, i in zip(src.tolist(), dst.tolist(), self.ids[src, dst].tolist(), strict=True):
            yield s, d, self.atoms.connections(self.table.masks[i])

    def pod_connections(self, src_pod_id: str, dst_pod_id: str) -> ConnectionSet:
        """Between two pods (a pod always reaches itself)."""
        if src_pod_id == dst_pod_id:
            return ConnectionSet.all()
        of = self.partition.class_of_pod
        pods = self.partition.cc.cluster.pod_by_id
        src, dst = of[src_pod_id], of[dst_pod_id]
        if self.overridden(src, pods[src_pod_id].node, dst, pods[dst_pod_id].node):
            return ConnectionSet.all()
        return self.connections(src, dst)


class _Builder:
    """Fills the egress and ingress mask matrices from the compiled rules."""

    def __init__(self, cc: CompiledCluster, partition: Partition) -> None:
        self.cc = cc
        self.partition = partition
        classes = partition.classes
        self.k = len(classes)
        self.pod_classes = _bits(c.index for c in classes if c.kind == POD)
        self.all_classes = (1 << self.k) - 1
        self._ns_bits: dict[str, int] = {}
        for c in classes:
            if c.kind == POD:
                self._ns_bits[c.namespace] = self._ns_bits.get(c.namespace, 0) | (1 << c.index)
        # keyed by the namespace part (a namespace name or a namespace selector) and the
        # pod selector: both hashable, so no text form has to be injective
        self._selector_cache: dict[tuple[object, LabelSelector], int] = {}
        self._ns_selector_cache: dict[LabelSelector, int] = {}
        self._peer_cache: dict[tuple[str, object], int] = {}
        self._index_cache: dict[int, npt.NDArray[np.intp]] = {}
        self._named_cache: dict[tuple[str, str], dict[int, int]] = {}
        self._block_cache: dict[IPBlock, int] = {}
        self._classes_in_atom: dict[int, int] = {}
        self._occupied_atoms = 0
        self._index_atoms()

    # --- class sets as Python int bitsets -------------------------------------------
    def indexes(self, bits: int) -> npt.NDArray[np.intp]:
        found = self._index_cache.get(bits)
        if found is None:
            raw = np.frombuffer(bits.to_bytes((self.k + 7) // 8 or 1, "little"), dtype=np.uint8)
            found = np.flatnonzero(np.unpackbits(raw, bitorder="little")[: self.k])
            self._index_cache[bits] = found
        return found

    def pods_matching(self, namespaces: int, selector: LabelSelector | None, ns_key: object) -> int:
        if selector is None:
            return namespaces
        key = (ns_key, selector)
        found = self._selector_cache.get(key)
        if found is None:
            found = 0
            for i in self._iter_bits(namespaces):
                if matches(selector, self.partition.classes[i].representative.pod.labels):  # type: ignore[union-attr]
                    found |= 1 << i
            self._selector_cache[key] = found
        return found

    @staticmethod
    def _iter_bits(bits: int) -> Iterator[int]:
        while bits:
            low = bits & -bits
            yield low.bit_length() - 1
            bits ^= low

    def namespaces_matching(self, selector: LabelSelector) -> int:
        found = self._ns_selector_cache.get(selector)
        if found is None:
            found = 0
            for name, bits in self._ns_bits.items():
                if matches(selector, self.cc.namespace_labels(name)):
                    found |= bits
            self._ns_selector_cache[selector] = found
        return found

    def subjects(self, namespace: str, selector: LabelSelector) -> int:
        return self.pods_matching(self._ns_bits.get(namespace, 0), selector, namespace)

    def peer_bits(self, compiled_peer: CompiledPeer) -> int:
        peer = compiled_peer.peer
        key = (compiled_peer.policy_namespace, peer)
        found = self._peer_cache.get(key)
        if found is not None:
            return found
        if peer.ip_block is not None:
            found = self._block_bits(peer.ip_block)
        else:
            ns_key: object
            if peer.namespace_selector is None:
                namespaces = self._ns_bits.get(compiled_peer.policy_namespace, 0)
                ns_key = compiled_peer.policy_namespace
            else:
                namespaces = self.namespaces_matching(peer.namespace_selector)
                ns_key = peer.namespace_selector
            found = self.pods_matching(namespaces, peer.pod_selector, ns_key)
        self._peer_cache[key] = found
        return found

    def _block_bits(self, block: IPBlock) -> int:
        """Classes whose addresses the block covers (pods and nodes only where the profile says)."""
        found = self._block_cache.get(block)
        if found is None:
            mask = self.partition.ip_atoms.block_mask(block) & self._occupied_atoms
            found = 0
            while mask:
                low = mask & -mask
                found |= self._classes_in_atom[low.bit_length() - 1]
                mask ^= low
            self._block_cache[block] = found
        return found

    def _index_atoms(self) -> None:
        profile = self.cc.profile
        for c in self.partition.classes:
            if c.kind == POD and not profile.ipblock_matches_pod_ips:
                continue
            if c.kind == NODE and not profile.ipblock_matches_node_ips:
                continue
            for atom in c.atoms:
                self._classes_in_atom[atom] = self._classes_in_atom.get(atom, 0) | (1 << c.index)
                self._occupied_atoms |= 1 << atom

    def rule_peers(self, rule: CompiledRule) -> int:
        if rule.any_peer:
            return self.all_classes
        bits = 0
        for compiled_peer in rule.peers:
            bits |= self.peer_bits(compiled_peer)
        return bits

    def named_port_classes(self, name: str, protocol: str) -> dict[int, int]:
        """port -> bitset of pod classes that declare ``name``/``protocol`` on it."""
        key = (name, protocol)
        found = self._named_cache.get(key)
        if found is None:
            found = {}
            for c in self.partition.classes:
                if c.kind != POD or c.representative.pod is None:
                    continue
                for port in c.representative.pod.named_port(name, protocol):
                    found[port] = found.get(port, 0) | (1 << c.index)
            self._named_cache[key] = found
        return found


def _bits(indexes: Iterable[int]) -> int:
    value = 0
    for i in indexes:
        value |= 1 << i
    return value


def _connection_sets(cc: CompiledCluster, builder: _Builder) -> list[ConnectionSet]:
    sets = [ConnectionSet.all()]
    for compiled in cc.policies:
        for direction in ("Ingress", "Egress"):
            for rule in compiled.rules(direction):
                sets.append(rule.numeric)
                for name, protocol in rule.named:
                    for port in builder.named_port_classes(name, protocol):
                        sets.append(ConnectionSet.of(protocol, port))
    return sets


def class_matrix(
    cc: CompiledCluster, include_external: bool = False, include_nodes: bool = False
) -> ClassMatrix:
    """Allowed connections between every pair of endpoint classes (spec 4.6, in bulk)."""
    partition = Partition(cc, include_external=include_external, include_nodes=include_nodes)
    builder = _Builder(cc, partition)
    atoms = PortAtoms(_connection_sets(cc, builder))
    table = MaskTable(atoms.full)
    k = len(partition)
    egress = np.zeros((k, k), dtype=np.int32)  # [src, dst]
    ingress = np.zeros((k, k), dtype=np.int32)  # [src, dst], filled per destination
    egress_isolated = 0
    ingress_isolated = 0
    for compiled in cc.policies:
        policy = compiled.policy
        subjects = builder.subjects(policy.namespace, policy.pod_selector)
        if not subjects:
            continue
        if policy.isolates_egress:
            egress_isolated |= subjects
            for rule in compiled.rules("Egress"):
                _add_egress(builder, atoms, table, egress, subjects, rule)
        if policy.isolates_ingress:
            ingress_isolated |= subjects
            for rule in compiled.rules("Ingress"):
                _add_ingress(builder, atoms, table, ingress, subjects, rule)
    egress[builder.indexes(builder.all_classes & ~egress_isolated), :] = MaskTable.EVERYTHING
    ingress[:, builder.indexes(builder.all_classes & ~ingress_isolated)] = MaskTable.EVERYTHING
    return ClassMatrix(partition, atoms, table, _both(table, egress, ingress), cc.profile)


def _both(table: MaskTable, egress: Ids, ingress: Ids) -> Ids:
    """egress AND ingress per pair; only pairs restricted on both sides need the table."""
    everything = MaskTable.EVERYTHING
    allowed = np.where(
        egress == everything, ingress, np.where(ingress == everything, egress, MaskTable.NOTHING)
    ).astype(np.int32)
    partial = np.nonzero((egress > everything) & (ingress > everything))
    if len(partial[0]):
        allowed[partial] = table.combine(egress[partial], ingress[partial], intersect=True)
    return allowed


def _or_into(
    table: MaskTable, ids: Ids, rows: npt.NDArray[np.intp], cols: npt.NDArray[np.intp], mask: int
) -> None:
    if not len(rows) or not len(cols) or not mask:
        return
    block = np.ix_(rows, cols)
    ids[block] = table.union_with(ids[block], table.id(mask))


def _add_egress(
    builder: _Builder,
    atoms: PortAtoms,
    table: MaskTable,
    egress: Ids,
    subjects: int,
    rule: CompiledRule,
) -> None:
    peers = builder.rule_peers(rule)
    if not peers:
        return
    subject_idx = builder.indexes(subjects)
    _or_into(table, egress, subject_idx, builder.indexes(peers), atoms.mask(rule.numeric))
    for name, protocol in rule.named:  # resolved on each destination pod
        for port, classes in builder.named_port_classes(name, protocol).items():
            targets = peers & classes
            if targets:
                mask = atoms.port_mask(protocol, port)
                _or_into(table, egress, subject_idx, builder.indexes(targets), mask)


def _add_ingress(
    builder: _Builder,
    atoms: PortAtoms,
    table: MaskTable,
    ingress: Ids,
    subjects: int,
    rule: CompiledRule,
) -> None:
    peers = builder.rule_peers(rule)
    if not peers:
        return
    by_mask: dict[int, int] = {}
    numeric = atoms.mask(rule.numeric)
    if rule.named:  # resolved on the destination, i.e. each subject class
        for subject in builder._iter_bits(subjects):
            pod = builder.partition.classes[subject].representative.pod
            mask = atoms.mask(rule.connections_to(pod)) if pod is not None else numeric
            by_mask[mask] = by_mask.get(mask, 0) | (1 << subject)
    else:
        by_mask[numeric] = subjects
    peer_idx = builder.indexes(peers)
    for mask, destinations in by_mask.items():
        _or_into(table, ingress, peer_idx, builder.indexes(destinations), mask)


__all__ = ["EXTERNAL", "ClassMatrix", "MaskTable", "PortAtoms", "class_matrix"]
