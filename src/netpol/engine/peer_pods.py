"""Whether a peer's selectors match any pod, answered once per distinct selector.

Explanations ask it of every peer that did not match (``CompiledPeer.matches_some_pod``),
and a verify report explains thousands of pairs: at 100,000 pods a few thousand peers,
most of them with one of a handful of namespace selectors (the loader shares equal
selectors). Walking each peer's namespaces and pods cost ~2.6 ms a peer; here the
namespaces a namespace selector admits are found once per selector, and a pod selector is
tried once per (namespace, selector) against each distinct labels mapping (replicas share
theirs) instead of each pod.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from netpol.engine.selectors import matches
from netpol.model.objects import Pod
from netpol.model.selectors import LabelSelector


class PeerPods:
    """One compiled cluster's answers, by selector."""

    def __init__(
        self,
        namespace_labels: Callable[[str], Mapping[str, str]],
        pods_by_namespace: Mapping[str, Sequence[Pod]],
    ) -> None:
        self._namespace_labels = namespace_labels
        self._pods_by_namespace = pods_by_namespace
        self._namespaces: dict[LabelSelector, tuple[str, ...]] = {}
        self._labels: dict[str, tuple[Mapping[str, str], ...]] = {}
        self._some: dict[tuple[str, LabelSelector | None], bool] = {}

    def matches_some_pod(
        self,
        policy_namespace: str,
        namespace_selector: LabelSelector | None,
        pod_selector: LabelSelector | None,
    ) -> bool:
        """Whether a pod peer (no ipBlock) of a policy in ``policy_namespace`` matches any
        policy pod."""
        if namespace_selector is None:
            namespaces: tuple[str, ...] = (policy_namespace,)
        else:
            namespaces = self._admitted(namespace_selector)
        return any(self._some_pod(n, pod_selector) for n in namespaces)

    def _admitted(self, selector: LabelSelector) -> tuple[str, ...]:
        """The namespaces with policy pods that ``selector`` admits."""
        found = self._namespaces.get(selector)
        if found is None:
            labels_of = self._namespace_labels
            found = tuple(n for n in self._pods_by_namespace if matches(selector, labels_of(n)))
            self._namespaces[selector] = found
        return found

    def _some_pod(self, namespace: str, selector: LabelSelector | None) -> bool:
        """Whether a policy pod of ``namespace`` has labels ``selector`` matches (any
        policy pod when None)."""
        key = (namespace, selector)
        found = self._some.get(key)
        if found is None:
            labels = self._distinct_labels(namespace)
            found = bool(labels) if selector is None else any(matches(selector, m) for m in labels)
            self._some[key] = found
        return found

    def _distinct_labels(self, namespace: str) -> tuple[Mapping[str, str], ...]:
        found = self._labels.get(namespace)
        if found is None:
            pods = self._pods_by_namespace.get(namespace, ())
            found = self._labels[namespace] = tuple({id(p.labels): p.labels for p in pods}.values())
        return found
