"""The lint catalogue: each check a function over the compiled cluster, registered with its
id, severity, one-line title, explanation and fix hint (docs/lint.md is generated from it).

Checks about behaviour use the engine (selected pods, peer pod sets, connection sets,
verdicts); checks about writing use the policy model and its source lines.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable, Iterator

from netpol.analysis.lint import Finding, LintContext, by_id, check
from netpol.engine.classes import Partition
from netpol.engine.compile import CompiledPeer, CompiledPolicy, CompiledRule
from netpol.engine.endpoints import EXTERNAL, POD, Endpoint
from netpol.engine.ports import ConnectionSet
from netpol.engine.selectors import matches, requirement_holds
from netpol.engine.verdict import SideVerdict, Verdict, evaluate, side_verdict
from netpol.load.services import Backend, all_backends
from netpol.model.diagnostics import Severity
from netpol.model.objects import METADATA_NAME_LABEL, Container, ContainerPort, Pod
from netpol.model.policy import IPBlock
from netpol.model.selectors import LabelSelector, Requirement
from netpol.model.source import Source
from netpol.model.tiers import DENY, NODES, TierRule
from netpol.model.wording import first_few

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
DNS_LABEL = ("k8s-app", "kube-dns")
DNS_NAMESPACE = "kube-system"
SYSTEM_NAMESPACE_PREFIX = "kube-"
MAX_REDUNDANCY_PAIRS = 250_000  # class pairs; beyond this the redundancy checks are skipped

# --- helpers ---------------------------------------------------------------------------


def _word(direction: str) -> str:
    return "from" if direction == "Ingress" else "to"


def _rules_path(direction: str) -> str:
    return f"spec.{direction.lower()}"


def _peer_path(rule: CompiledRule, peer_index: int) -> str:
    return f"{_rules_path(rule.direction)}[{rule.index}].{_word(rule.direction)}[{peer_index}]"


def _rule_path(rule: CompiledRule) -> str:
    return f"{_rules_path(rule.direction)}[{rule.index}]"


def _all_rules(compiled: CompiledPolicy) -> Iterator[CompiledRule]:
    """Rules of both directions, whether or not policyTypes lets them count."""
    yield from compiled.ingress
    yield from compiled.egress


def _counting_rules(compiled: CompiledPolicy) -> Iterator[CompiledRule]:
    yield from compiled.rules("Ingress")
    yield from compiled.rules("Egress")


def _subjects(ctx: LintContext, compiled: CompiledPolicy) -> list[Pod]:
    """The pods ``compiled`` selects (cached per policy: several checks ask)."""
    cache: dict[int, list[Pod]] = ctx.cache.setdefault("subjects", {})  # type: ignore[assignment]
    found = cache.get(id(compiled))
    if found is None:
        namespace = ctx.pods_by_namespace.get(compiled.policy.namespace, [])
        found = [p for p in namespace if compiled.selects(p)]
        cache[id(compiled)] = found
    return found


def _workloads(pods: Iterable[Pod]) -> str:
    return first_few(sorted({p.workload_id for p in pods}), 4)


def _selector_yaml(selector: LabelSelector) -> str:
    return (
        "{" + ", ".join(f"{k}: {v}" for k, v in selector.match_labels) + "}"
        if not selector.match_expressions
        else selector.text()
    )


def _endpoint(ctx: LintContext, pod: Pod) -> Endpoint:
    return ctx.cc.endpoint(pod)


def _partition(ctx: LintContext) -> Partition:
    found = ctx.cache.get("partition")
    if found is None:
        found = Partition(ctx.cc)
        ctx.cache["partition"] = found
    return found  # type: ignore[return-value]


def _verdict(ctx: LintContext, src: Pod, dst: Pod) -> Verdict:
    """evaluate(src, dst), shared by every pod pair of the same two endpoint classes."""
    classes = _partition(ctx).class_of_pod
    key = (classes.get(src.id), classes.get(dst.id))
    if key[0] is None or key[1] is None or key[0] == key[1]:
        return evaluate(ctx.cc, _endpoint(ctx, src), _endpoint(ctx, dst))
    cache: dict[tuple[int | None, int | None], Verdict] = ctx.cache.setdefault("verdicts", {})  # type: ignore[assignment]
    found = cache.get(key)
    if found is None:
        found = evaluate(ctx.cc, _endpoint(ctx, src), _endpoint(ctx, dst))
        cache[key] = found
    return found


def _by_class(ctx: LintContext, pods: Iterable[Pod]) -> list[list[Pod]]:
    """``pods`` grouped by endpoint class (members every policy treats alike)."""
    classes = _partition(ctx).class_of_pod
    groups: dict[int, list[Pod]] = {}
    for pod in pods:
        groups.setdefault(classes.get(pod.id, -1 - len(groups)), []).append(pod)
    return list(groups.values())


def _explicit(rule: CompiledRule) -> bool:
    """The rule names both its peers (a non-empty podSelector) and its ports."""
    return bool(rule.rule.ports) and any(
        cp.peer.pod_selector is not None and not cp.peer.pod_selector.is_empty for cp in rule.peers
    )


def _destination_pods(ctx: LintContext, compiled: CompiledPolicy, rule: CompiledRule) -> list[Pod]:
    """Pods the rule's ports are resolved on: ingress - the subjects; egress - the peers."""
    if rule.direction == "Ingress":
        return _subjects(ctx, compiled)
    if rule.any_peer:
        return list(ctx.pods)
    ids = frozenset().union(*(p.pod_ids for p in rule.peers))
    return [p for p in ctx.pods if p.id in ids]


def _dns_pods(ctx: LintContext) -> list[Pod]:
    """The cluster DNS pods of the input, or a stand-in CoreDNS pod when the input has none."""
    key, value = DNS_LABEL
    found = [p for p in ctx.pods if p.labels.get(key) == value]
    if found:
        return found
    service = ctx.service(f"{DNS_NAMESPACE}/kube-dns")
    if service is not None and service.selector:
        found = [
            p
            for p in ctx.pods
            if p.namespace == DNS_NAMESPACE
            and all(p.labels.get(k) == v for k, v in service.selector.items())
        ]
        if found:
            return found
    ports = (ContainerPort(53, "UDP", "dns"), ContainerPort(53, "TCP", "dns-tcp"))
    return [
        Pod(
            DNS_NAMESPACE,
            "coredns (assumed)",
            {key: value},
            ips=("169.254.25.10",),
            containers=(Container("coredns", ports=ports),),
        )
    ]


def _dns_namespaces(ctx: LintContext) -> set[str]:
    return {p.namespace for p in _dns_pods(ctx)}


# --- peers: AND vs OR -----------------------------------------------------------------


