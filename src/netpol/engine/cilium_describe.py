"""A CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy with the cluster in view: the pods
each rule selects, and what its CIDR group references resolve to.

A rule's ``endpointSelector`` is matched against a pod's Cilium identity as the engine
builds it (``engine.cilium.identity_labels``, docs/cilium.md "Pod identity labels"): the
pod's labels less those the agent's filter drops, its namespace, service account,
cluster and namespace labels; a selector key's ``k8s:`` or ``any:`` source is dropped,
and a ``reserved:`` key never matches a pod. A CNP selects only pods of its own
namespace (Cilium semantics §3.1); hostNetwork pods are never subjects (§1.3); a
``nodeSelector`` rule selects nodes, never a pod.
"""

from __future__ import annotations

from dataclasses import dataclass

from netpol.engine.cilium import NAMESPACE_KEY, identity_labels
from netpol.engine.names import ResolveError, did_you_mean
from netpol.engine.selectors import matches
from netpol.model.cilium import CCNP_KIND, CIDRGroup, CIDRRule, CiliumPolicy, CiliumRule
from netpol.model.cluster import Cluster
from netpol.model.selectors import LabelSelector, Requirement

# the label sources that match a pod's labels; ``reserved:`` (and the others) never do
POD_SOURCES = ("k8s:", "any:")


@dataclass(frozen=True, slots=True)
class CiliumRuleDescription:
    rule: CiliumRule
    selected: tuple[str, ...]  # ids of the pods the rule applies to

    @property
    def host_policy(self) -> bool:
        """A ``nodeSelector`` rule: a host firewall policy, out of netpol's pod model."""
        return self.rule.node_selector is not None


@dataclass(frozen=True, slots=True)
class CiliumPolicyDescription:
    policy: CiliumPolicy
    rules: tuple[CiliumRuleDescription, ...]
    groups: tuple[CIDRGroup, ...]  # the cluster's CIDR groups, for references

    @property
    def selected(self) -> tuple[str, ...]:
        """The pods any of its rules applies to, in the cluster's order."""
        return tuple(dict.fromkeys(p for r in self.rules for p in r.selected))

    def group_cidrs(self, rule: CIDRRule) -> tuple[str, ...] | None:
        """The prefixes a ``cidrGroupRef`` or ``cidrGroupSelector`` names; None for a
        plain CIDR. A missing group names none (it matches nothing, §4.3)."""
        if rule.group_ref is not None:
            found = [g for g in self.groups if g.name == rule.group_ref]
        elif rule.group_selector is not None:
            selector = rule.group_selector
            found = [g for g in self.groups if matches(selector, dict(g.labels))]
        else:
            return None
        return tuple(str(c) for g in found for c in g.cidrs)


def describe_cilium(cluster: Cluster, policy: CiliumPolicy) -> CiliumPolicyDescription:
    """Each rule with the pods it selects."""
    pods = [p for p in cluster.pods if not p.host_network]
    rules = []
    for rule in policy.rules:
        selected: tuple[str, ...] = ()
        if rule.node_selector is None and rule.endpoint_selector is not None:
            subject = _pod_selector(rule.endpoint_selector, policy.namespace is not None)
            selected = tuple(
                p.id
                for p in pods
                if (policy.namespace is None or p.namespace == policy.namespace)
                and subject is not None
                and matches(subject, identity_labels(p, cluster.namespace_labels(p.namespace)))
            )
        rules.append(CiliumRuleDescription(rule, selected))
    return CiliumPolicyDescription(policy, tuple(rules), cluster.cidr_groups)


def _pod_selector(selector: LabelSelector, namespaced: bool) -> LabelSelector | None:
    """``selector`` with the pod sources dropped from its keys; None when it requires a
    label of another source (``reserved:host``), which no pod has. In a CNP the agent
    overwrites a ``k8s:io.kubernetes.pod.namespace`` label with the policy's (§3.1)."""
    labels = []
    for key, value in selector.match_labels:
        if namespaced and key == f"k8s:{NAMESPACE_KEY}":
            continue
        plain = _pod_key(key)
        if plain is None:
            return None
        labels.append((plain, value))
    requirements = []
    for requirement in selector.match_expressions:
        plain = _pod_key(requirement.key)
        if plain is None:
            if requirement.operator in ("NotIn", "DoesNotExist"):
                continue  # true of every pod: none has that label
            return None
        requirements.append(Requirement(plain, requirement.operator, requirement.values))
    return LabelSelector(tuple(labels), tuple(requirements))


def _pod_key(key: str) -> str | None:
    if key.startswith("$"):  # $host: reserved:host
        return None
    source, colon, rest = key.partition(":")
    if not colon or not source.isalnum():
        return key  # no source prefix: the "any" source
    return rest if f"{source}:" in POD_SOURCES else None


def find_cilium(cluster: Cluster, kind: str, namespace: str | None, name: str) -> CiliumPolicy:
    """The CNP NAMESPACE/NAME or the CCNP NAME; ResolveError (with near names) otherwise."""
    if kind == CCNP_KIND:
        namespace = None
    found = [p for p in cluster.cilium_policies if p.kind == kind and p.namespace == namespace]
    match = next((p for p in found if p.name == name), None)
    if match is None:
        where = f" in namespace {namespace}" if namespace is not None else ""
        known = ", ".join(p.name for p in found[:10]) or "none"
        hint = did_you_mean(name, [p.name for p in found])
        elsewhere = [
            p.namespace for p in cluster.cilium_policies if p.kind == kind and p.name == name
        ]
        if elsewhere:  # the usual slip: the namespace left out
            hint = f" (there is one in namespace {', '.join(map(str, elsewhere))})"
        raise ResolveError(f"no {kind} {name!r}{where}" + (hint or f" (existing: {known})"))
    return match
