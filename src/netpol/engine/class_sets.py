"""Sets of endpoint classes as Python int bitsets: who a selector, a peer or a block covers.

The matrix builders ask these questions once per distinct selector, peer or block; the
answers are cached, and turned into numpy index arrays only when a block of a matrix is
written.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from netpol.engine.classes import Partition
from netpol.engine.compile import CompiledCluster, CompiledPeer, CompiledRule
from netpol.engine.endpoints import NODE, POD
from netpol.engine.selectors import matches
from netpol.model.objects import Pod
from netpol.model.policy import IPBlock
from netpol.model.selectors import LabelSelector, Requirement

Grouping = TypeVar("Grouping", bound=Hashable)  # what by_destination groups classes by
SPARSE = 16  # bits up to which a bitset's indexes are found bit by bit


class ClassSets:
    """Who each selector, peer, ipBlock and named port covers, as bitsets of class indexes."""

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
        # every pod class a selector selects, whatever the namespace (callers AND theirs)
        self._selector_cache: dict[LabelSelector, int] = {}
        self._ns_selector_cache: dict[LabelSelector, int] = {}
        self._peer_cache: dict[tuple[str, object], int] = {}
        self._index_cache: dict[int, npt.NDArray[np.intp]] = {}
        self._named_cache: dict[tuple[str, str], dict[int, int]] = {}
        self._block_cache: dict[IPBlock, int] = {}
        self._classes_in_atom: dict[int, int] = {}
        self._occupied_atoms = 0
        self._index_atoms()
        # pod classes by label: a selector is then a few ANDs and ORs of bitsets, not a
        # match per class (a 100k-pod cluster asks tens of thousands of selectors)
        self._with_label: dict[tuple[str, str], int] = {}
        self._with_key: dict[str, int] = {}
        for c in classes:
            if c.kind == POD and c.representative.pod is not None:
                bit = 1 << c.index
                for key, value in c.representative.pod.labels.items():
                    self._with_label[(key, value)] = self._with_label.get((key, value), 0) | bit
                    self._with_key[key] = self._with_key.get(key, 0) | bit

    # --- class sets as Python int bitsets -------------------------------------------
    def indexes(self, bits: int) -> npt.NDArray[np.intp]:
        found = self._index_cache.get(bits)
        if found is None:
            found = self._index_cache[bits] = self.bit_indexes(bits)
        return found

    def pods_matching(self, namespaces: int, selector: LabelSelector | None) -> int:
        """The pod classes among ``namespaces`` that ``selector`` selects (None: all of them)."""
        if selector is None:
            return namespaces
        return namespaces & self.selected(selector)

    def selected(self, selector: LabelSelector) -> int:
        """Every pod class ``selector`` selects, in any namespace (spec 2.1: requirements
        ANDed; NotIn and DoesNotExist hold where the key is absent)."""
        found = self._selector_cache.get(selector)
        if found is None:
            found = self.pod_classes
            for key, value in selector.match_labels:
                found &= self._with_label.get((key, value), 0)
            for req in selector.match_expressions:
                found &= self._requirement_bits(req)
            self._selector_cache[selector] = found
        return found

    def _requirement_bits(self, req: Requirement) -> int:
        if req.operator in ("In", "NotIn"):
            inside = 0
            for value in req.values:
                inside |= self._with_label.get((req.key, value), 0)
            return inside if req.operator == "In" else self.pod_classes & ~inside
        present = self._with_key.get(req.key, 0)
        if req.operator == "Exists":
            return present
        if req.operator == "DoesNotExist":
            return self.pod_classes & ~present
        raise ValueError(f"unknown selector operator {req.operator!r}")  # validated away: a bug

    @staticmethod
    def iter_bits(bits: int) -> Iterator[int]:
        while bits:
            low = bits & -bits
            yield low.bit_length() - 1
            bits ^= low

    @staticmethod
    def bit_indexes(bits: int) -> npt.NDArray[np.intp]:
        """The set bits of ``bits``, ascending: walked for a few (most blocks have one
        subject class), unpacked by numpy for many (each step of the walk copies the whole
        number: quadratic in a set of thousands)."""
        if bits.bit_count() <= SPARSE:
            return np.fromiter(ClassSets.iter_bits(bits), dtype=np.intp)
        raw = np.frombuffer(bits.to_bytes((bits.bit_length() + 7) // 8, "little"), np.uint8)
        return np.flatnonzero(np.unpackbits(raw, bitorder="little"))

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
        return self.pods_matching(self._ns_bits.get(namespace, 0), selector)

    def peer_bits(self, compiled_peer: CompiledPeer) -> int:
        peer = compiled_peer.peer
        key = (compiled_peer.policy_namespace, peer)
        found = self._peer_cache.get(key)
        if found is not None:
            return found
        if peer.ip_block is not None:
            found = self._block_bits(peer.ip_block)
        else:
            if peer.namespace_selector is None:
                namespaces = self._ns_bits.get(compiled_peer.policy_namespace, 0)
            else:
                namespaces = self.namespaces_matching(peer.namespace_selector)
            found = self.pods_matching(namespaces, peer.pod_selector)
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

    def by_destination(
        self, classes: int, mask_towards: Callable[[Pod | None], Grouping]
    ) -> dict[Grouping, int]:
        """mask -> the classes (among ``classes``) for which ``mask_towards`` gives it, each
        class asked as a destination: its pod, or None for a node or an external block."""
        by_mask: dict[Grouping, int] = {}
        for index in self.iter_bits(classes):
            c = self.partition.classes[index]
            mask = mask_towards(c.representative.pod if c.kind == POD else None)
            by_mask[mask] = by_mask.get(mask, 0) | (1 << index)
        return by_mask

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
