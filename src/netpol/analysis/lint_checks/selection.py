"""Selectors that select nothing, namespace labels nobody set, `namespaceSelector: {}`."""

from __future__ import annotations

from collections.abc import Iterator

from netpol.analysis.lint import Finding, LintContext, by_id, check
from netpol.analysis.lint_checks.common import (
    INFO,
    WARNING,
    bit_list,
    by_wanted,
    classes_matching,
    counting_rules,
    namespace_classes,
    namespaces_of,
    peer_classes,
    peer_path,
    peer_word,
    pod_partition,
    pod_positions,
    pod_sets,
    pods_of,
    representative_pods,
    subject_classes,
    workloads_text,
)
from netpol.analysis.lint_checks.flow_sides import flow_sides
from netpol.analysis.lint_checks.peers import and_split
from netpol.engine.compile import CompiledPeer, CompiledPolicy, CompiledRule
from netpol.engine.selectors import requirement_holds
from netpol.model.objects import METADATA_NAME_LABEL, Pod
from netpol.model.selectors import LabelSelector, Requirement


@check(
    "policy-selects-nothing",
    WARNING,
    "the policy's podSelector selects no pod of its namespace",
    "spec.podSelector selects pods of the policy's own namespace only. A policy that selects "
    "nothing isolates and allows nothing; often it was created in the wrong namespace or the "
    "labels do not match the pod template.",
    "Fix the labels, or create the policy in the namespace of the pods it is meant for.",
    pitfall="spec 2.2, 7.8",
    needs_pods=True,
)
def _policy_nothing(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("policy-selects-nothing")
    for compiled in ctx.cc.policies:
        policy = compiled.policy
        if subject_classes(ctx, compiled):
            continue
        elsewhere = sorted(
            namespaces_of(ctx, classes_matching(ctx, policy.pod_selector)) - {policy.namespace}
        )
        hint = ""
        if elsewhere:
            hint = (
                f"pods matching {policy.pod_selector.text()} exist in {', '.join(elsewhere)}: "
                f"a policy only selects pods of its own namespace ({policy.namespace}); create it there"
            )
        else:
            hint = (
                _closest_hint(
                    ctx,
                    policy.pod_selector,
                    namespace_classes(ctx).get(policy.namespace, 0),
                    policy.namespace,
                )
                or ""
            )
        yield me.on_policy(
            policy,
            f"podSelector {policy.pod_selector.text()} selects no pod in namespace {policy.namespace}",
            "spec.podSelector",
            hint,
        )


def _closest_hint(ctx: LintContext, selector: LabelSelector, classes: int, where: str) -> str:
    """What the failing requirements' keys carry on the pods (of these endpoint classes)
    that pass the others. A selector's keys are among those that make the classes, so a
    class's representative answers for all its pods."""
    hints = []
    requirements = selector.requirements()
    representatives = representative_pods(ctx, classes)
    for req in requirements:
        others = [r for r in requirements if r is not req]
        near = {
            i: p
            for i, p in representatives.items()
            if all(requirement_holds(r, p.labels) for r in others)
        }
        if not near or any(requirement_holds(req, p.labels) for p in near.values()):
            continue
        values: dict[str, int] = {}
        for i, p in near.items():
            if req.key in p.labels:
                values[p.labels[req.key]] = values.get(p.labels[req.key], 0) | 1 << i
        if not values:
            hints.append(f"no pod in {where} has a label {req.key}")
            continue
        shown = ", ".join(
            f"{req.key}={v} ({workloads_text(pods_of(ctx, bits))})"
            for v, bits in sorted(values.items())
        )
        hints.append(f"no pod in {where} has {requirement_text(req)}; pods there carry {shown}")
    return "; ".join(hints)


def _intended_peers(ctx: LintContext, compiled: CompiledPolicy, rule: CompiledRule) -> int:
    """Classes of the pods whose own policy explicitly expects this rule to admit them
    (for hints), as bits.

    Ingress: pods whose egress is isolated and allows the rule's subjects on the rule's
    ports. Egress: pods whose ingress is isolated and admits the subjects on those ports.
    Asked once per endpoint class: the verdicts and the named ports are the class's.
    """
    subjects = subject_classes(ctx, compiled)
    direction = "Egress" if rule.direction == "Ingress" else "Ingress"
    if ctx.cc.tiered is None:
        candidates = _naming(ctx, direction, subjects)
    else:  # an admin or baseline rule may allow what no NetworkPolicy rule names
        candidates = pod_sets(ctx).pod_classes
    sides = flow_sides(ctx)
    # their side allows some of the rule's ports with one of the subjects; the ports
    # resolve on the destination: the subjects for ingress, the other pod for egress
    if rule.direction == "Ingress":
        groups = [(ports, bits, candidates) for ports, bits in by_wanted(ctx, rule, subjects)]
    else:
        groups = [(ports, subjects, bits) for ports, bits in by_wanted(ctx, rule, candidates)]
    opened = 0
    for ports, mine, theirs in groups:
        for subject in bit_list(mine):
            opened |= theirs & sides.open_towards(direction, subject, ports, sides.key(ports))
    found = 0
    for index, other in representative_pods(ctx, opened).items():
        if not (other.namespace == compiled.policy.namespace and compiled.selects(other)):
            found |= 1 << index
    return found


def _naming(ctx: LintContext, direction: str, peers: int) -> int:
    """The classes selected by a policy with a ``direction`` rule whose peers meet ``peers``:
    the only pods whose NetworkPolicies can allow anything towards (or from) them."""
    rules: list[tuple[int, int]] = ctx.cache.setdefault(f"rule_classes {direction}", [])  # type: ignore[assignment]
    if not rules:
        sets = pod_sets(ctx)
        for compiled in ctx.cc.policies:
            for r in compiled.rules(direction):
                rules.append((sets.rule_peers(r), subject_classes(ctx, compiled)))
    found = 0
    for matched, selected in rules:
        if matched & peers:
            found |= selected
    return found


def _peer_hint(
    ctx: LintContext, compiled: CompiledPolicy, rule: CompiledRule, cp: CompiledPeer
) -> str:
    selector = cp.peer.pod_selector
    namespaces = sorted(n for n in ctx.pods_by_namespace if cp.namespace_matches(n))
    if selector is None:
        return ""
    if not namespaces:
        return "its namespace part selects no namespace with pods"
    intended = _intended_peers(ctx, compiled, rule)
    parts = []
    if intended:
        role = "egress allows" if rule.direction == "Ingress" else "ingress admits"
        for workload, pod in _first_of_each_workload(ctx, intended):
            wrong = [r for r in selector.requirements() if not requirement_holds(r, pod.labels)]
            labels = ", ".join(
                f"{r.key}: {pod.labels[r.key]}" if r.key in pod.labels else f"no {r.key} label"
                for r in wrong
            )
            parts.append(
                f"{workload}, whose {role} this traffic, carries {labels} "
                f"(the peer asks for {', '.join(requirement_text(r) for r in wrong)})"
            )
    by_namespace = namespace_classes(ctx)
    classes = 0
    for namespace in namespaces:
        classes |= by_namespace.get(namespace, 0)
    closest = _closest_hint(ctx, selector, classes, ", ".join(namespaces))
    if closest and not parts:
        parts.append(closest)
    return "; ".join(parts)


def requirement_text(req: Requirement) -> str:
    if req.operator == "In" and len(req.values) == 1:
        return f"{req.key}: {req.values[0]}"
    return req.text()


def _first_of_each_workload(ctx: LintContext, classes: int) -> list[tuple[str, Pod]]:
    """(workload id, its first pod) of the pods of these classes, workloads in the input
    order of their first pod: the pods grouped by workload, read per class (each class's
    first pod of each workload is found once per run)."""
    firsts = _class_workload_firsts(ctx)
    best: dict[str, tuple[int, Pod]] = {}
    for index in bit_list(classes):
        for workload, position, pod in firsts[index]:
            seen = best.get(workload)
            if seen is None or position < seen[0]:
                best[workload] = (position, pod)
    ordered = sorted(best.items(), key=lambda item: item[1][0])
    return [(workload, pod) for workload, (_, pod) in ordered]


def _class_workload_firsts(ctx: LintContext) -> list[list[tuple[str, int, Pod]]]:
    """Per class: (workload id, input position, pod) of the first pod of each of its
    workloads."""
    cached = ctx.cache.get("class_workload_firsts")
    if cached is not None:
        return cached  # type: ignore[return-value]
    position = pod_positions(ctx)
    firsts: list[list[tuple[str, int, Pod]]] = []
    for cls in pod_partition(ctx).classes:
        found: dict[str, tuple[str, int, Pod]] = {}
        for pod in cls.pods:
            at = position.get(pod.id)
            if at is None:
                continue  # not a pod policies can select (node traffic)
            seen = found.get(pod.workload_id)
            if seen is None or at < seen[1]:
                found[pod.workload_id] = (pod.workload_id, at, pod)
        firsts.append(list(found.values()))
    ctx.cache["class_workload_firsts"] = firsts
    return firsts


def _missing_ns_keys(ctx: LintContext, selector: LabelSelector) -> list[str]:
    keys = []
    for req in selector.requirements():
        if req.operator in ("In", "Exists") and not any(
            req.key in n.labels for n in ctx.namespaces
        ):
            keys.append(req.key)
    return keys


@check(
    "peer-selects-nothing",
    WARNING,
    "a peer's selectors match no pod of the input",
    "A podSelector/namespaceSelector peer that matches no pod admits nothing. As published, "
    "the tutorial's backend policy admits `role: web`, and the frontend pods carry "
    "`role: frontend`: the frontend cannot reach the backend, contrary to its Step 5.",
    "Use the labels the intended pods really carry (the hint names the pods whose own policy "
    "expects this traffic, or the values the label has in that namespace).",
    pitfall="tutorial 05-revised-backend-netpol.yaml; spec 2.3",
    needs_pods=True,
)
def _peer_nothing(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("peer-selects-nothing")
    for compiled in ctx.cc.policies:
        for rule in counting_rules(compiled):
            for cp in rule.peers:
                if cp.peer.ip_block is not None or peer_classes(ctx, cp):
                    continue
                ns_sel = cp.peer.namespace_selector
                if ns_sel is not None and _missing_ns_keys(ctx, ns_sel):
                    continue  # namespace-label-missing says why
                if and_split(ctx, cp) is not None:
                    continue  # peer-and-likely-or says why
                where = (
                    f"namespaces {ns_sel.text()}"
                    if ns_sel is not None
                    else compiled.policy.namespace
                )
                yield me.on_policy(
                    compiled.policy,
                    f"{peer_word(rule.direction)}[{cp.index}] {cp.peer.text()} matches no pod "
                    f"(in {where}): {rule.label} admits nothing",
                    peer_path(rule, cp.index),
                    _peer_hint(ctx, compiled, rule, cp),
                )


@check(
    "namespace-label-missing",
    WARNING,
    "a namespaceSelector uses a label that no namespace has",
    "Namespaces carry only the labels someone set, plus `kubernetes.io/metadata.name` (set by "
    "the API server). Selecting on `name: prod` matches nothing unless a namespace was "
    "labelled so; the portable way to name a namespace is the automatic label.",
    "Select `kubernetes.io/metadata.name: <namespace>` or label the namespace.",
    pitfall="spec 2.4, 7.7; edge case 13",
)
def _ns_label(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("namespace-label-missing")
    names = {n.name for n in ctx.namespaces}
    for compiled in ctx.cc.policies:
        for rule in counting_rules(compiled):
            for cp in rule.peers:
                sel = cp.peer.namespace_selector
                if sel is None:
                    continue
                for key in _missing_ns_keys(ctx, sel):
                    values = [v for r in sel.requirements() if r.key == key for v in r.values]
                    named = [v for v in values if v in names]
                    hint = (
                        f"use `{METADATA_NAME_LABEL}: {named[0]}` (set on every namespace)"
                        if named
                        else f"label the namespace with {key}, or select on {METADATA_NAME_LABEL}"
                    )
                    yield me.on_policy(
                        compiled.policy,
                        f"{peer_word(rule.direction)}[{cp.index}] namespaceSelector {sel.text()}: no namespace "
                        f"of the input has a label {key!r}",
                        peer_path(rule, cp.index) + ".namespaceSelector",
                        hint,
                    )


@check(
    "namespace-selector-all",
    INFO,
    "`namespaceSelector: {}` admits all pods, not nodes, hostNetwork pods or external clients",
    "An empty namespaceSelector means every pod in every namespace. It does not cover "
    "traffic from nodes, hostNetwork pods (ingress controllers often are), load balancers "
    "or anything outside the cluster; an empty `from` list does.",
    "If everything was meant, use an empty from list (`- {}` / `from: []`); if pods only, "
    "this is right.",
    pitfall="spec 2.3, 7.12",
)
def _ns_all(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("namespace-selector-all")
    for compiled in ctx.cc.policies:
        for rule in compiled.rules("Ingress"):
            for cp in rule.peers:
                sel = cp.peer.namespace_selector
                pod_sel = cp.peer.pod_selector
                if sel is not None and sel.is_empty and (pod_sel is None or pod_sel.is_empty):
                    yield me.on_policy(
                        compiled.policy,
                        f"from[{cp.index}] namespaceSelector {{}} admits every pod, but not nodes, "
                        "hostNetwork pods or external clients",
                        peer_path(rule, cp.index),
                    )
