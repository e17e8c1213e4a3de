"""What NetworkPolicy allows between two endpoints, computed once per pair of classes.

Pods of one class (engine.classes) are alike to every policy: the class matrix rests on it. A
verb that checks many pod pairs (verify: every replica of a workload against every replica of
another) asks ``evaluate`` once per pair of classes instead of once per pod pair. The node
exceptions depend on where each pod runs, not on its class, so the node is in the key; any
other endpoint (a node, a hostNetwork pod, an IP) is evaluated as it is.
"""

from __future__ import annotations

from functools import cached_property

from netpol.engine.classes import Partition
from netpol.engine.compile import CompiledCluster
from netpol.engine.endpoints import POD, Endpoint
from netpol.engine.ports import ConnectionSet
from netpol.engine.verdict import evaluate


class AllowedByClass:
    """``evaluate(cc, src, dst).allowed``, remembered per (source class, destination class)."""

    def __init__(self, cc: CompiledCluster) -> None:
        self.cc = cc
        self._known: dict[tuple[int, int, bool], ConnectionSet] = {}

    @cached_property
    def _class_of_pod(self) -> dict[str, int]:
        return Partition(self.cc).class_of_pod

    def allowed(self, src: Endpoint, dst: Endpoint) -> ConnectionSet:
        key = self._key(src, dst)
        if key is None:
            return evaluate(self.cc, src, dst).allowed
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = evaluate(self.cc, src, dst).allowed
        return found

    def _key(self, src: Endpoint, dst: Endpoint) -> tuple[int, int, bool] | None:
        if src.kind != POD or dst.kind != POD or src.pod is None or dst.pod is None:
            return None
        if src.pod.id == dst.pod.id:
            return None  # a pod always reaches itself: not a property of its class
        a = self._class_of_pod.get(src.pod.id)
        b = self._class_of_pod.get(dst.pod.id)
        if a is None or b is None:
            return None
        return a, b, src.pod.node == dst.pod.node