@check(
    "peers-or-likely-and",
    WARNING,
    "two peers (namespaceSelector, podSelector) are ORed where one peer with both was likely meant",
    "Items of a from/to list are ORed. `- namespaceSelector: X` followed by `- podSelector: Y` "
    "admits every pod of the namespaces X, and the pods Y of the policy's own namespace. "
    "Written as one item (no dash before podSelector) it admits only pods Y in namespaces X. "
    "The tutorial's AND-vs-OR section shows how much wider the two-item form is.",
    "If you meant pods Y in namespaces X, delete the dash before `podSelector` so both "
    "selectors are in one item; if the OR is intended, silence this check for the policy.",
    pitfall="spec 7.1; tutorial 'AND vs OR'",
)
def _peers_or(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("peers-or-likely-and")
    for compiled in ctx.cc.policies:
        for rule in _all_rules(compiled):
            ns_only = [
                p
                for p in rule.peers
                if p.peer.namespace_selector is not None and p.peer.pod_selector is None
            ]
            pod_only = [
                p
                for p in rule.peers
                if p.peer.pod_selector is not None and p.peer.namespace_selector is None
            ]
            if not ns_only or not pod_only:
                continue
            ns, pod = ns_only[0], pod_only[0]
            ns_sel = ns.peer.namespace_selector
            pod_sel = pod.peer.pod_selector
            assert ns_sel is not None and pod_sel is not None
            word = _word(rule.direction)
            yield me.on_policy(
                compiled.policy,
                f"{word}[{ns.index}] (namespaceSelector {ns_sel.text()}) and {word}[{pod.index}] "
                f"(podSelector {pod_sel.text()}) are separate peers, ORed: any pod in those "
                f"namespaces, or pods {pod_sel.text()} in {compiled.policy.namespace}",
                _peer_path(rule, pod.index),
                f"for pods {pod_sel.text()} in namespaces {ns_sel.text()} only, write one item: "
                f"`- namespaceSelector: {{matchLabels: {_selector_yaml(ns_sel)}}}` and, without a "
                f"dash, `  podSelector: {{matchLabels: {_selector_yaml(pod_sel)}}}`",
            )


def _and_split(ctx: LintContext, cp: CompiledPeer) -> tuple[set[str], set[str]] | None:
    """For an AND peer that matches no pod: (namespaces the namespace half selects that have
    pods, namespaces where the pod half matches pods), when both halves match something."""
    peer = cp.peer
    if peer.namespace_selector is None or peer.pod_selector is None or peer.ip_block is not None:
        return None
    if peer.namespace_selector.is_empty or peer.pod_selector.is_empty or cp.pod_ids:
        return None
    ns_side = {p.namespace for p in ctx.pods if cp.namespace_matches(p.namespace)}
    pod_side = {p.namespace for p in ctx.pods if matches(peer.pod_selector, p.labels)}
    if ns_side and pod_side:
        return ns_side, pod_side
    return None


@check(
    "peer-and-likely-or",
    WARNING,
    "one peer ANDs a namespaceSelector and a podSelector that match pods only separately",
    "A namespaceSelector and a podSelector in one from/to item must both hold. When the "
    "namespaces it selects have pods, and pods matching the podSelector exist, but never in "
    "those namespaces, the item matches nothing: two items (OR) were probably meant, or one "
    "of the selectors is wrong.",
    "Split the item in two (a dash before `podSelector`) if either condition should admit, "
    "or fix the selector that names the wrong namespace or label.",
    pitfall="spec 7.1 (the reverse trap)",
    needs_pods=True,
)
def _peer_and(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("peer-and-likely-or")
    for compiled in ctx.cc.policies:
        for rule in _counting_rules(compiled):
            for cp in rule.peers:
                split = _and_split(ctx, cp)
                if split is None:
                    continue
                ns_side, pod_side = split
                assert cp.peer.pod_selector is not None and cp.peer.namespace_selector is not None
                yield me.on_policy(
                    compiled.policy,
                    f"{_word(rule.direction)}[{cp.index}] matches no pod: namespaceSelector "
                    f"{cp.peer.namespace_selector.text()} selects {', '.join(sorted(ns_side))}, but "
                    f"pods with {cp.peer.pod_selector.text()} live only in {', '.join(sorted(pod_side))}",
                    _peer_path(rule, cp.index),
                )


# --- DNS --------------------------------------------------------------------------------


def _dns_reach(ctx: LintContext, pod: Pod) -> tuple[bool, bool, list[SideVerdict]]:
    """(UDP 53 allowed to some DNS pod, TCP 53 likewise, the egress sides evaluated)."""
    src = _endpoint(ctx, pod)
    udp = tcp = False
    sides = []
    for dns in _dns_pods(ctx):
        if dns.id == pod.id:
            return True, True, []
        verdict = evaluate(ctx.cc, src, _endpoint(ctx, dns))
        udp = udp or verdict.allows("UDP", 53)
        tcp = tcp or verdict.allows("TCP", 53)
        sides.append(verdict.egress)
    return udp, tcp, sides


def _talkers(ctx: LintContext) -> dict[str, list[Pod]]:
    """Egress-isolated pods that some egress rule applies to, by the first isolating policy.

    Proxy for "talks to Services by name": the model has no traffic, and a pod that is
    allowed any egress at all is meant to reach something, usually through a name.
    """
    found: dict[str, list[Pod]] = {}
    for pod in ctx.pods:
        applying = ctx.cc.applying(pod, "Egress")
        if not applying or not any(c.rules("Egress") for c in applying):
            continue
        found.setdefault(applying[0].policy.id, []).append(pod)
    return found


@check(
    "dns-egress-missing",
    WARNING,
    "egress-isolated pods that are allowed some egress cannot reach the cluster DNS",
    "Once a pod is egress-isolated, DNS queries are egress too: without a rule allowing UDP "
    "and TCP 53 to the DNS pods, every connection by name (a Service, db-svc, an external "
    "host) fails at the lookup. netpol treats a pod that some egress rule applies to as a "
    "pod that talks by name (the input has no traffic); pods whose egress is denied "
    "entirely are left to `egress-deny-all`. DNS pods are those labelled k8s-app=kube-dns "
    "(or behind kube-system/kube-dns); without any in the input, a CoreDNS pod in "
    "kube-system is assumed.",
    "Add an egress rule to `namespaceSelector {kubernetes.io/metadata.name: kube-system}` AND "
    "`podSelector {k8s-app: kube-dns}` (one item) on UDP 53 and TCP 53.",
    pitfall="spec 7.2; tutorial 'Why do we need to allow DNS'",
)
def _dns_missing(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("dns-egress-missing")
    for policy_id, pods in _talkers(ctx).items():
        blocked = [p for p in pods if not any(_dns_reach(ctx, p)[:2])]
        if not blocked:
            continue
        policy = ctx.cluster.policy_by_id[policy_id]
        yield me.on_policy(
            policy,
            f"{_workloads(blocked)}: egress-isolated and allowed some egress, but no DNS "
            "(UDP/TCP 53 to the DNS pods): lookups of Service names will fail",
            "spec.egress" if policy.egress else "spec.policyTypes",
        )


@check(
    "dns-one-protocol",
    WARNING,
    "DNS egress allows only UDP 53 or only TCP 53",
    "DNS uses UDP and falls back to TCP for large answers (and some resolvers use TCP "
    "first). Allowing only one of them works until an answer is truncated.",
    "List both `{protocol: UDP, port: 53}` and `{protocol: TCP, port: 53}` in the DNS rule.",
    pitfall="spec 7.2",
)
def _dns_one(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("dns-one-protocol")
    seen: set[tuple[str, int]] = set()
    for pods in _talkers(ctx).values():
        for pod in pods:
            udp, tcp, sides = _dns_reach(ctx, pod)
            if udp == tcp:
                continue
            have, lack = ("UDP", "TCP") if udp else ("TCP", "UDP")
            for side in sides:
                for outcome in side.allowing(have, 53):
                    rule = outcome.rule
                    key = (f"{rule.policy.id}/{rule.direction}", rule.index)
                    if key in seen:
                        continue
                    seen.add(key)
                    yield me.on_policy(
                        rule.policy,
                        f"{rule.label} allows DNS over {have} 53 but not {lack} 53 "
                        f"(for {_workloads([pod])})",
                        f"{_rule_path(rule)}.ports" if rule.rule.ports else _rule_path(rule),
                    )


@check(
    "dns-whole-namespace",
    WARNING,
    "DNS egress is allowed to a whole namespace instead of the DNS pods",
    "A peer with only `namespaceSelector: kube-system` on port 53 lets the pods reach every "
    "pod of kube-system on that port (and whatever else the rule lists), not just CoreDNS.",
    "Add `podSelector: {matchLabels: {k8s-app: kube-dns}}` to the same item (no dash), so the "
    "peer means the DNS pods of that namespace only.",
    pitfall="spec 7.2; tutorial 'Example 2 (OR logic)'",
)
def _dns_namespace(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("dns-whole-namespace")
    dns_namespaces = _dns_namespaces(ctx) | {DNS_NAMESPACE}
    for compiled in ctx.cc.policies:
        for rule in compiled.egress:
            if not rule.rule.ports or not any(
                rule.numeric.contains(proto, 53) for proto in ("UDP", "TCP")
            ):
                continue
            for cp in rule.peers:
                sel = cp.peer.namespace_selector
                if sel is None or (
                    cp.peer.pod_selector is not None and not cp.peer.pod_selector.is_empty
                ):
                    continue
                hit = sorted(n for n in dns_namespaces if cp.namespace_matches(n))
                if not hit:
                    continue
                yield me.on_policy(
                    compiled.policy,
                    f"to[{cp.index}] allows port 53 to every pod of {', '.join(hit)} "
                    "(namespaceSelector without podSelector), not only the DNS pods",
                    _peer_path(rule, cp.index),
                )


# --- policyTypes ------------------------------------------------------------------------


@check(
    "egress-deny-all",
    INFO,
    "policyTypes lists Egress but the policy has no egress rule: all egress is denied",
    "A policy with Egress in policyTypes and no egress rules denies every connection its "
    "pods initiate, DNS and the API server included. That is the usual way to write "
    "'this pod initiates nothing' (the tutorial's database), and a frequent accident. "
    "Pods that another policy allows some egress (a namespace default-deny beside an "
    "allow-DNS policy) are not denied all egress, and are not reported.",
    "If the pods must initiate nothing, keep it (and silence this note with the annotation); "
    "otherwise add the egress rules they need, DNS first.",
    pitfall="spec 7.3",
)
def _egress_deny_all(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("egress-deny-all")
    for compiled in ctx.cc.policies:
        policy = compiled.policy
        if policy.isolates_egress and not policy.egress:
            pods = _subjects(ctx, compiled)
            if pods:
                # Pods that another policy lets out (the default-deny + allow-DNS pattern)
                # are not denied all egress: only those left with none are worth the note.
                pods = [
                    p
                    for p in pods
                    if not any(c.rules("Egress") for c in ctx.cc.applying(p, "Egress"))
                ]
                if ctx.cc.tiered is not None:  # an admin policy may let them reach DNS
                    pods = [p for p in pods if not any(_dns_reach(ctx, p)[:2])]
                if not pods:
                    continue
            elif any(
                c.policy.namespace == policy.namespace and c.rules("Egress")
                for c in ctx.cc.policies
            ):
                continue  # no pods to tell: another policy of the namespace allows egress
            who = f" for {_workloads(pods)}" if pods else ""
            yield me.on_policy(
                policy,
                f"denies all egress{who}, DNS included: intended?",
                "spec.policyTypes",
            )


@check(
    "egress-implies-ingress",
    WARNING,
    "a policy with egress rules and no policyTypes also isolates ingress",
    "When policyTypes is omitted the API server sets it to [Ingress] plus Egress if there are "
    "egress rules. A policy written only for egress therefore also becomes an ingress "
    "default-deny for the pods it selects.",
    "Write `policyTypes: [Egress]` explicitly (or add the ingress rules you meant).",
    pitfall="spec 1.2 D2, 7.4",
)
def _egress_implies_ingress(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("egress-implies-ingress")
    for compiled in ctx.cc.policies:
        policy = compiled.policy
        if policy.policy_types_defaulted and policy.egress and not policy.ingress:
            yield me.on_policy(
                policy,
                "has egress rules and no policyTypes, so policyTypes defaults to "
                "[Ingress, Egress]: with no ingress rule, all ingress to its pods is denied",
                "spec.egress",
            )


@check(
    "rules-ignored",
    ERROR,
    "rules for a direction that policyTypes does not list are ignored",
    "A policy's ingress rules count only if Ingress is in policyTypes, its egress rules only "
    "if Egress is. The API server accepts the others and every CNI ignores them: they neither "
    "isolate nor allow.",
    "Add the direction to policyTypes, or delete the rules that do nothing.",
    pitfall="spec 4.1, 5.8; edge cases 21-22",
)
def _rules_ignored(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("rules-ignored")
    for compiled in ctx.cc.policies:
        policy = compiled.policy
        for direction, rules in (("Ingress", policy.ingress), ("Egress", policy.egress)):
            if rules and direction not in policy.policy_types:
                yield me.on_policy(
                    policy,
                    f"{len(rules)} {direction.lower()} rule(s) ignored: policyTypes is "
                    f"[{', '.join(policy.policy_types)}]",
                    _rules_path(direction),
                )


@check(
    "egress-empty-not-isolating",
    WARNING,
    "`egress: []` without policyTypes does not isolate egress",
    "An empty egress list looks like 'no egress allowed', but without policyTypes the API "
    "server defaults policyTypes to [Ingress] only (egress rules are absent), so egress stays "
    "open.",
    "To deny all egress, write `policyTypes: [Ingress, Egress]` (or [Egress]).",
    pitfall="spec 1.2 D2, 7.5; edge case 17",
)
def _egress_empty(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("egress-empty-not-isolating")
    for compiled in ctx.cc.policies:
        policy = compiled.policy
        if policy.policy_types_defaulted and not policy.egress and "egress" in policy.written:
            yield me.on_policy(
                policy,
                "`egress: []` with no policyTypes: policyTypes defaults to [Ingress], egress is not isolated",
                "spec.egress",
            )


# --- selection ----------------------------------------------------------------------------


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
        if _subjects(ctx, compiled):
            continue
        elsewhere = sorted(
            {
                p.namespace
                for p in ctx.pods
                if p.namespace != policy.namespace and matches(policy.pod_selector, p.labels)
            }
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
                    ctx.pods_by_namespace.get(policy.namespace, []),
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


def _closest_hint(ctx: LintContext, selector: LabelSelector, pods: list[Pod], where: str) -> str:
    """What the failing requirements' keys carry on the pods that pass the others."""
    hints = []
    requirements = selector.requirements()
    for req in requirements:
        others = [r for r in requirements if r is not req]
        near = [p for p in pods if all(requirement_holds(r, p.labels) for r in others)]
        if not near or any(requirement_holds(req, p.labels) for p in near):
            continue
        values: dict[str, list[Pod]] = {}
        for p in near:
            if req.key in p.labels:
                values.setdefault(p.labels[req.key], []).append(p)
        if not values:
            hints.append(f"no pod in {where} has a label {req.key}")
            continue
        shown = ", ".join(f"{req.key}={v} ({_workloads(ps)})" for v, ps in sorted(values.items()))
        hints.append(f"no pod in {where} has {_req_text(req)}; pods there carry {shown}")
    return "; ".join(hints)


def _intended_peers(ctx: LintContext, compiled: CompiledPolicy, rule: CompiledRule) -> list[Pod]:
    """Pods whose own policy explicitly expects this rule to admit them (for hints).

    Ingress: pods whose egress is isolated and allows the rule's subjects on the rule's
    ports. Egress: pods whose ingress is isolated and admits the subjects on those ports.
    """
    subjects = _subjects(ctx, compiled)
    found = []
    for other in ctx.pods:
        if other.namespace == compiled.policy.namespace and compiled.selects(other):
            continue
        direction = "Egress" if rule.direction == "Ingress" else "Ingress"
        if not ctx.cc.isolated(other, direction):
            continue
        for subject in subjects:
            if rule.direction == "Ingress":
                side = _verdict(ctx, other, subject).egress
                ports = rule.connections_to(subject)
            else:
                side = _verdict(ctx, subject, other).ingress
                ports = rule.connections_to(other)
            if not (side.allowed & ports).is_empty:
                found.append(other)
                break
    return found


def _peer_hint(
    ctx: LintContext, compiled: CompiledPolicy, rule: CompiledRule, cp: CompiledPeer
) -> str:
    selector = cp.peer.pod_selector
    namespaces = sorted({p.namespace for p in ctx.pods if cp.namespace_matches(p.namespace)})
    if selector is None:
        return ""
    if not namespaces:
        return "its namespace part selects no namespace with pods"
    intended = _intended_peers(ctx, compiled, rule)
    parts = []
    if intended:
        role = "egress allows" if rule.direction == "Ingress" else "ingress admits"
        for pod_group in _group_by_workload(intended):
            pod = pod_group[0]
            wrong = [r for r in selector.requirements() if not requirement_holds(r, pod.labels)]
            labels = ", ".join(
                f"{r.key}: {pod.labels[r.key]}" if r.key in pod.labels else f"no {r.key} label"
                for r in wrong
            )
            parts.append(
                f"{_workloads(pod_group)}, whose {role} this traffic, carries {labels} "
                f"(the peer asks for {', '.join(_req_text(r) for r in wrong)})"
            )
    pods = [p for p in ctx.pods if p.namespace in namespaces]
    closest = _closest_hint(ctx, selector, pods, ", ".join(namespaces))
    if closest and not parts:
        parts.append(closest)
    return "; ".join(parts)


def _req_text(req: Requirement) -> str:
    if req.operator == "In" and len(req.values) == 1:
        return f"{req.key}: {req.values[0]}"
    return req.text()


def _group_by_workload(pods: list[Pod]) -> list[list[Pod]]:
    groups: dict[str, list[Pod]] = {}
    for p in pods:
        groups.setdefault(p.workload_id, []).append(p)
    return list(groups.values())


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
        for rule in _counting_rules(compiled):
            for cp in rule.peers:
                if cp.peer.ip_block is not None or cp.pod_ids:
                    continue
                ns_sel = cp.peer.namespace_selector
                if ns_sel is not None and _missing_ns_keys(ctx, ns_sel):
                    continue  # namespace-label-missing says why
                if _and_split(ctx, cp) is not None:
                    continue  # peer-and-likely-or says why
                where = (
                    f"namespaces {ns_sel.text()}"
                    if ns_sel is not None
                    else compiled.policy.namespace
                )
                yield me.on_policy(
                    compiled.policy,
                    f"{_word(rule.direction)}[{cp.index}] {cp.peer.text()} matches no pod "
                    f"(in {where}): {rule.label} admits nothing",
                    _peer_path(rule, cp.index),
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
        for rule in _counting_rules(compiled):
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
                        f"{_word(rule.direction)}[{cp.index}] namespaceSelector {sel.text()}: no namespace "
                        f"of the input has a label {key!r}",
                        _peer_path(rule, cp.index) + ".namespaceSelector",
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
                        _peer_path(rule, cp.index),
                    )


# --- ports --------------------------------------------------------------------------------


@check(
    "named-port-undefined",
    WARNING,
    "a named port that the destination pods do not define (or define with another protocol)",
    "A named port matches only a container port of the destination pod with that name AND "
    "that protocol (TCP when the rule omits it). Ingress: the selected pods; egress: the "
    "peer pods. A name no destination defines allows nothing.",
    "Use a name the pods' containers declare, with its protocol (UDP named ports need "
    "`protocol: UDP`), or the port number.",
    pitfall="spec 3, 7.9, 7.14; edge cases 28-29",
    needs_pods=True,
)
def _named_port(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("named-port-undefined")
    for compiled in ctx.cc.policies:
        for rule in _counting_rules(compiled):
            if not rule.named:
                continue
            pods = _destination_pods(ctx, compiled, rule)
            if not pods:
                continue
            for j, entry in enumerate(rule.rule.ports):
                if not entry.is_named:
                    continue
                name = str(entry.port)
                if any(p.named_port(name, entry.protocol) for p in pods):
                    continue
                other = sorted(
                    {
                        f"{cp.port}/{cp.protocol}"
                        for p in pods
                        for cp in p.container_ports
                        if cp.name == name
                    }
                )
                who = "selected" if rule.direction == "Ingress" else "destination"
                if other:
                    message = (
                        f"port {name!r} is {', '.join(other)} on the {who} pods, but the rule's "
                        f"protocol is {entry.protocol}: it matches nothing"
                    )
                    hint = f"add `protocol: {other[0].split('/')[1]}` to this port entry"
                else:
                    message = f"no {who} pod ({_workloads(pods)}) defines a port named {name!r}"
                    hint = ""
                yield me.on_policy(compiled.policy, message, f"{_rule_path(rule)}.ports[{j}]", hint)


def _services_of(ctx: LintContext, pods: list[Pod]) -> list[tuple[str, int, int | None, str]]:
    """(service id, service port, pod target port, protocol) of Services backed by ``pods``."""
    ids = {p.id for p in pods}
    out = []
    for service_id, backends in _backends(ctx).items():
        for b in backends:
            if b.pod.id in ids:
                out.append(
                    (service_id, b.service_port.port, b.target_port, b.service_port.protocol)
                )
    return sorted(set(out), key=lambda t: (t[0], t[1], t[3], t[2] or 0))


def _backends(ctx: LintContext) -> dict[str, list[Backend]]:
    found = ctx.cache.get("backends")
    if found is None:
        found = all_backends(ctx.cluster)
        ctx.cache["backends"] = found
    return found  # type: ignore[return-value]


@check(
    "port-is-service-port",
    WARNING,
    "a numeric port matches a Service port but no container port: written against the Service",
    "NetworkPolicy sees the packet after Service DNAT, on the pod's port (the Service's "
    "targetPort). A rule naming the Service port (80) when the pods listen on the targetPort "
    "(8080) does not match the traffic. The classic case is DNS on OpenShift: Service 53, "
    "pods 5353.",
    "Use the targetPort (the container port) in the rule.",
    pitfall="spec 3, 7.10; edge case 30",
    needs_pods=True,
)
def _service_port(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("port-is-service-port")
    for compiled in ctx.cc.policies:
        for rule in _counting_rules(compiled):
            numeric = [
                (j, e)
                for j, e in enumerate(rule.rule.ports)
                if isinstance(e.port, int) and e.end_port is None
            ]
            if not numeric:
                continue
            pods = _destination_pods(ctx, compiled, rule)
            declared = {(cp.port, cp.protocol) for p in pods for cp in p.container_ports}
            services = _services_of(ctx, pods)
            for j, entry in numeric:
                if (entry.port, entry.protocol) in declared:
                    continue
                hits = [
                    (sid, target)
                    for sid, port, target, proto in services
                    if port == entry.port
                    and proto == entry.protocol
                    and target is not None
                    and target != port
                ]
                if not hits:
                    continue
                sid, target = hits[0]
                yield me.on_policy(
                    compiled.policy,
                    f"port {entry.port}/{entry.protocol} is the port of Service {sid}, whose pods "
                    f"receive the traffic on {target}/{entry.protocol} (after DNAT): the rule does not match it",
                    f"{_rule_path(rule)}.ports[{j}]",
                    f"write `port: {target}` (the targetPort)",
                )


@check(
    "port-protocol-mismatch",
    WARNING,
    "a numeric port the destination pods declare only with another protocol",
    "A port entry without `protocol` means TCP. When the destination pods declare that port "
    "number only as UDP (syslog 514, NTP 123, a UDP-only DNS), the rule allows a TCP port "
    "nobody listens on and silently excludes the UDP traffic.",
    "Add `protocol: UDP` (or list both protocols).",
    pitfall="spec 3, 7.13-7.14",
    needs_pods=True,
)
def _port_protocol(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("port-protocol-mismatch")
    for compiled in ctx.cc.policies:
        for rule in _counting_rules(compiled):
            pods = _destination_pods(ctx, compiled, rule)
            declared = {(cp.port, cp.protocol) for p in pods for cp in p.container_ports}
            for j, entry in enumerate(rule.rule.ports):
                if not isinstance(entry.port, int) or entry.end_port is not None:
                    continue
                if (entry.port, entry.protocol) in declared:
                    continue
                others = sorted(proto for port, proto in declared if port == entry.port)
                if not others:
                    continue
                covered = any(
                    e.port == entry.port and e.protocol in others for e in rule.rule.ports
                )
                if covered:
                    continue
                yield me.on_policy(
                    compiled.policy,
                    f"port {entry.port}/{entry.protocol}: the destination pods declare {entry.port} only as "
                    f"{', '.join(others)}",
                    f"{_rule_path(rule)}.ports[{j}]",
                    f"add `protocol: {others[0]}` to this entry (or a second entry for it)",
                )


@check(
    "port-all-tcp",
    INFO,
    "a port entry without a port (`{}` or `{protocol: TCP}`) allows all TCP and no UDP",
    "`ports: [{}]` is defaulted to `[{protocol: TCP}]`: every TCP port, and nothing of UDP or "
    "SCTP. It reads like 'any port' but silently excludes UDP (DNS, QUIC, syslog).",
    "If any port of any protocol was meant, drop `ports` entirely; otherwise add the UDP "
    "entries you need.",
    pitfall="spec 3, 7.13; edge case 20",
)
def _all_tcp(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("port-all-tcp")
    for compiled in ctx.cc.policies:
        for rule in _counting_rules(compiled):
            ports = rule.rule.ports
            if any(e.protocol == "UDP" for e in ports):
                continue
            for j, entry in enumerate(ports):
                if entry.port is None and entry.protocol == "TCP":
                    written = (
                        "`{}`: the protocol defaults to TCP, so"
                        if entry.protocol_defaulted
                        else "has no port:"
                    )
                    yield me.on_policy(
                        compiled.policy,
                        f"ports[{j}] {written} every TCP port, and no UDP or SCTP port",
                        f"{_rule_path(rule)}.ports[{j}]",
                    )


# --- ipBlock ------------------------------------------------------------------------------


def _pods_in_block(ctx: LintContext, block: IPBlock) -> list[Pod]:
    """Pods with an address in ``block`` (cidr minus excepts), by bisecting sorted addresses."""
    index = ctx.cache.get("pod_addresses")
    if index is None:
        built: dict[int, list[tuple[int, str]]] = {4: [], 6: []}
        for pod in ctx.pods:
            for ip in pod.ips:
                address = ipaddress.ip_address(ip)
                built[address.version].append((int(address), pod.id))
        for found in built.values():
            found.sort()
        ctx.cache["pod_addresses"] = index = built
    entries: list[tuple[int, str]] = index[block.network.version]  # type: ignore[index]
    start = int(block.network.network_address)
    lo = bisect.bisect_left(entries, (start, ""))
    hi = bisect.bisect_left(entries, (start + block.network.num_addresses, ""))
    ids = {
        pod_id
        for value, pod_id in entries[lo:hi]
        if not any(
            x.version == block.network.version
            and int(x.network_address) <= value < int(x.network_address) + x.num_addresses
            for x in block.except_networks
        )
    }
    by_id = ctx.cluster.pod_by_id
    return [by_id[i] for i in sorted(ids)]


@check(
    "ipblock-covers-pods",
    WARNING,
    "an ipBlock covers pod IPs: Calico matches them, Cilium does not",
    "Whether an ipBlock matches traffic of pods whose IP it covers is implementation-defined: "
    "upstream e2e tests and Calico say yes, Cilium says no (pods are matched by identity). A "
    "policy that relies on it behaves differently across CNIs. For an internet-wide block "
    "(prefix /8 or shorter) this is a note: it also admits every pod whose egress is open.",
    "Use pod/namespace selectors for pods, and `except` the pod CIDR in ipBlocks meant for "
    "the outside world.",
    pitfall="spec 2.5, 7.11; edge case 36",
    needs_pods=True,
)
def _ipblock_pods(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("ipblock-covers-pods")
    for compiled in ctx.cc.policies:
        for rule in _counting_rules(compiled):
            for cp in rule.peers:
                block = cp.peer.ip_block
                if block is None:
                    continue
                covered = _pods_in_block(ctx, block)
                if not covered:
                    continue
                broad = block.network.prefixlen <= 8
                yield me.on_policy(
                    compiled.policy,
                    f"{_word(rule.direction)}[{cp.index}] ipBlock {block.text()} covers the IPs of "
                    f"{len(covered)} pod(s) ({_workloads(covered)}): matched on Calico and upstream, "
                    "not on Cilium",
                    _peer_path(rule, cp.index),
                    severity=INFO if broad else None,
                )


@check(
    "ipv4-any-without-ipv6",
    WARNING,
    "`0.0.0.0/0` without `::/0` (or the reverse) on dual-stack input",
    "An IPv4 CIDR never matches IPv6 addresses. On a dual-stack cluster, 'anywhere' is "
    "`0.0.0.0/0` and `::/0`; with only one, the other family is denied.",
    "Add an ipBlock peer with `::/0` (or `0.0.0.0/0`) next to the other one.",
    pitfall="spec 2.5, 7.15; edge case 35",
    needs_pods=True,
)
def _dual_stack(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("ipv4-any-without-ipv6")
    versions = {ipaddress.ip_address(ip).version for p in ctx.pods for ip in p.ips}
    if versions != {4, 6}:
        return
    for compiled in ctx.cc.policies:
        for rule in _counting_rules(compiled):
            blocks: dict[tuple[int, int], CompiledPeer] = {
                (cp.peer.ip_block.network.version, cp.peer.ip_block.network.prefixlen): cp
                for cp in rule.peers
                if cp.peer.ip_block is not None
            }
            for version, other, text in ((4, 6, "::/0"), (6, 4, "0.0.0.0/0")):
                cp = blocks.get((version, 0))
                if cp is not None and (other, 0) not in blocks:
                    yield me.on_policy(
                        compiled.policy,
                        f"{_word(rule.direction)}[{cp.index}] allows {cp.peer.ip_block.text() if cp.peer.ip_block else ''} "
                        f"but not {text}: the other address family is denied on this dual-stack input",
                        _peer_path(rule, cp.index),
                        f"add `- ipBlock: {{cidr: {text}}}` to the same list",
                    )


# --- isolation coverage -------------------------------------------------------------------


def _namespace_source(ctx: LintContext, namespace: str) -> Source:
    """Where a finding on ``namespace`` (one with pods) points: its manifest or, when the
    input does not declare it, the first policy of the namespace, else its first pod."""
    ns = ctx.namespace(namespace)
    if ns is not None and not ns.implicit:
        return ns.source
    for p in ctx.cluster.policies:
        if p.namespace == namespace:
            return p.source
    return ctx.pods_by_namespace[namespace][0].source


@check(
    "pods-not-isolated",
    WARNING,
    "pods that no policy isolates, in a namespace where other pods are isolated",
    "When some pods of a namespace are isolated for a direction, the others usually should "
    "be too; a pod that no podSelector matches is open to (or from) everything, often "
    "because its labels differ from what the policies expect.",
    "Add a default-deny policy (`podSelector: {}`) for the namespace, or extend a policy's "
    "podSelector to these pods.",
    pitfall="spec 4.1, 7.6",
    needs_pods=True,
)
def _not_isolated(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("pods-not-isolated")
    for namespace, pods in sorted(ctx.pods_by_namespace.items()):
        for direction in ("Ingress", "Egress"):
            isolated = [p for p in pods if ctx.cc.isolated(p, direction)]
            open_ = [p for p in pods if not ctx.cc.isolated(p, direction)]
            if not isolated or not open_:
                continue
            yield me.finding(
                f"{_workloads(open_)}: not {direction.lower()}-isolated, while {len(isolated)} other "
                f"pod(s) of {namespace} are",
                f"Namespace/{namespace}",
                _namespace_source(ctx, namespace),
            )


@check(
    "namespace-without-default-deny",
    INFO,
    "a namespace with pods and no default-deny policy",
    "A default-deny policy (`podSelector: {}` with the direction in policyTypes) isolates "
    "every pod of a namespace, including pods added later with new labels. Without one, "
    "a new workload is open until someone writes a policy for it. Namespaces named kube-* "
    "are left out.",
    "Add `podSelector: {}` + `policyTypes: [Ingress, Egress]` (no rules) to the namespace, "
    "then allow what each tier needs.",
    pitfall="spec 7.6",
    needs_pods=True,
)
def _no_default_deny(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("namespace-without-default-deny")
    for namespace in sorted(ctx.pods_by_namespace):
        if namespace.startswith(SYSTEM_NAMESPACE_PREFIX):
            continue
        covering = [
            c.policy
            for c in ctx.cc.policies
            if c.policy.namespace == namespace and c.policy.pod_selector.is_empty
        ]
        missing = [
            d
            for d in ("Ingress", "Egress")
            if not any(d in p.policy_types for p in covering)
            and not _tier_default_deny(ctx, namespace, d)
        ]
        if not missing:
            continue
        yield me.finding(
            f"namespace {namespace} has no default-deny for {' and '.join(m.lower() for m in missing)}",
            f"Namespace/{namespace}",
            _namespace_source(ctx, namespace),
        )


def _tier_default_deny(ctx: LintContext, namespace: str, direction: str) -> bool:
    """Whether an admin, baseline or Calico policy denies ``direction`` to any new pod of
    ``namespace`` (a BaselineAdminNetworkPolicy deny-all, a rule-less Calico policy)."""
    tiered = ctx.cc.tiered
    if tiered is None:
        return False
    newcomer = ctx.cc.endpoint(Pod(namespace, "a-new-pod"))
    for compiled in tiered.policies:
        policy = compiled.policy
        if direction not in policy.types or tiered.miss(policy.subject, newcomer) is not None:
            continue
        rules = compiled.rules(direction)
        if not rules and tiered.tiers[policy.tier].default_action == DENY:
            return True
        if any(r.rule.action == DENY and _covers_everyone(r.rule) for r in rules):
            return True
    return False


def _covers_everyone(rule: TierRule) -> bool:
    if rule.unmatchable or rule.ports or rule.not_ports or rule.protocols is not None:
        return False
    return rule.any_peer or any(
        m.scope != NODES
        and m.namespace is None
        and (m.namespaces is None or m.namespaces.is_empty)
        and (m.pods is None or m.pods.is_empty)
        and not m.networks()
        and m.not_pods is None
        and not m.uses_service_accounts
        for m in rule.peers
    )


# --- redundancy ---------------------------------------------------------------------------


def _redundancy(ctx: LintContext) -> tuple[list[CompiledRule], list[CompiledPolicy]] | None:
    """Rules and policies whose removal changes no verdict (greedy, later ones first).

    Per endpoint class pair, a rule is redundant when what it allows is also allowed by
    the rules still kept; a policy when all its rules are and each of its pods stays
    isolated through another kept policy.
    """
    if "redundancy" in ctx.cache:
        return ctx.cache["redundancy"]  # type: ignore[return-value]
    partition = Partition(ctx.cc, include_external=True)
    classes = [c for c in partition.classes if c.kind in (POD, EXTERNAL)]
    pod_classes = [c for c in classes if c.kind == POD]
    if len(pod_classes) * len(classes) > MAX_REDUNDANCY_PAIRS:
        why = (
            f"{len(pod_classes)} x {len(classes)} endpoint classes is more than "
            f"{MAX_REDUNDANCY_PAIRS:,} pairs"
        )
        ctx.gave_up["redundant-policy"] = ctx.gave_up["redundant-rule"] = why
        ctx.cache["redundancy"] = None
        return None
    # side outcomes: (direction, subject class, peer class) -> {rule id: allowed}
    sides: dict[tuple[str, int, int], dict[int, ConnectionSet]] = {}
    subjects_of: dict[int, list[int]] = {}
    for compiled in ctx.cc.policies:
        subjects_of[id(compiled)] = [
            c.index
            for c in pod_classes
            if c.representative.pod is not None and compiled.selects(c.representative.pod)
        ]
    by_index = {c.index: c for c in classes}

    def side(direction: str, subject: int, peer: int) -> dict[int, ConnectionSet]:
        key = (direction, subject, peer)
        found = sides.get(key)
        if found is None:
            s, p = by_index[subject].representative, by_index[peer].representative
            verdict = side_verdict(ctx.cc, s, p, direction)
            found = {id(o.rule): o.allowed for o in verdict.outcomes}
            sides[key] = found
        return found

    removed: set[int] = set()
    redundant_rules: list[CompiledRule] = []
    for compiled in reversed(ctx.cc.policies):
        subjects = subjects_of[id(compiled)]
        if not subjects:
            continue
        for rule in reversed(list(_counting_rules(compiled))):
            useful = False
            redundant = True
            for s in subjects:
                for peer in classes:
                    if peer.index == s and len(by_index[s].pods) < 2:
                        continue
                    outcomes = side(rule.direction, s, peer.index)
                    mine = outcomes.get(id(rule), ConnectionSet.none())
                    if mine.is_empty:
                        continue
                    useful = True
                    rest = ConnectionSet.union_of(
                        a for r, a in outcomes.items() if r != id(rule) and r not in removed
                    )
                    if not mine <= rest:
                        redundant = False
                        break
                if not redundant:
                    break
            if useful and redundant:
                removed.add(id(rule))
                redundant_rules.append(rule)
    redundant_policies: list[CompiledPolicy] = []
    gone: set[int] = set()
    for compiled in reversed(ctx.cc.policies):
        subjects = subjects_of[id(compiled)]
        if not subjects:
            continue
        rules = list(_counting_rules(compiled))
        if any(id(r) not in removed for r in rules):
            continue
        # A rule-less policy (a default-deny) is a safety net: the allow policies that
        # isolate the same pods today do not make it redundant, only another deny does.
        deny_only = not rules
        covered = True
        for direction in compiled.policy.policy_types:
            for s in subjects:
                others = [
                    o
                    for o in ctx.cc.policies
                    if o is not compiled
                    and id(o) not in gone
                    and direction in o.policy.policy_types
                    and s in subjects_of[id(o)]
                    and not (deny_only and any(_counting_rules(o)))
                ]
                if not others:
                    covered = False
        if covered:
            gone.add(id(compiled))
            redundant_policies.append(compiled)
    result = (redundant_rules, redundant_policies)
    ctx.cache["redundancy"] = result
    return result


@check(
    "redundant-policy",
    INFO,
    "a policy that allows nothing other policies do not already allow, and isolates nothing new",
    "Removing the policy would change no verdict: each rule's connections (per pod and peer) "
    "are already allowed by other rules, and every pod it selects is isolated by another "
    "policy in the same directions. Computed with the engine's connection sets per "
    "endpoint class. A policy without rules (a default-deny) is a safety net for pods and "
    "rules added later: it is reported only when another rule-less policy isolates the "
    "same pods.",
    "Delete the policy, or merge what it was meant to add into it.",
    needs_pods=True,
)
def _redundant_policy(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("redundant-policy")
    found = _redundancy(ctx)
    if found is None:
        return
    for compiled in found[1]:
        yield me.on_policy(
            compiled.policy,
            "removing this policy changes no connection: other policies already isolate its "
            "pods and allow everything it allows",
        )


@check(
    "redundant-rule",
    INFO,
    "a rule that allows nothing other rules do not already allow",
    "For every pod the rule applies to and every peer it matches, the connections it allows "
    "are also allowed by other rules (of this or other policies) applying to that pod. "
    "Duplicates are reported once (the later one).",
    "Delete the rule, or narrow the broader rule that covers it if that one is too wide.",
    needs_pods=True,
)
def _redundant_rule(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("redundant-rule")
    found = _redundancy(ctx)
    if found is None:
        return
    whole = {id(c.policy) for c in found[1]}
    for rule in found[0]:
        if id(rule.policy) in whole:
            continue
        yield me.on_policy(
            rule.policy,
            f"{rule.label} allows nothing that other rules do not already allow",
            _rule_path(rule),
        )


# --- Services and flows -------------------------------------------------------------------


def _explicit_clients(ctx: LintContext, server: Pod, protocol: str, port: int) -> list[Pod]:
    """Egress-isolated pods with an explicit egress rule (podSelector and ports) that allows
    ``server`` on protocol/port; found from the rules, so no pod pair is evaluated."""
    found: dict[str, Pod] = {}
    for compiled in ctx.cc.policies:
        for rule in compiled.rules("Egress"):
            if not _explicit(rule) or not rule.connections_to(server).contains(protocol, port):
                continue
            if not any(cp.peer.ip_block is None and server.id in cp.pod_ids for cp in rule.peers):
                continue
            for pod in _subjects(ctx, compiled):
                found.setdefault(pod.id, pod)
    return list(found.values())


@check(
    "service-port-unreachable",
    WARNING,
    "a Service port whose targetPort no ingress rule admits, while clients' egress allows it",
    "The Service's backends are ingress-isolated and none of their ingress rules allows the "
    "targetPort, yet some pod has an explicit egress rule (a non-empty podSelector matching "
    "the backends, and that port listed): the client side was opened and the server side "
    "forgotten.",
    "Add an ingress rule for the targetPort to the backends' policy (from the clients).",
    pitfall="spec 3, 7.10",
    needs_pods=True,
)
def _service_unreachable(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("service-port-unreachable")
    for service_id, backends in sorted(_backends(ctx).items()):
        service = ctx.service(service_id)
        if service is None:
            continue
        for i, port in enumerate(service.ports):
            targets = [b for b in backends if b.service_port == port and b.target_port is not None]
            isolated = [b for b in targets if ctx.cc.isolated(b.pod, "Ingress")]
            if not isolated or len(isolated) != len(targets):
                continue
            closed = [
                b
                for b in isolated
                if not any(
                    r.connections_to(b.pod).contains(port.protocol, b.target_port or 0)
                    for c in ctx.cc.applying(b.pod, "Ingress")
                    for r in c.rules("Ingress")
                )
            ]
            if len(closed) != len(isolated):
                continue
            backend = closed[0]
            target = backend.target_port or 0
            clients = [
                p
                for p in _explicit_clients(ctx, backend.pod, port.protocol, target)
                if p.id != backend.pod.id
            ]
            if not clients:
                continue
            yield me.finding(
                f"port {port.port}/{port.protocol} -> targetPort {backend.target_port}: no ingress rule of "
                f"{', '.join(c.policy.id for c in ctx.cc.applying(backend.pod, 'Ingress'))} admits it, "
                f"yet the egress of {_workloads(clients)} allows it",
                f"Service/{service_id}",
                service.source,
                f"spec.ports[{i}]",
            )


@check(
    "one-sided-flow",
    WARNING,
    "one side's policy names the other, but the other side's policy blocks the connection",
    "A connection needs the client's egress and the server's ingress. When an explicit egress "
    "rule (a non-empty podSelector and listed ports) names the server's pods and the server's "
    "ingress (isolated) admits none of those ports from the client - or an explicit ingress "
    "rule names the client while the client's isolated egress denies them - the written "
    "intent is half-implemented. This is how the tutorial's frontend -> backend flow breaks.",
    "Add the missing rule on the other side (the message names it), or drop the dead one.",
    pitfall="spec 4.2; tutorial Step 5",
    needs_pods=True,
)
def _one_sided(ctx: LintContext) -> Iterator[Finding]:
    me = by_id("one-sided-flow")
    for compiled in ctx.cc.policies:
        subjects = _by_class(ctx, _subjects(ctx, compiled))
        for rule in _counting_rules(compiled):
            if not _explicit(rule):
                continue
            for cp in rule.peers:
                selector = cp.peer.pod_selector
                if cp.peer.ip_block is not None or selector is None or selector.is_empty:
                    continue
                peers = _by_class(ctx, (p for p in ctx.pods if p.id in cp.pod_ids))
                outbound = rule.direction == "Egress"
                blocked_mine: list[Pod] = []
                blocked_theirs: list[Pod] = []
                conns = ConnectionSet.none()
                isolating: dict[str, None] = {}
                for mine_pods in subjects:
                    for their_pods in peers:
                        me_pod, other = mine_pods[0], their_pods[0]
                        if other.id == me_pod.id:
                            if len(their_pods) < 2:
                                continue
                            other = their_pods[1]
                        verdict = (
                            _verdict(ctx, me_pod, other)
                            if outbound
                            else _verdict(ctx, other, me_pod)
                        )
                        mine = verdict.egress if outbound else verdict.ingress
                        theirs = verdict.ingress if outbound else verdict.egress
                        wanted = next(
                            (o.allowed for o in mine.outcomes if o.rule is rule),
                            ConnectionSet.none(),
                        )
                        if wanted.is_empty or not theirs.isolated:
                            continue
                        if not (wanted & theirs.allowed).is_empty:
                            continue
                        for policy in theirs.policies:
                            isolating.setdefault(policy.id, None)
                        blocked_mine += mine_pods
                        blocked_theirs += their_pods
                        conns |= wanted
                if not blocked_mine:
                    continue
                policies = ", ".join(isolating)
                src, dst = (
                    (blocked_mine, blocked_theirs) if outbound else (blocked_theirs, blocked_mine)
                )
                other_side = "ingress" if outbound else "egress"
                yield me.on_policy(
                    compiled.policy,
                    f"{rule.label} allows {_workloads(src)} -> {_workloads(dst)} on "
                    f"{conns.text()}, but the {other_side} of {_workloads(blocked_theirs)} "
                    f"(isolated by {policies}) denies all of it",
                    _peer_path(rule, cp.index),
                    f"allow it in the {other_side} of {_workloads(blocked_theirs)} (in "
                    f"{'one of ' if len(isolating) > 1 else ''}{policies}), or remove this "
                    "rule; `netpol explain` on the pair shows the evidence",
                )
