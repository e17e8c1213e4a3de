"""What NetworkPolicy allows between two endpoints, computed once per pair of classes.

Pods of one class (engine.classes) are alike to every policy: the class matrix rests on it. A
verb that checks many pod pairs (verify: every replica of a workload against every replica of
another) asks ``evaluate`` once per pair of classes instead of once per pod pair. The node
exceptions depend on where each pod runs, not on its class, so the node is in the key; any
other endpoint (a node, a hostNetwork pod, an IP) is evaluated as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from netpol.engine.classes import ClassKeys
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
        self._class_of_pod: dict[str, int | None] = {}
        self._class_ids: dict[tuple[object, ...], int] = {}
        # (key here, key under any DNS answer) -> what depends on DNS
        self._on_dns: dict[tuple[object, object], ConnectionSet] = {}

    @cached_property
    def _keys(self) -> ClassKeys:
        return ClassKeys(self.cc)

    def _class_of(self, pod_id: str) -> int | None:
        """The pod's class (numbered as first met), or None for a pod without one; worked
        out only for the pods asked about, not by partitioning the whole cluster."""
        if pod_id in self._class_of_pod:
            return self._class_of_pod[pod_id]
        pod = self.cc.cluster.pod_by_id.get(pod_id)
        key = self._keys.key(pod) if pod is not None else None
        found = None if key is None else self._class_ids.setdefault(key, len(self._class_ids))
        self._class_of_pod[pod_id] = found
        return found

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
        variant = self._under_any_dns
        if variant is None:
            return ConnectionSet.none()
        key = (self._key(src, dst), variant._key(src, dst))
        if key[0] is None or key[1] is None:
            return variant.allowed(src, dst) - self.allowed(src, dst)
        found = self._on_dns.get(key)
        if found is None:
            found = self._on_dns[key] = variant.allowed(src, dst) - self.allowed(src, dst)
        return found

    def alike(self, endpoint: Endpoint) -> tuple[object, ...] | None:
        """What decides the verdicts of ``endpoint`` as a source: its class and node (and its
        class under any DNS answer). Two sources alike have the same ``towards`` row to the
        same destinations. None for an endpoint that is not a pod of a class."""
        if endpoint.kind != POD or endpoint.pod is None:
            return None
        pod = endpoint.pod
        a = self._class_of(pod.id)
        variant = self._under_any_dns
        if a is None or variant is None:
            return None if a is None else (a, pod.node)
        b = variant._class_of(pod.id)
        return None if b is None else (a, pod.node, b)

    def towards(
        self, src: Endpoint, dsts: Sequence[Endpoint]
    ) -> list[tuple[ConnectionSet, ConnectionSet] | None]:
        """(``allowed``, ``depends_on_dns``) from ``src`` to each of ``dsts`` where the class
        pair decides it, so that it holds for every source ``alike`` ``src``; None for a
        destination decided per pair (``src`` itself, an endpoint that is not a pod of a
        class)."""
        own = src.pod.id if src.pod is not None else None
        row: list[tuple[ConnectionSet, ConnectionSet] | None] = []
        for dst in dsts:
            decided = dst.kind == POD and dst.pod is not None and dst.pod.id != own
            if decided and self._class_of(dst.pod.id) is not None:  # type: ignore[union-attr]
                row.append((self.allowed(src, dst), self.depends_on_dns(src, dst)))
            else:
                row.append(None)
        return row

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
        a = self._class_of(src.id)
        b = self._class_of(dst.id)
        if a is None or b is None:
            return None
        return a, b, src.node == dst.node
