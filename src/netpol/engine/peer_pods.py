"""Whether a peer's selectors match any pod, answered once per distinct selector.

``CompiledPeer.matches_some_pod`` walks the namespaces and pods a peer admits, once per
peer. Explanations ask it of every peer that did not match (``render.explain``), and a
verify report explains thousands of pairs: at 100,000 pods a few thousand peers, most of
them with one of a handful of namespace selectors (the loader shares equal selectors),
each walk testing every namespace and then every pod of the admitted ones. Here the
namespaces a namespace selector admits are found once per selector, and a pod selector is
tried once per (namespace, selector) against each distinct labels mapping (replicas share
theirs) instead of each pod. The answer is the peer's own, by the same ``matches``.
"""

from __future__ import annotations

from collections.abc import Mapping
from weakref import WeakKeyDictionary

from netpol.engine.compile import CompiledCluster, CompiledPeer
from netpol.engine.selectors import matches
from netpol.model.selectors import LabelSelector


class _Reach:
    """One compiled cluster's answers, by selector."""

    def __init__(self, cc: CompiledCluster) -> None:
        self.cc = cc
        self._namespaces: dict[LabelSelector, tuple[str, ...]] = {}
        self._labels: dict[str, tuple[Mapping[str, str], ...]] | None = None
        self._some: dict[tuple[str, LabelSelector | None], bool] = {}

    def admitted(self, selector: LabelSelector) -> tuple[str, ...]:
        """The namespaces with policy pods that ``selector`` admits."""
        found = self._namespaces.get(selector)
        if found is None:
            labels_of = self.cc.namespace_labels
            found = tuple(
                n for n in self.cc.policy_pods_by_namespace if matches(selector, labels_of(n))
            )
            self._namespaces[selector] = found
        return found

    def _distinct_labels(self, namespace: str) -> tuple[Mapping[str, str], ...]:
        if self._labels is None:
            self._labels = {
                namespace: tuple({id(p.labels): p.labels for p in pods}.values())
                for namespace, pods in self.cc.policy_pods_by_namespace.items()
            }
        return self._labels.get(namespace, ())

    def some_pod(self, namespace: str, selector: LabelSelector | None) -> bool:
        """Whether a policy pod of ``namespace`` has labels ``selector`` matches (any
        policy pod when None)."""
        key = (namespace, selector)
        found = self._some.get(key)
        if found is None:
            labels = self._distinct_labels(namespace)
            found = bool(labels) if selector is None else any(matches(selector, m) for m in labels)
            self._some[key] = found
        return found


_REACH: WeakKeyDictionary[CompiledCluster, _Reach] = WeakKeyDictionary()


def matches_some_pod(peer: CompiledPeer) -> bool:
    """``peer.matches_some_pod``, from the answers its cluster keeps per selector."""
    if peer.peer.ip_block is not None:
        return False
    reach = _REACH.get(peer.compiled)
    if reach is None:
        reach = _REACH[peer.compiled] = _Reach(peer.compiled)
    selector = peer.peer.namespace_selector
    namespaces = (peer.policy_namespace,) if selector is None else reach.admitted(selector)
    return any(reach.some_pod(n, peer.peer.pod_selector) for n in namespaces)
