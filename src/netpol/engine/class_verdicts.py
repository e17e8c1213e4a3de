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
from netpol.engine.verdict import allowed
from netpol.model.objects import Pod


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
            return allowed(self.cc, src, dst)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = allowed(self.cc, src, dst)
        return found

    @cached_property
    def _under_any_dns(self) -> AllowedByClass | None:
        variant = self.cc.dns_variant
        return AllowedByClass(variant) if variant is not None else None

    def depends_on_dns(self, src: Endpoint, dst: Endpoint) -> ConnectionSet:
        """What unresolved toFQDNs rules could still allow from ``src`` to ``dst``: the
        verdict on these connections depends on what DNS answers (engine.cilium)."""
        if self._under_any_dns is None:
            return ConnectionSet.none()
        return self._under_any_dns.allowed(src, dst) - self.allowed(src, dst)

    def between_pods(self, src: Pod, dst: Pod) -> ConnectionSet:
        """``allowed`` for two pods, their endpoints made only when their classes are new
        (describe asks it of one pod against every other)."""
        key = self._pod_key(src, dst) if self.cc.is_policy_pod(src) else None
        if key is not None and self.cc.is_policy_pod(dst):
            found = self._known.get(key)
            if found is not None:
                return found
        return self.allowed(self.cc.endpoint(src), self.cc.endpoint(dst))

    def _key(self, src: Endpoint, dst: Endpoint) -> tuple[int, int, bool] | None:
        if src.kind != POD or dst.kind != POD or src.pod is None or dst.pod is None:
            return None
        return self._pod_key(src.pod, dst.pod)

    def _pod_key(self, src: Pod, dst: Pod) -> tuple[int, int, bool] | None:
        if src.id == dst.id:
            return None  # a pod always reaches itself: not a property of its class
        a = self._class_of_pod.get(src.id)
        b = self._class_of_pod.get(dst.id)
        if a is None or b is None:
            return None
        return a, b, src.node == dst.node
