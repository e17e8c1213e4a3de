"""DNS egress: missing, one protocol only, or to a whole namespace (spec 7.2)."""

from __future__ import annotations

from collections.abc import Iterator

from netpol.analysis.lint import Finding, LintContext, by_id, check
from netpol.analysis.lint_checks.common import (
    DNS_LABEL,
    DNS_NAMESPACE,
    WARNING,
    bit_list,
    endpoint_of,
    peer_path,
    pod_partition,
    pods_of,
    policies_applying,
    rule_path,
    workloads_text,
)
from netpol.engine.endpoints import POD
from netpol.engine.verdict import SideVerdict, evaluate
from netpol.model.objects import Container, ContainerPort, Pod


def dns_pods(ctx: LintContext) -> list[Pod]:
    """The cluster DNS pods of the input, or a stand-in CoreDNS pod when the input has none
    (found once: every pod's DNS check asks)."""
    found = ctx.cache.get("dns_pods")
    if found is None:
        found = ctx.cache["dns_pods"] = _find_dns_pods(ctx)
    return found  # type: ignore[return-value]


def _find_dns_pods(ctx: LintContext) -> list[Pod]:
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


def dns_namespaces(ctx: LintContext) -> set[str]:
    return {p.namespace for p in dns_pods(ctx)}


def dns_reach(ctx: LintContext, pod: Pod) -> tuple[bool, bool, list[SideVerdict]]:
    """(UDP 53 allowed to some DNS pod, TCP 53 likewise, the egress sides evaluated);
    the same for every pod of an endpoint class, so evaluated once per class."""
    cache: dict[int, DnsReach] = ctx.cache.setdefault("dns_reach", {})  # type: ignore[assignment]
    if pod.id in _dns_pod_ids(ctx):
        return True, True, []  # a DNS pod asks itself
    cls = pod_partition(ctx).class_of_pod[pod.id]
    found = cache.get(cls)
    if found is None:
        found = cache[cls] = _dns_reach(ctx, pod)
    return found


DnsReach = tuple[bool, bool, list[SideVerdict]]


def _dns_pod_ids(ctx: LintContext) -> frozenset[str]:
    found = ctx.cache.get("dns_pod_ids")
    if found is None:
        found = ctx.cache["dns_pod_ids"] = frozenset(p.id for p in dns_pods(ctx))
    return found  # type: ignore[return-value]


def _dns_reach(ctx: LintContext, pod: Pod) -> DnsReach:
    src = endpoint_of(ctx, pod)
    udp = tcp = False
    sides = []
    for dns in dns_pods(ctx):
        verdict = evaluate(ctx.cc, src, endpoint_of(ctx, dns))
        udp = udp or verdict.allows("UDP", 53)
        tcp = tcp or verdict.allows("TCP", 53)
        sides.append(verdict.egress)
    return udp, tcp, sides


def talkers(ctx: LintContext) -> dict[str, int]:
    """Egress-isolated pods that some egress rule applies to, as endpoint classes, by the
    first isolating policy (in the input order of their first pod; selection is the same
    for the pods of a class, so each class is asked once).

    Proxy for "talks to Services by name": the model has no traffic, and a pod that is
    allowed any egress at all is meant to reach something, usually through a name.
    """
    cached = ctx.cache.get("dns_talkers")
    if cached is not None:
        return cached  # type: ignore[return-value]
    found: dict[str, int] = {}
    for cls in pod_partition(ctx).classes:  # classes come in the order of their first pod
        if cls.kind != POD:
            continue
        applying = policies_applying(ctx, cls.pods[0], "Egress")
        if not applying or not any(c.rules("Egress") for c in applying):
            continue
        policy_id = applying[0].policy.id
        found[policy_id] = found.get(policy_id, 0) | 1 << cls.index
    ctx.cache["dns_talkers"] = found
    return found


def _class_reach(ctx: LintContext, index: int) -> DnsReach | None:
    """``dns_reach`` of the pods of one class that are not DNS pods (None: it has none)."""
    dns_ids = _dns_pod_ids(ctx)
    for pod in pod_partition(ctx).classes[index].pods:
        if pod.id not in dns_ids:
            return dns_reach(ctx, pod)
    return None


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
    dns_ids = _dns_pod_ids(ctx)
    for policy_id, classes in talkers(ctx).items():
        blocked_classes = 0
        for index in bit_list(classes):
            reach = _class_reach(ctx, index)
            if reach is not None and not any(reach[:2]):
                blocked_classes |= 1 << index
        blocked = [p for p in pods_of(ctx, blocked_classes) if p.id not in dns_ids]
        if not blocked:
            continue
        policy = ctx.cluster.policy_by_id[policy_id]
        yield me.on_policy(
            policy,
            f"{workloads_text(blocked)}: egress-isolated and allowed some egress, but no DNS "
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
    dns_ids = _dns_pod_ids(ctx)
    for classes in talkers(ctx).values():
        # only the classes that reach DNS over one protocol matter; their pods are visited
        # in input order, as the first pod of each rule is the one the message names
        one_protocol = 0
        for index in bit_list(classes):
            reach = _class_reach(ctx, index)
            if reach is not None and reach[0] != reach[1]:
                one_protocol |= 1 << index
        for pod in pods_of(ctx, one_protocol):
            if pod.id in dns_ids:
                continue
            udp, _, sides = dns_reach(ctx, pod)
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
                        f"(for {workloads_text([pod])})",
                        f"{rule_path(rule)}.ports" if rule.rule.ports else rule_path(rule),
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
    namespaces = dns_namespaces(ctx) | {DNS_NAMESPACE}
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
                hit = sorted(n for n in namespaces if cp.namespace_matches(n))
                if not hit:
                    continue
                yield me.on_policy(
                    compiled.policy,
                    f"to[{cp.index}] allows port 53 to every pod of {', '.join(hit)} "
                    "(namespaceSelector without podSelector), not only the DNS pods",
                    peer_path(rule, cp.index),
                )
